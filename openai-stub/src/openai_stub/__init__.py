"""A local stand-in for the OpenAI Realtime and chat completions APIs, for tests and offline work.

See openai-stub/README.md. The in-process entry point is `openai_stub.testing.running_stub`.
"""

from .app import StubServer, create_app
from .script import Script
from .testing import StubHandle, running_stub, start_stub

__all__ = ["Script", "StubHandle", "StubServer", "create_app", "running_stub", "start_stub"]

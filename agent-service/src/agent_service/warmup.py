"""One-time work that would otherwise stall a call's event loop, done before any call.

Listed in the worker's `preload_modules`, this module runs once in the forkserver and every job
process inherits the result; `prewarm` calls `warm_up()` again, a no-op there and the warm-up
itself where job processes are spawned instead (macOS). Three stalls were measured on the job
loop of a call without it: the OpenAI SDK building the pydantic schemas of the Realtime events
on first use (~100-200 ms), the CA bundle parsed for the shared HTTP session (~100 ms under
load), and the transcript synchronizer's hyphenation patterns loaded at the first reply (~100 ms).
"""

import functools
import logging

import pydantic
from livekit.agents.tokenize import basic
from livekit.agents.utils import http_context
from openai.types import realtime

logger = logging.getLogger(__name__)


@functools.cache
def warm_up() -> None:
    for name in dir(realtime):
        model = getattr(realtime, name)
        if (
            isinstance(model, type)
            and issubclass(model, pydantic.BaseModel)
            and not model.__pydantic_complete__
        ):
            model.model_rebuild()
    # livekit-agents caches the TLS context of its per-job HTTP session per process
    http_context._create_ssl_context()
    basic.hyphenate_word("warmup")


warm_up()

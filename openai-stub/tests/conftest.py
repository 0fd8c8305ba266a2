from collections.abc import AsyncIterator

import pytest

from openai_stub.testing import StubHandle, running_stub


@pytest.fixture
async def stub() -> AsyncIterator[StubHandle]:
    """A fresh stub with the default script, on a free loopback port."""
    async with running_stub() as handle:
        yield handle

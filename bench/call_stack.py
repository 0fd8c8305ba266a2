"""The stack the call sections run on: what the stub hears and answers, and how the worker is set up
when many calls share it."""

from devstack.harness import TRAINEE_LINES, stub_script
from devstack.stack import Stack

LINE = TRAINEE_LINES[0]
REPLY_MS = 1200

MANY_CALLS_AGENT_ENV = {
    # Room for every step: the worker's own ceiling (JOB_CAPACITY x LiveKit's 0.7 threshold) must
    # not be what this measures.
    "JOB_CAPACITY": "64",
    "NUM_IDLE_PROCESSES": "8",
}


RECORDED_TOKEN_SERVICE_ENV = {"RECORD_FREE_PRACTICE": "true"}
"""Every call recorded: the crowd's calls are free practice."""


def call_stack(
    *, many_calls: bool = False, reply_ms: int = REPLY_MS, recorded: bool = False
) -> Stack:
    """A stack whose stub answers LINE with a reply of `reply_ms`; `many_calls` sets the worker
    up for a crowd, `recorded` records every call."""
    return Stack(
        stub_script=stub_script(1, reply_ms=reply_ms),
        agent_env=MANY_CALLS_AGENT_ENV if many_calls else None,
        token_service_env=RECORDED_TOKEN_SERVICE_ENV if recorded else None,
    )

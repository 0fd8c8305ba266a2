"""What the test suites share to drive the real stack: the lines every scripted call speaks,
the frontend's calls, a trainee's call step by step, each suite's stack and latency table, and the
pytest plugin of the media suites (docs/testing.md)."""

from .conversation import (
    JOIN_TIMEOUT_S,
    REPLY_TIMEOUT_S,
    agent_refuses,
    assert_conversation,
    clip,
    exchange,
    start_call,
    stub_connections_since,
)
from .frontend import COMPLETED, TRANSCRIPT_TIMEOUT_S, FrontendApi, roles_and_text, turns_of
from .latency import record_latency, write_run_summary
from .lines import CALLER_LINES, REPLY_MS, TRAINEE_LINES, stub_script
from .suite import suite_stack

__all__ = [
    "CALLER_LINES",
    "COMPLETED",
    "JOIN_TIMEOUT_S",
    "REPLY_MS",
    "REPLY_TIMEOUT_S",
    "TRAINEE_LINES",
    "TRANSCRIPT_TIMEOUT_S",
    "FrontendApi",
    "agent_refuses",
    "assert_conversation",
    "clip",
    "exchange",
    "record_latency",
    "roles_and_text",
    "start_call",
    "stub_connections_since",
    "stub_script",
    "suite_stack",
    "turns_of",
    "write_run_summary",
]

"""What the trainee says and the caller answers in every scripted call: the suites, the browser
harness, the benchmarks, the voice check and the container checks all speak these lines.

The stub cannot understand speech: each user turn it detects gets the next trainee line as its
transcript, and the caller answers with the next caller line (openai_stub.script). Every call (a
new Realtime connection) starts again at the first line of each.
"""

from __future__ import annotations

from typing import Any

TRAINEE_LINES = (
    "Hello, you've reached the support line. My name is Sam. What's going on tonight?",
    "That sounds really hard. Can you tell me more about what happened today?",
    "Thank you for telling me. Are you somewhere safe right now?",
)
CALLER_LINES = (
    "Hi. I don't really know why I called. Everything just feels like too much.",
    "I lost my job this morning and I haven't told anyone yet.",
    "I'm at home. I'm safe, I think. I just needed to talk to someone.",
)
REPLY_MS = 1500
"""How long each spoken answer lasts: long enough to be heard as a reply, short enough that a
three-turn call takes seconds."""


def stub_script(turns: int = len(TRAINEE_LINES), *, reply_ms: int = REPLY_MS) -> dict[str, Any]:
    """The stub's script (Script JSON) for a call of the first `turns` lines."""
    if not 1 <= turns <= len(TRAINEE_LINES):
        raise ValueError(f"turns must be 1 to {len(TRAINEE_LINES)}, not {turns}")
    return {
        "user_transcripts": list(TRAINEE_LINES[:turns]),
        "replies": list(CALLER_LINES[:turns]),
        "reply_ms": reply_ms,
    }

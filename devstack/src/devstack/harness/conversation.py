"""A trainee's call, step by step: join as the frontend does, speak the lines, hear the caller,
and check what was stored against what was said."""

# Deadlines are these waits' contract (the failure says what never came).
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

from training_contracts import ATTR_ERROR, ATTR_SESSION_ID, AgentErrorCode, TurnView

from ..speech import SpeechClip, render_speech
from ..stack import Stack
from ..trainee import Trainee
from ..waits import until
from .frontend import roles_and_text
from .latency import record_latency
from .lines import CALLER_LINES

JOIN_TIMEOUT_S = 30.0
"""Join -> `session.id`: dispatch, job process, session creation."""
REPLY_TIMEOUT_S = 20.0
AGENT_GONE_TIMEOUT_S = 15.0
CONNECTION_TIMEOUT_S = 20.0

_CLIPS: dict[str, SpeechClip] = {}


async def clip(text: str) -> SpeechClip:
    """`text` spoken by espeak-ng, rendered once per run."""
    if text not in _CLIPS:
        _CLIPS[text] = await asyncio.to_thread(render_speech, text)
    return _CLIPS[text]


async def start_call(
    token_service_url: str,
    user_id: str,
    test: str,
    *,
    assignment_id: str | None = None,
    scenario_id: str | None = None,
    name: str = "trainee",
) -> tuple[Trainee, str]:
    """Join as the frontend does and wait for `session.id`; records join -> session.id."""
    trainee = await Trainee.join(
        token_service_url,
        user_id,
        assignment_id=assignment_id,
        scenario_id=scenario_id,
        name=name,
    )
    prefix = "" if name == "trainee" else f"{name} "
    try:
        session_id = await trainee.wait_for_session_id(JOIN_TIMEOUT_S)
        assert trainee.joined_at is not None
        record_latency(
            test,
            f"{prefix}join->session.id",
            trainee.attribute_seen_at["session.id"] - trainee.joined_at,
        )
        # Speak once the agent listens (useVoiceAssistant's "listening"), as a person would
        # after the connect tone; earlier speech may reach a session that is still starting.
        record_latency(
            test, f"{prefix}join->listening", await trainee.wait_until_listening(JOIN_TIMEOUT_S)
        )
    except BaseException:
        await trainee.leave()
        raise
    return trainee, session_id


async def agent_refuses(
    livekit_url: str,
    token: str,
    code: AgentErrorCode,
    test: str,
    *,
    label: str = "",
    timeout: float = JOIN_TIMEOUT_S,
) -> float:
    """Join with `token` (one the token service would never mint): the agent publishes `error` =
    `code` instead of `session.id`, then leaves the call. Records join->error and error->agent
    left (after `label`); returns join->error in seconds."""
    trainee = Trainee()
    try:
        await trainee.connect(livekit_url, token)
        assert trainee.joined_at is not None
        key, value = await trainee.wait_for_any_attribute([ATTR_SESSION_ID, ATTR_ERROR], timeout)
        assert (key, value) == (ATTR_ERROR, code)
        join_to_error = trainee.attribute_seen_at[ATTR_ERROR] - trainee.joined_at
        record_latency(test, f"{label}join->error", join_to_error)
        # Nothing hangs: the failed agent leaves the call.
        t0 = time.monotonic()
        await trainee.wait_for_agent_gone(AGENT_GONE_TIMEOUT_S)
        record_latency(test, f"{label}error->agent left", time.monotonic() - t0)
    finally:
        await trainee.leave()
    return join_to_error


async def exchange(
    trainee: Trainee, lines: Sequence[str], *, timeout: float = REPLY_TIMEOUT_S
) -> None:
    """Say each line and wait (up to `timeout` s) for the caller's spoken answer before the next
    one."""
    for line in lines:
        ended = await trainee.say(await clip(line))
        await trainee.wait_for_agent_reply(after=ended, timeout=timeout)


async def stub_connections_since(
    stack: Stack, since_wall: float, count: int = 1, *, timeout: float = CONNECTION_TIMEOUT_S
) -> list[dict[str, Any]]:
    """The Realtime connections the stub accepted since `since_wall` (time.time()), in the order
    they connected, once the first `count` of them have the agent's instructions."""
    fresh: list[dict[str, Any]] = []

    async def instructed() -> list[dict[str, Any]] | None:
        state = await asyncio.to_thread(stack.stub_state)
        fresh[:] = [c for c in state["connections"] if c["connected_at"] >= since_wall]
        ready = len(fresh) >= count and all(c["instructions"] for c in fresh[:count])
        return list(fresh) if ready else None

    return await until(
        f"{count} instructed Realtime connection(s) since {since_wall}",
        instructed,
        timeout,
        context=lambda: [(c["id"], bool(c["instructions"])) for c in fresh],
    )


def assert_conversation(turns: Sequence[TurnView], user_lines: Sequence[str]) -> None:
    """The stored turns are the conversation that happened, in order: each trainee line the
    stub heard, each followed by the caller's answer; turn orders strictly increase."""
    orders = [t.turn_order for t in turns]
    assert orders == sorted(set(orders)), f"turn orders not strictly increasing: {orders}"
    users = [t.content for t in turns if t.role == "user"]
    assert users == list(user_lines), roles_and_text(turns)
    for line in user_lines:
        index = next(i for i, t in enumerate(turns) if t.role == "user" and t.content == line)
        following = turns[index + 1 :]
        assert following, f"no caller reply after {line!r}: {roles_and_text(turns)}"
        assert following[0].role == "assistant", roles_and_text(turns)
        assert following[0].content in CALLER_LINES, roles_and_text(turns)

"""`python -m devstack.trainee`: one trainee in its own process, printing JSON lines, so that a test
can make it vanish (SIGKILL) the way a closed browser tab does.

It joins, reports the first of `session.id` or `error` the agent sets, waits until the agent
listens, says each `--say` sentence and waits for the caller's reply, then holds the call until
killed (or hangs up with `--leave`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from training_contracts import ATTR_ERROR, ATTR_SESSION_ID

from ..processes import ManagedProcess
from ..speech import render_speech
from .trainee import Trainee

__all__ = ["main", "spawn_trainee"]


def spawn_trainee(
    token_service_url: str,
    user_id: str,
    *,
    log_path: Path,
    assignment_id: str | None = None,
    scenario_id: str | None = None,
    say: Sequence[str] = (),
    reply_timeout: float = 30.0,
) -> ManagedProcess:
    """`python -m devstack.trainee` in its own process group; its JSON lines go to `log_path`.

    After saying everything it stays in the call until killed: `.kill()` is a closed tab.
    """
    argv = [
        sys.executable,
        "-m",
        "devstack.trainee",
        "--token-service",
        token_service_url,
        "--user-id",
        user_id,
        "--reply-timeout",
        str(reply_timeout),
    ]
    if assignment_id:
        argv += ["--assignment-id", assignment_id]
    if scenario_id:
        argv += ["--scenario-id", scenario_id]
    for text in say:
        argv += ["--say", text]
    return ManagedProcess("trainee", argv, log_path=log_path)


def _emit(event: str, **fields: Any) -> None:
    print(json.dumps({"event": event, **fields}), flush=True)


async def _converse(trainee: Trainee, sentences: Sequence[str], reply_timeout: float) -> None:
    await trainee.wait_until_listening(reply_timeout)
    _emit("listening")
    clips = [await asyncio.to_thread(render_speech, text) for text in sentences]
    for clip in clips:
        ended = await trainee.say(clip)
        _emit("said", text=clip.text)
        await trainee.wait_for_agent_reply(after=ended, timeout=reply_timeout)
        _emit("heard_reply")
    _emit("holding")


async def _run(args: argparse.Namespace) -> None:
    trainee = await Trainee.join(
        args.token_service,
        args.user_id,
        assignment_id=args.assignment_id,
        scenario_id=args.scenario_id,
    )
    assert trainee.token is not None
    _emit("joined", roomName=trainee.token.room_name)
    key, value = await trainee.wait_for_any_attribute(
        [ATTR_SESSION_ID, ATTR_ERROR], args.reply_timeout
    )
    assert trainee.joined_at is not None
    after_join = trainee.attribute_seen_at[key] - trainee.joined_at
    _emit("attribute", key=key, value=value, afterJoinS=round(after_join, 3))
    if key == ATTR_ERROR:
        return
    await _converse(trainee, args.say, args.reply_timeout)
    if args.leave:
        await trainee.leave()
        _emit("left")
        return
    await asyncio.Event().wait()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m devstack.trainee", description=__doc__)
    parser.add_argument("--token-service", required=True, help="token service base URL")
    parser.add_argument("--user-id", required=True)
    parser.add_argument("--assignment-id")
    parser.add_argument("--scenario-id")
    parser.add_argument("--say", action="append", default=[], help="a sentence to say (repeat)")
    parser.add_argument("--reply-timeout", type=float, default=30.0)
    parser.add_argument(
        "--leave", action="store_true", help="hang up at the end instead of holding"
    )
    args = parser.parse_args(argv)
    try:
        asyncio.run(_run(args))
    except Exception as exc:
        _emit("failed", error=f"{type(exc).__name__}: {exc}")
        raise SystemExit(1) from exc

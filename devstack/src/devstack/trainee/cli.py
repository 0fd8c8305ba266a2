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
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from training_contracts import ATTR_ERROR, ATTR_SESSION_ID

from ..processes import ManagedProcess
from ..speech import render_speech
from .receiver_stats import receiver_stats
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
    record_agent: Path | None = None,
    leave: bool = False,
    wrap: Sequence[str] = (),
) -> ManagedProcess:
    """`python -m devstack.trainee` in its own process group; its JSON lines go to `log_path`.

    After saying everything it stays in the call until killed: `.kill()` is a closed tab.
    `record_agent`: see `--record-agent`. `wrap`: a command prefix the trainee runs under (e.g.
    `python -m devstack.badnet ... --`).
    """
    argv = [
        *wrap,
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
    if record_agent is not None:
        argv += ["--record-agent", str(record_agent)]
    if leave:
        argv.append("--leave")
    return ManagedProcess("trainee", argv, log_path=log_path)


def _emit(event: str, **fields: Any) -> None:
    print(json.dumps({"event": event, **fields}), flush=True)


async def _converse(trainee: Trainee, sentences: Sequence[str], reply_timeout: float) -> None:
    await trainee.wait_until_listening(reply_timeout)
    _emit("listening")
    clips = [await asyncio.to_thread(render_speech, text) for text in sentences]
    recording = trainee.listener.recording
    await trainee.wait_until_heard(reply_timeout)
    for clip in clips:
        # As a person would: speak when the caller listens (it may have spoken first).
        await trainee.wait_until_listening(reply_timeout)
        ended = await trainee.say(clip)
        # Where in the recording the trainee stopped speaking: the reply comes after it.
        _emit(
            "said",
            text=clip.text,
            atSample=recording.position if recording else None,
            wall=time.time(),
        )
        started, stopped = await trainee.wait_for_agent_reply(after=ended, timeout=reply_timeout)
        _emit("heard_reply", afterS=round(started - ended, 3), lastedS=round(stopped - started, 3))


async def _report(trainee: Trainee, record_agent: Path | None) -> None:
    """The receiver's statistics of the agent's audio and, if asked, the recording."""
    for track in trainee.listener.tracks:
        _emit("receiver_stats", **await receiver_stats(track))
    recording = trainee.listener.recording
    if record_agent is not None and recording is not None:
        recording.write_wav(record_agent)
        _emit("recorded", path=str(record_agent), samples=recording.position)


async def _run(args: argparse.Namespace) -> None:
    trainee = await Trainee.join(
        args.token_service,
        args.user_id,
        assignment_id=args.assignment_id,
        scenario_id=args.scenario_id,
        record=args.record_agent is not None,
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
    await _report(trainee, args.record_agent)
    _emit("holding")
    if args.leave:
        left_at = await trainee.leave()
        _emit("left", monotonic=left_at)
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
    parser.add_argument(
        "--record-agent",
        type=Path,
        help="write what was heard from the agent to this WAV file (48 kHz mono) at the end",
    )
    args = parser.parse_args(argv)
    try:
        asyncio.run(_run(args))
    except Exception as exc:
        _emit("failed", error=f"{type(exc).__name__}: {exc}")
        raise SystemExit(1) from exc

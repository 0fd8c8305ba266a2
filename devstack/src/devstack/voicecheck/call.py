"""One scored call: a trainee behind the wire, its replies scored (see the package docstring)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from openai_stub.audio import sent_audio
from openai_stub.session_config import SAMPLE_RATE as MODEL_RATE

from ..badnet import Impairment
from ..trainee import spawn_trainee
from ..trainee.recording import read_wav
from ..voice_quality import ReplyScore, resample, score_reply
from .receiver import ReceiverSummary, summarize

__all__ = ["CallError", "ScoredCall", "scored_call"]


class CallError(AssertionError):
    """The call did not go as a trainee's call must: the message says what and where its log is."""


@dataclass
class ScoredCall:
    session_id: str
    connection_id: str
    """The stub's Realtime connection of the call: what the model heard and said."""
    replies: list[ReplyScore]
    receiver: ReceiverSummary
    wire: dict[str, Any]
    hung_up_at: float
    """time.monotonic() when the trainee left (the clock is the machine's, shared by processes)."""
    events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def mean_mos(self) -> float:
        return float(np.mean([r.mos for r in self.replies]))


def badnet_argv(impairment: Impairment, seed: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "devstack.badnet",
        "--loss",
        str(impairment.loss),
        "--delay-ms",
        str(impairment.delay_ms),
        "--jitter-ms",
        str(impairment.jitter_ms),
        *(["--in-order"] if impairment.in_order else []),
        "--seed",
        str(seed),
        "--",
    ]


def _events(log: str) -> list[dict[str, Any]]:
    found = []
    for line in log.splitlines():
        if line.startswith("{") and '"event"' in line:
            found.append(json.loads(line))
    return found


def _one(events: Sequence[dict[str, Any]], name: str) -> dict[str, Any]:
    matching = [e for e in events if e["event"] == name]
    if len(matching) != 1:
        raise CallError(f"expected one {name!r} event, got {len(matching)}")
    return matching[0]


async def _connection(
    stub_state: Callable[[], dict[str, Any]], since: float
) -> dict[str, Any] | None:
    """The one Realtime connection opened since `since` (time.time()), as the stub holds it."""
    state = await asyncio.to_thread(stub_state)
    fresh = [c for c in state["connections"] if c["connected_at"] >= since]
    return dict(fresh[0]) if len(fresh) == 1 else None


def _conversation(
    events: Sequence[dict[str, Any]], lines: int
) -> tuple[str, list[dict[str, Any]], float]:
    """From the trainee's events: the session id, the lines said, when it hung up. CallError
    unless it got `session.id` and heard a reply to every line."""
    attribute = _one(events, "attribute")
    if attribute["key"] != "session.id":
        raise CallError(f"the agent published {attribute['key']}={attribute['value']!r}")
    said = [e for e in events if e["event"] == "said"]
    heard = [e for e in events if e["event"] == "heard_reply"]
    if len(said) != lines or len(heard) != lines:
        raise CallError(f"said {len(said)} and heard {len(heard)} of {lines} lines")
    return str(attribute["value"]), said, float(_one(events, "left")["monotonic"])


def _replies_heard(
    said: Sequence[dict[str, Any]], responses: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """For each line said, the model's reply to it: the response whose audio started after the
    line ended and before the next line ended. (A caller who spoke first, on a line slow to
    connect, adds a reply before the first line; it is not one of these.)"""
    ends = [float(line["wall"]) for line in said] + [float("inf")]
    replies = []
    for i, line in enumerate(said):
        within = [
            r
            for r in responses
            if r["audio_started_at"] is not None and ends[i] < r["audio_started_at"] < ends[i + 1]
        ]
        if not within:
            raise CallError(f"no reply of the model started after {line['text']!r}")
        replies.append(within[0])
    return replies


def _score(
    recording: Path, said: Sequence[dict[str, Any]], replies: Sequence[dict[str, Any]]
) -> list[ReplyScore]:
    """Reply i is looked for between the end of line i and the end of line i + 1."""
    heard, rate = read_wav(recording)
    marks = [int(e["atSample"]) for e in said] + [len(heard)]
    scores = []
    for i, reply in enumerate(replies):
        sent = np.frombuffer(sent_audio(reply["reply_ms"], reply["audio_ms"]), "<i2")
        reference = resample(sent.astype(np.int16), MODEL_RATE)
        stretch = resample(heard[marks[i] : marks[i + 1]], rate)
        scores.append(score_reply(reference, stretch))
    return scores


async def scored_call(
    *,
    token_service_url: str,
    stub_state: Callable[[], dict[str, Any]],
    user_id: str,
    lines: Sequence[str],
    impairment: Impairment,
    seed: int,
    workdir: Path,
    reply_timeout: float = 30.0,
    call_timeout: float = 180.0,
) -> ScoredCall:
    """One call through the wire (see the module docstring). Raises CallError when the trainee
    did not get `session.id`, did not hear every reply, or the model's replies cannot be found."""
    recording = workdir / "heard.wav"
    since = time.time()
    trainee = spawn_trainee(
        token_service_url,
        user_id,
        log_path=workdir / "trainee.log",
        say=lines,
        reply_timeout=reply_timeout,
        record_agent=recording,
        leave=True,
        wrap=badnet_argv(impairment, seed),
    )
    try:
        code = await asyncio.to_thread(trainee.popen.wait, call_timeout)
    except subprocess.TimeoutExpired as exc:
        raise CallError(f"the call outlasted {call_timeout:.0f} s; log {trainee.log_path}") from exc
    finally:
        # Gone already, or stopped here: either way its log is closed and nothing is left.
        await asyncio.to_thread(trainee.terminate)
    log = trainee.log_text()
    events = _events(log)
    connection = await _connection(stub_state, since)
    view = workdir / "stub-connection.json"
    await asyncio.to_thread(view.write_text, json.dumps(connection, indent=1))
    if code != 0:
        raise CallError(
            f"the trainee exited with {code}; log {trainee.log_path}, the model's view {view}:\n"
            f"{log[-3000:]}"
        )
    if connection is None:
        raise CallError(f"not one Realtime connection since the call began: {view}")
    session_id, said, hung_up_at = _conversation(events, len(lines))
    replies = await asyncio.to_thread(
        _score, recording, said, _replies_heard(said, connection["responses"])
    )
    return ScoredCall(
        session_id=session_id,
        connection_id=connection["id"],
        replies=replies,
        receiver=summarize(_one(events, "receiver_stats")),
        wire=_one(events, "wire_closed"),
        hung_up_at=hung_up_at,
        events=events,
    )

"""Recordings, for real: the agent records both sides of a recorded call with livekit-agents'
recorder, delivers the Ogg file to the token service, and the trainee plays it back and seeks.

seed-demo makes one demo assignment require recording (`requireRecording`), not the other.
"""

import time
from typing import Any

import numpy as np
from recording_support import (
    RECORDING_TIMEOUT_S,
    Audio,
    decode_ogg,
    get_recording,
    log_events,
    wait_for_recording,
)

from devstack.harness import (
    REPLY_TIMEOUT_S,
    TRAINEE_LINES,
    FrontendApi,
    clip,
    record_latency,
    start_call,
)
from devstack.stack import Stack
from devstack.trainee import Trainee
from devstack.waits import until
from training_contracts import (
    ATTR_RECORDING,
    ATTR_SESSION_ID,
    RECORDING_OFF,
    RECORDING_ON,
    ApiErrorCode,
)

TEST = "recording"
TRAINEE, CALLER = 0, 1
"""Channels of the recording: left the trainee, right the caller."""
SPEAKING_RMS = 0.01
QUIET_RMS = 0.002
EDGE_S = 0.35
"""Trimmed off each end of a spoken stretch before measuring it: the recording's clock starts
when the agent's session starts, a moment after the trainee sees `session.id`."""


async def talk(trainee: Trainee, lines: int, t0: float) -> tuple[list[tuple[float, float]], ...]:
    """Say `lines` lines and hear each reply; (trainee's, caller's) spans, seconds since t0."""
    spoke: list[tuple[float, float]] = []
    replied: list[tuple[float, float]] = []
    for line in TRAINEE_LINES[:lines]:
        speech = await clip(line)
        ended = await trainee.say(speech)
        spoke.append((ended - speech.duration - t0, ended - t0))
        start, end = await trainee.wait_for_agent_reply(after=ended, timeout=REPLY_TIMEOUT_S)
        replied.append((start - t0, end - t0))
    return spoke, replied


def assert_channel_speaks(audio: Audio, speaking: int, spans: list[tuple[float, float]]) -> None:
    silent = CALLER if speaking == TRAINEE else TRAINEE
    for start, end in spans:
        window = (start + EDGE_S, end - EDGE_S)
        loud = audio.rms(speaking, *window)
        quiet = audio.rms(silent, *window)
        assert loud > SPEAKING_RMS, f"channel {speaking} silent over {window}: rms {loud:.4f}"
        assert quiet < QUIET_RMS, f"channel {silent} not quiet over {window}: rms {quiet:.4f}"


def demo_user(demo: dict[str, Any], *, recorded: bool) -> dict[str, Any]:
    """The demo user whose assignment does (or does not) require recording."""
    user: dict[str, Any] = next(u for u in demo["users"] if u["requireRecording"] is recorded)
    return user


async def start_assignment_call(
    stack: Stack, demo: dict[str, Any], *, recorded: bool
) -> tuple[str, Trainee, str]:
    """A call of the demo assignment that does (or does not) require recording: the user's id,
    the trainee in the call, the session's id."""
    user = demo_user(demo, recorded=recorded)
    trainee, session_id = await start_call(
        stack.token_service_url, user["userId"], TEST, assignment_id=user["assignmentId"]
    )
    return user["userId"], trainee, session_id


def first_onset(audio: Audio, channel: int, after: float = 0.0) -> float:
    """Seconds from the start to the first 10 ms block louder than SPEAKING_RMS."""
    block = audio.rate // 100
    samples = audio.samples[channel, round(after * audio.rate) :]
    usable = samples[: len(samples) // block * block].reshape(-1, block)
    loud = np.flatnonzero(np.sqrt(np.mean(np.square(usable, dtype=np.float64), axis=1)) > 0.01)
    assert loud.size, f"channel {channel} is silent throughout"
    return after + float(loud[0]) / 100


async def test_recorded_call_has_both_sides_and_seeks(
    stack: Stack, demo: dict[str, Any], frontend: FrontendApi
) -> None:
    user_id, trainee, session_id = await start_assignment_call(stack, demo, recorded=True)
    try:
        # Published with session.id, so the frontend shows it before anyone speaks.
        assert trainee.agent_attributes.get(ATTR_RECORDING) == RECORDING_ON
        seen = trainee.attribute_seen_at
        assert seen[ATTR_RECORDING] <= seen[ATTR_SESSION_ID]
        t0 = seen[ATTR_SESSION_ID]
        spoke, replied = await talk(trainee, 2, t0)
        call_s = await trainee.leave() - t0
    finally:
        await trainee.leave()
    session = await frontend.get_session(user_id, session_id)
    waited = time.monotonic()
    data = await wait_for_recording(
        stack.token_service_url, user_id, session_id, session.attempt, timeout=RECORDING_TIMEOUT_S
    )
    record_latency(TEST, "hang-up->recording stored", time.monotonic() - waited)

    audio = decode_ogg(data)
    assert audio.channels == 2
    assert audio.rate == 48_000
    record_latency(TEST, "recording - call duration", audio.duration - call_s)
    assert abs(audio.duration - call_s) < 1.0, (audio.duration, call_s)
    record_latency(TEST, "recording offset", first_onset(audio, TRAINEE) - spoke[0][0])
    print(
        f"[recording] {audio.duration:.2f} s, {audio.channels} channels, {len(data)} bytes, "
        f"{len(data) / audio.duration * 60 / 1e6:.3f} MB per minute",
        flush=True,
    )
    assert_channel_speaks(audio, TRAINEE, spoke)
    assert_channel_speaks(audio, CALLER, replied)

    await _assert_ranges(stack, user_id, session_id, session.attempt, data)
    other = demo_user(demo, recorded=False)["userId"]
    refused = await get_recording(stack.token_service_url, other, session_id, session.attempt)
    assert refused.status_code == 403, refused.text


async def _assert_ranges(
    stack: Stack, user_id: str, session_id: str, attempt: int, data: bytes
) -> None:
    size = len(data)
    for header, start, end in (
        ("bytes=0-99", 0, 100),
        (f"bytes={size // 2}-", size // 2, size),
        ("bytes=-512", size - 512, size),
    ):
        partial = await get_recording(
            stack.token_service_url, user_id, session_id, attempt, range_=header
        )
        assert partial.status_code == 206, partial.text
        assert partial.headers["content-range"] == f"bytes {start}-{end - 1}/{size}"
        assert int(partial.headers["content-length"]) == end - start
        assert partial.content == data[start:end]
        if header == "bytes=0-99":
            print(
                f"[recording] Range: {header} -> {partial.status_code}, "
                f"Content-Range: {partial.headers['content-range']}, "
                f"Content-Length: {partial.headers['content-length']}, "
                f"Content-Type: {partial.headers['content-type']}, "
                f"body starts {partial.content[:8]!r}",
                flush=True,
            )
    beyond = await get_recording(
        stack.token_service_url, user_id, session_id, attempt, range_=f"bytes={size}-"
    )
    assert beyond.status_code == 416, beyond.text
    assert beyond.headers["content-range"] == f"bytes */{size}"
    assert beyond.json()["error"]["code"] == ApiErrorCode.RANGE_NOT_SATISFIABLE


async def test_an_unrecorded_assignment_has_no_recording(
    stack: Stack, demo: dict[str, Any], frontend: FrontendApi
) -> None:
    user_id, trainee, session_id = await start_assignment_call(stack, demo, recorded=False)
    try:
        assert trainee.agent_attributes.get(ATTR_RECORDING) == RECORDING_OFF
        ended = await trainee.say(await clip(TRAINEE_LINES[0]))
        await trainee.wait_for_agent_reply(after=ended, timeout=REPLY_TIMEOUT_S)
        left = await trainee.leave()
    finally:
        await trainee.leave()
    session = await frontend.get_session(user_id, session_id)
    await frontend.wait_for_transcript(user_id, session_id, attempt=session.attempt, since=left)
    none = await get_recording(stack.token_service_url, user_id, session_id, session.attempt)
    assert none.status_code == 404, none.text
    assert none.json()["error"]["code"] == ApiErrorCode.NOT_FOUND
    assert stack.agent is not None
    assert not list((stack.agent.spool_dir / "recordings").glob(f"{session_id}_*"))


async def test_token_service_down_at_upload_spools_then_delivers_once(
    stack: Stack, demo: dict[str, Any], frontend: FrontendApi
) -> None:
    assert stack.agent is not None
    user_id, trainee, session_id = await start_assignment_call(stack, demo, recorded=True)
    attempt = (await frontend.get_session(user_id, session_id)).attempt
    spooled = stack.agent.spool_dir / "recordings" / f"{session_id}_{attempt}.ogg"
    try:
        ended = await trainee.say(await clip(TRAINEE_LINES[0]))
        await trainee.wait_for_agent_reply(after=ended, timeout=REPLY_TIMEOUT_S)
        stack.stop_token_service()
        await trainee.leave()
        # The job gives up on the upload within its bounds and leaves the file in the spool.
        await until(
            "job giving up on the upload",
            lambda: log_events(
                (stack.log_dir / "agent.log"),
                "recording not delivered, spooled",
                session_id=session_id,
            ),
            RECORDING_TIMEOUT_S,
            poll=0.25,
        )
        # In the spool: as it is, or claimed by a redelivery pass trying it right now.
        assert list(spooled.parent.glob(spooled.name + "*")), list(spooled.parent.iterdir())
    finally:
        await trainee.leave()
        if stack.token_service is None:
            stack.start_token_service()
    restarted = time.monotonic()
    data = await wait_for_recording(
        stack.token_service_url, user_id, session_id, attempt, timeout=RECORDING_TIMEOUT_S
    )
    record_latency(
        TEST, "token service back->spooled recording stored", time.monotonic() - restarted
    )
    assert decode_ogg(data).channels == 2
    await until(
        "removal of the spool file",
        lambda: not list(spooled.parent.glob(spooled.name + "*")),
        10.0,
        poll=0.25,
    )
    delivered = log_events(
        (stack.log_dir / "agent.log"), "spooled recording delivered", session_id=str(session_id)
    )
    assert [event["stored"] for event in delivered] == [True]

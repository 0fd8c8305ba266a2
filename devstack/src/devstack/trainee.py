"""The trainee: what the browser does, on the LiveKit Python SDK.

It asks the token service for a token (`POST /api/livekit/token` with `x-user-id`), joins the room,
publishes a microphone fed continuously at real-time pace (silence, or a speech clip when it
`say`s something), listens to the agent's audio track measuring its energy, and reads the agent's
participant attributes on connect and on every `participant_attributes_changed`.

`python -m devstack.trainee ...` runs one in its own process, printing JSON lines, so that a test
can make it vanish (SIGKILL) the way a closed browser tab does.
"""

# A deadline is these waits' contract (the error says what never came), not an outer cancel.
# ruff: noqa: ASYNC109

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import msgspec
import numpy as np
import numpy.typing as npt
from livekit import rtc

from training_contracts import ATTR_ERROR, ATTR_SESSION_ID, USER_ID_HEADER, TokenResponse

from .processes import ManagedProcess
from .speech import SAMPLE_RATE, SpeechClip, render_speech, rms

__all__ = [
    "ATTR_AGENT_STATE",
    "AgentAudio",
    "Trainee",
    "TraineeError",
    "fetch_token",
    "spawn_trainee",
]

ATTR_AGENT_STATE = "lk.agent.state"
"""Set by livekit-agents on the agent's participant: initializing, listening, thinking, speaking."""

FRAME_MS = 10
FRAME_SAMPLES = SAMPLE_RATE * FRAME_MS // 1000
ENERGY_THRESHOLD = 500.0
"""RMS (PCM16 counts) above which a frame counts as sound; the stub's VAD uses the same level."""


class TraineeError(RuntimeError):
    pass


async def fetch_token(
    token_service_url: str,
    user_id: str,
    *,
    assignment_id: str | None = None,
    scenario_id: str | None = None,
    timeout: float = 10.0,
) -> TokenResponse:
    """`POST /api/livekit/token` as the frontend does it."""
    body: dict[str, str] = {}
    if assignment_id:
        body["assignmentId"] = assignment_id
    if scenario_id:
        body["scenarioId"] = scenario_id
    async with httpx.AsyncClient(timeout=timeout, trust_env=False) as client:
        response = await client.post(
            f"{token_service_url}/api/livekit/token",
            headers={USER_ID_HEADER: user_id},
            json=body,
        )
    if response.status_code != 200:
        raise TraineeError(f"token request answered {response.status_code}: {response.text}")
    return msgspec.json.decode(response.content, type=TokenResponse)


@dataclass
class AgentAudio:
    """What the trainee heard from the agent's audio track."""

    threshold: float = ENERGY_THRESHOLD
    frames: int = 0
    energetic_frames: int = 0
    max_rms: float = 0.0
    first_frame_at: float | None = None
    first_energy_at: float | None = None
    last_energy_at: float | None = None
    bursts: list[tuple[float, float]] = field(default_factory=list)
    """(start, end) monotonic times of runs of energetic frames (gaps under 300 ms merged)."""

    def add(self, samples: npt.NDArray[np.int16], now: float) -> None:
        level = rms(samples)
        self.frames += 1
        if self.first_frame_at is None:
            self.first_frame_at = now
        self.max_rms = max(self.max_rms, level)
        if level < self.threshold:
            return
        self.energetic_frames += 1
        if self.first_energy_at is None:
            self.first_energy_at = now
        if self.bursts and now - self.bursts[-1][1] < 0.3:
            self.bursts[-1] = (self.bursts[-1][0], now)
        else:
            self.bursts.append((now, now))
        self.last_energy_at = now

    @property
    def energetic_seconds(self) -> float:
        return self.energetic_frames * FRAME_MS / 1000


def _is_agent(participant: rtc.RemoteParticipant) -> bool:
    return participant.kind == rtc.ParticipantKind.PARTICIPANT_KIND_AGENT


class Trainee:
    """One trainee in one room. Create it inside a running event loop."""

    def __init__(
        self,
        *,
        is_agent: Callable[[rtc.RemoteParticipant], bool] = _is_agent,
        energy_threshold: float = ENERGY_THRESHOLD,
        name: str = "trainee",
    ) -> None:
        self.name = name
        self.room = rtc.Room()
        self._is_agent = is_agent
        self.token: TokenResponse | None = None
        self.agent_identity: str | None = None
        self.agent_attributes: dict[str, str] = {}
        self.attribute_seen_at: dict[str, float] = {}
        self.agent_audio = AgentAudio(threshold=energy_threshold)
        self.joined_at: float | None = None
        self.left_at: float | None = None
        self.disconnected = False
        self._changed = asyncio.Event()
        self._source = rtc.AudioSource(SAMPLE_RATE, 1, queue_size_ms=200)
        self._pending: collections.deque[tuple[npt.NDArray[np.int16], asyncio.Future[float]]] = (
            collections.deque()
        )
        self._offset = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._mic_task: asyncio.Task[None] | None = None
        self.room.on("participant_connected", self._on_participant)
        self.room.on("participant_attributes_changed", self._on_attributes_changed)
        self.room.on("participant_disconnected", self._on_participant_disconnected)
        self.room.on("track_subscribed", self._on_track_subscribed)
        self.room.on("disconnected", self._on_disconnected)

    # -- joining ---------------------------------------------------------------------------------

    @classmethod
    async def join(
        cls,
        token_service_url: str,
        user_id: str,
        *,
        assignment_id: str | None = None,
        scenario_id: str | None = None,
        name: str = "trainee",
    ) -> Trainee:
        """Ask the token service for a token and join the room it names."""
        token = await fetch_token(
            token_service_url, user_id, assignment_id=assignment_id, scenario_id=scenario_id
        )
        trainee = cls(name=name)
        trainee.token = token
        try:
            await trainee.connect(token.server_url, token.token)
        except BaseException:
            await trainee.leave()
            raise
        return trainee

    async def connect(self, server_url: str, token: str) -> None:
        await self.room.connect(server_url, token)
        self.joined_at = time.monotonic()
        for participant in self.room.remote_participants.values():
            self._on_participant(participant)
            for publication in participant.track_publications.values():
                if publication.track is not None:
                    self._on_track_subscribed(publication.track, publication, participant)
        track = rtc.LocalAudioTrack.create_audio_track("microphone", self._source)
        options = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)
        await self.room.local_participant.publish_track(track, options)
        self._mic_task = asyncio.create_task(self._feed_microphone(), name=f"{self.name}-mic")

    # -- the microphone --------------------------------------------------------------------------

    async def _feed_microphone(self) -> None:
        """10 ms frames at real-time pace: the pending clip if any, else silence."""
        loop = asyncio.get_running_loop()
        silence = np.zeros(FRAME_SAMPLES, dtype=np.int16)
        next_at = loop.time()
        while True:
            chunk = silence
            if self._pending:
                samples, done = self._pending[0]
                chunk = samples[self._offset : self._offset + FRAME_SAMPLES]
                self._offset += FRAME_SAMPLES
                if len(chunk) < FRAME_SAMPLES:
                    chunk = np.concatenate([chunk, silence[: FRAME_SAMPLES - len(chunk)]])
                if self._offset >= len(samples):
                    self._pending.popleft()
                    self._offset = 0
                    if not done.done():
                        done.set_result(time.monotonic())
            frame = rtc.AudioFrame(chunk.tobytes(), SAMPLE_RATE, 1, FRAME_SAMPLES)
            await self._source.capture_frame(frame)
            next_at += FRAME_MS / 1000
            delay = next_at - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            elif delay < -0.2:
                next_at = loop.time()  # the loop stalled: do not burst to catch up

    async def say(self, clip: SpeechClip | str, *, then_silence: float = 0.0) -> float:
        """Speak `clip` (rendered if given as text); return when its last frame was sent.

        Silence follows on its own; `then_silence` only waits that long before returning.
        Returns the monotonic time the speech ended.
        """
        if isinstance(clip, str):
            clip = await asyncio.to_thread(render_speech, clip)
        mic = self._mic_task
        if mic is None:
            raise TraineeError(f"{self.name}: say() while not in a call")
        done: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._pending.append((clip.samples, done))
        pending: set[asyncio.Future[Any]] = {done, mic}
        await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        if not done.done():
            mic.result()  # the microphone failed: raise why
            raise TraineeError(f"{self.name}: the microphone stopped")
        ended = done.result()
        if then_silence > 0:
            await asyncio.sleep(then_silence)
        return ended

    # -- the agent -------------------------------------------------------------------------------

    def _notify(self) -> None:
        self._changed.set()

    def _record_attributes(self, attributes: dict[str, str]) -> None:
        now = time.monotonic()
        for key, value in attributes.items():
            if value and key not in self.attribute_seen_at:
                self.attribute_seen_at[key] = now
        self.agent_attributes.update(attributes)
        self._notify()

    def _on_participant(self, participant: rtc.RemoteParticipant) -> None:
        if not self._is_agent(participant):
            return
        self.agent_identity = participant.identity
        self._record_attributes(dict(participant.attributes))

    def _on_attributes_changed(self, changed: dict[str, str], participant: rtc.Participant) -> None:
        if isinstance(participant, rtc.RemoteParticipant) and self._is_agent(participant):
            self.agent_identity = participant.identity
            self._record_attributes(dict(participant.attributes) | changed)

    def _on_participant_disconnected(self, participant: rtc.RemoteParticipant) -> None:
        if participant.identity == self.agent_identity:
            self._notify()

    def _on_disconnected(self, *_: Any) -> None:
        self.disconnected = True
        self._notify()

    def _on_track_subscribed(
        self,
        track: rtc.Track,
        publication: rtc.RemoteTrackPublication,
        participant: rtc.RemoteParticipant,
    ) -> None:
        if track.kind != rtc.TrackKind.KIND_AUDIO or not self._is_agent(participant):
            return
        task = asyncio.create_task(self._listen(track), name=f"{self.name}-listen")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _listen(self, track: rtc.Track) -> None:
        stream = rtc.AudioStream.from_track(
            track=track, sample_rate=SAMPLE_RATE, num_channels=1, frame_size_ms=FRAME_MS
        )
        try:
            async for event in stream:
                samples = np.frombuffer(event.frame.data, dtype=np.int16)
                self.agent_audio.add(samples, time.monotonic())
                self._notify()
        finally:
            await stream.aclose()

    async def _wait(self, predicate: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while True:
            self._changed.clear()
            if predicate():
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(
                    f"{self.name}: no {what} within {timeout:.1f} s "
                    f"(agent {self.agent_identity}, attributes {self.agent_attributes}, "
                    f"audio frames {self.agent_audio.frames}, "
                    f"energetic {self.agent_audio.energetic_frames})"
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(remaining, 0.5))

    async def wait_for_attribute(self, key: str, timeout: float) -> str:
        """The agent's attribute `key` once it is set (already, or later)."""
        await self._wait(
            lambda: bool(self.agent_attributes.get(key)), timeout, f"attribute {key!r}"
        )
        return self.agent_attributes[key]

    async def wait_for_any_attribute(self, keys: Sequence[str], timeout: float) -> tuple[str, str]:
        """The first of `keys` the agent sets, e.g. `session.id` or `error`."""

        def present() -> bool:
            return any(self.agent_attributes.get(key) for key in keys)

        await self._wait(present, timeout, f"attribute among {list(keys)}")
        key = min(
            (key for key in keys if self.agent_attributes.get(key)),
            key=lambda k: self.attribute_seen_at.get(k, 0.0),
        )
        return key, self.agent_attributes[key]

    async def wait_for_session_id(self, timeout: float) -> str:
        """`session.id`, or TraineeError as soon as the agent publishes `error` instead."""
        key, value = await self.wait_for_any_attribute([ATTR_SESSION_ID, ATTR_ERROR], timeout)
        if key == ATTR_ERROR:
            raise TraineeError(f"{self.name}: the agent published error={value!r}")
        return value

    async def wait_until_listening(self, timeout: float) -> float:
        """Wait for the agent's `lk.agent.state` to be `listening` (what the frontend's
        useVoiceAssistant shows): its session runs and hears the trainee. Returns seconds since
        joining."""
        await self._wait(
            lambda: self.agent_attributes.get(ATTR_AGENT_STATE) == "listening",
            timeout,
            "listening agent",
        )
        assert self.joined_at is not None
        return time.monotonic() - self.joined_at

    async def wait_for_agent_speech(self, timeout: float, *, after: float | None = None) -> float:
        """Monotonic time of the first energetic agent frame (later than `after` if given)."""
        audio = self.agent_audio

        def heard() -> bool:
            if after is None:
                return audio.first_energy_at is not None
            return audio.last_energy_at is not None and audio.last_energy_at > after

        await self._wait(heard, timeout, "agent speech")
        if after is None:
            assert audio.first_energy_at is not None
            return audio.first_energy_at
        return next(start if start > after else end for start, end in audio.bursts if end > after)

    async def wait_for_agent_reply(
        self, *, after: float, timeout: float, quiet: float = 0.8
    ) -> tuple[float, float]:
        """Wait for the agent to speak after `after` and then fall quiet for `quiet` seconds.

        Returns (start, end) monotonic times of what it said.
        """
        deadline = time.monotonic() + timeout
        started = await self.wait_for_agent_speech(timeout, after=after)
        audio = self.agent_audio
        while True:
            last = audio.last_energy_at or started
            if time.monotonic() - last >= quiet:
                return started, last
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"{self.name}: the agent did not stop talking within {timeout} s"
                )
            await asyncio.sleep(0.05)

    async def wait_for_agent_gone(self, timeout: float) -> None:
        def gone() -> bool:
            if self.disconnected:
                return True
            return self.agent_identity is not None and all(
                p.identity != self.agent_identity for p in self.room.remote_participants.values()
            )

        await self._wait(gone, timeout, "agent departure")

    # -- leaving ---------------------------------------------------------------------------------

    async def leave(self) -> float:
        """Hang up (room.disconnect) and return the monotonic time of the hang-up."""
        if self.left_at is not None:
            return self.left_at
        if self._mic_task is not None:
            self._mic_task.cancel()
            await asyncio.gather(self._mic_task, return_exceptions=True)
            self._mic_task = None
        self.left_at = time.monotonic()
        await self.room.disconnect()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._source.aclose()
        return self.left_at


# -- a trainee in its own process ----------------------------------------------------------------


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


async def _run_cli(args: argparse.Namespace) -> None:
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
    await trainee.wait_until_listening(args.reply_timeout)
    _emit("listening")
    clips = [await asyncio.to_thread(render_speech, text) for text in args.say]
    for clip in clips:
        ended = await trainee.say(clip)
        _emit("said", text=clip.text)
        await trainee.wait_for_agent_reply(after=ended, timeout=args.reply_timeout)
        _emit("heard_reply")
    _emit("holding")
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
        asyncio.run(_run_cli(args))
    except Exception as exc:
        _emit("failed", error=f"{type(exc).__name__}: {exc}")
        raise SystemExit(1) from exc


if __name__ == "__main__":
    main()

"""One trainee in one room: joins with a token from the token service, speaks through its
microphone, hears the agent through its listener, and keeps the agent's participant attributes
(on connect and on every `participant_attributes_changed`) for its waits."""

# A deadline is these waits' contract (the error says what never came), not an outer cancel.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from typing import Any

from livekit import rtc

from training_contracts import ATTR_ERROR, ATTR_SESSION_ID, TokenResponse

from ..speech import SAMPLE_RATE, SpeechClip, render_speech
from .errors import TraineeError
from .listener import ENERGY_THRESHOLD, AgentAudio, Listener
from .microphone import Microphone
from .recording import Recording
from .token_request import fetch_token

__all__ = ["ATTR_AGENT_STATE", "Trainee"]

ATTR_AGENT_STATE = "lk.agent.state"
"""Set by livekit-agents on the agent's participant: initializing, listening, thinking, speaking."""

WAKE_S = 0.5
"""The longest a wait sleeps without looking again, should no event come."""
QUIET_POLL_S = 0.05
"""How often the end of a reply is looked for: silence may bring no frame to wake on."""


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
        record: bool = False,
    ) -> None:
        self.name = name
        self.room = rtc.Room()
        self._is_agent = is_agent
        self.token: TokenResponse | None = None
        self.agent_identity: str | None = None
        self.agent_attributes: dict[str, str] = {}
        self.attribute_seen_at: dict[str, float] = {}
        self.joined_at: float | None = None
        self.left_at: float | None = None
        self.disconnected = False
        self.microphone_subscribed = False  # the agent subscribed: what is said is heard
        self._changed = asyncio.Event()
        self.microphone = Microphone(name)
        self.listener = Listener(
            AgentAudio(threshold=energy_threshold),
            self._notify,
            name,
            Recording(SAMPLE_RATE) if record else None,
        )
        self.room.on("participant_connected", self._on_participant)
        self.room.on("participant_attributes_changed", self._on_attributes_changed)
        self.room.on("participant_disconnected", self._on_participant_disconnected)
        self.room.on("track_subscribed", self._on_track_subscribed)
        self.room.on("local_track_subscribed", self._on_local_track_subscribed)
        self.room.on("disconnected", self._on_disconnected)

    @property
    def agent_audio(self) -> AgentAudio:
        return self.listener.audio

    # -- joining and leaving ---------------------------------------------------------------------

    @classmethod
    async def join(
        cls,
        token_service_url: str,
        user_id: str,
        *,
        assignment_id: str | None = None,
        scenario_id: str | None = None,
        name: str = "trainee",
        record: bool = False,
    ) -> Trainee:
        """Ask the token service for a token and join the room it names; with `record`, keep
        everything heard from the agent (`listener.recording`)."""
        token = await fetch_token(
            token_service_url, user_id, assignment_id=assignment_id, scenario_id=scenario_id
        )
        trainee = cls(name=name, record=record)
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
        await self.microphone.publish(self.room)

    async def say(self, clip: SpeechClip | str, *, then_silence: float = 0.0) -> float:
        """Speak `clip` (rendered if given as text); return when its last frame was sent.

        Silence follows on its own; `then_silence` only waits that long before returning.
        Returns the monotonic time the speech ended.
        """
        if isinstance(clip, str):
            clip = await asyncio.to_thread(render_speech, clip)
        ended = await self.microphone.play(clip.samples)
        if then_silence > 0:
            await asyncio.sleep(then_silence)
        return ended

    async def leave(self) -> float:
        """Hang up (room.disconnect) and return the monotonic time of the hang-up."""
        if self.left_at is not None:
            return self.left_at
        await self.microphone.stop()
        self.left_at = time.monotonic()
        await self.room.disconnect()
        await self.listener.aclose()
        await self.microphone.aclose()
        return self.left_at

    # -- what the room tells about the agent -----------------------------------------------------

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

    def _on_local_track_subscribed(self, _track: rtc.Track) -> None:
        self.microphone_subscribed = True
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
        if track.kind == rtc.TrackKind.KIND_AUDIO and self._is_agent(participant):
            self.listener.listen(track)

    # -- waits -----------------------------------------------------------------------------------

    async def _wait(
        self, predicate: Callable[[], bool], timeout: float, what: str, *, poll: float = WAKE_S
    ) -> None:
        """Until `predicate()` holds, looking again on every event and every `poll` seconds."""
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
                await asyncio.wait_for(self._changed.wait(), min(remaining, poll))

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

    async def wait_until_heard(self, timeout: float) -> None:
        """Until the microphone is subscribed: on a slow network that can come seconds after the
        agent listens, and words said before are lost."""
        await self._wait(
            lambda: self.microphone_subscribed, timeout, "subscriber of the microphone"
        )

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

        def fell_quiet() -> bool:
            return time.monotonic() - (audio.last_energy_at or started) >= quiet

        await self._wait(
            fell_quiet, deadline - time.monotonic(), "end of the agent's reply", poll=QUIET_POLL_S
        )
        return started, audio.last_energy_at or started

    async def wait_for_agent_gone(self, timeout: float) -> None:
        def gone() -> bool:
            if self.disconnected:
                return True
            return self.agent_identity is not None and all(
                p.identity != self.agent_identity for p in self.room.remote_participants.values()
            )

        await self._wait(gone, timeout, "agent departure")

"""A connection's input audio: the `input_audio_buffer.*` events, turn detection on the audio,
and the user turns it commits (with their transcripts, and the response a turn may start).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import Awaitable, Callable
from typing import Any

from . import audio, events
from .conversation import last_item_id
from .events import ClientEventError, Event, split_words
from .ids import new_id
from .responses import Responses
from .script import Script
from .session_config import transcription_enabled, turn_detection
from .state import ConnectionState
from .usage import UsageMeter
from .vad import EnergyVAD, SpeechStarted, SpeechStopped, VadEvent

MIN_COMMIT_MS = 100  # OpenAI refuses to commit a shorter buffer


class InputAudio:
    """The input audio buffer of one connection and the turn detection that runs on it."""

    def __init__(
        self,
        state: ConnectionState,
        script: Callable[[], Script],
        usage: UsageMeter,
        send: Callable[[Event], Awaitable[None]],
        responses: Responses,
    ) -> None:
        self.state = state
        self._script = script
        self._usage = usage
        self._send = send
        self._responses = responses
        td = turn_detection(state.session)
        self._vad = EnergyVAD(silence_ms=td.silence_ms if td else 500)
        self._user_turns = 0
        self._buffer_ms = 0  # audio appended since the last commit or clear
        self._speech_item_id: str | None = None  # the user item of the speech in progress
        self.background: set[asyncio.Task[None]] = set()  # delayed transcripts

    def session_updated(self) -> None:
        """Applies the session's (possibly new) turn detection settings."""
        td = turn_detection(self.state.session)
        if td is None:
            self._vad.reset()
            self._speech_item_id = None
        else:
            self._vad.silence_ms = td.silence_ms

    async def append(self, event: dict[str, Any]) -> None:
        try:
            pcm = base64.b64decode(event.get("audio") or "", validate=True)
        except (binascii.Error, TypeError, ValueError):
            raise ClientEventError(
                "audio must be base64-encoded PCM16", code="invalid_value"
            ) from None
        ms = audio.duration_ms(pcm)
        self.state.audio_received_ms += ms
        self._buffer_ms += ms
        vad_events = self._vad.push(pcm)
        td = turn_detection(self.state.session)
        if td is None:
            self._vad.reset()
            return
        for vad_event in vad_events:
            await self._on_vad_event(vad_event)

    async def commit(self) -> None:
        if self._buffer_ms < MIN_COMMIT_MS:
            raise ClientEventError(
                "Error committing input audio buffer: buffer too small. Expected at least "
                f"100ms of audio, but buffer only has {self._buffer_ms:.2f}ms of audio.",
                code="input_audio_buffer_commit_empty",
            )
        item_id = self._speech_item_id or new_id("item")
        self._speech_item_id = None
        self._vad.reset()
        await self._commit_user_turn(item_id, respond=False)

    async def clear(self) -> None:
        self._buffer_ms = 0
        self._speech_item_id = None
        self._vad.reset()
        await self._send(events.audio_cleared())

    async def _on_vad_event(self, vad_event: VadEvent) -> None:
        td = turn_detection(self.state.session)
        if isinstance(vad_event, SpeechStarted):
            item_id = new_id("item")
            self._speech_item_id = item_id
            self.state.speech.append(
                {
                    "type": "speech_started",
                    "item_id": item_id,
                    "audio_ms": vad_event.audio_start_ms,
                }
            )
            await self._send(events.speech_started(item_id, vad_event.audio_start_ms))
            if self._responses.active is not None and (td is None or td.interrupt_response):
                await self._responses.cancel("turn_detected")
        elif isinstance(vad_event, SpeechStopped):
            item_id = self._speech_item_id or new_id("item")
            self._speech_item_id = None
            self.state.speech.append(
                {"type": "speech_stopped", "item_id": item_id, "audio_ms": vad_event.audio_end_ms}
            )
            await self._send(events.speech_stopped(item_id, vad_event.audio_end_ms))
            await self._commit_user_turn(item_id, respond=td is None or td.create_response)

    async def _commit_user_turn(self, item_id: str, *, respond: bool) -> None:
        seconds = self._buffer_ms / 1000
        self._usage.user_audio(item_id, self._buffer_ms)
        self._buffer_ms = 0
        previous_id = last_item_id(self.state.items)
        await self._send(events.audio_committed(item_id, previous_id))
        item = events.user_audio_item(item_id)
        self.state.items.append(item)
        await self._send(events.conversation_item_added(previous_id, item))

        script = self._script()
        transcript = script.user_transcript(self._user_turns)
        self._user_turns += 1
        if transcription_enabled(self.state.session):
            if script.transcript_delay_ms > 0:
                task = asyncio.create_task(
                    self._send_transcript(
                        item, transcript, seconds, delay_s=script.transcript_delay_ms / 1000
                    )
                )
                self.background.add(task)
                task.add_done_callback(self.background.discard)
            else:
                await self._send_transcript(item, transcript, seconds)

        if respond and self._responses.active is None:
            self._responses.start(auto=True, metadata=None, instructions=None, in_conversation=True)

    async def _send_transcript(
        self, item: dict[str, Any], transcript: str, seconds: float, delay_s: float = 0.0
    ) -> None:
        if delay_s:
            await asyncio.sleep(delay_s)
        item["content"] = [{"type": "input_audio", "transcript": transcript}]
        for delta in split_words(transcript):
            await self._send(events.transcription_delta(item["id"], delta))
        self.state.user_transcripts.append(transcript)
        await self._send(events.transcription_completed(item["id"], transcript, seconds))
        self.state.completed(item["id"])

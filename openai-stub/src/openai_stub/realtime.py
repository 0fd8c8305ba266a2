"""One Realtime WebSocket connection: its session, conversation, turn detection and responses.

Client events are handled one at a time, in order. A response runs as a task that streams its
audio at real-time pace, so a cancellation (by the client, or by the user speaking over it)
lands while it is still "playing". A cancellation is complete (`response.done` sent) before the
next client event is handled.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from aiohttp import WSMsgType, web

from . import audio, events
from .events import Event
from .ids import new_id
from .script import Script
from .session_config import (
    audio_output,
    deep_merge,
    transcription_enabled,
    turn_detection,
)
from .state import ConnectionState, ResponseRecord
from .usage import UsageMeter
from .vad import EnergyVAD, SpeechStarted, SpeechStopped, VadEvent

log = logging.getLogger("openai_stub.realtime")

TEXT_DELTA_INTERVAL_S = 0.03  # pace of text-only responses, per word


@dataclass
class _Response:
    record: ResponseRecord
    modalities: list[str]
    in_conversation: bool
    item: dict[str, Any] = field(default_factory=dict)
    item_added: bool = False
    part_added: bool = False
    transcript: str = ""
    audio_ms: int = 0
    finishing: bool = False  # the closing events are being sent: let them finish
    task: asyncio.Task[None] | None = None

    @property
    def id(self) -> str:
        return self.record.id


def split_words(text: str) -> list[str]:
    """Splits text into deltas that concatenate back to it (each word keeps its trailing space)."""
    return re.findall(r"\S+\s*|\s+", text)


class RealtimeConnection:
    def __init__(
        self,
        ws: web.WebSocketResponse,
        state: ConnectionState,
        script: Callable[[], Script],
    ) -> None:
        self._ws = ws
        self.state = state
        self._script = script
        self._send_lock = asyncio.Lock()
        td = turn_detection(state.session)
        self._vad = EnergyVAD(silence_ms=td.silence_ms if td else 500)
        self._user_turns = 0
        self._replies = 0
        self._buffer_ms = 0  # audio appended since the last commit or clear
        self._speech_item_id: str | None = None  # the user item of the speech in progress
        self._response: _Response | None = None
        self._background: set[asyncio.Task[None]] = set()
        self._usage = UsageMeter()

    # plumbing

    async def run(self) -> None:
        """Serves the connection until the client closes it."""
        try:
            await self.send(events.session_created(self.state.session))
            async for msg in self._ws:
                if msg.type == WSMsgType.TEXT:
                    await self.handle_text(msg.data)
                elif msg.type == WSMsgType.BINARY:
                    await self._error("binary frames are not supported", code="invalid_event")
                elif msg.type == WSMsgType.ERROR:
                    break
        finally:
            await self._close()

    async def _close(self) -> None:
        self.state.closed = True
        self.state.closed_at = time.time()
        response, self._response = self._response, None
        tasks = list(self._background)
        if response is not None and response.task is not None:
            tasks.append(response.task)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def send(self, event: Event) -> None:
        self.state.record_server_event(event["type"])
        async with self._send_lock:
            if self._ws.closed:
                return
            try:
                await self._ws.send_str(json.dumps(event))
            except ConnectionError:
                log.debug("client went away while sending %s", event["type"])

    async def _error(self, message: str, *, code: str | None, event_id: str | None = None) -> None:
        self.state.errors.append({"code": code, "message": message, "event_id": event_id})
        await self.send(events.error(message, code=code, event_id=event_id))

    @property
    def _last_item_id(self) -> str | None:
        return self.state.items[-1]["id"] if self.state.items else None

    def _find_item(self, item_id: object) -> int | None:
        for index, item in enumerate(self.state.items):
            if item.get("id") == item_id:
                return index
        return None

    # client events

    async def handle_text(self, data: str) -> None:
        try:
            event = json.loads(data)
        except json.JSONDecodeError:
            await self._error("the event is not valid JSON", code="invalid_json")
            return
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            await self._error("an event must be a JSON object with a type", code="invalid_event")
            return
        event_type: str = event["type"]
        self.state.record_client_event(event_type)
        handler = self._handlers.get(event_type)
        if handler is None:
            await self._error(
                f"Invalid value: '{event_type}'. The stub does not support this event type.",
                code="invalid_value",
                event_id=_event_id(event),
            )
            return
        await handler(self, event)

    async def _on_session_update(self, event: dict[str, Any]) -> None:
        session = event.get("session")
        if not isinstance(session, dict):
            await self._error(
                "session.update needs a session object",
                code="missing_required_parameter",
                event_id=_event_id(event),
            )
            return
        self.state.session = deep_merge(self.state.session, session)
        if isinstance(session.get("instructions"), str):
            self.state.instructions = session["instructions"]
        td = turn_detection(self.state.session)
        if td is None:
            self._vad.reset()
            self._speech_item_id = None
        else:
            self._vad.silence_ms = td.silence_ms
        await self.send(events.session_updated(self.state.session))

    async def _on_item_create(self, event: dict[str, Any]) -> None:
        event_id = _event_id(event)
        item = event.get("item")
        if not isinstance(item, dict) or not isinstance(item.get("type"), str):
            await self._error(
                "conversation.item.create needs an item with a type",
                code="missing_required_parameter",
                event_id=event_id,
            )
            return
        item_id = item.get("id") or new_id("item")
        if self._find_item(item_id) is not None:
            await self._error(
                f"Item with id '{item_id}' already exists.",
                code="item_create_duplicate_item_id",
                event_id=event_id,
            )
            return
        stored = {**item, "id": item_id, "object": "realtime.item", "status": "completed"}
        previous = event.get("previous_item_id")
        if previous == "root":
            index, previous_id = 0, None
        elif previous is None:
            index, previous_id = len(self.state.items), self._last_item_id
        else:
            found = self._find_item(previous)
            if found is None:
                await self._error(
                    f"Previous item with id '{previous}' does not exist.",
                    code="item_create_invalid_previous_item_id",
                    event_id=event_id,
                )
                return
            index, previous_id = found + 1, previous
        self.state.items.insert(index, stored)
        await self.send(events.conversation_item_added(previous_id, stored))

    async def _on_item_delete(self, event: dict[str, Any]) -> None:
        item_id = event.get("item_id")
        index = self._find_item(item_id)
        if index is None or not isinstance(item_id, str):
            await self._error(
                f"Item with item_id '{item_id}' not found.",
                code="item_delete_invalid_item_id",
                event_id=_event_id(event),
            )
            return
        del self.state.items[index]
        await self.send(events.conversation_item_deleted(item_id))

    async def _on_item_truncate(self, event: dict[str, Any]) -> None:
        item_id = event.get("item_id")
        index = self._find_item(item_id)
        audio_end_ms = event.get("audio_end_ms")
        content_index = event.get("content_index", 0)
        if index is None or not isinstance(item_id, str):
            await self._error(
                f"Item with item_id '{item_id}' not found.",
                code="item_truncate_invalid_item_id",
                event_id=_event_id(event),
            )
            return
        if not isinstance(audio_end_ms, int) or audio_end_ms < 0:
            await self._error(
                "audio_end_ms must be a non-negative integer",
                code="invalid_value",
                event_id=_event_id(event),
            )
            return
        self.state.items[index]["truncated_audio_end_ms"] = audio_end_ms
        await self.send(
            events.conversation_item_truncated(
                item_id, content_index if isinstance(content_index, int) else 0, audio_end_ms
            )
        )

    async def _on_response_create(self, event: dict[str, Any]) -> None:
        if self._response is not None:
            await self._error(
                "Conversation already has an active response in progress: "
                f"{self._response.id}. Wait until the response is finished before creating "
                "a new one.",
                code="conversation_already_has_active_response",
                event_id=_event_id(event),
            )
            return
        params = event.get("response")
        params = params if isinstance(params, dict) else {}
        instructions = params.get("instructions")
        modalities = params.get("output_modalities")
        self._start_response(
            auto=False,
            metadata=params.get("metadata"),
            instructions=instructions if isinstance(instructions, str) else None,
            in_conversation=params.get("conversation") != "none",
            modalities=(
                (["audio"] if "audio" in modalities else ["text"])
                if isinstance(modalities, list) and modalities
                else None
            ),
        )

    async def _on_response_cancel(self, event: dict[str, Any]) -> None:
        wanted = event.get("response_id")
        if self._response is None or (wanted and wanted != self._response.id):
            await self._error(
                "Cancellation failed: no active response found",
                code="response_cancel_not_active",
                event_id=_event_id(event),
            )
            return
        await self._cancel_response("client_cancelled")

    async def _on_audio_append(self, event: dict[str, Any]) -> None:
        try:
            pcm = base64.b64decode(event.get("audio") or "", validate=True)
        except (binascii.Error, TypeError, ValueError):
            await self._error(
                "audio must be base64-encoded PCM16",
                code="invalid_value",
                event_id=_event_id(event),
            )
            return
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

    async def _on_audio_commit(self, event: dict[str, Any]) -> None:
        if self._buffer_ms < 100:
            await self._error(
                "Error committing input audio buffer: buffer too small. Expected at least "
                f"100ms of audio, but buffer only has {self._buffer_ms:.2f}ms of audio.",
                code="input_audio_buffer_commit_empty",
                event_id=_event_id(event),
            )
            return
        item_id = self._speech_item_id or new_id("item")
        self._speech_item_id = None
        self._vad.reset()
        await self._commit_user_turn(item_id, respond=False)

    async def _on_audio_clear(self, event: dict[str, Any]) -> None:
        self._buffer_ms = 0
        self._speech_item_id = None
        self._vad.reset()
        await self.send(events.audio_cleared())

    _handlers: ClassVar[dict[str, Callable[[RealtimeConnection, dict[str, Any]], Any]]] = {
        "session.update": _on_session_update,
        "conversation.item.create": _on_item_create,
        "conversation.item.delete": _on_item_delete,
        "conversation.item.truncate": _on_item_truncate,
        "response.create": _on_response_create,
        "response.cancel": _on_response_cancel,
        "input_audio_buffer.append": _on_audio_append,
        "input_audio_buffer.commit": _on_audio_commit,
        "input_audio_buffer.clear": _on_audio_clear,
    }

    # turn detection

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
            await self.send(events.speech_started(item_id, vad_event.audio_start_ms))
            if self._response is not None and (td is None or td.interrupt_response):
                await self._cancel_response("turn_detected")
        elif isinstance(vad_event, SpeechStopped):
            item_id = self._speech_item_id or new_id("item")
            self._speech_item_id = None
            self.state.speech.append(
                {"type": "speech_stopped", "item_id": item_id, "audio_ms": vad_event.audio_end_ms}
            )
            await self.send(events.speech_stopped(item_id, vad_event.audio_end_ms))
            await self._commit_user_turn(item_id, respond=td is None or td.create_response)

    async def _commit_user_turn(self, item_id: str, *, respond: bool) -> None:
        seconds = self._buffer_ms / 1000
        self._usage.user_audio(item_id, self._buffer_ms)
        self._buffer_ms = 0
        previous_id = self._last_item_id
        await self.send(events.audio_committed(item_id, previous_id))
        item = events.user_audio_item(item_id)
        self.state.items.append(item)
        await self.send(events.conversation_item_added(previous_id, item))

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
                self._background.add(task)
                task.add_done_callback(self._background.discard)
            else:
                await self._send_transcript(item, transcript, seconds)

        if respond and self._response is None:
            self._start_response(auto=True, metadata=None, instructions=None, in_conversation=True)

    async def _send_transcript(
        self, item: dict[str, Any], transcript: str, seconds: float, delay_s: float = 0.0
    ) -> None:
        if delay_s:
            await asyncio.sleep(delay_s)
        item["content"] = [{"type": "input_audio", "transcript": transcript}]
        for delta in split_words(transcript):
            await self.send(events.transcription_delta(item["id"], delta))
        self.state.user_transcripts.append(transcript)
        await self.send(events.transcription_completed(item["id"], transcript, seconds))

    # responses

    def _start_response(
        self,
        *,
        auto: bool,
        metadata: Any,
        instructions: str | None,
        in_conversation: bool,
        modalities: list[str] | None = None,
    ) -> None:
        script = self._script()
        reply = script.reply(self._replies)
        self._replies += 1
        record = ResponseRecord(
            id=new_id("resp"),
            auto=auto,
            metadata=metadata,
            instructions=instructions,
            reply=reply,
        )
        self.state.responses.append(record)
        if modalities is None:
            modalities = ["audio"] if audio_output(self.state.session) else ["text"]
        response = _Response(record=record, modalities=modalities, in_conversation=in_conversation)
        self._response = response
        response.task = asyncio.create_task(
            self._run_response(response, script.reply_ms), name=f"response {record.id}"
        )
        response.task.add_done_callback(lambda task: self._on_response_task_done(response, task))

    def _on_response_task_done(self, response: _Response, task: asyncio.Task[None]) -> None:
        if task.cancelled() or task.exception() is None:
            return
        log.error("response %s failed", response.id, exc_info=task.exception())
        response.record.status = "failed"
        if self._response is response:
            self._response = None

    def _response_object(self, response: _Response, **fields: Any) -> dict[str, Any]:
        return events.response_object(
            response.id,
            metadata=response.record.metadata,
            modalities=response.modalities,
            **fields,
        )

    async def _run_response(self, response: _Response, reply_ms: int | None) -> None:
        rid = response.id
        await self.send(
            events.response_created(self._response_object(response, status="in_progress"))
        )
        item_id = new_id("item")
        response.item = {
            "id": item_id,
            "object": "realtime.item",
            "type": "message",
            "role": "assistant",
            "status": "in_progress",
            "content": [],
        }
        await self.send(events.output_item_added(rid, dict(response.item)))
        response.item_added = True
        if response.in_conversation:
            previous_id = self._last_item_id
            self.state.items.append(response.item)
            await self.send(events.conversation_item_added(previous_id, dict(response.item)))

        speak = "audio" in response.modalities
        await self.send(events.content_part_added(rid, item_id, _part(response, speak)))
        response.part_added = True
        words = split_words(response.record.reply)
        if speak:
            await self._stream_audio(response, words, reply_ms)
        else:
            for word in words:
                response.transcript += word
                await self.send(events.text_delta(rid, item_id, word))
                await asyncio.sleep(TEXT_DELTA_INTERVAL_S)

        response.finishing = True
        if speak:
            await self.send(events.audio_transcript_done(rid, item_id, response.transcript))
            await self.send(events.audio_done(rid, item_id))
        else:
            await self.send(events.text_done(rid, item_id, response.transcript))
        await self._finish(response, status="completed")

    async def _stream_audio(
        self, response: _Response, words: list[str], reply_ms: int | None
    ) -> None:
        rid, item_id = response.id, response.item["id"]
        pieces = audio.chunks(audio.reply_audio(reply_ms))
        # spread the transcript over the audio: word i goes out with chunk i * chunks / words
        schedule: dict[int, list[str]] = {}
        for i, word in enumerate(words):
            schedule.setdefault(i * len(pieces) // len(words), []).append(word)
        loop = asyncio.get_running_loop()
        started = loop.time()
        for index, piece in enumerate(pieces):
            for word in schedule.get(index, []):
                response.transcript += word
                await self.send(events.audio_transcript_delta(rid, item_id, word))
            await self.send(
                events.audio_delta(rid, item_id, base64.b64encode(piece).decode("ascii"))
            )
            response.audio_ms += audio.duration_ms(piece)
            # real-time pace against the clock, so delays in sending do not accumulate
            delay = started + response.audio_ms / 1000 - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)

    async def _finish(self, response: _Response, *, status: str, reason: str | None = None) -> None:
        rid = response.id
        speak = "audio" in response.modalities
        output: list[dict[str, Any]] = []
        if response.item_added:
            item_id = response.item["id"]
            response.item["status"] = "completed" if status == "completed" else "incomplete"
            if speak:
                response.item["content"] = [
                    {"type": "output_audio", "transcript": response.transcript}
                ]
            else:
                response.item["content"] = [{"type": "output_text", "text": response.transcript}]
            if response.part_added:
                await self.send(events.content_part_done(rid, item_id, _part(response, speak)))
            await self.send(events.output_item_done(rid, dict(response.item)))
            output.append(dict(response.item))
        details = {"type": "cancelled", "reason": reason} if status == "cancelled" else None
        response.record.status = status
        response.record.reason = reason
        usage = self._usage.response(
            instructions=response.record.instructions or self.state.instructions,
            items=self.state.items,
            output_item_id=response.item.get("id") if response.item_added else None,
            transcript=response.transcript,
            audio_ms=response.audio_ms,
        )
        if self._response is response:
            self._response = None
        await self.send(
            events.response_done(
                self._response_object(
                    response, status=status, output=output, status_details=details, usage=usage
                )
            )
        )

    async def _cancel_response(self, reason: str) -> None:
        response = self._response
        if response is None or response.task is None:
            return
        if response.finishing:
            # it is already completing: let it, the client sees a completed response
            await asyncio.shield(response.task)
            return
        response.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await response.task
        speak = "audio" in response.modalities
        if response.part_added:
            item_id = response.item["id"]
            if speak:
                await self.send(
                    events.audio_transcript_done(response.id, item_id, response.transcript)
                )
                await self.send(events.audio_done(response.id, item_id))
            else:
                await self.send(events.text_done(response.id, item_id, response.transcript))
        await self._finish(response, status="cancelled", reason=reason)


def _part(response: _Response, speak: bool) -> dict[str, Any]:
    if speak:
        return {"type": "audio", "transcript": response.transcript}
    return {"type": "text", "text": response.transcript}


def _event_id(event: dict[str, Any]) -> str | None:
    value = event.get("event_id")
    return value if isinstance(value, str) else None

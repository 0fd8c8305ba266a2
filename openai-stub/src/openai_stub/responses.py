"""A connection's responses: at most one at a time, each a task streaming the scripted reply.

The task sends audio at real-time pace, so a cancellation (by the client, or by the user speaking
over it) lands while the response is still "playing". `cancel` returns once `response.done` is
sent.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from . import audio, events
from .conversation import last_item_id
from .events import Event, split_words
from .ids import new_id
from .script import Script
from .session_config import audio_output
from .state import ConnectionState, ResponseRecord
from .usage import UsageMeter

log = logging.getLogger(__name__)

TEXT_DELTA_INTERVAL_S = 0.03  # pace of text-only responses, per word


@dataclass
class Response:
    record: ResponseRecord
    modalities: list[str]
    in_conversation: bool
    item: dict[str, Any] = field(default_factory=dict)
    item_added: bool = False
    part_added: bool = False
    transcript: str = ""
    finishing: bool = False  # the closing events are being sent: let them finish
    task: asyncio.Task[None] | None = None

    @property
    def id(self) -> str:
        return self.record.id


class Responses:
    """Starts, streams, finishes and cancels the responses of one connection."""

    def __init__(
        self,
        state: ConnectionState,
        script: Callable[[], Script],
        usage: UsageMeter,
        send: Callable[[Event], Awaitable[None]],
    ) -> None:
        self.state = state
        self._script = script
        self._usage = usage
        self._send = send
        self._replies = 0
        self.active: Response | None = None

    def start(
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
            reply_ms=script.reply_ms,
        )
        self.state.responses.append(record)
        if modalities is None:
            modalities = ["audio"] if audio_output(self.state.session) else ["text"]
        response = Response(record=record, modalities=modalities, in_conversation=in_conversation)
        self.active = response
        response.task = asyncio.create_task(
            self._run(response, script.reply_ms), name=f"response {record.id}"
        )
        response.task.add_done_callback(lambda task: self._on_task_done(response, task))

    def detach(self) -> Response | None:
        """Forgets the active response (the connection is closing) and returns it."""
        response, self.active = self.active, None
        return response

    def _on_task_done(self, response: Response, task: asyncio.Task[None]) -> None:
        if task.cancelled() or task.exception() is None:
            return
        log.error("response %s failed", response.id, exc_info=task.exception())
        response.record.status = "failed"
        if self.active is response:
            self.active = None

    def _response_object(self, response: Response, **fields: Any) -> dict[str, Any]:
        return events.response_object(
            response.id,
            metadata=response.record.metadata,
            modalities=response.modalities,
            **fields,
        )

    async def _run(self, response: Response, reply_ms: int | None) -> None:
        rid = response.id
        await self._send(
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
        await self._send(events.output_item_added(rid, dict(response.item)))
        response.item_added = True
        if response.in_conversation:
            previous_id = last_item_id(self.state.items)
            self.state.items.append(response.item)
            await self._send(events.conversation_item_added(previous_id, dict(response.item)))

        speak = "audio" in response.modalities
        await self._send(events.content_part_added(rid, item_id, _part(response, speak)))
        response.part_added = True
        words = split_words(response.record.reply)
        if speak:
            await self._stream_audio(response, words, reply_ms)
        else:
            for word in words:
                response.transcript += word
                await self._send(events.text_delta(rid, item_id, word))
                await asyncio.sleep(TEXT_DELTA_INTERVAL_S)

        response.finishing = True
        await self._send_output_done(response)
        await self._finish(response, status="completed")

    async def _stream_audio(
        self, response: Response, words: list[str], reply_ms: int | None
    ) -> None:
        rid, item_id = response.id, response.item["id"]
        pieces = audio.chunks(audio.reply_audio(reply_ms))
        # spread the transcript over the audio: word i goes out with chunk i * chunks / words
        schedule: dict[int, list[str]] = {}
        for i, word in enumerate(words):
            schedule.setdefault(i * len(pieces) // len(words), []).append(word)
        loop = asyncio.get_running_loop()
        started = loop.time()
        response.record.audio_started_at = time.time()
        for index, piece in enumerate(pieces):
            for word in schedule.get(index, []):
                response.transcript += word
                await self._send(events.audio_transcript_delta(rid, item_id, word))
            await self._send(
                events.audio_delta(rid, item_id, base64.b64encode(piece).decode("ascii"))
            )
            response.record.audio_ms += audio.duration_ms(piece)
            # real-time pace against the clock, so delays in sending do not accumulate
            delay = started + response.record.audio_ms / 1000 - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)

    async def _send_output_done(self, response: Response) -> None:
        item_id = response.item["id"]
        if "audio" in response.modalities:
            await self._send(
                events.audio_transcript_done(response.id, item_id, response.transcript)
            )
            await self._send(events.audio_done(response.id, item_id))
        else:
            await self._send(events.text_done(response.id, item_id, response.transcript))

    async def _finish(self, response: Response, *, status: str, reason: str | None = None) -> None:
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
                await self._send(events.content_part_done(rid, item_id, _part(response, speak)))
            await self._send(events.output_item_done(rid, dict(response.item)))
            output.append(dict(response.item))
        details = {"type": "cancelled", "reason": reason} if status == "cancelled" else None
        response.record.status = status
        response.record.reason = reason
        usage = self._usage.response(
            instructions=response.record.instructions or self.state.instructions,
            items=self.state.items,
            output_item_id=response.item.get("id") if response.item_added else None,
            transcript=response.transcript,
            audio_ms=response.record.audio_ms,
        )
        if self.active is response:
            self.active = None
        await self._send(
            events.response_done(
                self._response_object(
                    response, status=status, output=output, status_details=details, usage=usage
                )
            )
        )
        if response.item_added:
            self.state.completed(response.item["id"])

    async def cancel(self, reason: str) -> None:
        response = self.active
        if response is None or response.task is None:
            return
        if response.finishing:
            # it is already completing: let it, the client sees a completed response
            await asyncio.shield(response.task)
            return
        response.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await response.task
        if response.part_added:
            await self._send_output_done(response)
        await self._finish(response, status="cancelled", reason=reason)


def _part(response: Response, speak: bool) -> dict[str, Any]:
    if speak:
        return {"type": "audio", "transcript": response.transcript}
    return {"type": "text", "text": response.transcript}

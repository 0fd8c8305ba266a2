"""Constructors of the Realtime server events the stub sends (GA event names and shapes).

Also the error a refused client event raises, and the splitting of text into deltas.
"""

from __future__ import annotations

import re
from typing import Any

from .ids import new_id

Event = dict[str, Any]


class ClientEventError(Exception):
    """A client event the stub refuses: becomes an `error` event naming the client's event."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def split_words(text: str) -> list[str]:
    """Splits text into deltas that concatenate back to it (each word keeps its trailing space)."""
    return re.findall(r"\S+\s*|\s+", text)


def _event(event_type: str, **fields: Any) -> Event:
    return {"type": event_type, "event_id": new_id("event"), **fields}


# session


def session_created(session: dict[str, Any]) -> Event:
    return _event("session.created", session=session)


def session_updated(session: dict[str, Any]) -> Event:
    return _event("session.updated", session=session)


def error(
    message: str,
    *,
    code: str | None,
    error_type: str = "invalid_request_error",
    param: str | None = None,
    event_id: str | None = None,
) -> Event:
    """A recoverable error. Never use codes the client treats as fatal (`invalid_api_key`, …)."""
    return _event(
        "error",
        error={
            "type": error_type,
            "code": code,
            "message": message,
            "param": param,
            "event_id": event_id,
        },
    )


# conversation


def user_audio_item(item_id: str) -> dict[str, Any]:
    return {
        "id": item_id,
        "object": "realtime.item",
        "type": "message",
        "role": "user",
        "status": "completed",
        "content": [{"type": "input_audio", "transcript": None}],
    }


def conversation_item_added(previous_item_id: str | None, item: dict[str, Any]) -> Event:
    return _event("conversation.item.added", previous_item_id=previous_item_id, item=item)


def conversation_item_deleted(item_id: str) -> Event:
    return _event("conversation.item.deleted", item_id=item_id)


def conversation_item_truncated(item_id: str, content_index: int, audio_end_ms: int) -> Event:
    return _event(
        "conversation.item.truncated",
        item_id=item_id,
        content_index=content_index,
        audio_end_ms=audio_end_ms,
    )


def transcription_delta(item_id: str, delta: str) -> Event:
    return _event(
        "conversation.item.input_audio_transcription.delta",
        item_id=item_id,
        content_index=0,
        delta=delta,
    )


def transcription_completed(item_id: str, transcript: str, seconds: float) -> Event:
    return _event(
        "conversation.item.input_audio_transcription.completed",
        item_id=item_id,
        content_index=0,
        transcript=transcript,
        logprobs=None,
        usage={"type": "duration", "seconds": round(seconds, 3)},
    )


# input audio buffer


def speech_started(item_id: str, audio_start_ms: int) -> Event:
    return _event(
        "input_audio_buffer.speech_started", item_id=item_id, audio_start_ms=audio_start_ms
    )


def speech_stopped(item_id: str, audio_end_ms: int) -> Event:
    return _event("input_audio_buffer.speech_stopped", item_id=item_id, audio_end_ms=audio_end_ms)


def audio_committed(item_id: str, previous_item_id: str | None) -> Event:
    return _event(
        "input_audio_buffer.committed", item_id=item_id, previous_item_id=previous_item_id
    )


def audio_cleared() -> Event:
    return _event("input_audio_buffer.cleared")


# responses


def response_object(
    response_id: str,
    *,
    status: str,
    metadata: Any,
    modalities: list[str],
    output: list[dict[str, Any]] | None = None,
    status_details: dict[str, Any] | None = None,
    usage: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "object": "realtime.response",
        "id": response_id,
        "status": status,
        "status_details": status_details,
        "output": output or [],
        "conversation_id": "conv_stub",
        "output_modalities": modalities,
        "max_output_tokens": "inf",
        "audio": {"output": {"format": {"type": "audio/pcm", "rate": 24000}, "voice": "marin"}},
        "metadata": metadata,
        "usage": usage,
    }


def response_created(response: dict[str, Any]) -> Event:
    return _event("response.created", response=response)


def response_done(response: dict[str, Any]) -> Event:
    return _event("response.done", response=response)


def output_item_added(response_id: str, item: dict[str, Any]) -> Event:
    return _event("response.output_item.added", response_id=response_id, output_index=0, item=item)


def output_item_done(response_id: str, item: dict[str, Any]) -> Event:
    return _event("response.output_item.done", response_id=response_id, output_index=0, item=item)


def _part_event(event_type: str, response_id: str, item_id: str, **fields: Any) -> Event:
    return _event(
        event_type,
        response_id=response_id,
        item_id=item_id,
        output_index=0,
        content_index=0,
        **fields,
    )


def content_part_added(response_id: str, item_id: str, part: dict[str, Any]) -> Event:
    return _part_event("response.content_part.added", response_id, item_id, part=part)


def content_part_done(response_id: str, item_id: str, part: dict[str, Any]) -> Event:
    return _part_event("response.content_part.done", response_id, item_id, part=part)


def audio_delta(response_id: str, item_id: str, delta_b64: str) -> Event:
    return _part_event("response.output_audio.delta", response_id, item_id, delta=delta_b64)


def audio_done(response_id: str, item_id: str) -> Event:
    return _part_event("response.output_audio.done", response_id, item_id)


def audio_transcript_delta(response_id: str, item_id: str, delta: str) -> Event:
    return _part_event("response.output_audio_transcript.delta", response_id, item_id, delta=delta)


def audio_transcript_done(response_id: str, item_id: str, transcript: str) -> Event:
    return _part_event(
        "response.output_audio_transcript.done", response_id, item_id, transcript=transcript
    )


def text_delta(response_id: str, item_id: str, delta: str) -> Event:
    return _part_event("response.output_text.delta", response_id, item_id, delta=delta)


def text_done(response_id: str, item_id: str, text: str) -> Event:
    return _part_event("response.output_text.done", response_id, item_id, text=text)

"""What the stub has seen, for tests to inspect (`GET /_stub/state`)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

APPEND = "input_audio_buffer.append"


@dataclass
class ResponseRecord:
    id: str
    auto: bool  # created by the stub's turn detection rather than by `response.create`
    metadata: Any
    instructions: str | None  # `response.instructions`, when the request carried one
    reply: str
    status: str = "in_progress"  # then "completed" or "cancelled"
    reason: str | None = None  # why it was cancelled: "client_cancelled", "turn_detected" or
    # "connection_closed" (the socket closed while it streamed)
    reply_ms: int | None = None  # the script's reply length when it started (None: the clip once)
    audio_ms: int = 0  # how much of audio.reply_audio(reply_ms) was streamed: audio.sent_audio
    audio_started_at: float | None = None  # time.time() of the first audio delta

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "auto": self.auto,
            "metadata": self.metadata,
            "instructions": self.instructions,
            "reply": self.reply,
            "status": self.status,
            "reason": self.reason,
            "reply_ms": self.reply_ms,
            "audio_ms": self.audio_ms,
            "audio_started_at": self.audio_started_at,
        }


@dataclass
class ConnectionState:
    id: str
    path: str
    model: str | None
    session: dict[str, Any]
    connected_at: float = field(default_factory=time.time)
    closed: bool = False
    closed_at: float | None = None
    instructions: str | None = None
    client_events: list[str] = field(default_factory=list)
    client_event_counts: dict[str, int] = field(default_factory=dict)
    server_event_counts: dict[str, int] = field(default_factory=dict)
    responses: list[ResponseRecord] = field(default_factory=list)
    user_transcripts: list[str] = field(default_factory=list)
    speech: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    audio_received_ms: int = 0
    # the conversation as the stub holds it, full Realtime item objects in order
    items: list[dict[str, Any]] = field(default_factory=list)
    # when each user turn's transcript and each response's item was sent in full (time.time()):
    # what a test needs to know which turns were complete before it broke something
    completed_at: dict[str, float] = field(default_factory=dict)

    def completed(self, item_id: str) -> None:
        self.completed_at.setdefault(item_id, time.time())

    def record_client_event(self, event_type: str) -> None:
        self.client_event_counts[event_type] = self.client_event_counts.get(event_type, 0) + 1
        # the client appends audio every 100 ms: keep one entry per run of appends
        if event_type == APPEND and self.client_events and self.client_events[-1] == APPEND:
            return
        self.client_events.append(event_type)

    def record_server_event(self, event_type: str) -> None:
        self.server_event_counts[event_type] = self.server_event_counts.get(event_type, 0) + 1

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "path": self.path,
            "model": self.model,
            "connected_at": self.connected_at,
            "closed": self.closed,
            "closed_at": self.closed_at,
            "instructions": self.instructions,
            "session": self.session,
            "client_events": list(self.client_events),
            "client_event_counts": dict(self.client_event_counts),
            "server_event_counts": dict(self.server_event_counts),
            "response_count": len(self.responses),
            "responses": [r.to_json() for r in self.responses],
            "user_transcripts": list(self.user_transcripts),
            "speech": list(self.speech),
            "errors": list(self.errors),
            "audio_received_ms": self.audio_received_ms,
            "items": [_item_summary(item, self.completed_at) for item in self.items],
        }


@dataclass
class ChatRequestRecord:
    received_at: float
    model: str | None
    messages: Any
    response_format: Any
    status: int  # the HTTP status the stub answered

    def to_json(self) -> dict[str, Any]:
        return {
            "received_at": self.received_at,
            "model": self.model,
            "messages": self.messages,
            "response_format": self.response_format,
            "status": self.status,
        }


@dataclass
class StubState:
    connections: list[ConnectionState] = field(default_factory=list)
    chat_completions: list[ChatRequestRecord] = field(default_factory=list)
    _next_connection: int = 1

    def new_connection(
        self, *, path: str, model: str | None, session: dict[str, Any]
    ) -> ConnectionState:
        conn = ConnectionState(
            id=f"conn_{self._next_connection}", path=path, model=model, session=session
        )
        self._next_connection += 1
        self.connections.append(conn)
        return conn

    def clear(self) -> None:
        """Forgets everything recorded; connection ids keep counting up."""
        self.connections = []
        self.chat_completions = []

    def to_json(self) -> dict[str, Any]:
        return {
            "connections": [c.to_json() for c in self.connections],
            "chat_completions": [c.to_json() for c in self.chat_completions],
        }


def item_text(item: dict[str, Any]) -> str | None:
    """The text of a message item: its transcripts and texts joined, None when it has none."""
    parts: list[str] = []
    for part in item.get("content") or []:
        if not isinstance(part, dict):
            continue
        for key in ("text", "transcript"):
            value = part.get(key)
            if isinstance(value, str):
                parts.append(value)
    return " ".join(parts) if parts else None


def _item_summary(item: dict[str, Any], completed_at: dict[str, float]) -> dict[str, Any]:
    summary: dict[str, Any] = {
        "id": item.get("id"),
        "type": item.get("type"),
        "role": item.get("role"),
        "status": item.get("status"),
        "text": item_text(item),
        "completed_at": completed_at.get(item.get("id") or ""),
    }
    if "truncated_audio_end_ms" in item:
        summary["truncated_audio_end_ms"] = item["truncated_audio_end_ms"]
    return summary

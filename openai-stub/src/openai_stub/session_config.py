"""The Realtime session configuration: defaults, partial updates, and the settings the stub obeys."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

SAMPLE_RATE = 24000
DEFAULT_SILENCE_MS = 500


def deep_merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """Returns `base` with `update` merged in, as the Realtime API applies `session.update`.

    Objects merge key by key, recursively; any other value (lists included) replaces the old
    one; an explicit `null` sets the key to null (it does not mean "unchanged"). Neither argument
    is modified.
    """
    merged = copy.deepcopy(base)
    for key, value in update.items():
        current = merged.get(key)
        if isinstance(value, dict) and isinstance(current, dict):
            merged[key] = deep_merge(current, value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def default_session(session_id: str, model: str) -> dict[str, Any]:
    """The session a new connection starts with (sent in `session.created`)."""
    pcm = {"type": "audio/pcm", "rate": SAMPLE_RATE}
    return {
        "type": "realtime",
        "object": "realtime.session",
        "id": session_id,
        "model": model,
        "output_modalities": ["audio"],
        "instructions": None,
        "tools": [],
        "tool_choice": "auto",
        "max_output_tokens": "inf",
        "tracing": None,
        "truncation": "auto",
        "prompt": None,
        "include": None,
        "audio": {
            "input": {
                "format": dict(pcm),
                "transcription": None,
                "noise_reduction": None,
                "turn_detection": {
                    "type": "server_vad",
                    "threshold": 0.5,
                    "prefix_padding_ms": 300,
                    "silence_duration_ms": DEFAULT_SILENCE_MS,
                    "idle_timeout_ms": None,
                    "create_response": True,
                    "interrupt_response": True,
                },
            },
            "output": {"format": dict(pcm), "voice": "marin", "speed": 1.0},
        },
    }


@dataclass(frozen=True)
class TurnDetection:
    """The turn-detection settings the stub's VAD follows."""

    silence_ms: int = DEFAULT_SILENCE_MS
    create_response: bool = True
    interrupt_response: bool = True


def _get(data: object, *path: str) -> object:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def turn_detection(session: dict[str, Any]) -> TurnDetection | None:
    """The session's server-side turn detection, or None when it is off (`null`)."""
    raw = _get(session, "audio", "input", "turn_detection")
    if not isinstance(raw, dict):
        return None
    silence = raw.get("silence_duration_ms")
    return TurnDetection(
        silence_ms=silence if isinstance(silence, int) and silence > 0 else DEFAULT_SILENCE_MS,
        create_response=raw.get("create_response") is not False,
        interrupt_response=raw.get("interrupt_response") is not False,
    )


def transcription_enabled(session: dict[str, Any]) -> bool:
    """Whether user audio is transcribed (`audio.input.transcription` is not null)."""
    return _get(session, "audio", "input", "transcription") is not None


def audio_output(session: dict[str, Any]) -> bool:
    """Whether responses carry audio (`output_modalities` includes "audio")."""
    modalities = session.get("output_modalities")
    return not isinstance(modalities, list) or "audio" in modalities

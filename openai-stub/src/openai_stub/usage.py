"""Token usage as the Realtime API reports it in `response.done`, by a simple model of its billing.

Every response reads the session's instructions and the whole conversation so far: text at about
four characters a token, the user's audio at one token per 100 ms, earlier assistant audio at one
token per 50 ms (the rate the model speaks at). What an earlier response of the connection already
read is served from the prompt cache and reported as `cached_tokens`, a part of the input.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

USER_AUDIO_MS_PER_TOKEN = 100
ASSISTANT_AUDIO_MS_PER_TOKEN = 50
CHARS_PER_TEXT_TOKEN = 4


def text_tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TEXT_TOKEN)


def _item_text(item: dict[str, Any]) -> str:
    parts = item.get("content")
    if not isinstance(parts, list):
        return ""
    texts = []
    for part in parts:
        if isinstance(part, dict):
            for key in ("text", "transcript"):
                value = part.get(key)
                if isinstance(value, str):
                    texts.append(value)
    return " ".join(texts)


@dataclass
class UsageMeter:
    """One connection's running account: audio held by each item, and what was read before."""

    audio_tokens_by_item: dict[str, int] = field(default_factory=dict)
    read_before: int = 0

    def user_audio(self, item_id: str, audio_ms: int) -> None:
        self.audio_tokens_by_item[item_id] = math.ceil(audio_ms / USER_AUDIO_MS_PER_TOKEN)

    def response(
        self,
        *,
        instructions: str | None,
        items: list[dict[str, Any]],
        output_item_id: str | None,
        transcript: str,
        audio_ms: int,
    ) -> dict[str, Any]:
        """The `usage` object of a response that read `items` and produced `transcript` (and
        `audio_ms` of audio, as item `output_item_id`)."""
        input_text = text_tokens(instructions or "")
        input_audio = 0
        for item in items:
            if item.get("id") == output_item_id:
                continue
            audio = self.audio_tokens_by_item.get(str(item.get("id")))
            if audio is not None:
                input_audio += audio
            else:
                input_text += text_tokens(_item_text(item))
        output_audio = audio_ms // ASSISTANT_AUDIO_MS_PER_TOKEN
        output_text = text_tokens(transcript)
        if output_item_id is not None and output_audio:
            # the spoken reply is read back as audio by the responses after this one
            self.audio_tokens_by_item[output_item_id] = output_audio
        input_total = input_text + input_audio
        cached = min(self.read_before, input_total)
        self.read_before = input_total
        cached_audio = min(cached, input_audio)
        return {
            "total_tokens": input_total + output_text + output_audio,
            "input_tokens": input_total,
            "output_tokens": output_text + output_audio,
            "input_token_details": {
                "text_tokens": input_text,
                "audio_tokens": input_audio,
                "image_tokens": 0,
                "cached_tokens": cached,
                "cached_tokens_details": {
                    "text_tokens": cached - cached_audio,
                    "audio_tokens": cached_audio,
                    "image_tokens": 0,
                },
            },
            "output_token_details": {"text_tokens": output_text, "audio_tokens": output_audio},
        }

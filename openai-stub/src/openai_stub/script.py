"""What the stub says: scripted user transcripts, assistant replies and the evaluation.

The stub cannot understand speech. Each user turn it detects gets the next `user_transcripts`
entry as its transcript, each response speaks the next `replies` entry, and chat completions
answer `evaluation`. Lists are cycled through when exhausted; each WebSocket connection starts at
the beginning of both lists.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_USER_TRANSCRIPTS: tuple[str, ...] = (
    "Crisis line, this is Sam. I'm here to listen. What's going on tonight?",
    "That sounds really heavy. Can you tell me more about what happened?",
    "Thank you for telling me. Are you safe right now?",
)

DEFAULT_REPLIES: tuple[str, ...] = (
    # the first reply is what the shipped clip says (see clips/README.md)
    "Hi. I don't really know why I called.",
    "I lost my job today and I haven't told anyone. Everything feels like too much.",
    "I'm at home. I think I'm safe. I just needed to hear someone.",
)


def default_evaluation() -> dict[str, Any]:
    """An evaluation-shaped object, as the token service asks the model for."""
    return {
        "overallScore": 72,
        "summary": "A warm, unhurried opening that let the caller talk; safety was asked about, "
        "but only late in the call.",
        "strengths": [
            {"point": "Open, warm greeting that invited the caller in.", "turnOrders": [1]}
        ],
        "improvements": [
            {"point": "Ask about safety directly once distress is clear.", "turnOrders": [2]}
        ],
    }


_FIELDS = (
    "user_transcripts",
    "replies",
    "evaluation",
    "evaluation_raw",
    "chat_error_status",
    "reply_ms",
    "transcript_delay_ms",
)


@dataclass
class Script:
    """The stub's script. JSON keys are the field names (snake_case); every key is optional.

    - `user_transcripts`: transcripts given to detected user turns, in order, cycled.
    - `replies`: texts of the assistant's responses, in order, cycled.
    - `evaluation`: the JSON object chat completions return as the message content
      (serialized to a string); `null` means the default evaluation.
    - `evaluation_raw`: if set, returned verbatim as the message content instead (to test how
      a client copes with output that is not the JSON it asked for).
    - `chat_error_status`: if set, chat completions fail with this HTTP status and an
      OpenAI-shaped error body.
    - `reply_ms`: length of each reply's audio in ms; the clip is cut or repeated to fit.
      `null` plays the clip once (about 2.3 s).
    - `transcript_delay_ms`: delay between the end of a user turn and its transcript; the
      response does not wait for it (the real service often transcribes after replying).
    """

    user_transcripts: list[str] = field(default_factory=lambda: list(DEFAULT_USER_TRANSCRIPTS))
    replies: list[str] = field(default_factory=lambda: list(DEFAULT_REPLIES))
    evaluation: dict[str, Any] | None = None
    evaluation_raw: str | None = None
    chat_error_status: int | None = None
    reply_ms: int | None = None
    transcript_delay_ms: int = 0

    def __post_init__(self) -> None:
        for name in ("user_transcripts", "replies"):
            value = getattr(self, name)
            if not isinstance(value, list) or not value:
                raise ValueError(f"{name} must be a non-empty list of strings")
            if not all(isinstance(v, str) for v in value):
                raise ValueError(f"{name} must be a non-empty list of strings")
        if self.evaluation is not None and not isinstance(self.evaluation, dict):
            raise ValueError("evaluation must be a JSON object or null")
        if self.evaluation_raw is not None and not isinstance(self.evaluation_raw, str):
            raise ValueError("evaluation_raw must be a string or null")
        if self.chat_error_status is not None and (
            not _is_int(self.chat_error_status) or not 400 <= self.chat_error_status <= 599
        ):
            raise ValueError("chat_error_status must be an HTTP error status (400-599) or null")
        if self.reply_ms is not None and (not _is_int(self.reply_ms) or self.reply_ms < 100):
            raise ValueError("reply_ms must be an integer >= 100 or null")
        if not _is_int(self.transcript_delay_ms) or self.transcript_delay_ms < 0:
            raise ValueError("transcript_delay_ms must be an integer >= 0")

    def user_transcript(self, index: int) -> str:
        """The transcript of the `index`-th user turn (0-based), cycling."""
        return self.user_transcripts[index % len(self.user_transcripts)]

    def reply(self, index: int) -> str:
        """The text of the `index`-th response (0-based), cycling."""
        return self.replies[index % len(self.replies)]

    def evaluation_content(self) -> str:
        """The `choices[0].message.content` chat completions answer."""
        if self.evaluation_raw is not None:
            return self.evaluation_raw
        evaluation = self.evaluation if self.evaluation is not None else default_evaluation()
        return json.dumps(evaluation)

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _FIELDS}

    @classmethod
    def from_dict(cls, data: object) -> Script:
        """Builds a script from a JSON object; missing keys keep their defaults.

        Raises ValueError on unknown keys or values of the wrong type.
        """
        if not isinstance(data, dict):
            raise ValueError("a script must be a JSON object")
        unknown = sorted(set(data) - set(_FIELDS))
        if unknown:
            raise ValueError(f"unknown script keys: {', '.join(map(str, unknown))}")
        try:
            return cls(**data)
        except TypeError as e:  # pragma: no cover - guarded by the key check above
            raise ValueError(str(e)) from e

    @classmethod
    def from_json(cls, text: str) -> Script:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise ValueError(f"script is not valid JSON: {e}") from e
        return cls.from_dict(data)

    @classmethod
    def from_file(cls, path: str | Path) -> Script:
        return cls.from_json(Path(path).read_text(encoding="utf-8"))


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)

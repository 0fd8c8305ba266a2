"""attempt_usage rows in the voice schema: one per attempt and source.

The Realtime figures arrive as running totals with every transcript batch, in any order (a
spooled batch may come after a later one), so a row keeps the largest figure seen per column.
Each evaluation is a chat completion of its own, paid for even when two requests raced to the
model, so its figures are added.
"""

from enum import StrEnum
from typing import Any
from uuid import UUID

from training_contracts import AttemptUsage, ModelUsage

from ..db import Connection

__all__ = ["UsageSource", "list_usage", "record_usage"]

_COLUMNS = (
    "input_text_tokens",
    "input_audio_tokens",
    "input_cached_tokens",
    "output_text_tokens",
    "output_audio_tokens",
)


class UsageSource(StrEnum):
    REALTIME = "realtime"
    EVALUATION = "evaluation"


_INSERT = """
    INSERT INTO attempt_usage (session_id, attempt, source, model, input_text_tokens,
                               input_audio_tokens, input_cached_tokens, output_text_tokens,
                               output_audio_tokens)
    VALUES (%(session_id)s, %(attempt)s, %(source)s, %(model)s, %(input_text_tokens)s,
            %(input_audio_tokens)s, %(input_cached_tokens)s, %(output_text_tokens)s,
            %(output_audio_tokens)s)
    ON CONFLICT (session_id, attempt, source) DO UPDATE SET model = EXCLUDED.model,
"""

_KEEP_LARGEST = (
    _INSERT
    + """
    input_text_tokens = GREATEST(attempt_usage.input_text_tokens, EXCLUDED.input_text_tokens),
    input_audio_tokens = GREATEST(attempt_usage.input_audio_tokens, EXCLUDED.input_audio_tokens),
    input_cached_tokens = GREATEST(attempt_usage.input_cached_tokens, EXCLUDED.input_cached_tokens),
    output_text_tokens = GREATEST(attempt_usage.output_text_tokens, EXCLUDED.output_text_tokens),
    output_audio_tokens = GREATEST(attempt_usage.output_audio_tokens, EXCLUDED.output_audio_tokens),
    updated_at = now()
"""
)

_ADD = (
    _INSERT
    + """
    input_text_tokens = attempt_usage.input_text_tokens + EXCLUDED.input_text_tokens,
    input_audio_tokens = attempt_usage.input_audio_tokens + EXCLUDED.input_audio_tokens,
    input_cached_tokens = attempt_usage.input_cached_tokens + EXCLUDED.input_cached_tokens,
    output_text_tokens = attempt_usage.output_text_tokens + EXCLUDED.output_text_tokens,
    output_audio_tokens = attempt_usage.output_audio_tokens + EXCLUDED.output_audio_tokens,
    updated_at = now()
"""
)


async def record_usage(
    conn: Connection, session_id: UUID, attempt: int, source: UsageSource, usage: ModelUsage
) -> None:
    params: dict[str, Any] = {
        "session_id": str(session_id),
        "attempt": attempt,
        "source": source.value,
        "model": usage.model,
        **{c: getattr(usage, c) for c in _COLUMNS},
    }
    sql = _KEEP_LARGEST if source is UsageSource.REALTIME else _ADD
    await conn.execute(sql, params)


async def list_usage(conn: Connection, session_id: UUID) -> list[AttemptUsage]:
    """Every attempt with usage recorded, in attempt order."""
    cur = await conn.execute(
        """
        SELECT attempt, source, model, input_text_tokens, input_audio_tokens,
               input_cached_tokens, output_text_tokens, output_audio_tokens
        FROM attempt_usage WHERE session_id = %s ORDER BY attempt, source
        """,
        (str(session_id),),
    )
    by_attempt: dict[int, dict[str, ModelUsage]] = {}
    for attempt, source, model, *counts in await cur.fetchall():
        usage = ModelUsage(model=model, **dict(zip(_COLUMNS, counts, strict=True)))
        by_attempt.setdefault(attempt, {})[source] = usage
    return [
        AttemptUsage(
            attempt=attempt,
            realtime=sources.get(UsageSource.REALTIME.value),
            evaluation=sources.get(UsageSource.EVALUATION.value),
        )
        for attempt, sources in by_attempt.items()
    ]

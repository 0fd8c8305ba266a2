"""Exact bytes of the usage fields appended to TranscriptBatch and SessionView."""

from datetime import UTC, datetime
from uuid import UUID

import msgspec
import pytest

from training_contracts import (
    AttemptUsage,
    ModelUsage,
    SessionType,
    SessionView,
    TranscriptBatch,
)

SESSION = UUID("1b9e55f0-0000-4000-8000-000000000004")


def test_transcript_batch_carries_running_usage() -> None:
    usage = ModelUsage(
        model="gpt-realtime",
        input_text_tokens=120,
        input_audio_tokens=48,
        input_cached_tokens=64,
        output_text_tokens=9,
        output_audio_tokens=140,
    )
    assert msgspec.json.encode(TranscriptBatch(turns=[], final=True, usage=usage)) == (
        b'{"turns":[],"final":true,"usage":{"model":"gpt-realtime","inputTextTokens":120,'
        b'"inputAudioTokens":48,"inputCachedTokens":64,"outputTextTokens":9,'
        b'"outputAudioTokens":140}}'
    )


def test_a_batch_without_usage_is_the_old_bytes() -> None:
    assert msgspec.json.encode(TranscriptBatch(turns=[])) == b'{"turns":[]}'
    assert msgspec.json.decode(b'{"turns":[]}', type=TranscriptBatch).usage is None


def test_negative_token_counts_are_refused() -> None:
    with pytest.raises(msgspec.ValidationError, match="inputAudioTokens"):
        msgspec.json.decode(b'{"model":"m","inputAudioTokens":-1}', type=ModelUsage)


def test_session_view_lists_usage_per_attempt_and_old_readers_default_it() -> None:
    at = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    view = SessionView(
        id=SESSION,
        type=SessionType.FREE_PRACTICE,
        status="completed",
        attempt=1,
        created_at=at,
        updated_at=at,
        turns=[],
        usage=[
            AttemptUsage(
                attempt=1,
                realtime=ModelUsage(model="gpt-realtime", output_audio_tokens=20),
                evaluation=ModelUsage(model="gpt-4o-mini", input_text_tokens=300),
            )
        ],
    )
    encoded = msgspec.json.encode(view)
    assert encoded.endswith(
        b'"turns":[],"usage":[{"attempt":1,"realtime":{"model":"gpt-realtime",'
        b'"outputAudioTokens":20},"evaluation":{"model":"gpt-4o-mini","inputTextTokens":300}}]}'
    )
    without = encoded.split(b',"usage"')[0] + b"}"
    assert msgspec.json.decode(without, type=SessionView).usage == []

"""The worker's metrics and the Realtime usage it reports: counted where the events happen."""

import time
import uuid
from pathlib import Path

import msgspec
from livekit.agents.metrics import RealtimeModelMetrics
from livekit.agents.metrics.base import Metadata
from livekit.agents.metrics.usage import AgentSessionUsage, ModelUsageCollector
from prometheus_client import REGISTRY

from agent_service import metrics
from agent_service.delivery import batches
from agent_service.spool import Spool, SpoolEntry
from agent_service.usage import realtime_usage
from training_contracts import AgentErrorCode, ModelUsage, Role, TranscriptTurn


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def response_metrics(*, audio_in: int, cached: int, audio_out: int) -> RealtimeModelMetrics:
    """What the OpenAI plugin emits for one `response.done`."""
    return RealtimeModelMetrics(
        request_id="resp_1",
        timestamp=time.time(),
        input_tokens=40 + audio_in,
        output_tokens=5 + audio_out,
        input_token_details=RealtimeModelMetrics.InputTokenDetails(
            text_tokens=40, audio_tokens=audio_in, cached_tokens=cached
        ),
        output_token_details=RealtimeModelMetrics.OutputTokenDetails(
            text_tokens=5, audio_tokens=audio_out
        ),
        metadata=Metadata(model_name="gpt-realtime", model_provider="openai"),
    )


def test_realtime_usage_sums_the_models_responses() -> None:
    collector = ModelUsageCollector()
    collector(response_metrics(audio_in=12, cached=0, audio_out=30))
    collector(response_metrics(audio_in=50, cached=52, audio_out=24))
    usage = AgentSessionUsage(model_usage=collector.flatten())
    assert realtime_usage(usage, "gpt-realtime") == ModelUsage(
        model="gpt-realtime",
        input_text_tokens=80,
        input_audio_tokens=62,
        input_cached_tokens=52,
        output_text_tokens=10,
        output_audio_tokens=54,
    )
    assert realtime_usage(usage, "another-model") is None
    assert realtime_usage(AgentSessionUsage(model_usage=[]), "gpt-realtime") is None


def test_every_batch_carries_the_running_usage() -> None:
    turns = [TranscriptTurn(role=Role.USER, content="hello", turn_order=1)]
    usage = ModelUsage(model="gpt-realtime", output_audio_tokens=7)
    [batch] = batches(turns, final=True, usage=usage)
    assert batch.usage == usage
    assert batches(turns, final=False)[0].usage is None


def test_a_spooled_entry_keeps_its_usage(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    usage = ModelUsage(model="gpt-realtime", input_audio_tokens=3)
    spool.write(
        SpoolEntry(
            session_id=uuid.uuid4(),
            attempt=1,
            turns=[],
            final=True,
            spooled_at=time.time(),
            usage=usage,
        )
    )
    (claimed,) = spool.claim_all()
    assert claimed.item.usage == usage
    # entries spooled before usage existed still read
    old = msgspec.json.decode(
        b'{"sessionId":"%s","attempt":1,"turns":[],"final":true,"spooledAt":1.0}'
        % str(uuid.uuid4()).encode(),
        type=SpoolEntry,
    )
    assert old.usage is None


def test_counters_move_by_what_happened(tmp_path: Path) -> None:
    before_usage = sample("agent_model_tokens_total", model="m-test", kind="output_audio")
    metrics.count_usage(ModelUsage(model="m-test", output_audio_tokens=11, input_text_tokens=4))
    assert sample("agent_model_tokens_total", model="m-test", kind="output_audio") == (
        before_usage + 11
    )
    assert sample("agent_model_tokens_total", model="m-test", kind="input_cached") == 0

    code = AgentErrorCode.SCENARIO_NOT_FOUND.value
    before_failures = sample("agent_call_setup_failures_total", error_code=code)
    metrics.count_setup_failure(AgentErrorCode.SCENARIO_NOT_FOUND)
    assert sample("agent_call_setup_failures_total", error_code=code) == before_failures + 1

    dead = "dead_lettered"
    before_dead = sample("agent_transcript_batches_total", outcome=dead)
    (tmp_path / f"{uuid.uuid4()}_1.json").write_text("{not json")
    assert list(Spool(tmp_path).claim_all()) == []
    assert sample("agent_transcript_batches_total", outcome=dead) == before_dead + 1

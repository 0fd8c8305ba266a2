"""Delivery without a token service: batch shapes, and the last resort when even the spool fails."""

import logging
import uuid
from pathlib import Path

import pytest

from agent_service.api_client import InternalApiClient
from agent_service.delivery import DeliveryOptions, TranscriptDelivery, batches
from agent_service.retry_policy import RetryPolicy
from agent_service.spool import Spool
from devstack.ports import free_port
from training_contracts import MAX_TURNS_PER_BATCH, Role, TranscriptTurn


def turns(count: int) -> list[TranscriptTurn]:
    return [
        TranscriptTurn(role=Role.USER, content=f"turn {n}", turn_order=n, attempt_number=1)
        for n in range(1, count + 1)
    ]


def test_batches_respect_the_contract_limit_and_only_the_last_is_final() -> None:
    split = batches(turns(MAX_TURNS_PER_BATCH + 3), final=True)
    assert [len(b.turns) for b in split] == [MAX_TURNS_PER_BATCH, 3]
    assert [b.final for b in split] == [False, True]
    assert [b.final for b in batches(turns(2), final=False)] == [False]


def test_an_empty_call_still_sends_one_final_batch() -> None:
    [only] = batches([], final=True)
    assert only.turns == []
    assert only.final is True


async def test_when_the_spool_cannot_be_written_the_transcript_goes_to_the_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("")
    client = InternalApiClient(f"http://127.0.0.1:{free_port()}", "key")
    delivery = TranscriptDelivery(
        client,
        Spool(blocked),
        uuid.uuid4(),
        1,
        DeliveryOptions(policy=RetryPolicy(retries=0, backoff=0, timeout=1)),
    )
    try:
        with caplog.at_level(logging.ERROR, logger="agent_service.delivery"):
            assert not await delivery.deliver_settled(turns(1))
            assert not await delivery.finish(turns(2), within=2.0)
    finally:
        await client.aclose()
    assert delivery.finished
    records = [r for r in caplog.records if r.getMessage() == "transcript could not be spooled"]
    assert len(records) == 2
    assert '"content":"turn 2"' in getattr(records[-1], "lk.pii.transcript")

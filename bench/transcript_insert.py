"""Transcript bulk insert: 1,000 turns in one request, first delivery and idempotent re-send."""

import statistics
import time

import httpx
import msgspec

from training_contracts import (
    INTERNAL_KEY_HEADER,
    INTERNAL_SESSIONS_PATH,
    INTERNAL_TRANSCRIPT_PATH,
    CreateSessionResponse,
    FreePracticeSessionRequest,
    Role,
    TranscriptAck,
    TranscriptBatch,
    TranscriptTurn,
    fill,
)

from .backend import pinned_backend

TURNS = 1000
ROUNDS = 7


def _batch() -> bytes:
    turns = [
        TranscriptTurn(
            role=Role.USER if order % 2 else Role.ASSISTANT,
            content=f"turn {order}: " + "I keep thinking about what happened last week. " * 3,
            turn_order=order,
        )
        for order in range(1, TURNS + 1)
    ]
    return msgspec.json.encode(TranscriptBatch(turns=turns, final=True))


class BulkResult(msgspec.Struct):
    turns: int
    body_bytes: int
    """The size of the one request that carries them all."""
    first_ms_median: float
    resend_ms_median: float
    """The same batch again: every turn is already stored, none is written twice."""
    rounds: int


def run() -> BulkResult:
    body = _batch()
    first: list[float] = []
    again: list[float] = []
    with pinned_backend() as service, httpx.Client(base_url=service.url, timeout=30) as http:
        headers = {INTERNAL_KEY_HEADER: service.internal_key, "content-type": "application/json"}
        for _ in range(ROUNDS):
            request = FreePracticeSessionRequest(user_id=service.demo["users"][0]["userId"])
            created = http.post(
                INTERNAL_SESSIONS_PATH, content=msgspec.json.encode(request), headers=headers
            )
            session = msgspec.json.decode(created.content, type=CreateSessionResponse)
            path = fill(INTERNAL_TRANSCRIPT_PATH, session_id=session.session_id)
            for timings, expect_stored in ((first, TURNS), (again, 0)):
                started = time.perf_counter()
                response = http.post(path, content=body, headers=headers)
                timings.append((time.perf_counter() - started) * 1000)
                ack = msgspec.json.decode(response.content, type=TranscriptAck)
                if ack.stored != expect_stored:
                    raise RuntimeError(f"expected {expect_stored} stored, got {ack}")
    return BulkResult(
        turns=TURNS,
        body_bytes=len(body),
        first_ms_median=statistics.median(first),
        resend_ms_median=statistics.median(again),
        rounds=ROUNDS,
    )

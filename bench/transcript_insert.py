"""Transcript inserts: 1,000 turns in one request, and the 3-turn batches a call sends, each as a
first delivery and as an idempotent re-send."""

import statistics
import time

import httpx
import msgspec

from devstack.token_service import TokenService
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
CALL_BATCH_TURNS = 3
"""What an agent sends while a call goes on: the turns settled since its last batch."""
CALL_BATCHES = 400
CALL_BATCHES_PER_SESSION = 20


def _batch(first: int, count: int, *, final: bool) -> bytes:
    turns = [
        TranscriptTurn(
            role=Role.USER if order % 2 else Role.ASSISTANT,
            content=f"turn {order}: " + "I keep thinking about what happened last week. " * 3,
            turn_order=order,
        )
        for order in range(first, first + count)
    ]
    return msgspec.json.encode(TranscriptBatch(turns=turns, final=final))


class BulkResult(msgspec.Struct):
    turns: int
    body_bytes: int
    """The size of the one request that carries them all."""
    first_ms_median: float
    resend_ms_median: float
    """The same batch again: every turn is already stored, none is written twice."""
    rounds: int
    call_batch_turns: int
    call_batch_ms_median: float
    """One batch of the size a call sends, through the same route."""
    call_batch_resend_ms_median: float
    call_batches: int


class _Sender:
    def __init__(self, http: httpx.Client, service: TokenService) -> None:
        self.http = http
        self.user_id = service.demo["users"][0]["userId"]
        self.headers = {
            INTERNAL_KEY_HEADER: service.internal_key,
            "content-type": "application/json",
        }

    def new_session_path(self) -> str:
        request = FreePracticeSessionRequest(user_id=self.user_id)
        created = self.http.post(
            INTERNAL_SESSIONS_PATH, content=msgspec.json.encode(request), headers=self.headers
        )
        session = msgspec.json.decode(created.content, type=CreateSessionResponse)
        return fill(INTERNAL_TRANSCRIPT_PATH, session_id=session.session_id)

    def send_twice(
        self, path: str, body: bytes, stored: int, first: list[float], again: list[float]
    ) -> None:
        """The batch, then the same batch again; each one's time in ms onto its list."""
        for timings, expect_stored in ((first, stored), (again, 0)):
            started = time.perf_counter()
            response = self.http.post(path, content=body, headers=self.headers)
            timings.append((time.perf_counter() - started) * 1000)
            ack = msgspec.json.decode(response.content, type=TranscriptAck)
            if ack.stored != expect_stored:
                raise RuntimeError(f"expected {expect_stored} stored, got {ack}")


def run() -> BulkResult:
    body = _batch(1, TURNS, final=True)
    first: list[float] = []
    again: list[float] = []
    call_first: list[float] = []
    call_again: list[float] = []
    with pinned_backend() as service, httpx.Client(base_url=service.url, timeout=30) as http:
        sender = _Sender(http, service)
        for _ in range(ROUNDS):
            sender.send_twice(sender.new_session_path(), body, TURNS, first, again)
        for _ in range(CALL_BATCHES // CALL_BATCHES_PER_SESSION):
            path = sender.new_session_path()
            for index in range(CALL_BATCHES_PER_SESSION):
                batch = _batch(index * CALL_BATCH_TURNS + 1, CALL_BATCH_TURNS, final=False)
                sender.send_twice(path, batch, CALL_BATCH_TURNS, call_first, call_again)
    return BulkResult(
        turns=TURNS,
        body_bytes=len(body),
        first_ms_median=statistics.median(first),
        resend_ms_median=statistics.median(again),
        rounds=ROUNDS,
        call_batch_turns=CALL_BATCH_TURNS,
        call_batch_ms_median=statistics.median(call_first),
        call_batch_resend_ms_median=statistics.median(call_again),
        call_batches=len(call_first),
    )

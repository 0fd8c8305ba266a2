"""The token service's public API, called as the Next.js frontend calls it, and what a test reads
of the sessions it answers."""

# Deadlines are these waits' contract (the failure says what never came).
# ruff: noqa: ASYNC109

from __future__ import annotations

import time
from collections.abc import Sequence

import httpx
import msgspec

from training_contracts import (
    EVALUATION_PATH,
    SESSION_PATH,
    USER_ID_HEADER,
    ApiErrorCode,
    ErrorBody,
    Evaluation,
    SessionView,
    TurnView,
    fill,
)

from ..waits import until

COMPLETED = "completed"
"""SessionView.status once the agent stored the attempt's final transcript."""
TRANSCRIPT_TIMEOUT_S = 45.0
"""Hang-up -> transcript stored; a vanished trainee is noticed by livekit-server's timeouts."""
EVALUATION_TRIES = 20
EVALUATION_RETRY_S = 1.0
"""The frontend's pace while the evaluation answers 409 transcript_pending."""


class FrontendApi:
    """The token service's public API at `base_url`, as the frontend calls it."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.base_url, timeout=15.0, trust_env=False)

    async def get_session(self, user_id: str, session_id: str) -> SessionView:
        async with self._client() as client:
            response = await client.get(
                fill(SESSION_PATH, session_id=session_id), headers={USER_ID_HEADER: user_id}
            )
        assert response.status_code == 200, response.text
        return msgspec.json.decode(response.content, type=SessionView)

    async def request_evaluation(self, user_id: str, session_id: str) -> httpx.Response:
        async with self._client() as client:
            return await client.post(
                fill(EVALUATION_PATH, session_id=session_id), headers={USER_ID_HEADER: user_id}
            )

    async def evaluation_with_retry(
        self,
        user_id: str,
        session_id: str,
        *,
        tries: int = EVALUATION_TRIES,
        delay: float = EVALUATION_RETRY_S,
    ) -> tuple[Evaluation, int, float]:
        """The frontend's loop: ask again while the answer is 409 transcript_pending.

        Returns the evaluation, how many 409s came first, and when (monotonic) the 200 came."""
        pending = 0

        async def answered() -> Evaluation | None:
            nonlocal pending
            response = await self.request_evaluation(user_id, session_id)
            if response.status_code == 200:
                return msgspec.json.decode(response.content, type=Evaluation)
            assert response.status_code == 409, response.text
            body = msgspec.json.decode(response.content, type=ErrorBody)
            assert body.error.code == ApiErrorCode.TRANSCRIPT_PENDING, response.text
            pending += 1
            return None

        evaluation = await until(
            f"evaluation of {session_id}",
            answered,
            tries * delay,
            poll=delay,
            context=lambda: f"{pending} answers transcript_pending",
        )
        return evaluation, pending, time.monotonic()

    async def wait_for_transcript(
        self,
        user_id: str,
        session_id: str,
        *,
        attempt: int | None = None,
        since: float | None = None,
        timeout: float = TRANSCRIPT_TIMEOUT_S,
        poll: float = 0.1,
    ) -> tuple[SessionView, float]:
        """Poll GET /api/sessions/{id} until `attempt`'s final transcript is stored (the session
        is `completed` at that attempt; None: at whichever attempt it is). Returns the session
        and seconds since `since` (monotonic; None: since the wait began)."""
        began = time.monotonic() if since is None else since
        last: list[SessionView] = []

        async def stored() -> SessionView | None:
            session = await self.get_session(user_id, session_id)
            last[:] = [session]
            done = session.status == COMPLETED
            return session if done and attempt in (None, session.attempt) else None

        def seen() -> str:
            if not last:
                return "no answer"
            session = last[0]
            turns = roles_and_text(turns_of(session, session.attempt))
            return f"status {session.status!r} at attempt {session.attempt}, turns {turns}"

        session = await until(
            f"stored attempt {attempt or 'any'} of session {session_id}",
            stored,
            timeout,
            poll=poll,
            context=seen,
        )
        return session, time.monotonic() - began


def turns_of(session: SessionView, attempt: int) -> list[TurnView]:
    return sorted(
        (t for t in session.turns if t.attempt_number == attempt), key=lambda t: t.turn_order
    )


def roles_and_text(turns: Sequence[TurnView]) -> list[tuple[str, str]]:
    return [(str(t.role), t.content) for t in turns]

"""Client of the token service's internal API: scenarios, sessions and transcripts.

Every call has its own timeout and a bounded retry policy. Failures are typed by what the caller
can do about them: `NotFound` (the thing does not exist: do not retry), `Rejected` (the request is
wrong: do not retry) and `Unavailable` (network, timeout, 5xx, 429, or a key the service refuses
right now: retrying later may work).
"""

import logging
from dataclasses import dataclass
from typing import TypeVar
from uuid import UUID

import aiohttp
import msgspec
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    wait_fixed,
)

from training_contracts import (
    INTERNAL_KEY_HEADER,
    CreateSessionRequest,
    CreateSessionResponse,
    ScenarioResponse,
    TranscriptAck,
    TranscriptBatch,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """`retries` more attempts after the first, `backoff` seconds apart, each bounded by `timeout`.

    The longest a call can take is `(retries + 1) * timeout + retries * backoff`.
    """

    retries: int
    backoff: float
    timeout: float

    @property
    def attempts(self) -> int:
        return self.retries + 1

    @property
    def max_duration(self) -> float:
        return self.attempts * self.timeout + self.retries * self.backoff


SESSION_CREATE_POLICY = RetryPolicy(retries=3, backoff=2.0, timeout=5.0)
"""The plan's rule: three retries two seconds apart, then the call fails with session_create_failed."""

SCENARIO_POLICY = RetryPolicy(retries=2, backoff=0.5, timeout=5.0)
TRANSCRIPT_POLICY = RetryPolicy(retries=2, backoff=0.5, timeout=5.0)


class ApiError(Exception):
    """A call that did not succeed; `attempts` says how many times it was tried."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.attempts = 1


class NotFound(ApiError):
    pass


class Rejected(ApiError):
    pass


class Unavailable(ApiError):
    pass


_RETRYABLE_STATUS = {401, 403, 408, 425, 429}


class InternalApiClient:
    """One instance per event loop; it owns its aiohttp session unless one is handed in."""

    def __init__(
        self,
        base_url: str,
        internal_key: str,
        *,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._headers = {INTERNAL_KEY_HEADER: internal_key, "Content-Type": "application/json"}
        self._session = session
        self._owns_session = session is None

    @property
    def base_url(self) -> str:
        return self._base_url

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            # trust_env=False: an HTTP(S)_PROXY meant for the model provider must not capture
            # calls to our own service.
            self._session = aiohttp.ClientSession(trust_env=False)
            self._owns_session = True
        return self._session

    async def aclose(self) -> None:
        if self._owns_session and self._session is not None and not self._session.closed:
            await self._session.close()

    async def get_scenario(self, scenario_id: UUID, policy: RetryPolicy) -> ScenarioResponse:
        return await self._call(
            "GET", f"/api/internal/scenarios/{scenario_id}", None, ScenarioResponse, policy
        )

    async def create_session(
        self, request: CreateSessionRequest, policy: RetryPolicy
    ) -> CreateSessionResponse:
        return await self._call(
            "POST", "/api/internal/sessions", request, CreateSessionResponse, policy
        )

    async def post_transcript(
        self, session_id: UUID, batch: TranscriptBatch, policy: RetryPolicy
    ) -> TranscriptAck:
        return await self._call(
            "POST", f"/api/internal/sessions/{session_id}/transcript", batch, TranscriptAck, policy
        )

    async def _call(
        self,
        method: str,
        path: str,
        body: msgspec.Struct | None,
        response_type: type[T],
        policy: RetryPolicy,
    ) -> T:
        def log_retry(state: RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome else None
            logger.warning(
                "internal API call failed, retrying",
                extra={
                    "method": method,
                    "path": path,
                    "attempt": state.attempt_number,
                    "max_attempts": policy.attempts,
                    "error": str(error),
                },
            )

        attempt_number = 0
        try:
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(policy.attempts),
                wait=wait_fixed(policy.backoff),
                retry=retry_if_exception_type(Unavailable),
                before_sleep=log_retry,
                reraise=True,
            ):
                with attempt:
                    attempt_number = attempt.retry_state.attempt_number
                    return await self._once(method, path, body, response_type, policy.timeout)
        except ApiError as exc:
            exc.attempts = attempt_number
            raise
        raise AssertionError(
            "unreachable: tenacity either returns or re-raises"
        )  # pragma: no cover

    async def _once(
        self,
        method: str,
        path: str,
        body: msgspec.Struct | None,
        response_type: type[T],
        limit: float,
    ) -> T:
        url = self._base_url + path
        data = msgspec.json.encode(body) if body is not None else None
        try:
            async with self._http().request(
                method,
                url,
                data=data,
                headers=self._headers,
                timeout=aiohttp.ClientTimeout(total=limit),
            ) as response:
                raw = await response.read()
                status = response.status
        except TimeoutError as exc:
            raise Unavailable(f"{method} {path}: no answer within {limit:g} s") from exc
        except aiohttp.ClientError as exc:
            raise Unavailable(f"{method} {path}: {type(exc).__name__}: {exc}") from exc

        if 200 <= status < 300:
            try:
                return msgspec.json.decode(raw, type=response_type)
            except msgspec.DecodeError as exc:
                raise Unavailable(
                    f"{method} {path}: unexpected response body: {exc}", status=status
                ) from exc
        detail = raw[:300].decode("utf-8", errors="replace")
        message = f"{method} {path}: HTTP {status}: {detail}"
        if status == 404:
            raise NotFound(message, status=status)
        if status >= 500 or status in _RETRYABLE_STATUS:
            raise Unavailable(message, status=status)
        raise Rejected(message, status=status)

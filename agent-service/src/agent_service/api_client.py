"""Client of the token service's internal API: scenarios, sessions, transcripts and recordings.

Every call has its own timeout and a bounded retry policy. Failures are typed by what the caller
can do about them: `Refused`, which is `NotFound` (the thing does not exist) or `Rejected` (the
request is wrong), will be refused again: do not retry; `Unavailable` (network, timeout, 5xx,
429, or a key the service refuses right now): retrying later may work.
"""

import contextlib
import functools
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
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
    ATTEMPT_QUERY,
    INTERNAL_KEY_HEADER,
    INTERNAL_RECORDING_FAILURE_PATH,
    INTERNAL_RECORDING_PATH,
    INTERNAL_SCENARIO_PATH,
    INTERNAL_SESSIONS_PATH,
    INTERNAL_TRANSCRIPT_PATH,
    MAX_RECORDING_FAILURE_CHARS,
    READY_PATH,
    RECORDING_MEDIA_TYPE,
    CreateSessionRequest,
    CreateSessionResponse,
    ErrorBody,
    RecordingAck,
    RecordingFailure,
    ScenarioResponse,
    TranscriptAck,
    TranscriptBatch,
    fill,
)

from . import metrics
from .retry_policy import RetryPolicy

logger = logging.getLogger(__name__)

T = TypeVar("T")


class ApiError(Exception):
    """A call that did not succeed; `attempts` says how many times it was tried, `code` is the
    answer's `error.code` when it had an ErrorBody."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.attempts = 1


class Refused(ApiError):
    """Refused for good: the same request will be refused again."""


class NotFound(Refused):
    pass


class Rejected(Refused):
    pass


class Unavailable(ApiError):
    pass


_RETRYABLE_STATUS = {401, 403, 408, 425, 429}
_decode_error = msgspec.json.Decoder(ErrorBody).decode


def _error_code(raw: bytes) -> str | None:
    try:
        return _decode_error(raw).error.code
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None  # not our service's error body (a proxy's page, say)


def _log_retry(
    method: str,
    path: str,
    max_attempts: int,
    on_retry: Callable[[], None] | None,
    state: RetryCallState,
) -> None:
    if on_retry is not None:
        on_retry()
    error = state.outcome.exception() if state.outcome else None
    logger.warning(
        "internal API call failed, retrying",
        extra={
            "method": method,
            "path": path,
            "attempt": state.attempt_number,
            "max_attempts": max_attempts,
            "error": str(error),
        },
    )


@dataclass(frozen=True)
class _Request:
    method: str
    path: str
    body: msgspec.Struct | Path | None = None
    """A JSON body, a file streamed as a recording, or none."""
    params: Mapping[str, str] | None = None


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

    async def ready(self, within: float) -> bool:
        """Whether the service answers its readiness check (its database too): one GET, no retry."""
        try:
            async with self._http().get(
                self._base_url + READY_PATH, timeout=aiohttp.ClientTimeout(total=within)
            ) as response:
                return response.status == 200
        except (TimeoutError, aiohttp.ClientError):
            return False

    async def get_scenario(self, scenario_id: UUID, policy: RetryPolicy) -> ScenarioResponse:
        path = fill(INTERNAL_SCENARIO_PATH, scenario_id=scenario_id)
        return await self._call(_Request("GET", path), ScenarioResponse, policy)

    async def create_session(
        self, request: CreateSessionRequest, policy: RetryPolicy
    ) -> CreateSessionResponse:
        return await self._call(
            _Request("POST", INTERNAL_SESSIONS_PATH, request), CreateSessionResponse, policy
        )

    async def post_transcript(
        self, session_id: UUID, batch: TranscriptBatch, policy: RetryPolicy
    ) -> TranscriptAck:
        path = fill(INTERNAL_TRANSCRIPT_PATH, session_id=session_id)
        on_retry = functools.partial(metrics.count_batch, metrics.BatchOutcome.RETRIED)
        return await self._call(
            _Request("POST", path, batch), TranscriptAck, policy, on_retry=on_retry
        )

    async def put_recording(
        self, session_id: UUID, attempt: int, recording: Path, policy: RetryPolicy
    ) -> RecordingAck:
        """Stream the Ogg file; the service stores an attempt's recording once."""
        path = fill(INTERNAL_RECORDING_PATH, session_id=session_id)
        request = _Request("PUT", path, recording, {ATTEMPT_QUERY: str(attempt)})
        return await self._call(request, RecordingAck, policy)

    async def report_recording_failure(
        self, session_id: UUID, attempt: int, reason: str, policy: RetryPolicy
    ) -> None:
        """`reason` is cut to what the service takes (it is for an operator: the log has it all)."""
        path = fill(INTERNAL_RECORDING_FAILURE_PATH, session_id=session_id)
        body = RecordingFailure(reason=reason.replace("\x00", "")[:MAX_RECORDING_FAILURE_CHARS])
        request = _Request("POST", path, body, {ATTEMPT_QUERY: str(attempt)})
        await self._call(request, type(None), policy)

    async def _call(
        self,
        request: _Request,
        response_type: type[T],
        policy: RetryPolicy,
        *,
        on_retry: Callable[[], None] | None = None,
    ) -> T:
        retrying = AsyncRetrying(
            stop=stop_after_attempt(policy.attempts),
            wait=wait_fixed(policy.backoff),
            retry=retry_if_exception_type(Unavailable),
            reraise=True,
            before_sleep=functools.partial(
                _log_retry, request.method, request.path, policy.attempts, on_retry
            ),
        )
        try:
            return await retrying(self._once, request, response_type, policy.timeout)
        except ApiError as exc:
            exc.attempts = retrying.statistics["attempt_number"]
            raise

    async def _once(self, request: _Request, response_type: type[T], limit: float) -> T:
        what = f"{request.method} {request.path}"
        try:
            raw, status = await self._send(request, limit)
        except TimeoutError as exc:
            raise Unavailable(f"{what}: no answer within {limit:g} s") from exc
        except aiohttp.ClientError as exc:
            raise Unavailable(f"{what}: {type(exc).__name__}: {exc}") from exc
        except OSError as exc:  # after the two above, which are OSErrors too: the file itself
            raise Rejected(f"{what}: the file to send cannot be read: {exc}") from exc

        if 200 <= status < 300:
            if response_type is type(None):
                return None
            try:
                return msgspec.json.decode(raw, type=response_type)
            except msgspec.DecodeError as exc:
                raise Unavailable(
                    f"{what}: unexpected response body: {exc}", status=status
                ) from exc
        detail = raw[:300].decode("utf-8", errors="replace")
        message = f"{what}: HTTP {status}: {detail}"
        code = _error_code(raw)
        if status == 404:
            raise NotFound(message, status=status, code=code)
        if status >= 500 or status in _RETRYABLE_STATUS:
            raise Unavailable(message, status=status, code=code)
        raise Rejected(message, status=status, code=code)

    async def _send(self, request: _Request, limit: float) -> tuple[bytes, int]:
        """One HTTP exchange: (body, status). A file is opened per attempt and streamed."""
        with contextlib.ExitStack() as opened:
            headers = self._headers
            data: object = None
            if isinstance(request.body, Path):
                data = opened.enter_context(request.body.open("rb"))
                headers = {**self._headers, "Content-Type": RECORDING_MEDIA_TYPE}
            elif request.body is not None:
                data = msgspec.json.encode(request.body)
            async with self._http().request(
                request.method,
                self._base_url + request.path,
                data=data,
                params=request.params,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=limit),
            ) as response:
                return await response.read(), response.status

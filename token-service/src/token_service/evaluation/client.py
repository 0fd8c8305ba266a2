"""A small client of the OpenAI chat completions API: one JSON-schema-constrained completion.

The httpx.AsyncClient belongs to the app's lifespan; this class only adds the endpoint, the key,
a bounded timeout and bounded retries on the failures worth retrying (5xx, timeouts, broken
connections). Every failure surfaces as ModelUnavailable.
"""

import logging
from dataclasses import dataclass
from typing import Any

import httpx
import msgspec
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    wait_incrementing,
)

from training_contracts import ModelUsage

logger = logging.getLogger("token_service.evaluation")


class ModelUnavailable(Exception):
    """The model could not give an answer: unreachable, failing, refusing, or malformed."""


class _Retryable(Exception):
    """A failure worth another attempt: a 5xx, a timeout, a broken connection."""


def _log_retry(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else None
    logger.info("chat completions attempt %d failed, retrying: %s", state.attempt_number, error)


class _Message(msgspec.Struct):
    content: str | None = None
    refusal: str | None = None


class _Choice(msgspec.Struct):
    message: _Message
    finish_reason: str | None = None


class _PromptDetails(msgspec.Struct):
    cached_tokens: int = 0


class _Usage(msgspec.Struct):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    prompt_tokens_details: _PromptDetails | None = None


class _Completion(msgspec.Struct):
    choices: list[_Choice]
    model: str | None = None
    usage: _Usage | None = None


@dataclass(frozen=True)
class ChatReply:
    content: str
    """The first choice's message content."""
    usage: ModelUsage | None
    """What the completion cost, when the API said (OpenAI always does)."""


_decode_completion = msgspec.json.Decoder(_Completion).decode


class ChatCompletionsClient:
    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        base_url: str,
        api_key: str,
        timeout_s: float,
        retries: int = 2,
        backoff_s: float = 0.25,
    ) -> None:
        self._http = http
        self._url = base_url.rstrip("/") + "/chat/completions"
        self._headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"}
        self._timeout = httpx.Timeout(timeout_s, connect=min(timeout_s, 5.0))
        self._attempts = retries + 1
        self._backoff_s = backoff_s

    async def complete(self, body: dict[str, Any]) -> ChatReply:
        """The answer to the request `body` (model, messages, ...)."""
        # One per call: tenacity keeps the state of a run of attempts on the retrying object.
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._attempts),
            wait=wait_incrementing(start=self._backoff_s, increment=self._backoff_s),
            retry=retry_if_exception_type(_Retryable),
            reraise=True,
            before_sleep=_log_retry,
        )
        try:
            raw: bytes = await retrying(self._send_once, msgspec.json.encode(body))
        except _Retryable as exc:
            logger.warning("chat completions failed after %d attempts: %s", self._attempts, exc)
            raise ModelUnavailable(f"the model API failed: {exc}") from exc
        return self._reply(raw, str(body.get("model", "")))

    async def _send_once(self, payload: bytes) -> bytes:
        """The response body of one attempt; _Retryable when another attempt may succeed."""
        try:
            response = await self._http.post(
                self._url, content=payload, headers=self._headers, timeout=self._timeout
            )
        except httpx.TimeoutException as exc:
            raise _Retryable(f"timed out ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            raise _Retryable(f"unreachable ({type(exc).__name__}: {exc})") from exc
        if response.status_code >= 500:
            raise _Retryable(f"HTTP {response.status_code}")
        if response.status_code != 200:
            logger.warning(
                "chat completions answered %s: %s", response.status_code, response.text[:500]
            )
            raise ModelUnavailable(f"the model API answered HTTP {response.status_code}")
        return response.content

    @staticmethod
    def _reply(raw: bytes, requested_model: str) -> ChatReply:
        try:
            completion = _decode_completion(raw)
        except msgspec.DecodeError as exc:
            raise ModelUnavailable(f"the model API answered an unexpected body: {exc}") from exc
        if not completion.choices:
            raise ModelUnavailable("the model API answered no choices")
        message = completion.choices[0].message
        if message.refusal:
            raise ModelUnavailable(f"the model refused: {message.refusal}")
        if not message.content:
            raise ModelUnavailable("the model answered an empty message")
        usage = None
        if completion.usage is not None:
            details = completion.usage.prompt_tokens_details
            usage = ModelUsage(
                model=completion.model or requested_model,
                input_text_tokens=completion.usage.prompt_tokens,
                input_cached_tokens=details.cached_tokens if details else 0,
                output_text_tokens=completion.usage.completion_tokens,
            )
        return ChatReply(message.content, usage)

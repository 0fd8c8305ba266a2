"""A small client of the OpenAI chat completions API: one JSON-schema-constrained completion.

The httpx.AsyncClient belongs to the app's lifespan; this class only adds the endpoint, the key,
a bounded timeout and bounded retries on the failures worth retrying (5xx, timeouts, broken
connections). Every failure surfaces as ModelUnavailable.
"""

import asyncio
import logging
from typing import Any

import httpx
import msgspec

logger = logging.getLogger("token_service.evaluation")


class ModelUnavailable(Exception):
    """The model could not give an answer: unreachable, failing, refusing, or malformed."""


class _Message(msgspec.Struct):
    content: str | None = None
    refusal: str | None = None


class _Choice(msgspec.Struct):
    message: _Message
    finish_reason: str | None = None


class _Completion(msgspec.Struct):
    choices: list[_Choice]


_decode_completion = msgspec.json.Decoder(_Completion).decode


class ChatCompletionsClient:
    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        base_url: str,
        api_key: str,
        timeout_s: float = 30.0,
        retries: int = 2,
        backoff_s: float = 0.25,
    ) -> None:
        self._http = http
        self._url = base_url.rstrip("/") + "/chat/completions"
        self._headers = {"Authorization": f"Bearer {api_key}"}
        self._timeout = httpx.Timeout(timeout_s, connect=min(timeout_s, 5.0))
        self._retries = retries
        self._backoff_s = backoff_s

    async def complete(self, body: dict[str, Any]) -> str:
        """The first choice's message content for the request `body` (model, messages, ...)."""
        payload = msgspec.json.encode(body)
        headers = {**self._headers, "Content-Type": "application/json"}
        last_problem = "no attempt made"
        for attempt in range(self._retries + 1):
            if attempt:
                await asyncio.sleep(self._backoff_s * attempt)
            try:
                response = await self._http.post(
                    self._url, content=payload, headers=headers, timeout=self._timeout
                )
            except httpx.TimeoutException as exc:
                last_problem = f"timed out ({type(exc).__name__})"
                continue
            except httpx.TransportError as exc:
                last_problem = f"unreachable ({type(exc).__name__}: {exc})"
                continue
            if response.status_code >= 500:
                last_problem = f"HTTP {response.status_code}"
                continue
            if response.status_code != 200:
                logger.warning(
                    "chat completions answered %s: %s", response.status_code, response.text[:500]
                )
                raise ModelUnavailable(f"the model API answered HTTP {response.status_code}")
            return self._content(response.content)
        logger.warning("chat completions failed after %d attempts: %s", attempt + 1, last_problem)
        raise ModelUnavailable(f"the model API failed: {last_problem}")

    @staticmethod
    def _content(raw: bytes) -> str:
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
        return message.content

"""`POST /v1/chat/completions`: non-streaming, answering the script's evaluation as JSON text."""

from __future__ import annotations

import json
import math
import time
from typing import Any

from aiohttp import web

from .ids import new_id
from .script import Script
from .state import ChatRequestRecord, StubState
from .usage import CHARS_PER_TEXT_TOKEN, text_tokens


def openai_error(
    status: int, message: str, *, error_type: str = "invalid_request_error", code: str | None = None
) -> web.Response:
    """An error response shaped like OpenAI's: `{"error": {message, type, param, code}}`."""
    body = {"error": {"message": message, "type": error_type, "param": None, "code": code}}
    return web.json_response(body, status=status)


def has_bearer_token(request: web.Request) -> bool:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and bool(token.strip())


def missing_key_error() -> web.Response:
    return openai_error(
        401,
        "You didn't provide an API key. You need to provide your API key in an Authorization "
        "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
    )


def completion(content: str, *, model: str, prompt_chars: int) -> dict[str, Any]:
    """A `chat.completion` object with one choice whose message content is `content`."""
    prompt_tokens = max(1, math.ceil(prompt_chars / CHARS_PER_TEXT_TOKEN))
    completion_tokens = max(1, text_tokens(content))
    return {
        "id": new_id("chatcmpl", 24, sep="-"),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": content,
                    "refusal": None,
                    "annotations": [],
                },
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        },
        "service_tier": "default",
        "system_fingerprint": None,
    }


async def handle_chat_completions(
    request: web.Request, script: Script, state: StubState
) -> web.Response:
    body: Any = None
    if has_bearer_token(request):
        try:
            body = json.loads(await request.text())
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = None

    def record(status: int) -> None:
        data = body if isinstance(body, dict) else {}
        model = data.get("model")
        state.chat_completions.append(
            ChatRequestRecord(
                received_at=time.time(),
                model=model if isinstance(model, str) else None,
                messages=data.get("messages"),
                response_format=data.get("response_format"),
                status=status,
            )
        )

    if not has_bearer_token(request):
        record(401)
        return missing_key_error()
    if not isinstance(body, dict):
        record(400)
        return openai_error(
            400,
            "We could not parse the JSON body of your request. (HINT: This likely means you "
            "aren't using your HTTP library correctly.)",
        )
    if not isinstance(body.get("messages"), list) or not isinstance(body.get("model"), str):
        record(400)
        return openai_error(
            400,
            "The request needs a 'model' string and a 'messages' array.",
            code="missing_required_parameter",
        )
    if body.get("stream"):
        record(400)
        return openai_error(
            400, "The OpenAI stub does not support stream=true.", code="unsupported_value"
        )
    if script.chat_error_status is not None:
        status = script.chat_error_status
        record(status)
        return openai_error(
            status,
            f"The OpenAI stub was scripted to fail this request with HTTP {status}.",
            error_type="server_error" if status >= 500 else "invalid_request_error",
        )
    record(200)
    content = script.evaluation_content()
    return web.json_response(
        completion(content, model=body["model"], prompt_chars=len(json.dumps(body["messages"])))
    )

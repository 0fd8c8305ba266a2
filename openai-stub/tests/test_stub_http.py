"""Chat completions and the control routes, over HTTP."""

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from stub_test_helpers import realtime_client

from openai_stub.script import default_evaluation
from openai_stub.testing import StubHandle

AUTH = {"Authorization": "Bearer sk-test"}
EVALUATION_REQUEST: dict[str, Any] = {
    "model": "gpt-4o-mini",
    "messages": [
        {"role": "system", "content": "Evaluate the trainee."},
        {"role": "user", "content": "1. assistant: Hi\n2. user: Hello"},
    ],
    "response_format": {
        "type": "json_schema",
        "json_schema": {"name": "evaluation", "strict": True, "schema": {"type": "object"}},
    },
}


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def test_chat_completion_returns_the_evaluation_as_json_text(
    stub: StubHandle, http: aiohttp.ClientSession
) -> None:
    async with http.post(
        stub.base_url + "/chat/completions", json=EVALUATION_REQUEST, headers=AUTH
    ) as response:
        assert response.status == 200
        body = await response.json()
    assert body["object"] == "chat.completion"
    assert body["id"].startswith("chatcmpl-")
    assert body["model"] == "gpt-4o-mini"
    [choice] = body["choices"]
    assert choice["index"] == 0
    assert choice["finish_reason"] == "stop"
    assert choice["message"]["role"] == "assistant"
    assert json.loads(choice["message"]["content"]) == default_evaluation()
    usage = body["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]

    [record] = stub.state()["chat_completions"]
    assert record["status"] == 200
    assert record["model"] == "gpt-4o-mini"
    assert record["messages"] == EVALUATION_REQUEST["messages"]
    assert record["response_format"]["type"] == "json_schema"


async def test_chat_completion_without_a_key_is_401_like_openai(
    stub: StubHandle, http: aiohttp.ClientSession
) -> None:
    for headers in ({}, {"Authorization": "Bearer"}, {"Authorization": "Token x"}):
        async with http.post(
            stub.base_url + "/chat/completions", json=EVALUATION_REQUEST, headers=headers
        ) as response:
            assert response.status == 401
            body = await response.json()
        assert body["error"]["type"] == "invalid_request_error"
        assert "API key" in body["error"]["message"]
        assert set(body["error"]) == {"message", "type", "param", "code"}
    assert [r["status"] for r in stub.state()["chat_completions"]] == [401, 401, 401]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ("not json", 400),
        (json.dumps({"model": "m"}), 400),
        (json.dumps({**EVALUATION_REQUEST, "stream": True}), 400),
    ],
)
async def test_bad_chat_requests_are_400(
    stub: StubHandle, http: aiohttp.ClientSession, body: str, status: int
) -> None:
    async with http.post(stub.url + "/chat/completions", data=body, headers=AUTH) as response:
        assert response.status == status
        assert "message" in (await response.json())["error"]


async def test_scripted_evaluation_raw_output_and_failures(
    stub: StubHandle, http: aiohttp.ClientSession
) -> None:
    url = stub.base_url + "/chat/completions"
    stub.set_script({"evaluation": {"overallScore": 99, "summary": "s"}})
    async with http.post(url, json=EVALUATION_REQUEST, headers=AUTH) as response:
        content = (await response.json())["choices"][0]["message"]["content"]
    assert json.loads(content) == {"overallScore": 99, "summary": "s"}

    stub.set_script({"evaluation_raw": "I cannot do that"})
    async with http.post(url, json=EVALUATION_REQUEST, headers=AUTH) as response:
        content = (await response.json())["choices"][0]["message"]["content"]
    assert content == "I cannot do that"

    stub.set_script({"chat_error_status": 503})
    async with http.post(url, json=EVALUATION_REQUEST, headers=AUTH) as response:
        assert response.status == 503
        assert (await response.json())["error"]["type"] == "server_error"


async def test_control_routes(stub: StubHandle, http: aiohttp.ClientSession) -> None:
    async with http.get(stub.url + "/healthz") as response:
        assert response.status == 200
        assert await response.json() == {"status": "ok"}

    async with http.post(stub.url + "/_stub/script", json={"replies": ["x"]}) as response:
        assert response.status == 200
        assert (await response.json())["script"]["replies"] == ["x"]
    assert stub.script.replies == ["x"]

    async with http.post(stub.url + "/_stub/script", json={"replies": []}) as response:
        assert response.status == 400
        assert "replies" in (await response.json())["error"]["message"]
    assert stub.script.replies == ["x"]  # unchanged

    async with realtime_client(stub) as client:
        await client.send({"type": "session.update", "session": {"instructions": "P"}})
        await client.expect("session.updated")
        async with http.get(stub.url + "/_stub/state") as response:
            state = await response.json()
        assert state == {**stub.state(), "connections": state["connections"]}
        [conn] = state["connections"]
        assert conn["id"] == "conn_1"
        assert conn["instructions"] == "P"
        assert conn["closed"] is False
        assert state["script"]["replies"] == ["x"]

    async with http.post(stub.url + "/_stub/reset") as response:
        assert response.status == 200
    state = stub.state()
    assert state["connections"] == []
    assert state["chat_completions"] == []
    assert state["script"]["replies"] != ["x"]  # back to the script the stub started with

    # connection ids keep counting after a reset
    async with realtime_client(stub):
        pass
    assert [c["id"] for c in stub.connections()] == ["conn_2"]


async def test_the_summary_names_each_connection_and_its_last_events(stub: StubHandle) -> None:
    assert stub.summary() == "connections=[] chat_completions=0"
    async with realtime_client(stub):
        assert stub.summary().startswith("connections=[{'id': 'conn_1', 'closed': False, ")

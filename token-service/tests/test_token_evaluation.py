"""POST /api/sessions/{id}/evaluation against the OpenAI stub (the only stand-in in these tests)."""

import asyncio
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID, uuid4

import httpx
import msgspec
import pytest
from litestar.testing import AsyncTestClient
from token_test_helpers import (
    AnyClient,
    Client,
    Rows,
    as_user,
    assert_error,
    internal,
    make_settings,
)

from devstack.ports import free_port
from openai_stub.testing import StubHandle
from token_service.app import create_app
from token_service.settings import Settings
from training_contracts import Evaluation, Observation

SCENARIO_PROMPT = "You are Sam, a night-shift nurse who has not slept in three days."

FEEDBACK = {
    "overallScore": 81,
    "summary": "You listened well and asked about safety directly.",
    "strengths": [
        {"point": "Warm opening that invited the caller to talk.", "turnOrders": [1]},
        {"point": "Asked directly about suicidal thoughts.", "turnOrders": [3, 99]},
    ],
    "improvements": [{"point": "Summarise before closing.", "turnOrders": [3, 0, -4]}],
}


class Call:
    """A user's assignment session, for driving the evaluation endpoint."""

    def __init__(self, client: AnyClient, user_id: UUID, session_id: UUID, start_body: Any) -> None:
        self.client = client
        self.user_id = user_id
        self.session_id = session_id
        self.start_body = start_body

    @property
    def url(self) -> str:
        return f"/api/sessions/{self.session_id}/evaluation"

    async def evaluate(self, user_id: UUID | None = None, *, attempt: int | None = None) -> Any:
        params = {} if attempt is None else {"attempt": attempt}
        return await self.client.post(
            self.url, headers=as_user(user_id or self.user_id), params=params
        )

    async def transcript(self, turns: list[dict[str, Any]], *, final: bool) -> None:
        response = await self.client.post(
            f"/api/internal/sessions/{self.session_id}/transcript",
            json={"turns": turns, "final": final},
            headers=internal(),
        )
        assert response.status_code == 200, response.text

    async def next_attempt(self) -> int:
        response = await self.client.post(
            "/api/internal/sessions", json=self.start_body, headers=internal()
        )
        assert response.status_code == 200, response.text
        attempt: int = response.json()["attempt"]
        return attempt


TURNS = [
    {"role": "user", "content": "Crisis line, this is Alex. I'm here to listen.", "turnOrder": 1},
    {
        "role": "assistant",
        "content": "I don't know why I called. I just can't sleep.",
        "turnOrder": 2,
    },
    {"role": "user", "content": "Are you having thoughts of ending your life?", "turnOrder": 3},
]


async def new_call(client: AnyClient, rows: Rows) -> Call:
    user_id = await rows.user()
    scenario_id = await rows.scenario(title="Sleepless nurse", prompt=SCENARIO_PROMPT)
    assignment_id = await rows.assignment(user_id, scenario_id)
    body = {"type": "assignment", "userId": str(user_id), "assignmentId": str(assignment_id)}
    response = await client.post("/api/internal/sessions", json=body, headers=internal())
    assert response.status_code == 200, response.text
    return Call(client, user_id, UUID(response.json()["sessionId"]), body)


def chat_requests(stub: StubHandle) -> list[dict[str, Any]]:
    requests: list[dict[str, Any]] = stub.state()["chat_completions"]
    return requests


async def test_pending_then_evaluated_then_stored(
    client: Client, rows: Rows, openai_stub: StubHandle
) -> None:
    openai_stub.set_script({"evaluation": FEEDBACK})
    call = await new_call(client, rows)

    assert_error(await call.evaluate(), 409, "transcript_pending")
    await call.transcript(TURNS[:2], final=False)
    assert_error(await call.evaluate(), 409, "transcript_pending")
    await call.transcript(TURNS[2:], final=True)
    assert chat_requests(openai_stub) == []

    response = await call.evaluate()
    assert response.status_code == 200, response.text
    evaluation = msgspec.json.decode(response.content, type=Evaluation)
    assert evaluation.session_id == call.session_id
    assert evaluation.attempt == 1
    assert evaluation.overall_score == 81
    assert evaluation.summary == FEEDBACK["summary"]
    assert evaluation.model == "gpt-4o-mini"
    # references to turns that do not exist are dropped
    assert evaluation.strengths == [
        Observation(point="Warm opening that invited the caller to talk.", turn_orders=[1]),
        Observation(point="Asked directly about suicidal thoughts.", turn_orders=[3]),
    ]
    assert evaluation.improvements == [
        Observation(point="Summarise before closing.", turn_orders=[3])
    ]

    (request,) = chat_requests(openai_stub)
    assert request["status"] == 200
    assert request["model"] == "gpt-4o-mini"
    response_format = request["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["strict"] is True
    schema = response_format["json_schema"]["schema"]
    assert set(schema["required"]) == {"overallScore", "summary", "strengths", "improvements"}
    assert schema["additionalProperties"] is False
    system, user = request["messages"]
    assert system["role"] == "system"
    assert "crisis" in system["content"].lower()
    assert SCENARIO_PROMPT in user["content"]
    assert (
        "[3] Counselor (trainee): Are you having thoughts of ending your life?" in user["content"]
    )
    assert "[2] Caller: I don't know why I called." in user["content"]

    # asked again: the stored evaluation, without a second model call
    again = await call.evaluate()
    assert again.status_code == 200
    assert again.json() == response.json()
    assert len(chat_requests(openai_stub)) == 1


async def test_free_practice_uses_the_default_scenario(
    client: Client, rows: Rows, openai_stub: StubHandle
) -> None:
    user_id = await rows.user()
    response = await client.post(
        "/api/internal/sessions",
        json={"type": "free_practice", "userId": str(user_id)},
        headers=internal(),
    )
    call = Call(client, user_id, UUID(response.json()["sessionId"]), None)
    await call.transcript(TURNS, final=True)
    response = await call.evaluate()
    assert response.status_code == 200, response.text
    (request,) = chat_requests(openai_stub)
    assert "Free practice" in request["messages"][1]["content"]


async def test_completed_without_turns_is_transcript_empty(
    client: Client, rows: Rows, openai_stub: StubHandle
) -> None:
    call = await new_call(client, rows)
    await call.transcript([], final=True)
    assert_error(await call.evaluate(), 409, "transcript_empty")
    assert chat_requests(openai_stub) == []


async def test_a_new_attempt_is_pending_again_and_evaluated_on_its_own(
    client: Client, rows: Rows, openai_stub: StubHandle
) -> None:
    call = await new_call(client, rows)
    await call.transcript(TURNS, final=True)
    first = (await call.evaluate()).json()
    assert first["attempt"] == 1

    assert await call.next_attempt() == 2
    assert_error(await call.evaluate(), 409, "transcript_pending")
    await call.transcript(TURNS[:1], final=True)
    second = (await call.evaluate()).json()
    assert second["attempt"] == 2
    assert len(chat_requests(openai_stub)) == 2
    assert "[2]" not in chat_requests(openai_stub)[1]["messages"][1]["content"]


async def test_an_earlier_attempt_is_evaluated_when_asked_for_by_number(
    client: Client, rows: Rows, openai_stub: StubHandle
) -> None:
    # A page asks for a dropped call's feedback after the new caller began the next attempt.
    call = await new_call(client, rows)
    await call.transcript(TURNS, final=False)
    assert await call.next_attempt() == 2
    earlier = (await call.evaluate(attempt=1)).json()
    assert earlier["attempt"] == 1
    assert "cutShort" not in earlier  # its transcript came in full before the next attempt
    assert (await call.evaluate(attempt=1)).json() == earlier  # stored, not asked again
    assert len(chat_requests(openai_stub)) == 1
    assert "[3]" in chat_requests(openai_stub)[0]["messages"][1]["content"]

    assert_error(await call.evaluate(), 409, "transcript_pending")  # attempt 2 goes on
    assert_error(await call.evaluate(attempt=2), 409, "transcript_pending")
    assert_error(await call.evaluate(attempt=3), 404, "not_found")
    assert_error(await call.evaluate(attempt=0), 400, "bad_request")


async def test_concurrent_requests_return_the_same_stored_evaluation(
    concurrent: httpx.AsyncClient, rows: Rows, openai_stub: StubHandle
) -> None:
    call = await new_call(concurrent, rows)
    await call.transcript(TURNS, final=True)
    responses = await asyncio.gather(*(call.evaluate() for _ in range(5)))
    assert {r.status_code for r in responses} == {200}
    assert len({r.content for r in responses}) == 1
    assert (
        await rows.value(
            "SELECT count(*) FROM attempt_evaluations WHERE session_id = %s", call.session_id
        )
        == 1
    )


async def test_owner_only(client: Client, rows: Rows, openai_stub: StubHandle) -> None:
    call = await new_call(client, rows)
    await call.transcript(TURNS, final=True)
    assert_error(await call.evaluate(uuid4()), 403, "forbidden")
    assert_error(
        await client.post(f"/api/sessions/{uuid4()}/evaluation", headers=as_user(call.user_id)),
        404,
        "not_found",
    )
    assert_error(await client.post(call.url), 401, "unauthorized")
    assert chat_requests(openai_stub) == []


@pytest.mark.parametrize(
    "script",
    [
        {"chat_error_status": 500},
        {"chat_error_status": 400},
        {"evaluation_raw": "this is not JSON"},
        {"evaluation_raw": '{"overallScore": 50}'},
    ],
)
async def test_model_failure_is_502_and_nothing_is_stored(
    client: Client, rows: Rows, openai_stub: StubHandle, script: dict[str, Any]
) -> None:
    openai_stub.set_script(script)
    call = await new_call(client, rows)
    await call.transcript(TURNS, final=True)
    assert_error(await call.evaluate(), 502, "evaluation_unavailable")
    assert (
        await rows.value(
            "SELECT count(*) FROM attempt_evaluations WHERE session_id = %s", call.session_id
        )
        == 0
    )
    # 5xx is retried twice; other failures are not
    expected_calls = 3 if script.get("chat_error_status") == 500 else 1
    assert len(chat_requests(openai_stub)) == expected_calls

    openai_stub.reset()
    assert (await call.evaluate()).status_code == 200


@pytest.fixture
async def unreachable_model_client(database_url: str) -> AsyncIterator[Client]:
    settings: Settings = make_settings(
        database_url, openai_base_url=f"http://127.0.0.1:{free_port()}/v1"
    )
    async with AsyncTestClient(app=create_app(settings)) as test_client:
        yield test_client


async def test_unreachable_model_is_502(unreachable_model_client: Client, rows: Rows) -> None:
    call = await new_call(unreachable_model_client, rows)
    await call.transcript(TURNS, final=True)
    assert_error(await call.evaluate(), 502, "evaluation_unavailable")


async def test_an_attempt_whose_worker_died_is_evaluated_once_abandoned(
    client: Client, rows: Rows, openai_stub: StubHandle
) -> None:
    """The job process was killed: turns were delivered as the call went, the final batch never
    came. Evaluation waits while the attempt could still be live, then evaluates what is stored."""
    openai_stub.set_script({"evaluation": FEEDBACK})
    call = await new_call(client, rows)
    await call.transcript(TURNS, final=False)
    assert_error(await call.evaluate(), 409, "transcript_pending")

    # the attempt started, and its last turns arrived, more than ABANDONED_AFTER_S ago
    await rows.conn.execute(
        "UPDATE stored_turns SET stored_at = now() - interval '181 seconds' WHERE session_id = %s",
        (call.session_id,),
    )
    await rows.conn.execute(
        "UPDATE attempts SET started_at = now() - interval '181 seconds' WHERE session_id = %s",
        (call.session_id,),
    )
    response = await call.evaluate()
    assert response.status_code == 200, response.text
    assert msgspec.json.decode(response.content, type=Evaluation).attempt == 1
    # this service's evaluation is its own: the application's table and statuses are left alone
    assert (
        await rows.value(
            "SELECT count(*) FROM public.evaluations WHERE session_id = %s", call.session_id
        )
        == 0
    )
    assert (
        await rows.value("SELECT status FROM public.sessions WHERE id = %s", call.session_id)
        == "active"
    )

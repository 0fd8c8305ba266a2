"""The service's /metrics (on a port of its own) and the model usage it stores per attempt."""

from collections.abc import AsyncIterator
from uuid import UUID

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from prometheus_client.parser import text_string_to_metric_families
from token_test_helpers import Client, Rows, as_user, internal, make_settings

from token_service.app import create_app
from token_service.metrics import RequestMetrics, ServiceMetrics
from token_service.settings import Settings
from token_service.tokens.fast_route import TokenFastRoute
from training_contracts import (
    EVALUATION_PATH,
    INTERNAL_SESSIONS_PATH,
    INTERNAL_TRANSCRIPT_PATH,
    SESSION_PATH,
    TOKEN_PATH,
    fill,
)

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture
def served_settings(database_url: str, settings: Settings) -> Settings:
    return make_settings(database_url, openai_base_url=settings.openai_base_url, metrics_port=0)


@pytest.fixture
async def served(served_settings: Settings) -> AsyncIterator[tuple[Client, ServiceMetrics]]:
    """The app as `serve` runs it: request metrics around the fast route around Litestar."""
    metrics = ServiceMetrics()
    app = RequestMetrics(TokenFastRoute(create_app(served_settings, metrics)), metrics)
    # The test client drives any ASGI app; it is typed for Litestar only.
    litestar_typed: Litestar = app  # type: ignore[assignment]
    async with AsyncTestClient(app=litestar_typed) as test_client:
        yield test_client, metrics


def samples(text: str) -> Samples:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(all_samples: Samples, name: str, **labels: str) -> float:
    return all_samples.get((name, frozenset(labels.items())), 0.0)


async def new_session(client: Client, user: UUID) -> str:
    response = await client.post(
        INTERNAL_SESSIONS_PATH,
        json={"type": "free_practice", "userId": str(user)},
        headers=internal(),
    )
    assert response.status_code == 200, response.text
    return str(response.json()["sessionId"])


def turn(n: int) -> dict[str, object]:
    return {"role": "user" if n % 2 else "assistant", "content": f"turn {n}", "turnOrder": n}


def realtime(**tokens: int) -> dict[str, object]:
    return {"model": "gpt-realtime", **tokens}


async def test_metrics_are_served_apart_and_move_with_requests(
    served: tuple[Client, ServiceMetrics], rows: Rows
) -> None:
    client, metrics = served
    user = await rows.user()
    assert (await client.post(TOKEN_PATH, json={}, headers=as_user(user))).status_code == 200
    assert (await client.get("/no/such/route")).status_code == 404
    session_id = await new_session(client, user)
    path = fill(INTERNAL_TRANSCRIPT_PATH, session_id=session_id)
    body = {"turns": [turn(1), turn(2)], "final": True}
    assert (await client.post(path, json=body, headers=internal())).status_code == 200
    assert (await client.post(path, json=body, headers=internal())).status_code == 200

    port = metrics_port(metrics)
    async with httpx.AsyncClient(trust_env=False) as http:
        scraped = await http.get(f"http://127.0.0.1:{port}/metrics")
        public = await client.get("/metrics")
    got = samples(scraped.text)
    assert public.status_code == 404  # never on the public port
    token = {"route": TOKEN_PATH, "method": "POST", "status": "200"}
    assert value(got, "token_service_request_seconds_count", **token) == 1
    assert (
        value(
            got,
            "token_service_request_seconds_count",
            route="unmatched",
            method="GET",
            status="404",
        )
        == 1
    )
    transcript = {"route": INTERNAL_TRANSCRIPT_PATH, "method": "POST", "status": "200"}
    assert value(got, "token_service_request_seconds_count", **transcript) == 2
    assert value(got, "token_service_tokens_minted_total", kind="free_practice") == 1
    assert value(got, "token_service_sessions_created_total", type="free_practice") == 1
    assert value(got, "token_service_transcript_turns_stored_total") == 2  # the re-send stored 0
    assert value(got, "token_service_db_pool_connections") >= 1
    assert value(got, "token_service_db_pool_connections_in_use") == 0


def metrics_port(metrics: ServiceMetrics) -> int:
    """The port the lifespan's metrics server bound (METRICS_PORT=0: a free one)."""
    server = metrics.server
    assert server is not None
    return server.port


async def test_usage_is_kept_per_attempt_as_the_largest_running_total(
    client: Client, rows: Rows
) -> None:
    user = await rows.user()
    session_id = await new_session(client, user)
    path = fill(INTERNAL_TRANSCRIPT_PATH, session_id=session_id)
    later = {"turns": [turn(1)], "usage": realtime(inputAudioTokens=30, outputAudioTokens=90)}
    earlier = {"turns": [], "usage": realtime(inputAudioTokens=10, outputAudioTokens=95)}
    for body in (later, earlier):  # a spooled batch may arrive after a later one
        assert (await client.post(path, json=body, headers=internal())).status_code == 200

    view = (
        await client.get(fill(SESSION_PATH, session_id=session_id), headers=as_user(user))
    ).json()
    assert view["usage"] == [
        {
            "attempt": 1,
            "realtime": {"model": "gpt-realtime", "inputAudioTokens": 30, "outputAudioTokens": 95},
        }
    ]


async def test_the_evaluations_chat_usage_is_stored_with_the_attempt(
    client: Client, rows: Rows
) -> None:
    user = await rows.user()
    session_id = await new_session(client, user)
    body = {"turns": [turn(1), turn(2)], "final": True, "usage": realtime(outputTextTokens=4)}
    path = fill(INTERNAL_TRANSCRIPT_PATH, session_id=session_id)
    assert (await client.post(path, json=body, headers=internal())).status_code == 200
    evaluated = await client.post(
        fill(EVALUATION_PATH, session_id=session_id), headers=as_user(user)
    )
    assert evaluated.status_code == 200, evaluated.text

    view = (
        await client.get(fill(SESSION_PATH, session_id=session_id), headers=as_user(user))
    ).json()
    [usage] = view["usage"]
    assert usage["realtime"] == {"model": "gpt-realtime", "outputTextTokens": 4}
    evaluation = usage["evaluation"]
    assert evaluation["model"] == "gpt-4o-mini"
    assert evaluation["inputTextTokens"] > 0
    assert evaluation["outputTextTokens"] > 0

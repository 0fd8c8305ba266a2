"""Health, readiness, CORS, error bodies for every kind of failure, and the OpenAPI document."""

from collections.abc import AsyncIterator
from typing import Any
from uuid import uuid4

import msgspec
import pytest
from litestar.testing import AsyncTestClient
from token_test_helpers import Client, as_user, assert_error, internal, make_settings

from token_service.app import create_app
from training_contracts import ErrorBody, TokenRequest


@pytest.fixture
async def no_db_client() -> AsyncIterator[Client]:
    settings = make_settings(
        "postgresql://nobody@127.0.0.1:9/none", db_pool_min=0, db_pool_timeout_s=0.5
    )
    async with AsyncTestClient(app=create_app(settings)) as test_client:
        yield test_client


async def test_healthz_and_readyz(client: Client) -> None:
    health = await client.get("/healthz")
    assert health.status_code == 200
    assert health.json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok"}


async def test_readyz_is_503_without_a_database(no_db_client: Client) -> None:
    assert (await no_db_client.get("/healthz")).status_code == 200
    assert_error(await no_db_client.get("/readyz"), 503, "not_ready")


async def test_database_outage_elsewhere_is_503(no_db_client: Client) -> None:
    response = await no_db_client.get(f"/api/sessions/{uuid4()}", headers=as_user(uuid4()))
    error = assert_error(response, 503, "not_ready")
    assert "nobody" not in error["message"]  # no connection details leak


async def test_error_bodies_decode_as_the_contract(client: Client) -> None:
    cases = [
        (await client.get("/nowhere"), 404, "not_found"),
        (await client.put("/api/livekit/token"), 405, "bad_request"),
        (await client.delete(f"/api/sessions/{uuid4()}"), 405, "bad_request"),
        (await client.post("/api/livekit/token", json={}), 401, "unauthorized"),
        (await client.post("/api/internal/sessions", json={}), 401, "unauthorized"),
        (
            await client.post("/api/internal/sessions", content=b"[", headers=internal()),
            400,
            "bad_request",
        ),
    ]
    for response, status, code in cases:
        assert_error(response, status, code)
        body = msgspec.json.decode(response.content, type=ErrorBody)
        assert body.error.code == code


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/api/livekit/token", {"POST", "OPTIONS"}),
        ("TRACE", "/healthz", {"GET", "OPTIONS"}),
        ("DELETE", "/api/sessions/{id}", {"GET", "OPTIONS"}),
        ("GET", "/api/internal/sessions", {"POST", "OPTIONS"}),
    ],
)
async def test_405_names_the_allowed_methods(
    client: Client, method: str, path: str, allowed: set[str]
) -> None:
    """RFC 9110: a 405 carries `Allow`."""
    response = await client.request(method, path.replace("{id}", str(uuid4())))
    assert_error(response, 405, "bad_request")
    assert {m.strip() for m in response.headers["allow"].split(",")} == allowed


async def test_validation_errors_name_the_field(client: Client) -> None:
    response = await client.post(
        "/api/internal/sessions",
        json={"type": "free_practice", "userId": "nope"},
        headers=internal(),
    )
    error = assert_error(response, 400, "bad_request")
    assert "userId" in error["message"]


@pytest.mark.parametrize("origin", ["http://localhost:3003", "http://app.example.test"])
async def test_cors_preflight_admits_x_user_id(client: Client, origin: str) -> None:
    response = await client.options(
        "/api/livekit/token",
        headers={
            "origin": origin,
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type, x-user-id",
        },
    )
    assert response.status_code in (200, 204), response.text
    assert response.headers["access-control-allow-origin"] == origin
    allowed_headers = response.headers["access-control-allow-headers"].lower()
    assert "x-user-id" in allowed_headers
    assert "content-type" in allowed_headers
    assert "POST" in response.headers["access-control-allow-methods"]

    actual = await client.post(
        "/api/livekit/token", json={}, headers={"origin": origin, **as_user(uuid4())}
    )
    assert actual.headers["access-control-allow-origin"] == origin


async def test_cors_refuses_other_origins(client: Client) -> None:
    response = await client.options(
        "/api/livekit/token",
        headers={
            "origin": "http://evil.example.test",
            "access-control-request-method": "POST",
            "access-control-request-headers": "x-user-id",
        },
    )
    assert response.headers.get("access-control-allow-origin") != "http://evil.example.test"
    assert response.status_code == 400


async def test_openapi_document(client: Client) -> None:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    operations = {
        (path, method): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }
    assert set(operations) >= {
        ("/api/livekit/token", "post"),
        ("/api/sessions/{session_id}", "get"),
        ("/api/sessions/{session_id}/evaluation", "post"),
        ("/api/internal/sessions", "post"),
        ("/api/internal/sessions/{session_id}/transcript", "post"),
        ("/api/internal/scenarios/{scenario_id}", "get"),
        ("/healthz", "get"),
        ("/readyz", "get"),
    }
    for operation in operations.values():
        assert operation["operationId"]
        assert operation["tags"]
    # The token's body is the contract's TokenRequest, which the request may leave out.
    token_body = operations[("/api/livekit/token", "post")]["requestBody"]
    assert token_body["required"] is False
    assert token_body["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/TokenRequest"
    }
    token_schema = document["components"]["schemas"]["TokenRequest"]
    contract_schema = msgspec.json.schema(TokenRequest)["$defs"]["TokenRequest"]
    assert set(token_schema["properties"]) == set(contract_schema["properties"])


async def test_unexpected_errors_are_a_logged_json_500(
    client: Client, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from token_service.scenarios import repository

    async def broken(*_: object) -> None:
        raise RuntimeError("boom: secret detail")

    monkeypatch.setattr(repository, "get_scenario", broken)
    response = await client.get(f"/api/internal/scenarios/{uuid4()}", headers=internal())
    error = assert_error(response, 500, "internal_error")
    assert "secret detail" not in error["message"]
    assert any("boom: secret detail" in (r.exc_text or "") for r in caplog.records)

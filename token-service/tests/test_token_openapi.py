"""The OpenAPI document: exported beside the TypeScript module, and saying what the service answers.

What the running service answers is checked against the document by `make contract-test`
(schemathesis); these tests hold the document to the tables it is built from.
"""

import json
from typing import Any

import pytest
from token_test_helpers import Client

from token_service.errors import STATUS_FOR_CODE
from token_service.openapi import UNEXPECTED
from token_service.openapi_document import default_path, document
from training_contracts import LIVEKIT_WEBHOOK_PATH, ApiErrorCode


@pytest.fixture(scope="module")
def generated() -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(document())
    return parsed


def _operations(doc: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method.upper(), path): operation
        for path, item in doc["paths"].items()
        for method, operation in item.items()
    }


def test_committed_openapi_is_current() -> None:
    """Fails when the API changed and `make export-contracts` was not run."""
    assert default_path().read_text(encoding="utf-8") == document(), (
        f"{default_path()} is stale: run make export-contracts"
    )


async def test_served_document_is_the_exported_one(client: Client) -> None:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    assert response.json() == json.loads(default_path().read_text(encoding="utf-8"))


def _codes(response: dict[str, Any]) -> list[ApiErrorCode]:
    """The codes an error response says it carries: the ErrorBody, its code narrowed."""
    body, narrowed = response["content"]["application/json"]["schema"]["allOf"]
    assert body == {"$ref": "#/components/schemas/ErrorBody"}
    code = narrowed["properties"]["error"]["properties"]["code"]
    return [ApiErrorCode(value) for value in code["enum"]]


def test_every_error_answer_is_the_error_body_with_its_codes(generated: dict[str, Any]) -> None:
    for (method, path), operation in _operations(generated).items():
        errors = {s: r for s, r in operation["responses"].items() if not s.startswith("2")}
        assert str(STATUS_FOR_CODE[UNEXPECTED]) in errors, (method, path)
        for status, response in errors.items():
            codes = _codes(response)
            assert codes, (method, path, status)
            assert {STATUS_FOR_CODE[code] for code in codes} == {int(status)}, (method, path)
    body = generated["components"]["schemas"]["ErrorBody"]
    assert body["required"] == ["error"]
    detail = generated["components"]["schemas"]["ErrorDetail"]
    assert set(detail["properties"]) == set(detail["required"]) == {"code", "message"}


def test_statuses_each_operation_can_answer(generated: dict[str, Any]) -> None:
    """The families: a guard's 401, a path id's 404, a body's 400/413, the database's 503."""
    statuses = {
        key: set(operation["responses"]) for key, operation in _operations(generated).items()
    }
    assert statuses == {
        ("POST", "/api/livekit/token"): {"200", "400", "401", "403", "404", "413", "500", "503"},
        ("GET", "/api/sessions/{session_id}"): {"200", "401", "403", "404", "500", "503"},
        ("GET", "/api/assignments"): {"200", "401", "500", "503"},
        ("POST", "/api/sessions/{session_id}/evaluation"): {
            *("200", "400", "401", "403", "404", "409", "500", "502", "503")
        },
        ("POST", "/api/internal/sessions"): {
            *("200", "400", "401", "403", "404", "409", "413", "500", "503")
        },
        ("POST", "/api/internal/sessions/{session_id}/transcript"): {
            *("200", "400", "401", "404", "409", "413", "500", "503")
        },
        ("GET", "/api/internal/scenarios/{scenario_id}"): {"200", "401", "404", "500", "503"},
        ("GET", "/api/sessions/{session_id}/recording"): {
            *("200", "206", "400", "401", "403", "404", "409", "416", "500", "503")
        },
        ("PUT", "/api/internal/sessions/{session_id}/recording"): {
            *("200", "400", "401", "404", "408", "413", "500", "503")
        },
        ("POST", "/api/internal/sessions/{session_id}/recording/failure"): {
            *("204", "400", "401", "404", "413", "500", "503")
        },
        ("POST", "/api/livekit/webhook"): {"204", "400", "401", "413", "500", "503"},
        ("GET", "/healthz"): {"200", "500"},
        ("GET", "/readyz"): {"200", "500", "503"},
    }


def test_create_session_names_who_is_unknown(generated: dict[str, Any]) -> None:
    operation = _operations(generated)[("POST", "/api/internal/sessions")]
    assert set(_codes(operation["responses"]["404"])) == {
        ApiErrorCode.USER_NOT_FOUND,
        ApiErrorCode.ASSIGNMENT_NOT_FOUND,
        ApiErrorCode.NOT_FOUND,
    }
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    variants = {ref["$ref"].rsplit("/", 1)[1] for ref in body["oneOf"]}
    assert variants == {"AssignmentSessionRequest", "FreePracticeSessionRequest"}
    assignment = generated["components"]["schemas"]["AssignmentSessionRequest"]
    assert "assignmentId" in assignment["required"]


def test_health_answers_are_their_objects(generated: dict[str, Any]) -> None:
    for path in ("/healthz", "/readyz"):
        ok = _operations(generated)[("GET", path)]["responses"]["200"]
        schema = ok["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/HealthStatus"}
    health = generated["components"]["schemas"]["HealthStatus"]
    assert health["required"] == ["status"]


def test_guarded_operations_name_their_credentials(generated: dict[str, Any]) -> None:
    schemes = generated["components"]["securitySchemes"]
    assert schemes["userId"]["name"] == "x-user-id"
    assert schemes["internalKey"]["name"] == "X-Internal-Service-Key"
    for (_, path), operation in _operations(generated).items():
        expected: list[dict[str, list[str]]] | None = None
        if path.startswith("/api/internal/"):
            expected = [{"internalKey": []}]
        elif path == LIVEKIT_WEBHOOK_PATH:
            expected = [{"livekitWebhook": []}]
        elif path.startswith("/api/"):
            expected = [{"userId": []}]
        assert operation.get("security") == expected, path

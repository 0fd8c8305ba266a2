"""POST /api/livekit/token reads its body alike on both of its routes, and as its document says.

`serve` answers the token route in front of Litestar (tokens/fast_route.py); the app alone answers
it with the Litestar handler. Every kind of body, good or bad, gets the same answer from both:
the same status and the same error body. What they answer is what the OpenAPI document says the
body is (the contract's TokenRequest): an id is a UUID or `null`, `null` reads as the id left out,
a field the contract does not know is ignored, the body may be left out.
"""

from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from token_test_helpers import Client, Rows, as_user

from token_service.app import MAX_REQUEST_BODY_BYTES, create_app
from token_service.settings import Settings
from token_service.tokens.fast_route import TokenFastRoute
from training_contracts import TOKEN_PATH

OVER_THE_LIMIT = b" " * (MAX_REQUEST_BODY_BYTES + 1)

BODIES: dict[str, tuple[bytes, int, str | None]] = {
    "null ids": (b'{"assignmentId": null, "scenarioId": null}', 200, None),
    "one null id": (b'{"scenarioId": null}', 200, None),
    "unknown fields": (b'{"favouriteColour": "teal", "assignmentId": null}', 200, None),
    "empty object": (b"{}", 200, None),
    "empty body": (b"", 200, None),
    "a number for an id": (b'{"scenarioId": 42}', 400, "bad_request"),
    "a boolean for an id": (b'{"assignmentId": true}', 400, "bad_request"),
    "an object for an id": (b'{"assignmentId": {}}', 400, "bad_request"),
    "not a UUID": (b'{"assignmentId": "not-a-uuid"}', 400, "bad_request"),
    "the string null": (b'{"assignmentId": "null"}', 400, "bad_request"),
    "an array": (b"[]", 400, "bad_request"),
    "a string": (b'"free practice"', 400, "bad_request"),
    "a number": (b"42", 400, "bad_request"),
    "a null body": (b"null", 400, "bad_request"),
    "blank": (b"   ", 400, "bad_request"),
    "malformed JSON": (b"{oops", 400, "bad_request"),
    "over the limit": (OVER_THE_LIMIT, 413, "payload_too_large"),
}
"""A body, the status both routes answer it with, and the error code (None: a token)."""


@pytest.fixture
async def routes(settings: Settings) -> AsyncIterator[dict[str, Client]]:
    """The Litestar handler (the app alone) and the fast route in front of an app alike."""
    fast: Any = TokenFastRoute(create_app(settings))  # the test client is typed for Litestar
    async with (
        AsyncTestClient(app=create_app(settings)) as litestar,
        AsyncTestClient(app=fast) as fast_route,
    ):
        yield {"litestar": litestar, "fast_route": fast_route}


def _answer(status: int, body: dict[str, Any]) -> tuple[int, Any]:
    """What must be equal: an error's whole body, a token's fields (each token is new)."""
    return status, body if status >= 400 else sorted(body)


@pytest.mark.parametrize("kind", BODIES)
async def test_both_routes_answer_every_body_alike(
    routes: dict[str, Client], rows: Rows, kind: str
) -> None:
    body, status, code = BODIES[kind]
    user = as_user(await rows.user())
    answers = {}
    for name, client in routes.items():
        response = await client.post(
            TOKEN_PATH, content=body, headers={**user, "content-type": "application/json"}
        )
        assert response.status_code == status, (name, response.text)
        answers[name] = _answer(response.status_code, response.json())
        if code is None:
            assert set(response.json()) == {"token", "serverUrl", "roomName"}
        else:
            assert response.json()["error"]["code"] == code, (name, response.text)
    assert answers["litestar"] == answers["fast_route"]


async def test_the_document_says_what_the_routes_read(routes: dict[str, Client]) -> None:
    """The body is the contract's TokenRequest, optional, its ids nullable UUIDs."""
    document = (await routes["litestar"].get("/schema/openapi.json")).json()
    body = document["paths"][TOKEN_PATH]["post"]["requestBody"]
    assert body["required"] is False
    assert body["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/TokenRequest"
    }
    nullable_uuid = {"oneOf": [{"type": "string", "format": "uuid"}, {"type": "null"}]}
    assert document["components"]["schemas"]["TokenRequest"]["properties"] == {
        "assignmentId": nullable_uuid,
        "scenarioId": nullable_uuid,
    }

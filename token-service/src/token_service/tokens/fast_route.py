"""TOKEN_PATH answered in front of Litestar, for a class starting at nine o'clock.

Litestar's per-request machinery (request object, handler kwargs, response object, middleware
stack) costs more than the whole token (`make bench` gives the figures, against the Node peer,
bench/peer.py). So `serve` wraps the Litestar app in `TokenFastRoute`: this one
route is answered here, by the same TokenIssuer, its body decoded by the same rules
(bodies.decode_body), with the same error classification (errors.classify) and CORS headers as
the Litestar handler (tests run the endpoint's suite against both, and hold every kind of bad
body to the same answer); every other request, and the lifespan, go to Litestar unchanged. The
Litestar handler stays, so the app alone is complete and documented.
"""

from typing import Final
from uuid import UUID

import msgspec
from litestar import Litestar
from litestar.enums import ScopeType
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.types import HTTPResponseBodyEvent, HTTPResponseStartEvent, Receive, Scope, Send

from training_contracts import TOKEN_PATH, USER_ID_HEADER, TokenRequest

from ..auth import parse_user_id
from ..bodies import decode_body
from ..db import once_more_if_lost
from ..errors import classify
from ..services import services_of

_WHERE: Final = f"POST {TOKEN_PATH}"
_USER_ID_HEADER: Final = USER_ID_HEADER.encode()
_ORIGIN: Final = b"origin"
_JSON_HEADERS: Final = [(b"content-type", b"application/json")]
_encode = msgspec.json.Encoder().encode


_Answer = tuple[int, bytes, list[tuple[bytes, bytes]]]
"""Status, body and the headers beyond content type and length."""


def _token_request(body: bytes) -> TokenRequest | None:
    """An empty body: None (free practice), as Litestar gives the handler's `data`."""
    return decode_body(body, TokenRequest, _WHERE) if body else None


def _failed(exc: Exception) -> _Answer:
    """Every failure answers as Litestar's handlers would."""
    failure = classify(exc, _WHERE)
    headers = [(name.lower().encode(), value.encode()) for name, value in failure.headers]
    return failure.status, failure.encode(), headers


class TokenFastRoute:
    """An ASGI app: the token route handled directly, everything else passed to `app`."""

    __slots__ = ("_app", "_max_body", "_origins")

    def __init__(self, app: Litestar) -> None:
        self._app = app
        limit = app.request_max_body_size
        self._max_body = limit if isinstance(limit, int) else 0
        cors = app.cors_config
        self._origins = frozenset(o.encode() for o in cors.allow_origins) if cors else frozenset()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != ScopeType.HTTP
            or scope["path"] != TOKEN_PATH
            or scope["method"] != "POST"
        ):
            await self._app(scope, receive, send)
            return
        scope["path_template"] = TOKEN_PATH  # as Litestar's router labels its routes (metrics.py)
        user_header = origin = None
        for name, value in scope["headers"]:
            if name == _USER_ID_HEADER:
                user_header = value
            elif name == _ORIGIN:
                origin = value
        status, body, extra = await self._answer(user_header, receive)
        headers = [*_JSON_HEADERS, (b"content-length", str(len(body)).encode()), *extra]
        if origin is not None and (origin in self._origins or b"*" in self._origins):
            headers += [(b"access-control-allow-origin", origin), (b"vary", b"Origin")]
        start: HTTPResponseStartEvent = {
            "type": "http.response.start",
            "status": status,
            "headers": headers,
        }
        await send(start)
        end: HTTPResponseBodyEvent = {
            "type": "http.response.body",
            "body": body,
            "more_body": False,
        }
        await send(end)

    async def _answer(self, user_header: bytes | None, receive: Receive) -> _Answer:
        try:
            user_id = parse_user_id(user_header.decode("latin-1") if user_header else None)
            request = _token_request(await self._read_body(receive))
        except Exception as exc:
            return _failed(exc)
        # as lost_connection.py does for Litestar's routes
        return await once_more_if_lost(
            lambda: self._issue(user_id, request), lambda answer: answer[0] >= 500
        )

    async def _issue(self, user_id: UUID, request: TokenRequest | None) -> _Answer:
        try:
            issuer = services_of(self._app.state).token_issuer
            return 200, _encode(await issuer.issue(user_id, request)), []
        except Exception as exc:
            return _failed(exc)

    async def _read_body(self, receive: Receive) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message["body"]
            size += len(chunk)
            if self._max_body and size > self._max_body:
                raise RequestEntityTooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)

"""An HTTP request that met a dead database connection and failed is answered by a second run of
the request on a fresh connection (db.once_more_if_lost), so a Postgres restart costs no client an
error. The first run's response is held back until it is known to be the answer; the request's
body is kept to be read again. That is cheap for small JSON, which is what every route but the
recordings' takes and answers. Those stream a file each way, which must not be held in memory
(and a held file response would wait for a disconnect that cannot come before it is sent):
they carry `opt={STREAMS_FILE: True}` and are passed through; their clients retry them (the
agent's uploads are stored once, a player asks again).
"""

from dataclasses import dataclass, field
from typing import Final

from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, ReceiveMessage, Scope, Send

from .db import once_more_if_lost

STREAMS_FILE: Final = "streams_file"
"""A route handler's `opt` key: its body or response is a file, not run a second time."""


@dataclass
class _HeldResponse:
    messages: list[Message] = field(default_factory=list)
    status: int = 500
    """Until the app starts a response: an app that raised out of itself failed."""

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
        self.messages.append(message)


class _Replayed:
    """The request's messages as first received, for a second run."""

    def __init__(self, receive: Receive) -> None:
        self._receive = receive
        self._seen: list[ReceiveMessage] = []

    async def first(self) -> ReceiveMessage:
        message = await self._receive()
        self._seen.append(message)
        return message

    def again(self) -> Receive:
        pending = list(self._seen)

        async def receive() -> ReceiveMessage:
            return pending.pop(0) if pending else await self._receive()

        return receive


class RetryOnLostConnection(ASGIMiddleware):
    """Litestar middleware: HTTP requests only, routes streaming a file passed through."""

    scopes = (ScopeType.HTTP,)
    exclude_opt_key = STREAMS_FILE

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        replayed = _Replayed(receive)
        runs = 0

        async def run() -> _HeldResponse:
            nonlocal runs
            runs += 1
            held = _HeldResponse()
            await next_app(scope, replayed.first if runs == 1 else replayed.again(), held.send)
            return held

        held = await once_more_if_lost(run, lambda response: response.status >= 500)
        for message in held.messages:
            await send(message)

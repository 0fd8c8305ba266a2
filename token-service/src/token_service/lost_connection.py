"""An HTTP request that met a dead database connection and failed is answered by a second run of
the request on a fresh connection (db.once_more_if_lost), so a Postgres restart costs no client an
error. The first run's response is held back until it is known to be the answer; the request's
body is kept to be read again. That is cheap for small JSON, which is what every route but the
recordings' takes and answers. Those stream a file each way, which must not be held in memory
(and a held file response would wait for a disconnect that cannot come before it is sent):
they carry `opt={STREAMS_FILE: True}` and are passed through; their clients retry them (the
agent's uploads are stored once, a player asks again).

The rule that makes a second run safe: every handler it can replay is idempotent, because the
connection can die after the first run's commit (the answer to COMMIT is lost, not the commit).
Reads and the token route write nothing. A session creation is stored with the key that asked
for it, `request_key()` (the same for both runs of a request) unless the agent gave its own, and
that key gets the same session and attempt back (sessions/service.py). Transcript turns go
through the ledger, which stores each once (sessions/transcripts.py); a recording failure is a
state set twice alike; an evaluation and its usage are stored in one transaction, and a second
run finds the evaluation stored (evaluation/service.py). A webhook's state is set alike twice;
the one step a second run can skip (closing the attempt of a caller lost, when the first run
died between its two statements) the room's `room_finished` webhook does later.
"""

import contextvars
import uuid
from dataclasses import dataclass, field
from typing import Final

from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, ReceiveMessage, Scope, Send

from .db import once_more_if_lost

STREAMS_FILE: Final = "streams_file"
"""A route handler's `opt` key: its body or response is a file, not run a second time."""

_REQUEST_KEY: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_key", default=None
)


def request_key() -> str:
    """The key of the request being answered: the same in its second run, new for every request
    (outside the middleware, e.g. a route passed through, a key of its own each call)."""
    return _REQUEST_KEY.get() or f"request:{uuid.uuid4()}"


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
        token = _REQUEST_KEY.set(f"request:{uuid.uuid4()}")

        async def run() -> _HeldResponse:
            nonlocal runs
            runs += 1
            held = _HeldResponse()
            await next_app(scope, replayed.first if runs == 1 else replayed.again(), held.send)
            return held

        try:
            held = await once_more_if_lost(run, lambda response: response.status >= 500)
        finally:
            _REQUEST_KEY.reset(token)
        for message in held.messages:
            await send(message)

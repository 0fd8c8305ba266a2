"""The aiohttp application: Realtime WebSocket, chat completions and the `/_stub` control routes."""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import WSCloseCode, web

from .chat import handle_chat_completions, has_bearer_token, missing_key_error, openai_error
from .ids import new_id
from .realtime import RealtimeConnection
from .script import Script
from .session_config import default_session
from .state import StubState

log = logging.getLogger("openai_stub")

REALTIME_PATHS = ("/v1/realtime", "/realtime", "/openai/realtime", "/openai/v1/realtime")
CHAT_PATHS = ("/v1/chat/completions", "/chat/completions")
DEFAULT_MODEL = "gpt-realtime"
MAX_MESSAGE_BYTES = 16 * 1024 * 1024


class StubServer:
    """The stub's shared state: the current script and what has been seen."""

    def __init__(self, script: Script | None = None) -> None:
        self.initial_script = script if script is not None else Script()
        self.script = self.initial_script
        self.state = StubState()
        self.sockets: set[web.WebSocketResponse] = set()

    def set_script(self, script: Script) -> None:
        """Replaces the script; open connections use it from their next turn or response on."""
        self.script = script

    def reset(self) -> None:
        """Forgets everything recorded and restores the script the stub started with.

        Open connections stay open but are no longer listed.
        """
        self.state.clear()
        self.script = self.initial_script

    def snapshot(self) -> dict[str, Any]:
        """The JSON object `GET /_stub/state` returns."""
        return {**self.state.to_json(), "script": self.script.to_dict()}


STUB_KEY = web.AppKey("openai_stub", StubServer)


def _server(request: web.Request) -> StubServer:
    return request.app[STUB_KEY]


async def realtime_ws(request: web.Request) -> web.StreamResponse:
    # reject before the upgrade: accepting and then closing makes the client reconnect in a loop
    if not has_bearer_token(request):
        return missing_key_error()
    ws = web.WebSocketResponse(max_msg_size=MAX_MESSAGE_BYTES)
    if not ws.can_prepare(request).ok:
        return openai_error(400, "This endpoint expects a WebSocket upgrade.")
    await ws.prepare(request)
    server = _server(request)
    model = request.query.get("model") or DEFAULT_MODEL
    conn_state = server.state.new_connection(
        path=request.path, model=model, session=default_session(new_id("sess"), model)
    )
    log.info("realtime connection %s opened (%s)", conn_state.id, request.path_qs)
    server.sockets.add(ws)
    try:
        await RealtimeConnection(ws, conn_state, lambda: server.script).run()
    finally:
        server.sockets.discard(ws)
        log.info("realtime connection %s closed", conn_state.id)
    return ws


async def chat_completions(request: web.Request) -> web.Response:
    server = _server(request)
    return await handle_chat_completions(request, server.script, server.state)


async def get_state(request: web.Request) -> web.Response:
    return web.json_response(_server(request).snapshot())


async def post_script(request: web.Request) -> web.Response:
    server = _server(request)
    try:
        script = Script.from_json(await request.text())
    except ValueError as e:
        return web.json_response({"error": {"code": "bad_request", "message": str(e)}}, status=400)
    server.set_script(script)
    return web.json_response({"script": script.to_dict()})


async def post_reset(request: web.Request) -> web.Response:
    server = _server(request)
    server.reset()
    return web.json_response({"ok": True, "script": server.script.to_dict()})


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def _close_sockets(app: web.Application) -> None:
    for ws in list(app[STUB_KEY].sockets):
        await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")


def create_app(
    script: Script | None = None, *, server: StubServer | None = None
) -> web.Application:
    """The stub's application. Pass `server` to keep a handle on its script and state."""
    app = web.Application()
    app[STUB_KEY] = server if server is not None else StubServer(script)
    for path in REALTIME_PATHS:
        app.router.add_get(path, realtime_ws)
    for path in CHAT_PATHS:
        app.router.add_post(path, chat_completions)
    app.router.add_get("/_stub/state", get_state)
    app.router.add_post("/_stub/script", post_script)
    app.router.add_post("/_stub/reset", post_reset)
    app.router.add_get("/healthz", healthz)
    app.on_shutdown.append(_close_sockets)
    return app

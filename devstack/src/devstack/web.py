"""The trainee's page (web/, built into web/dist by `make web`) served next to a running stack.

    allow_page_origin(port)                 # before the token service starts: CORS for the page
    with serve_page(stack, port=3003) as page:
        page.url                            # http://localhost:3003

A small static server on loopback: the built files, and PAGE_CONFIG_PATH answering the contract's
PageConfig (where the token service is, the ICE servers, the no-caller bound, the demo users).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID

import msgspec

from training_contracts import PAGE_CONFIG_PATH, IceServer, PageConfig
from training_contracts.page_settings import NO_CALLER_TIMEOUT_MS, PAGE_PORT

from .ports import free_port

if TYPE_CHECKING:
    from .stack import Stack

__all__ = [
    "DEFAULT_PORT",
    "NO_CALLER_TIMEOUT_MS",
    "WEB_DIST",
    "WebPage",
    "WebPageMissingError",
    "allow_page_origin",
    "page_config",
    "page_for_up",
    "page_origin",
    "page_port",
    "serve_page",
]

WEB_DIST = Path(__file__).resolve().parents[3] / "web" / "dist"
DEFAULT_PORT = PAGE_PORT
"""The frontend's port, which the token service allows as a CORS origin by default."""

NO_ICE_SERVERS: list[IceServer] = []
"""Host candidates only: livekit-server --dev runs on loopback beside the page, and the public
STUN servers it offers by default cannot be reached offline (gathering towards them only delays
the call)."""


class WebPageMissingError(RuntimeError):
    pass


@dataclass(frozen=True)
class WebPage:
    url: str
    """http://localhost:PORT, the origin the token service must allow."""
    config: PageConfig

    def describe(self) -> dict[str, Any]:
        return {"webUrl": self.url}


def page_origin(port: int) -> str:
    return f"http://localhost:{port}"


def allow_page_origin(port: int) -> None:
    """Add the page's origin to ALLOWED_ORIGINS in this process's environment, which the token
    service started afterwards inherits; the default origin list is kept."""
    from token_service.settings import Settings  # noqa: PLC0415 - only when serving the page

    default = str(Settings.model_fields["allowed_origins"].default)
    current = os.environ.get("ALLOWED_ORIGINS") or default
    origins = [o.strip() for o in current.split(",") if o.strip()]
    if page_origin(port) not in origins:
        origins.append(page_origin(port))
    os.environ["ALLOWED_ORIGINS"] = ",".join(origins)


def page_config(
    stack: Stack,
    *,
    no_caller_timeout_ms: int = NO_CALLER_TIMEOUT_MS,
    ice_servers: list[IceServer] | None = NO_ICE_SERVERS,
) -> PageConfig:
    return PageConfig(
        token_service_url=stack.token_service_url,
        no_caller_timeout_ms=no_caller_timeout_ms,
        demo_user_ids=[UUID(user["userId"]) for user in stack.demo["users"]],
        ice_servers=ice_servers,
    )


class _Handler(SimpleHTTPRequestHandler):
    def __init__(self, *args: Any, config_body: bytes, **kwargs: Any) -> None:
        self._config_body = config_body
        super().__init__(*args, **kwargs)

    def do_GET(self) -> None:
        if self.path.split("?", 1)[0] == PAGE_CONFIG_PATH:
            self.send_response(HTTPStatus.OK)
            self.send_header("content-type", "application/json")
            self.send_header("cache-control", "no-store")
            self.send_header("content-length", str(len(self._config_body)))
            self.end_headers()
            self.wfile.write(self._config_body)
            return
        super().do_GET()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the page's requests are not the stack's news."""


@contextlib.contextmanager
def serve_page(
    stack: Stack, *, port: int = 0, config: PageConfig | None = None, dist: Path = WEB_DIST
) -> Iterator[WebPage]:
    """Serve `dist` and its PageConfig on 127.0.0.1:`port` (0: a free one) until the block ends."""
    if not (dist / "index.html").is_file():
        raise WebPageMissingError(f"{dist}/index.html is missing: build the page with `make web`")
    config = config or page_config(stack)
    handler = partial(_Handler, directory=str(dist), config_body=msgspec.json.encode(config))
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, name="web-page", daemon=True)
    thread.start()
    try:
        yield WebPage(url=page_origin(server.server_address[1]), config=config)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def page_port(*, free: bool, port: int) -> int:
    """The port `up` serves the page on (a free one with --free-ports), its origin allowed."""
    chosen = free_port() if free else port
    allow_page_origin(chosen)
    return chosen


@contextlib.contextmanager
def page_for_up(
    stack: Stack, port: int, on_status: Callable[[str], None]
) -> Iterator[dict[str, Any]]:
    """`serve_page` for `python -m devstack up`: yields what to add to the stack's description.
    Without a build the stack still runs, and says how to get the page."""
    with contextlib.ExitStack() as served:
        try:
            page = served.enter_context(serve_page(stack, port=port))
        except WebPageMissingError as exc:
            on_status(f"no trainee page: {exc}")
            yield {}
            return
        yield page.describe()

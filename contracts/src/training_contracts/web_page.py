"""What the reference trainee page (web/) is told by the server that serves it.

The page fetches PAGE_CONFIG_PATH next to its index.html: where the token service is, the ICE
servers to use (livekit-server --dev offers public STUN servers, unreachable offline), how long to
wait for the caller, and which demo users to offer.
"""

from typing import Final
from uuid import UUID

from .wire import WireStruct

PAGE_CONFIG_PATH: Final = "/config.json"


class IceServer(WireStruct, frozen=True, kw_only=True):
    """An RTCIceServer: `{"urls": ["stun:…"]}`, with credentials for TURN."""

    urls: list[str]
    username: str | None = None
    credential: str | None = None


class PageConfig(WireStruct, frozen=True, kw_only=True):
    """GET /config.json on the page's own server. `iceServers` absent: the LiveKit server's own."""

    token_service_url: str
    no_caller_timeout_ms: int
    demo_user_ids: list[UUID]
    ice_servers: list[IceServer] | None = None

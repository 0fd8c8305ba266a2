"""The Litestar application: `create_app(settings)` builds it; nothing happens at import time.

The lifespan opens what handlers share (services.py: the Postgres pool, the HTTP client of the
evaluation model, the token issuer) and closes it.
"""

import posixpath
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Final
from uuid import UUID

from litestar import Litestar, Request, Router
from litestar.config.cors import CORSConfig
from litestar.di import Provide
from litestar.openapi.config import OpenAPIConfig
from litestar.types import ControllerRouterHandler

from training_contracts import OPENAPI_PATH, USER_ID_HEADER

from .assignments.controller import AssignmentController
from .auth import require_internal_key, require_user, user_id_from
from .bodies import StrictRequest
from .errors import EXCEPTION_HANDLERS
from .evaluation.controller import EvaluationController
from .health import HealthController
from .lost_connection import RetryOnLostConnection, request_key
from .metrics import ServiceMetrics
from .openapi import INTERNAL, SECURITY_COMPONENTS, USER, ErrorCodeSchema
from .recordings.controller import RecordingController
from .recordings.internal_controller import InternalRecordingController
from .rooms.controller import WebhookController
from .scenarios.controller import InternalScenarioController
from .services import DEPENDENCIES, attach, detach, open_services
from .sessions.internal_controller import InternalSessionController
from .sessions.public_controller import SessionController
from .settings import Settings
from .tokens.controller import TokenController

MAX_REQUEST_BODY_BYTES = 16 * 1024 * 1024

# Litestar serves the document as `<path>/openapi.json`, the file OPENAPI_PATH names.
_OPENAPI_DIR = posixpath.dirname(OPENAPI_PATH)


def _provide_user_id(request: Request[Any, Any, Any]) -> UUID:
    return user_id_from(request)


def _route_handlers() -> list[ControllerRouterHandler]:
    return [
        TokenController,
        # Each family of routes behind its one door: the frontend's user, the agent's key.
        Router(
            "/",
            tags=["sessions"],
            guards=[require_user],
            security=USER,
            route_handlers=[
                SessionController,
                EvaluationController,
                AssignmentController,
                RecordingController,
            ],
        ),
        Router(
            "/",
            tags=["internal"],
            guards=[require_internal_key],
            security=INTERNAL,
            route_handlers=[
                InternalSessionController,
                InternalScenarioController,
                InternalRecordingController,
            ],
        ),
        WebhookController,
        HealthController,
    ]


_DEPENDENCIES: Final = {
    **DEPENDENCIES,
    "user_id": Provide(_provide_user_id, sync_to_thread=False),
    "request_key": Provide(request_key, sync_to_thread=False),
}


def create_app(settings: Settings, metrics: ServiceMetrics | None = None) -> Litestar:
    """`metrics`: the registry the served app's request middleware shares (asgi.py); a fresh
    one by default."""
    app_metrics = metrics or ServiceMetrics()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        async with open_services(settings, app_metrics) as services:
            attach(app.state, services)
            try:
                yield
            finally:
                detach(app.state)

    return Litestar(
        route_handlers=_route_handlers(),
        lifespan=[lifespan],
        dependencies=_DEPENDENCIES,
        request_class=StrictRequest,
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=[RetryOnLostConnection()],
        cors_config=CORSConfig(
            allow_origins=settings.allowed_origin_list,
            allow_methods=["GET", "POST"],
            # A player seeks with Range and reads where it landed from the answer's headers.
            allow_headers=["content-type", "range", USER_ID_HEADER],
            expose_headers=["accept-ranges", "content-length", "content-range"],
        ),
        openapi_config=OpenAPIConfig(
            title="Token service",
            path=_OPENAPI_DIR,
            version="1.0.0",
            description="LiveKit tokens with explicit agent dispatch, and the session, "
            "transcript and evaluation API of voice training. Every error answers "
            '`{"error": {"code", "message"}}`; each response lists the codes it can carry.',
            components=SECURITY_COMPONENTS,
        ),
        plugins=[ErrorCodeSchema()],
        request_max_body_size=MAX_REQUEST_BODY_BYTES,
    )

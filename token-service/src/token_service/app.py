"""The Litestar application: `create_app(settings)` builds it; nothing happens at import time.

The lifespan opens the Postgres pool and the HTTP client of the evaluation model and closes both.
`app.state` holds what handlers share: `pool`, `internal_key`, `token_issuer`, `evaluator`.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID

import httpx
from litestar import Litestar, Request
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi.config import OpenAPIConfig

from training_contracts import USER_ID_HEADER

from .assignments.controller import AssignmentController
from .auth import user_id_from
from .db import create_pool, provide_connection, provide_pool
from .errors import EXCEPTION_HANDLERS
from .evaluation.client import ChatCompletionsClient
from .evaluation.controller import EvaluationController
from .evaluation.evaluator import Evaluator
from .health import HealthController
from .scenarios.controller import InternalScenarioController
from .sessions.internal_controller import InternalSessionController
from .sessions.public_controller import SessionController
from .settings import Settings
from .tokens.controller import TokenController, TokenIssuer
from .tokens.minting import TokenMinter

MAX_REQUEST_BODY_BYTES = 16 * 1024 * 1024


def _provide_user_id(request: Request[Any, Any, Any]) -> UUID:
    return user_id_from(request)


def _provide_evaluator(state: State) -> Evaluator:
    evaluator: Evaluator = state.evaluator
    return evaluator


def create_app(settings: Settings) -> Litestar:
    pool = create_pool(settings)
    token_issuer = TokenIssuer(
        TokenMinter(settings.livekit_api_key, settings.livekit_api_secret),
        settings.livekit_url,
        pool,
    )

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        # No waiting for connections: the service starts with the database down; /readyz says so.
        await pool.open(wait=False)
        try:
            async with httpx.AsyncClient() as http:
                app.state.evaluator = Evaluator(
                    ChatCompletionsClient(
                        http,
                        base_url=settings.openai_base_url,
                        api_key=settings.openai_api_key,
                        timeout_s=settings.evaluation_timeout_s,
                    ),
                    settings.evaluation_model,
                )
                yield
        finally:
            await pool.close()

    return Litestar(
        route_handlers=[
            AssignmentController,
            TokenController,
            SessionController,
            EvaluationController,
            InternalSessionController,
            InternalScenarioController,
            HealthController,
        ],
        lifespan=[lifespan],
        state=State(
            {
                "pool": pool,
                "internal_key": settings.internal_service_key.encode(),
                "token_issuer": token_issuer,
            }
        ),
        dependencies={
            "db": Provide(provide_connection),
            "db_pool": Provide(provide_pool, sync_to_thread=False),
            "user_id": Provide(_provide_user_id, sync_to_thread=False),
            "evaluator": Provide(_provide_evaluator, sync_to_thread=False),
        },
        exception_handlers=EXCEPTION_HANDLERS,
        cors_config=CORSConfig(
            allow_origins=settings.allowed_origin_list,
            allow_methods=["GET", "POST"],
            allow_headers=["content-type", USER_ID_HEADER],
        ),
        openapi_config=OpenAPIConfig(
            title="Token service",
            version="1.0.0",
            description="LiveKit tokens with explicit agent dispatch, and the session, "
            "transcript and evaluation API of voice training.",
        ),
        request_max_body_size=MAX_REQUEST_BODY_BYTES,
    )

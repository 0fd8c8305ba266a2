"""What the handlers share, typed: built and closed by the app's lifespan, handed to handlers as
Litestar dependencies.

Litestar's `State` is an untyped mapping; this module keeps one entry in it, a frozen `Services`,
so every reader gets typed attributes instead of casting what it takes out. A handler asks for a
service by its field name (`token_issuer: NamedDependency[TokenIssuer]`): `DEPENDENCIES` provides
every field, and `db`, a pooled connection for the handler's duration. What runs outside a
handler (a guard, the fast token route) reads `services_of(app.state)`.
"""

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, fields
from typing import Final

import httpx
from litestar.datastructures import State
from litestar.di import Provide
from livekit import api

from .db import Connection, Pool, create_pool
from .evaluation.client import ChatCompletionsClient
from .evaluation.evaluator import Evaluator
from .evaluation.service import Evaluations
from .metrics import ServiceMetrics, start_metrics_server
from .readiness import DatabaseCheck
from .recordings.playback import RecordingPlayback
from .recordings.storage import FilesystemStore
from .recordings.uploads import RecordingUploads
from .rooms.livekit import RoomControl, webhook_receiver
from .rooms.service import CallRooms, RoomPolicy, Sweeper
from .rooms.webhooks import RoomWebhooks
from .sessions.service import SessionStarter
from .sessions.transcript_store import TranscriptStore
from .sessions.views import SessionViews
from .settings import Settings
from .tokens.minting import TokenMinter
from .tokens.service import TokenIssuer
from .users.known import KnownUsers

_STATE_KEY: Final = "services"


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    pool: Pool
    http: httpx.AsyncClient
    token_issuer: TokenIssuer
    evaluator: Evaluator
    evaluations: Evaluations
    session_starter: SessionStarter
    session_views: SessionViews
    transcript_store: TranscriptStore
    database_check: DatabaseCheck
    internal_key: bytes
    metrics: ServiceMetrics
    recording_playback: RecordingPlayback
    recording_uploads: RecordingUploads
    room_webhooks: RoomWebhooks


@asynccontextmanager
async def open_services(settings: Settings, metrics: ServiceMetrics) -> AsyncIterator[Services]:
    pool = create_pool(settings)
    metrics.watch_pool(pool)
    # No waiting for connections: the service starts with the database down (READY_PATH says so).
    await pool.open(wait=False)
    server = None
    if settings.metrics_port is not None:
        server = start_metrics_server(metrics, settings.metrics_host, settings.metrics_port)
    lkapi = api.LiveKitAPI(
        settings.livekit_api_base, settings.livekit_api_key, settings.livekit_api_secret
    )
    call_rooms = CallRooms(
        pool,
        RoomControl(lkapi),
        RoomPolicy(
            join_bound_s=settings.caller_join_bound_s,
            tries=settings.redispatch_tries,
            backoff_s=settings.redispatch_backoff_s,
            backoff_max_s=settings.redispatch_backoff_max_s,
        ),
    )
    sweeper = Sweeper(call_rooms, settings.room_sweep_interval_s)
    if settings.room_sweep_interval_s > 0:
        sweeper.start()
    try:
        async with httpx.AsyncClient() as http:
            yield _services(settings, metrics, pool, http, call_rooms)
    finally:
        if server is not None:
            server.close()
            metrics.server = None
        await sweeper.aclose()
        await lkapi.aclose()
        await pool.close()


def _services(
    settings: Settings,
    metrics: ServiceMetrics,
    pool: Pool,
    http: httpx.AsyncClient,
    call_rooms: CallRooms,
) -> Services:
    evaluator = Evaluator(
        ChatCompletionsClient(
            http,
            base_url=settings.openai_base_url,
            api_key=settings.openai_api_key,
            timeout_s=settings.evaluation_timeout_s,
        ),
        settings.evaluation_model,
    )
    store = FilesystemStore(settings.recordings_dir)
    return Services(
        settings=settings,
        pool=pool,
        http=http,
        token_issuer=TokenIssuer(
            TokenMinter(settings.livekit_api_key, settings.livekit_api_secret),
            settings.livekit_url,
            pool,
            KnownUsers(pool),
            metrics.tokens_minted,
        ),
        evaluator=evaluator,
        evaluations=Evaluations(pool, evaluator, metrics),
        session_starter=SessionStarter(
            pool, metrics, record_free_practice=settings.record_free_practice
        ),
        session_views=SessionViews(pool),
        transcript_store=TranscriptStore(pool, metrics),
        database_check=DatabaseCheck(pool, settings.voice_schema),
        internal_key=settings.internal_service_key.encode(),
        metrics=metrics,
        recording_playback=RecordingPlayback(pool, store),
        recording_uploads=RecordingUploads(
            pool, store, upload_timeout_s=settings.recording_upload_timeout_s
        ),
        room_webhooks=RoomWebhooks(
            webhook_receiver(settings.livekit_api_key, settings.livekit_api_secret), call_rooms
        ),
    )


def attach(state: State, services: Services) -> None:
    state[_STATE_KEY] = services


def detach(state: State) -> None:
    state.pop(_STATE_KEY, None)


def services_of(state: State) -> Services:
    """The app's Services, while its lifespan runs."""
    services = state.get(_STATE_KEY)
    if not isinstance(services, Services):
        raise RuntimeError("the app's services are not open: is its lifespan running?")
    return services


def _provider(name: str) -> Callable[[State], object]:
    def provide(state: State) -> object:
        return getattr(services_of(state), name)

    provide.__name__ = f"provide_{name}"
    return provide


async def _provide_connection(state: State) -> AsyncIterator[Connection]:
    """One pooled connection for the duration of a request handler."""
    async with services_of(state).pool.connection() as conn:
        yield conn


DEPENDENCIES: Final = {
    **{
        field.name: Provide(_provider(field.name), sync_to_thread=False)
        for field in fields(Services)
    },
    "db": Provide(_provide_connection),
}
"""Litestar's `dependencies=`: every Services field by its name, and `db`."""

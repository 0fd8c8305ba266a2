"""What every job of a worker shares, built once in the main process from the settings."""

import functools
from collections.abc import Callable
from dataclasses import dataclass, field

from .api_client import InternalApiClient
from .caller import RealtimeConfig
from .options import CallOptions
from .recording import RecordingSpool
from .settings import Settings
from .spool import Spool


@dataclass(frozen=True)
class Runtime:
    """What every job of a worker shares; built once from the settings (`from_settings`)."""

    settings: Settings
    spool: Spool
    recordings: RecordingSpool
    realtime: RealtimeConfig
    new_client: Callable[[], InternalApiClient]
    """Opens an API client; each event loop needs its own (an aiohttp session is bound to one)."""
    options: CallOptions = field(default_factory=CallOptions)

    @classmethod
    def from_settings(cls, settings: Settings) -> "Runtime":
        return cls(
            settings=settings,
            spool=Spool(settings.spool_dir),
            recordings=RecordingSpool(settings.spool_dir / "recordings"),
            realtime=RealtimeConfig.from_settings(settings),
            new_client=functools.partial(
                InternalApiClient, settings.token_service_url, settings.internal_service_key
            ),
        )

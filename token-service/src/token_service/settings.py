"""The service's configuration, read from the environment once, at start-up."""

import os
from pathlib import Path
from typing import Annotated, TypeVar

from pydantic import Field, StringConstraints, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from training_contracts import CALLER_JOIN_BOUND_S

Required = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]

REQUIRED_SETTINGS = (
    "DATABASE_URL",
    "LIVEKIT_URL",
    "LIVEKIT_API_KEY",
    "LIVEKIT_API_SECRET",
    "INTERNAL_SERVICE_KEY",
    "OPENAI_API_KEY",
)


T = TypeVar("T", bound=BaseSettings)


class SettingsError(Exception):
    """The environment cannot configure the service; the message is one line for an operator."""


def default_recordings_dir() -> Path:
    """`$XDG_DATA_HOME/token-service/recordings`, i.e. `~/.local/share/token-service/recordings`."""
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "token-service" / "recordings"


VoiceSchema = Annotated[str, StringConstraints(pattern=r"^[a-z_][a-z0-9_]{0,62}$")]
"""A plain lower-case Postgres identifier: it is quoted wherever it is used, but an operator
should not have to quote it in psql."""


class DatabaseSettings(BaseSettings):
    """What every command that touches the database needs."""

    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore", frozen=True)

    database_url: Required
    voice_schema: VoiceSchema = "voice"
    """The schema of voice training's own state, beside the Next.js application's `public`
    (docs/app-database.md); `migrate` creates and updates it, and nothing else."""

    @field_validator("voice_schema")
    @classmethod
    def _not_the_application_s(cls, value: str) -> str:
        if value == "public" or value.startswith("pg_"):
            raise ValueError("must be a schema of voice training's own, not public or pg_*")
        return value


class RecordingSettings(BaseSettings):
    """What recordings need; `purge-recordings` reads these with DatabaseSettings."""

    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore", frozen=True)

    recordings_dir: Path = Field(default_factory=default_recordings_dir)
    """The filesystem store's root: a volume of its own in a container."""
    record_free_practice: bool = False
    """Record free practice calls too; assignments say themselves (requireRecording)."""
    recording_retention_days: int = Field(default=30, ge=1)
    """`purge-recordings` deletes recordings of attempts older than this."""
    recording_upload_timeout_s: float = Field(default=300.0, gt=0)
    """The longest one recording upload's body may take to arrive."""


class PurgeSettings(DatabaseSettings, RecordingSettings):
    """`purge-recordings`: the database, and where recordings are and for how long."""


class Settings(DatabaseSettings, RecordingSettings):
    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore", frozen=True)

    livekit_url: Required
    livekit_api_key: Required
    livekit_api_secret: Required
    internal_service_key: Required
    openai_api_key: Required

    openai_base_url: str = "https://api.openai.com/v1"
    evaluation_model: str = "gpt-4o-mini"
    evaluation_timeout_s: float = Field(default=30.0, gt=0)
    allowed_origins: str = "http://localhost:3003"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    db_pool_min: int = Field(default=2, ge=0)
    db_pool_max: int = Field(default=10, ge=1)
    db_pool_timeout_s: float = Field(default=5.0, gt=0)
    metrics_host: str = "127.0.0.1"
    metrics_port: int | None = Field(default=None, ge=0, le=65535)
    """Where Prometheus' `/metrics` is served, apart from the public port; unset: nowhere."""
    db_reconnect_timeout_s: float = Field(default=2.0, gt=0)
    livekit_api_url: str | None = None
    """Where the service reaches livekit-server's API (dispatch, room metadata); unset: LIVEKIT_URL."""
    caller_join_bound_s: float = Field(default=CALLER_JOIN_BOUND_S, gt=0)
    """A trainee without a caller this long gets the caller dispatched again (rooms/)."""
    redispatch_tries: int = Field(default=8, ge=0)
    """Dispatches per wait at most: with the backoffs below, about a minute after the bound."""
    redispatch_backoff_s: float = Field(default=4.0, gt=0)
    """Between the first two dispatches of one wait; doubles after each, up to the maximum."""
    redispatch_backoff_max_s: float = Field(default=8.0, gt=0)
    room_sweep_interval_s: float = Field(default=1.0, ge=0)
    """How often each process looks for rooms whose trainee waits; 0: never (tests sweep by hand)."""

    @property
    def livekit_api_base(self) -> str:
        return self.livekit_api_url or self.livekit_url

    @property
    def allowed_origin_list(self) -> list[str]:
        return [origin.strip() for origin in self.allowed_origins.split(",") if origin.strip()]


def load_settings() -> Settings:
    """Settings from the process environment, or SettingsError naming every missing or empty
    required variable (and any other invalid one) in one line."""
    return _load(Settings)


def load_database_settings() -> DatabaseSettings:
    return _load(DatabaseSettings)


def load_purge_settings() -> PurgeSettings:
    return _load(PurgeSettings)


def _load(cls: type[T]) -> T:
    try:
        return cls()
    except ValidationError as exc:
        missing: list[str] = []
        invalid: list[str] = []
        for error in exc.errors():
            name = str(error["loc"][0]).upper() if error["loc"] else "?"
            if name in REQUIRED_SETTINGS and error["type"] in {"missing", "string_too_short"}:
                missing.append(name)
            else:
                invalid.append(f"{name} ({error['msg']})")
        missing.sort(key=REQUIRED_SETTINGS.index)
        parts = []
        if missing:
            parts.append("missing required settings: " + ", ".join(missing))
        if invalid:
            parts.append("invalid settings: " + ", ".join(invalid))
        raise SettingsError("; ".join(parts)) from None

"""The service's configuration, read from the environment once, at start-up.

Each field is the environment variable of the same name, upper-case; its docstring is what
docs/configuration.md says of it (generated: `python -m devstack.settings_doc`). A missing or bad
variable stops a command with training_contracts' one line (settings_report) and exit status 2.
"""

import os
from pathlib import Path
from typing import Annotated, Final

from pydantic import Field, StringConstraints, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from training_contracts import (
    CALLER_JOIN_BOUND_S,
    SettingsError,
    read_settings,
    required_settings,
    settings_help_for,
)

__all__ = [
    "REQUIRED_SETTINGS",
    "DatabaseSettings",
    "PurgeSettings",
    "RecordingSettings",
    "SchemaSettings",
    "Settings",
    "SettingsError",
    "environment_help",
    "load_database_settings",
    "load_purge_settings",
    "load_schema_settings",
    "load_settings",
]

Required = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


CONFIG: Final = SettingsConfigDict(
    case_sensitive=False, extra="ignore", frozen=True, use_attribute_docstrings=True
)


def default_recordings_dir() -> Path:
    """`$XDG_DATA_HOME/token-service/recordings`, i.e. `~/.local/share/token-service/recordings`."""
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "token-service" / "recordings"


VoiceSchema = Annotated[str, StringConstraints(pattern=r"^[a-z_][a-z0-9_]{0,62}$")]
"""A plain lower-case Postgres identifier: it is quoted wherever it is used, but an operator
should not have to quote it in psql."""


class SchemaSettings(BaseSettings):
    """What `grants` needs: the name of the voice schema."""

    model_config = CONFIG

    voice_schema: VoiceSchema = "voice"
    """The schema of voice training's own state, beside the Next.js application's `public`
    (docs/app-database.md); `migrate` creates and updates it, and nothing else."""

    @field_validator("voice_schema")
    @classmethod
    def _not_the_application_s(cls, value: str) -> str:
        if value == "public" or value.startswith("pg_"):
            raise ValueError("must be a schema of voice training's own, not public or pg_*")
        return value


class DatabaseSettings(SchemaSettings):
    """What every command that touches the database needs."""

    database_url: Required
    """Postgres, e.g. `postgresql://user:pw@host:5432/training`: the Next.js application's
    database, as a role with the grants `token-service grants` prints."""


class RecordingSettings(BaseSettings):
    """What recordings need; `purge-recordings` reads these with DatabaseSettings."""

    model_config = CONFIG

    recordings_dir: Path = Field(default_factory=default_recordings_dir)
    """The filesystem store's root: a volume of its own in a container."""
    record_free_practice: bool = False
    """`true`: free practice calls are recorded too; assignments say so themselves
    (`requireRecording`)."""
    recording_retention_days: int = Field(default=30, ge=1)
    """`purge-recordings` deletes recordings of attempts older than this."""
    recording_upload_timeout_s: float = Field(default=300.0, gt=0)
    """The longest one recording upload's body may take to arrive."""


class PurgeSettings(DatabaseSettings, RecordingSettings):
    """`purge-recordings`: the database, and where recordings are and for how long."""


class Settings(DatabaseSettings, RecordingSettings):
    """`serve`: everything."""

    model_config = CONFIG

    livekit_url: Required
    """The LiveKit server's URL as browsers reach it (handed to them as `serverUrl`)."""
    livekit_api_key: Required
    """LiveKit API key (`devkey` for `livekit-server --dev`): signs tokens, checks webhooks."""
    livekit_api_secret: Required
    """LiveKit API secret (`secret` for `livekit-server --dev`)."""
    internal_service_key: Required
    """The shared secret the agent sends on the internal API (`X-Internal-Service-Key`)."""
    openai_api_key: Required
    """The key of the evaluation's chat model."""

    openai_base_url: str = "https://api.openai.com/v1"
    """Where the evaluation's chat model is; the OpenAI stub's `http://127.0.0.1:8090/v1`
    offline."""
    evaluation_model: str = "gpt-4o-mini"
    """The chat model that writes a call's feedback."""
    evaluation_timeout_s: float = Field(default=30.0, gt=0)
    """The longest one evaluation request to the model may take."""
    allowed_origins: str = "http://localhost:3003"
    """Comma-separated CORS origins of the frontend."""
    host: str = "127.0.0.1"
    """Where `serve` listens."""
    port: int = Field(default=8000, ge=0, le=65535)
    """Where `serve` listens."""
    db_pool_min: int = Field(default=2, ge=0)
    """Postgres connections the pool keeps open."""
    db_pool_max: int = Field(default=10, ge=1)
    """Postgres connections the pool opens at most."""
    db_pool_timeout_s: float = Field(default=5.0, gt=0)
    """The longest a request waits for a connection from the pool before it answers 503."""
    metrics_host: str = "127.0.0.1"
    """Where Prometheus' `/metrics` is served."""
    metrics_port: int | None = Field(default=None, ge=0, le=65535)
    """Where Prometheus' `/metrics` is served, apart from the public port; unset: nowhere."""
    db_reconnect_timeout_s: float = Field(default=2.0, gt=0)
    """How long one reconnection attempt of the pool keeps trying while Postgres is down."""
    livekit_api_url: str | None = None
    """Where the service reaches livekit-server's API (dispatch, room metadata); unset:
    LIVEKIT_URL."""
    caller_join_bound_s: float = Field(default=CALLER_JOIN_BOUND_S, gt=0)
    """A trainee without a caller this long gets the caller dispatched again (rooms/)."""
    redispatch_tries: int = Field(default=8, ge=0)
    """Dispatches per wait at most: with the backoffs below, about a minute after the bound."""
    redispatch_backoff_s: float = Field(default=4.0, gt=0)
    """Between the first two dispatches of one wait; doubles after each, up to the maximum."""
    redispatch_backoff_max_s: float = Field(default=8.0, gt=0)
    """The longest wait between two dispatches."""
    room_sweep_interval_s: float = Field(default=1.0, ge=0)
    """How often each process looks for rooms whose trainee waits; 0: never (tests sweep by hand)."""

    @property
    def livekit_api_base(self) -> str:
        return self.livekit_api_url or self.livekit_url

    @property
    def allowed_origin_list(self) -> list[str]:
        return [origin.strip() for origin in self.allowed_origins.split(",") if origin.strip()]


def environment_help() -> str:
    """`token-service --help`'s list of the settings, from Settings itself."""
    return settings_help_for(Settings)


REQUIRED_SETTINGS = required_settings(Settings)


def load_settings() -> Settings:
    """Settings from the process environment, or SettingsError naming every missing or empty
    required variable (and any other invalid one) in one line."""
    return read_settings(Settings)


def load_database_settings() -> DatabaseSettings:
    return read_settings(DatabaseSettings)


def load_schema_settings() -> SchemaSettings:
    return read_settings(SchemaSettings)


def load_purge_settings() -> PurgeSettings:
    return read_settings(PurgeSettings)

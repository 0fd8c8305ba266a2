"""The worker's configuration, read from the environment and validated once at start-up.

Each field is the environment variable of the same name, upper-case; its docstring is what
docs/configuration.md and `python -m agent_service --help` say of it (generated). A missing or bad
variable stops the worker with training_contracts' one line (settings_report) and exit status 2.
"""

import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, StringConstraints
from pydantic_settings import BaseSettings, SettingsConfigDict

from training_contracts import SettingsError, read_settings, settings_help_for

__all__ = [
    "CALLS_PER_CPU",
    "Settings",
    "SettingsError",
    "environment_help",
    "load_settings",
]

Required = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


def default_spool_dir() -> Path:
    """`$XDG_STATE_HOME/agent-service/spool`, i.e. `~/.local/state/agent-service/spool` by default."""
    state_home = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state_home) / "agent-service" / "spool"


CALLS_PER_CPU = 8
"""Calls a worker holds per CPU at full load: the capacity rule's N per core (`python -m bench
dedicated`: the largest step whose reply, every trainee speaking at once, stays within 300 ms of
the reply at low load) divided by LiveKit's 0.7 load threshold (docs/operations.md, "Capacity").
"""


def default_job_capacity() -> int:
    """CALLS_PER_CPU (8) for each CPU of the machine."""
    return CALLS_PER_CPU * (os.cpu_count() or 1)


class Settings(BaseSettings):
    """Environment variables of the same names, upper-case. An empty or blank value counts as unset."""

    model_config = SettingsConfigDict(
        env_ignore_empty=True, extra="ignore", frozen=True, use_attribute_docstrings=True
    )

    livekit_url: Required
    """The LiveKit server's URL as the worker reaches it."""
    livekit_api_key: Required
    """LiveKit API key (`devkey` for `livekit-server --dev`)."""
    livekit_api_secret: Required
    """LiveKit API secret (`secret` for `livekit-server --dev`)."""
    token_service_url: Required
    """Base URL of the token service's internal API, reachable from wherever the worker runs."""
    internal_service_key: Required
    """The shared secret of the token service's internal API (`X-Internal-Service-Key`)."""
    openai_api_key: Required
    """The key of the Realtime model."""

    openai_base_url: str | None = None
    """Unset: OpenAI itself. Tests and offline development point it at the Realtime stub."""
    realtime_model: str = "gpt-realtime"
    """The caller's Realtime model."""
    realtime_voice: str = "marin"
    """The caller's voice."""
    spool_dir: Path = Field(default_factory=default_spool_dir)
    """Transcripts the token service could not take yet wait here, one JSON file per attempt;
    recordings on their way to it in `recordings/`, one Ogg file per attempt."""
    spool_retry_interval: float = Field(default=1.0, gt=0)
    """Seconds between the worker's looks at its spools (a directory listing; a token service
    that is down is probed with back-off instead, redelivery.py)."""
    agent_health_port: int | None = Field(default=None, ge=0, le=65535)
    """The worker's health endpoint; unset: 8081 with `start`, a free port with `dev`. Two workers
    on one host need two ports (0 picks a free one)."""
    job_capacity: int = Field(default_factory=default_job_capacity, ge=1)
    """Calls one worker runs at once at full load; it stops taking calls at 70% of it in
    production (LiveKit's load threshold)."""
    cpu_stop: float | None = Field(default=None, gt=0, le=1)
    """The CPU share (0-1, livekit-agents' own measure) at which the worker stops taking calls,
    beside JOB_CAPACITY; unset: the count alone (load.py, docs/operations.md)."""
    metrics_port: int | None = Field(default=None, ge=0, le=65535)
    """Where `/metrics` (Prometheus) is served; unset: nowhere. The worker takes no inbound
    traffic from browsers, so this port, like the health port, is for the cluster network only."""
    metrics_dir: Path | None = None
    """Where job processes leave their metric values (PROMETHEUS_MULTIPROC_DIR); unset: a fresh
    temporary folder per worker start. Two workers on one host must not share one: a worker
    empties it when it starts."""
    drain_timeout: int = Field(default=1800, ge=1)
    """Seconds a SIGTERMed worker lets its running calls finish; the orchestrator's grace period
    must be longer (agent-service README, "Deploys and drain")."""
    job_executor: Literal["process", "thread"] = "process"
    """Where a call runs: a job process of its own (livekit-agents' default), or a thread of the
    worker's process beside the worker's other calls (docs/benchmarks.md measures both)."""
    num_idle_processes: int | None = Field(default=None, ge=0)
    """Job processes kept warm; unset: LiveKit's default (one per CPU in production, 0 in dev)."""


def environment_help() -> str:
    """`--help`'s list of the settings, from Settings itself."""
    return settings_help_for(Settings)


def load_settings() -> Settings:
    """Settings from the process environment, or SettingsError naming every missing or empty
    required variable (and any other invalid one) in one line."""
    return read_settings(Settings)

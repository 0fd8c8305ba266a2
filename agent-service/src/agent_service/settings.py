"""The worker's configuration, read from the environment and validated once at start-up."""

import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

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


class Settings(BaseSettings):
    """Environment variables of the same names, upper-case. An empty or blank value counts as unset."""

    model_config = SettingsConfigDict(env_ignore_empty=True, extra="ignore", frozen=True)

    livekit_url: Required
    livekit_api_key: Required
    livekit_api_secret: Required
    token_service_url: Required
    """Base URL of the token service's internal API, reachable from wherever the worker runs."""
    internal_service_key: Required
    openai_api_key: Required

    openai_base_url: str | None = None
    """Unset: OpenAI itself. Tests and offline development point it at the Realtime stub."""
    realtime_model: str = "gpt-realtime"
    realtime_voice: str = "marin"
    spool_dir: Path = Field(default_factory=default_spool_dir)
    """Transcripts the token service could not take yet wait here, one JSON file per attempt;
    recordings on their way to it in `recordings/`, one Ogg file per attempt."""
    spool_retry_interval: float = Field(default=1.0, gt=0)
    """Seconds between the worker's looks at its spools (a directory listing; a token service
    that is down is probed with back-off instead, redelivery.py)."""
    agent_health_port: int | None = Field(default=None, ge=0, le=65535)
    """The worker's health endpoint; unset: 8081 with `start`, a free port with `dev`. Two workers
    on one host need two ports (0 picks a free one)."""
    job_capacity: int = Field(default_factory=lambda: CALLS_PER_CPU * (os.cpu_count() or 1), ge=1)
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
    """Seconds a SIGTERMed worker lets its running calls finish (DRAIN_TIMEOUT); the orchestrator's
    grace period must be longer (README, "Deploys and drain")."""
    job_executor: Literal["process", "thread"] = "process"
    """Where a call runs: a job process of its own (livekit-agents' default), or a thread of the
    worker's process beside the worker's other calls (docs/benchmarks.md measures both)."""
    num_idle_processes: int | None = Field(default=None, ge=0)
    """Job processes kept warm; unset: LiveKit's default (one per CPU in production, 0 in dev)."""


class SettingsError(Exception):
    """The environment does not describe a usable worker; the message is one line for stderr."""


def load_settings() -> Settings:
    try:
        return Settings()  # type: ignore[call-arg]  # the required values come from the environment
    except ValidationError as exc:
        missing: list[str] = []
        invalid: list[str] = []
        for error in exc.errors():
            name = ".".join(str(part) for part in error["loc"]).upper()
            if error["type"] in ("missing", "string_too_short"):
                missing.append(name)
            else:
                invalid.append(f"{name} ({error['msg']})")
        parts = []
        if missing:
            parts.append("missing required environment variables: " + ", ".join(missing))
        if invalid:
            parts.append("invalid environment variables: " + "; ".join(invalid))
        raise SettingsError("agent-service: " + "; ".join(parts)) from None

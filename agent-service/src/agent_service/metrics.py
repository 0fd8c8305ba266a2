"""The worker's Prometheus metrics.

Calls run in job processes of their own (forkserver), so the metrics use prometheus_client's
multiprocess mode: every process writes its values to files under PROMETHEUS_MULTIPROC_DIR, and
livekit-agents' metrics server (`prometheus_port`, our METRICS_PORT) adds them up per scrape.
prometheus_client picks its value store once, when it is first imported, so `__main__` sets the
directory before livekit-agents (which imports prometheus_client) is imported; counts of job
processes that ended stay in their files, so totals survive the processes that made them.

livekit-agents' own series (`lk_agents_*`: running jobs, process start times, load) are served
beside these.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from prometheus_client import Counter, Gauge, Histogram

from training_contracts import AGENT_NAME, AgentErrorCode, ModelUsage

__all__ = [
    "CALLS_RUNNING",
    "MODEL_TOKENS",
    "SESSION_PUBLISHED",
    "SETUP_FAILURES",
    "TRANSCRIPT_BATCHES",
    "BatchOutcome",
    "count_batch",
    "count_setup_failure",
    "count_usage",
    "set_calls_running",
]

CALLS_RUNNING: Final = Gauge(
    "agent_calls_running",
    "Calls this worker runs now, by agent name (set by the worker's main process with its load)",
    ["agent_name"],
    multiprocess_mode="livemax",
)
"""Labelled although there is one agent name: livekit-agents empties the metrics directory when
the worker starts, after this module was imported, and an unlabelled series' file is created at
import (and so deleted); a labelled one's is created when it is first set."""

SESSION_PUBLISHED: Final = Histogram(
    "agent_session_published_seconds",
    "Job start to session.id published on the caller's participant",
    buckets=(0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0),
)

SETUP_FAILURES: Final = Counter(
    "agent_call_setup_failures",
    "Calls refused before the conversation started, by the error code published",
    ["error_code"],
)


class BatchOutcome(StrEnum):
    DELIVERED = "delivered"
    """Stored by the token service, from the call."""
    RETRIED = "retried"
    """A delivery attempt failed and was tried again."""
    SPOOLED = "spooled"
    """Not deliverable during the call: written to the spool."""
    REDELIVERED = "redelivered"
    """Delivered from the spool later."""
    DEAD_LETTERED = "dead_lettered"
    """Refused for good: moved to the spool's dead/ folder for a person to look at."""


TRANSCRIPT_BATCHES: Final = Counter(
    "agent_transcript_batches",
    "Transcript batches by what became of them",
    ["outcome"],
)

MODEL_TOKENS: Final = Counter(
    "agent_model_tokens",
    "Tokens the Realtime model spent on finished calls, by model and kind "
    "(input_cached is part of the input figures)",
    ["model", "kind"],
)


def set_calls_running(running: int) -> None:
    CALLS_RUNNING.labels(AGENT_NAME).set(running)


def count_setup_failure(code: AgentErrorCode) -> None:
    SETUP_FAILURES.labels(code.value).inc()


def count_batch(outcome: BatchOutcome, n: int = 1) -> None:
    TRANSCRIPT_BATCHES.labels(outcome.value).inc(n)


def count_usage(usage: ModelUsage) -> None:
    for kind, tokens in (
        ("input_text", usage.input_text_tokens),
        ("input_audio", usage.input_audio_tokens),
        ("input_cached", usage.input_cached_tokens),
        ("output_text", usage.output_text_tokens),
        ("output_audio", usage.output_audio_tokens),
    ):
        MODEL_TOKENS.labels(usage.model, kind).inc(tokens)

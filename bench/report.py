"""The table `make bench` prints: the rows each section's result gives."""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import msgspec

from .asgi_servers import ServersResult
from .call_cost import CostResult
from .calls import LatencyResult
from .concurrency import REPLY_BOUND_MS, ConcurrencyResult, ConcurrencyStep
from .load import LoadResult
from .minting import MintResult
from .token_endpoint import TokenResult
from .transcript_insert import BulkResult

Row = tuple[str, str, str]
HEADER: Row = ("measure", "result", "detail")

R = TypeVar("R")


@dataclass(frozen=True)
class Section(Generic[R]):
    run: Callable[[], R]
    rows: Callable[[R], list[Row]]


class Machine(msgspec.Struct):
    cpu: str
    cores: int | None
    python: str
    platform: str


def _load(label: str, result: LoadResult) -> Row:
    latency = f"p50 {result.p50_ms:.2f} ms, p99 {result.p99_ms:.2f} ms"
    return label, f"{result.requests_per_s:,.0f} req/s", latency


def token_rows(r: TokenResult) -> list[Row]:
    return [
        _load("token endpoint, free practice (ours)", r.ours_free_practice),
        _load("token endpoint, assignment (ours, DB lookup)", r.ours_assignment),
        _load("token endpoint (Node peer)", r.node_peer_free_practice),
        (
            "token endpoint, ours / peer",
            f"{r.ratio_rps_free_practice:.2f}x req/s",
            f"p99 {r.ratio_p99_free_practice:.2f}x",
        ),
    ]


def servers_rows(r: ServersResult) -> list[Row]:
    return [_load(f"ASGI server: {name}", load) for name, load in r.loads.items()]


def mint_rows(r: MintResult) -> list[Row]:
    ours = ("minting (ours)", r.ours_tokens_per_s, r.ours_us_per_token)
    theirs = (
        "minting (livekit-api to_jwt)",
        r.livekit_api_tokens_per_s,
        r.livekit_api_us_per_token,
    )
    return [
        (label, f"{per_s:,.0f} tokens/s", f"{us:.1f} us/token")
        for label, per_s, us in (ours, theirs)
    ]


def latency_rows(r: LatencyResult) -> list[Row]:
    measured = {
        "join -> session.id": r.join_to_session_id_ms,
        "token request -> session.id": r.click_to_session_id_ms,
        "hang-up -> transcript stored": r.hangup_to_transcript_ms,
        "hang-up -> evaluation 200": r.hangup_to_evaluation_ms,
    }
    return [
        (label, f"p50 {p.p50:.0f} ms", f"p95 {p.p95:.0f} ms (n={p.n})")
        for label, p in measured.items()
    ]


def _step(step: ConcurrencyStep, where: str) -> Row:
    return (
        f"{step.calls} simultaneous calls, {where}",
        "ok" if step.ok else "FAILED",
        f"worker {step.cpu_per_call_pct:.1f}% of a core and "
        f"{step.memory_per_call_mb:.0f} MB per call, "
        f"session.id p95 {step.session_id_p95_ms:.0f} ms, "
        f"reply p50 {step.said_to_reply_p50_ms:.0f} / "
        f"p95 {step.said_to_reply_p95_ms:.0f} ms, "
        f"machine {step.machine_busy_pct:.0f}% busy",
    )


def concurrency_rows(r: ConcurrencyResult) -> list[Row]:
    largest = (f"largest N with every call ok, {r.where}", str(r.largest_ok), "")
    bounded = (
        f"largest N with the reply within {REPLY_BOUND_MS:.0f} ms of low load, {r.where}",
        str(r.largest_within_reply_bound),
        f"reply p95 {r.low_load_reply_p95_ms:.0f} ms at {r.steps[0].calls} calls",
    )
    return [*(_step(step, r.where) for step in r.steps), largest, bounded]


def cost_rows(r: CostResult) -> list[Row]:
    rows: list[Row] = []
    for label, call in (("a running call", r.unrecorded), ("a recorded call", r.recorded)):
        for phase, cost in (("listening", call.listening), ("speaking", call.speaking)):
            busiest = list(cost.native_threads_pct.items())[:3]
            native = ", ".join(f"{name} {pct:.1f}" for name, pct in busiest)
            rows.append(
                (
                    f"{label}, caller {phase} ({r.calls} calls)",
                    f"{cost.per_call_pct:.1f}% of a core",
                    f"Python {cost.python_pct:.1f}%, native {cost.native_pct:.1f}% ({native})",
                )
            )
        rows.append((f"{label}, memory", f"{call.memory_per_call_mb:.0f} MB per call", "PSS"))
    extra = [
        r.recorded.listening.per_call_pct - r.unrecorded.listening.per_call_pct,
        r.recorded.speaking.per_call_pct - r.unrecorded.speaking.per_call_pct,
    ]
    rows.append(
        (
            "what recording adds to a call",
            f"{extra[0]:+.1f}% / {extra[1]:+.1f}% of a core (listening / speaking)",
            f"{r.recorded.memory_per_call_mb - r.unrecorded.memory_per_call_mb:+.0f} MB; "
            f"Ogg/Opus stereo {r.recording.mb_per_minute:.2f} MB per minute "
            f"({r.recording.files} files)",
        )
    )
    return rows


def bulk_rows(r: BulkResult) -> list[Row]:
    resend = f"re-send {r.resend_ms_median:.1f} ms (median of {r.rounds})"
    call_resend = f"re-send {r.call_batch_resend_ms_median:.2f} ms (median of {r.call_batches})"
    return [
        (f"transcript insert, {r.turns} turns", f"{r.first_ms_median:.1f} ms", resend),
        (
            f"transcript insert, a call's batch ({r.call_batch_turns} turns)",
            f"{r.call_batch_ms_median:.2f} ms",
            call_resend,
        ),
    ]


def _line(cells: Row, widths: list[int]) -> str:
    return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"


def _render(rows: list[Row]) -> str:
    widths = [max(len(r[i]) for r in [HEADER, *rows]) for i in range(len(HEADER))]
    lines = [_line(HEADER, widths), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    return "\n".join([*lines, *(_line(r, widths) for r in rows)])


def table(
    machine: Machine,
    results: Iterable[tuple[Section[Any], Any]],
    failed: Mapping[str, str] | None = None,
) -> str:
    """The rows of each (section, its result), in that order, under a line on the machine; then
    a FAILED row for each section in `failed` (its name: what went wrong), with no figure."""
    rows = [row for section, result in results for row in section.rows(result)]
    rows += [(f"section {name}", "FAILED", why[:200]) for name, why in (failed or {}).items()]
    return f"{machine.cpu}, {machine.cores} cores, Python {machine.python}\n\n" + _render(rows)

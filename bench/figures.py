"""The figures `bench compare` sets side by side, read from a run's JSON (.bench/latest.json), and
how two sets of runs of one figure are judged.

The JSON is read as plain data, not as this tree's result types: the other side of a comparison
is another commit's bench, whose results may be shaped a little differently (an older `cost`
section has no recorded run, so its figures sit at the top of the section). A figure a run does
not have is left out of the verdict.
"""

import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

NOISE_FLOOR = 0.02
"""Differences within 2% of REF's mean are never called worse or better, however alike the runs
of each side happened to be (two runs of a side can agree to the last digit by chance)."""

Verdict = Literal["worse", "better", "same", "n/a"]


@dataclass(frozen=True)
class Figure:
    name: str
    unit: str
    read: Callable[[dict[str, Any]], float | None]
    lower_is_better: bool


def _number(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def _cost_phase(phase: str, key: str) -> Callable[[dict[str, Any]], float | None]:
    def read(doc: dict[str, Any]) -> float | None:
        cost = doc.get("cost")
        if not isinstance(cost, dict):
            return None
        unrecorded = cost.get("unrecorded", cost)
        return _number(unrecorded.get(phase, {}).get(key))

    return read


def _section_key(section: str, key: str) -> Callable[[dict[str, Any]], float | None]:
    def read(doc: dict[str, Any]) -> float | None:
        return _number(doc.get(section, {}).get(key))

    return read


def _largest_ok(section: str) -> Callable[[dict[str, Any]], float | None]:
    return _section_key(section, "largest_ok")


def _step(section: str, calls: int, key: str) -> Callable[[dict[str, Any]], float | None]:
    def read(doc: dict[str, Any]) -> float | None:
        for step in doc.get(section, {}).get("steps", []):
            if step.get("calls") == calls and step.get("ok"):
                return _number(step.get(key))
        return None

    return read


def _token(path: str, key: str) -> Callable[[dict[str, Any]], float | None]:
    def read(doc: dict[str, Any]) -> float | None:
        return _number(doc.get("token", {}).get(path, {}).get(key))

    return read


FIGURES = (
    Figure("a call, caller listening", "% of a core", _cost_phase("listening", "per_call_pct"), True),
    Figure("  Python part", "% of a core", _cost_phase("listening", "python_pct"), True),
    Figure("  native part", "% of a core", _cost_phase("listening", "native_pct"), True),
    Figure("a call, caller speaking", "% of a core", _cost_phase("speaking", "per_call_pct"), True),
    Figure("  Python part", "% of a core", _cost_phase("speaking", "python_pct"), True),
    Figure("  native part", "% of a core", _cost_phase("speaking", "native_pct"), True),
    Figure("largest N, all on 2 cores", "calls", _largest_ok("concurrency"), False),
    Figure("  within the reply bound", "calls", _section_key("concurrency", "largest_within_reply_bound"), False),
    Figure("10 calls: worker per call", "% of a core", _step("concurrency", 10, "cpu_per_call_pct"), True),
    Figure("10 calls: reply p95", "ms", _step("concurrency", 10, "said_to_reply_p95_ms"), True),
    Figure("largest N, worker alone on 1 core", "calls", _largest_ok("dedicated"), False),
    Figure("  within the reply bound", "calls", _section_key("dedicated", "largest_within_reply_bound"), False),
    Figure("token, free practice", "req/s", _token("ours_free_practice", "requests_per_s"), False),
    Figure("  p99", "ms", _token("ours_free_practice", "p99_ms"), True),
    Figure("token, assignment", "req/s", _token("ours_assignment", "requests_per_s"), False),
    Figure("  p99", "ms", _token("ours_assignment", "p99_ms"), True),
    Figure("transcript insert, 1,000 turns", "ms", _section_key("bulk", "first_ms_median"), True),
    Figure("  the same batch again", "ms", _section_key("bulk", "resend_ms_median"), True),
    Figure("transcript insert, a call's batch", "ms", _section_key("bulk", "call_batch_ms_median"), True),
    Figure("  the same batch again", "ms", _section_key("bulk", "call_batch_resend_ms_median"), True),
)  # fmt: skip


@dataclass(frozen=True)
class Judged:
    figure: Figure
    ref: list[float]
    work: list[float]
    ratio: float
    """The working tree's mean over REF's."""
    spread: float
    """The larger of the two sides' ranges (max - min of its runs), at least NOISE_FLOOR of
    REF's mean: a difference of the means within it is no difference."""
    verdict: Verdict


def judge(figure: Figure, ref: Sequence[float | None], work: Sequence[float | None]) -> Judged:
    """The two sides' runs of `figure` (None: a run without it); a verdict needs both sides whole."""
    r = [v for v in ref if v is not None]
    w = [v for v in work if v is not None]
    if not r or not w or len(r) != len(ref) or len(w) != len(work):
        return Judged(figure, r, w, math.nan, math.nan, "n/a")
    ref_mean, work_mean = statistics.fmean(r), statistics.fmean(w)
    spread = max(max(r) - min(r), max(w) - min(w), NOISE_FLOOR * abs(ref_mean))
    worse_by = (work_mean - ref_mean) * (1 if figure.lower_is_better else -1)
    verdict: Verdict = "worse" if worse_by > spread else "better" if -worse_by > spread else "same"
    ratio = work_mean / ref_mean if ref_mean else math.nan
    return Judged(figure, r, w, ratio, spread, verdict)

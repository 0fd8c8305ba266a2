"""The latencies a suite measured, and its stack's start-up and logs, printed when it ends."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class LatencyRow:
    test: str
    values: dict[str, float] = field(default_factory=dict)


LATENCIES: list[LatencyRow] = []


def record_latency(test: str, what: str, seconds: float) -> None:
    for row in LATENCIES:
        if row.test == test:
            row.values[what] = seconds
            break
    else:
        LATENCIES.append(LatencyRow(test, {what: seconds}))
    print(f"[latency] {test}: {what} = {seconds:.2f} s", flush=True)


def write_run_summary(terminalreporter: Any, title: str, stack_info: dict[str, Any]) -> None:
    """The run's latencies, and the stack's start-up and logs (`stack_info`, as `suite_stack`
    recorded it), at the end of pytest's output."""
    if not LATENCIES and not stack_info:
        return
    write = terminalreporter.write_line
    terminalreporter.section(title)
    if "timings" in stack_info:
        parts = ", ".join(f"{k} {v:.1f} s" for k, v in stack_info["timings"].items())
        write(f"stack start-up: {stack_info['startup_s']:.1f} s ({parts})")
    rows = [(row.test, what, seconds) for row in LATENCIES for what, seconds in row.values.items()]
    if rows:
        test_w = max(len("test"), *(len(r[0]) for r in rows))
        what_w = max(len("measured"), *(len(r[1]) for r in rows))
        write(f"{'test':<{test_w}}  {'measured':<{what_w}}  {'seconds':>8}")
        previous = ""
        for test, what, seconds in rows:
            shown = test if test != previous else ""
            previous = test
            write(f"{shown:<{test_w}}  {what:<{what_w}}  {seconds:>8.2f}")
    if "log_dir" in stack_info:
        write(f"process logs: {stack_info['log_dir']}")

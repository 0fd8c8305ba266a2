"""The capacity rule read from a section's steps: the largest step whose reply p95 stays within
REPLY_BOUND_MS of the first (low-load) step's, with every step before it passing and within too."""

from bench.concurrency import REPLY_BOUND_MS, ConcurrencyStep, within_reply_bound


def step(calls: int, reply_p95_ms: float, *, ok: bool = True) -> ConcurrencyStep:
    return ConcurrencyStep(
        calls=calls, ok=ok, failures=[], session_id_p50_ms=300, session_id_p95_ms=400,
        session_id_max_ms=500, turns_stored_min=2, caller_packets_heard_min=50,
        said_to_reply_p50_ms=reply_p95_ms - 50, said_to_reply_p95_ms=reply_p95_ms,
        cpu_per_call_pct=7.0, worker_cpu_pct=50.0, trainees_cpu_pct=5.0, machine_busy_pct=60.0,
        others_cpu_pct=5.0, memory_per_call_mb=40.0, seconds=20.0,
    )  # fmt: skip


def test_the_last_step_within_the_bound_of_low_load() -> None:
    steps = [step(2, 600), step(4, 650), step(8, 600 + REPLY_BOUND_MS), step(12, 1100)]
    assert within_reply_bound(steps) == 8


def test_a_failed_step_ends_the_run_even_if_a_later_one_is_fast() -> None:
    steps = [step(2, 600), step(4, 700, ok=False), step(8, 650)]
    assert within_reply_bound(steps) == 2


def test_a_slow_step_ends_it_too() -> None:
    assert within_reply_bound([step(2, 600), step(4, 1000), step(8, 700)]) == 2


def test_no_figure_when_the_low_load_step_failed() -> None:
    assert within_reply_bound([step(2, 600, ok=False), step(4, 650)]) == 0

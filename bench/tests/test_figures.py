"""bench compare's verdicts: a figure of the working tree is worse than REF's only beyond the
spread of both sides' runs (never within NOISE_FLOOR), and a side with a missing run gets none."""

import pytest

from bench.compare import _order
from bench.figures import FIGURES, NOISE_FLOOR, Figure, judge

COST = Figure("cost", "%", lambda doc: None, lower_is_better=True)
CALLS = Figure("calls", "calls", lambda doc: None, lower_is_better=False)


def test_dearer_beyond_the_spread_is_worse() -> None:
    judged = judge(COST, [5.7, 5.9], [6.9, 6.9])
    assert judged.verdict == "worse"
    assert judged.ratio == pytest.approx(6.9 / 5.8)
    assert judged.spread == pytest.approx(0.2)


def test_a_difference_within_one_sides_range_is_the_same() -> None:
    assert judge(COST, [5.0, 6.0], [5.6, 5.7]).verdict == "same"
    assert judge(COST, [5.6, 5.7], [5.0, 6.0]).verdict == "same"


def test_identical_runs_still_get_the_noise_floor() -> None:
    within = 5.0 * (1 + NOISE_FLOOR / 2)
    assert judge(COST, [5.0, 5.0], [within, within]).verdict == "same"
    assert judge(COST, [5.0, 5.0], [5.5, 5.5]).verdict == "worse"


def test_higher_is_better_for_a_call_count() -> None:
    assert judge(CALLS, [20, 20], [15, 15]).verdict == "worse"
    assert judge(CALLS, [15, 15], [20, 25]).verdict == "better"


def test_a_run_without_the_figure_gives_no_verdict() -> None:
    judged = judge(COST, [5.0, None], [5.0, 5.0])
    assert judged.verdict == "n/a"


def test_runs_interleave_ref_work_work_ref() -> None:
    assert _order(1) == ["ref", "work", "work", "ref"]
    assert _order(2) == ["ref", "work", "work", "ref"] * 2


OLD_COST = {"cost": {"listening": {"per_call_pct": 5.7}, "speaking": {"per_call_pct": 10.6}}}
NEW_COST = {
    "cost": {
        "unrecorded": {"listening": {"per_call_pct": 6.9}, "speaking": {"per_call_pct": 11.7}},
        "recorded": {"listening": {"per_call_pct": 9.0}, "speaking": {"per_call_pct": 14.0}},
    },
    "concurrency": {"largest_ok": 15, "steps": [{"calls": 10, "ok": True, "cpu_per_call_pct": 8}]},
}


def test_figures_read_both_shapes_of_the_cost_section() -> None:
    listening, speaking = FIGURES[0], FIGURES[3]
    assert listening.read(OLD_COST) == 5.7
    assert listening.read(NEW_COST) == 6.9  # the unrecorded call, as the older section measured
    assert speaking.read(NEW_COST) == 11.7
    by_name = {f.name: f for f in FIGURES}
    assert by_name["largest N, all on 2 cores"].read(NEW_COST) == 15
    assert by_name["10 calls: worker per call"].read(NEW_COST) == 8
    assert by_name["largest N, all on 2 cores"].read(OLD_COST) is None


def test_the_token_figures_read_the_token_section() -> None:
    doc = {
        "token": {
            "ours_free_practice": {"requests_per_s": 17000.0, "p99_ms": 3.6},
            "ours_assignment": {"requests_per_s": 3200.0, "p99_ms": 12.1},
        }
    }
    read = {f"{f.name.strip()} {f.unit}": f.read(doc) for f in FIGURES if "token" in f.name}
    assert read == {"token, free practice req/s": 17000.0, "token, assignment req/s": 3200.0}
    p99s = [f.read(doc) for f in FIGURES if f.name.strip() == "p99"]
    assert p99s == [3.6, 12.1]


def test_the_transcript_insert_figures_read_the_bulk_section() -> None:
    doc = {
        "bulk": {
            "first_ms_median": 26.0,
            "resend_ms_median": 9.5,
            "call_batch_ms_median": 2.1,
            "call_batch_resend_ms_median": 1.9,
        }
    }
    bulk = [f for f in FIGURES if f.name.startswith("transcript") or "batch again" in f.name]
    assert [f.read(doc) for f in bulk] == [26.0, 9.5, 2.1, 1.9]
    assert [f.read({"bulk": {"first_ms_median": 26.0}}) for f in bulk] == [26.0, None, None, None]

"""`python -m bench compare REF [section ...]` (`make bench-compare REF=...`): the call sections for
a git ref and for this working tree, side by side in one sitting.

REF is built as a tree of its own (ref_tree.py). Each side runs its own `python -m bench` with its
own packages, stub, devstack and bench, so the comparison is of the two commits as a whole. The
runs are interleaved REF, work, work, REF (`--rounds 2` repeats that), so a drift of the
machine during the sitting lands on both sides alike; it does not cancel a neighbour's test
suite, which is why each run starts only once the machine is quiet (QUIET_BUSY_PCT over
QUIET_SAMPLE_S, waited for up to `--quiet-wait` seconds) and the table says how busy it was.

Each figure (figures.py) is printed for both sides with every run, the ratio and the spread; the
exit status is 1 when any figure of the working tree is worse than REF's beyond the spread, 2 when
a run failed (a section that fails prints no figure, so there is nothing to compare).
"""

import argparse
import contextlib
import ctypes
import math
import os
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import psutil

from .figures import FIGURES, Judged, judge
from .peer import PEER_SOURCE
from .ref_tree import ROOT, RefTreeError, build, resolve

DEFAULT_SECTIONS = ("cost", "concurrency")
QUIET_BUSY_PCT = 10.0
"""The machine counts as quiet below this share of all its cores busy (what a 1-minute load of
about 0.2 on two cores is), measured over QUIET_SAMPLE_S while no run of ours is going."""
QUIET_SAMPLE_S = 5.0
OUT_DIR = ROOT / ".bench"


@dataclass(frozen=True)
class Side:
    label: str
    tree: Path


@dataclass
class Run:
    side: str
    doc: dict[str, Any]
    busy_before_pct: float
    load_before: float
    seconds: float
    others_pct: float
    """The machine's busy share during the run that was not the run's own processes."""


class RunFailed(RuntimeError):
    pass


def _machine_busy(seconds: float) -> float:
    return float(psutil.cpu_percent(interval=seconds))


def wait_until_quiet(max_wait_s: float) -> float:
    """The machine's busy share once it is quiet, or after `max_wait_s` whatever it is."""
    deadline = time.monotonic() + max_wait_s
    while True:
        busy = _machine_busy(QUIET_SAMPLE_S)
        if busy < QUIET_BUSY_PCT or time.monotonic() >= deadline:
            return busy
        print(f"compare: machine {busy:.0f}% busy, waiting for quiet …", file=sys.stderr)


def _adopt_orphans() -> None:
    """Become the subreaper of our runs: a process a run daemonizes (Postgres, which pg_ctl
    starts) is then our child when its parent is gone, and its CPU time reaches our rusage once
    `_reap_orphans` collects it, instead of counting as someone else's work."""
    pr_set_child_subreaper = 36
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(pr_set_child_subreaper, 1, 0, 0, 0) != 0:
        print("compare: not a subreaper; daemons of a run count as others", file=sys.stderr)


def _reap_orphans() -> None:
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass


def _others_pct(machine_before: Any, own_before: resource.struct_rusage) -> float:
    """The machine's busy share since `machine_before` less what this process's children (the
    run, which waits for each of its own processes) used since `own_before`."""
    after, own = psutil.cpu_times(), resource.getrusage(resource.RUSAGE_CHILDREN)
    busy = sum(after) - sum(machine_before) - (after.idle - machine_before.idle)
    total = sum(after) - sum(machine_before)
    run_s = (own.ru_utime - own_before.ru_utime) + (own.ru_stime - own_before.ru_stime)
    return max(0.0, 100 * (busy - run_s) / total) if total > 0 else 0.0


def run_side(side: Side, sections: list[str], quiet_wait_s: float) -> Run:
    """One `python -m bench SECTIONS` of a side, and the JSON it wrote."""
    busy = wait_until_quiet(quiet_wait_s)
    load = os.getloadavg()[0]
    print(
        f"compare: {side.label} ({', '.join(sections)}), machine {busy:.0f}% busy, load {load:.2f}",
        file=sys.stderr,
        flush=True,
    )
    latest = side.tree / ".bench" / "latest.json"
    with contextlib.suppress(FileNotFoundError):
        latest.unlink()
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    # A ref's tree sits under .bench/refs/, where ../shared is not: both sides use this tree's peer.
    env.setdefault("BENCH_PEER_SOURCE", str(PEER_SOURCE))
    started, machine_before = time.monotonic(), psutil.cpu_times()
    own_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = subprocess.run(
        [str(side.tree / ".venv" / "bin" / "python"), "-m", "bench", *sections],
        cwd=side.tree,
        env=env,
        check=False,
    )
    _reap_orphans()
    seconds, others_pct = time.monotonic() - started, _others_pct(machine_before, own_before)
    if result.returncode != 0 or not latest.exists():
        raise RunFailed(f"{side.label}: `python -m bench` exited {result.returncode}")
    doc: dict[str, Any] = msgspec.json.decode(latest.read_bytes())
    if doc.get("failed"):
        raise RunFailed(f"{side.label}: sections failed: {doc['failed']}")
    return Run(side.label, doc, busy, load, seconds, others_pct)


def _runs_text(values: list[float]) -> str:
    return ", ".join(f"{v:.1f}" for v in values) or "-"


def render(judged: list[Judged], ref_label: str, work_header: str) -> str:
    header = ("figure", f"REF {ref_label}", work_header, "ratio", "spread", "verdict")
    rows = [
        (
            f"{j.figure.name} ({j.figure.unit})",
            _runs_text(j.ref),
            _runs_text(j.work),
            f"{j.ratio:.2f}x" if math.isfinite(j.ratio) else "-",
            f"{j.spread:.2f}" if math.isfinite(j.spread) else "-",
            j.verdict,
        )
        for j in judged
        if j.ref or j.work
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: tuple[str, ...]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


def _order(rounds: int) -> list[str]:
    return ["ref", "work", "work", "ref"] * rounds


def _write(ref: str, commit: str, runs: list[Run], judged: list[Judged]) -> Path:
    OUT_DIR.mkdir(exist_ok=True)
    path = OUT_DIR / f"compare-{time.strftime('%Y%m%d-%H%M%S')}.json"
    record = {
        "ref": ref,
        "commit": commit,
        "runs": [
            {"side": r.side, "busy_before_pct": r.busy_before_pct, "load_before": r.load_before,
             "seconds": r.seconds, "others_pct": r.others_pct, "results": r.doc}
            for r in runs
        ],
        "figures": [
            {"name": j.figure.name, "unit": j.figure.unit, "ref": j.ref, "work": j.work,
             "ratio": j.ratio, "spread": j.spread, "verdict": j.verdict}
            for j in judged
        ],
    }  # fmt: skip
    path.write_bytes(msgspec.json.format(msgspec.json.encode(record), indent=2))
    return path


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench compare")
    parser.add_argument("ref", help="a git ref: a commit, branch or tag")
    parser.add_argument("sections", nargs="*", default=list(DEFAULT_SECTIONS))
    parser.add_argument("--rounds", type=int, default=1, help="REF, work, work, REF; repeated")
    parser.add_argument("--quiet-wait", type=float, default=300.0, metavar="SECONDS")
    parser.add_argument(
        "--work",
        metavar="REF2",
        help="run REF2's tree as the working side: two past commits side by side",
    )
    args = parser.parse_args(argv)
    _adopt_orphans()
    try:
        commit = resolve(args.ref)
        print(f"compare: building {args.ref} ({commit[:12]}) …", file=sys.stderr, flush=True)
        work = Side("work", ROOT) if args.work is None else Side(args.work, build(args.work))
        sides = {"ref": Side(f"REF {args.ref}", build(args.ref)), "work": work}
        runs = [run_side(sides[s], args.sections, args.quiet_wait) for s in _order(args.rounds)]
    except (RefTreeError, RunFailed) as exc:
        print(f"compare: FAILED, no figures: {exc}", file=sys.stderr)
        return 2
    by_side = {s: [r.doc for r in runs if r.side == sides[s].label] for s in sides}
    judged = [
        judge(f, [f.read(d) for d in by_side["ref"]], [f.read(d) for d in by_side["work"]])
        for f in FIGURES
    ]
    print(render(judged, f"{args.ref} ({commit[:7]})", args.work or "working tree"))
    before = max(r.busy_before_pct for r in runs)
    during = max(r.others_pct for r in runs)
    print(f"\nruns: {', '.join(r.side for r in runs)} ({statistics.fmean(r.seconds for r in runs):.0f} s "
          f"a run); the machine was at most {before:.0f}% busy before a run, and other processes "
          f"than the run's at most {during:.0f}% during one")  # fmt: skip
    if max(before, during) >= QUIET_BUSY_PCT:
        print("NOT QUIET: other work ran beside the runs; these figures are not to be reported")
    print(f"JSON: {_write(args.ref, commit, runs, judged)}")
    worse = [j.figure.name.strip() for j in judged if j.verdict == "worse"]
    if worse:
        print(f"WORSE than {args.ref} beyond the spread: {', '.join(worse)}")
        return 1
    return 0

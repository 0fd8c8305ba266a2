"""`python -m bench [section ...]`: runs the benchmarks, prints a table, writes .bench/*.json.

Sections: token, servers, mint, calls (join-to-ready, hang-up-to-stored, hang-up-to-evaluation),
concurrency (one worker, everything on both cores), dedicated (the worker alone on one core), cost
(CPU of a running call, listening and speaking), bulk.
Without arguments, all of them.

A section that raises (a request answered non-2xx, a call that failed where none may) prints no
figure: its row says FAILED and why, the other sections still run, and the exit status is 1.

`python -m bench compare REF [section ...]` runs the call sections for REF and for this working
tree side by side (compare.py).
"""

import argparse
import os
import platform
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import msgspec

from . import (
    asgi_servers,
    call_cost,
    calls,
    concurrency,
    minting,
    report,
    token_endpoint,
    transcript_insert,
)
from .report import Machine, Section, table

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = ROOT / ".bench"

SECTIONS: dict[str, Section[Any]] = {
    "token": Section(token_endpoint.run, report.token_rows),
    "servers": Section(asgi_servers.run, report.servers_rows),
    "mint": Section(minting.run, report.mint_rows),
    "calls": Section(calls.run, report.latency_rows),
    "concurrency": Section(concurrency.run_shared, report.concurrency_rows),
    "dedicated": Section(concurrency.run_dedicated, report.concurrency_rows),
    "cost": Section(call_cost.run, report.cost_rows),
    "bulk": Section(transcript_insert.run, report.bulk_rows),
}
"""In the order they run and are reported."""


def machine() -> Machine:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return Machine(
        cpu=cpu,
        cores=os.cpu_count(),
        python=platform.python_version(),
        platform=platform.platform(),
    )


def _write(results: dict[str, object]) -> Path:
    """The results as JSON, stamped and as latest.json."""
    OUT_DIR.mkdir(exist_ok=True)
    path = OUT_DIR / f"results-{time.strftime('%Y%m%d-%H%M%S')}.json"
    text = msgspec.json.format(msgspec.json.encode(results), indent=2)
    path.write_bytes(text)
    (OUT_DIR / "latest.json").write_bytes(text)
    return path


def _run_sections(chosen: list[str]) -> tuple[dict[str, Any], dict[str, str]]:
    """Each section's result, and the error of each section that raised."""
    results: dict[str, Any] = {}
    failed: dict[str, str] = {}
    for name in chosen:
        print(f"bench: {name} …", file=sys.stderr, flush=True)
        started = time.perf_counter()
        try:
            results[name] = SECTIONS[name].run()
        except Exception as exc:
            failed[name] = f"{type(exc).__name__}: {exc}"
            traceback.print_exc()
            print(f"bench: {name} FAILED: {failed[name]}", file=sys.stderr)
            continue
        print(f"bench: {name} done in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return results, failed


def main() -> int:
    if sys.argv[1:2] == ["compare"]:
        from . import compare  # noqa: PLC0415 - its own command line

        return compare.main(sys.argv[2:])
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("sections", nargs="*", metavar="section", help=", ".join(SECTIONS))
    args = parser.parse_args()
    unknown = set(args.sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections {sorted(unknown)}; choose from {', '.join(SECTIONS)}")
    chosen = [name for name in SECTIONS if not args.sections or name in args.sections]
    on = machine()
    started_at, load_before = time.time(), os.getloadavg()[0]
    results, failed = _run_sections(chosen)
    path = _write(
        {
            "machine": on,
            "started_at": started_at,
            "load_1min_before": load_before,
            "failed": failed,
            **results,
        }
    )
    print(table(on, ((SECTIONS[name], result) for name, result in results.items()), failed))
    print(f"\nJSON: {path}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

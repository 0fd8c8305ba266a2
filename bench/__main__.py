"""`python -m bench [section ...]`: runs the benchmarks, prints a table, writes .bench/*.json.

Sections: token, servers, mint, calls (join-to-ready, hang-up-to-stored, hang-up-to-evaluation),
concurrency (one worker, everything on both cores), dedicated (the worker alone on one core), cost
(CPU of a running call, listening and speaking), bulk.
Without arguments, all of them.
"""

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import asgi_servers, call_cost, calls, minting, token_endpoint, transcript_insert
from .report import table

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = ROOT / ".bench"


def _token() -> dict[str, Any]:
    return token_endpoint.run()


def _servers() -> dict[str, Any]:
    return asgi_servers.run()


def _mint() -> dict[str, Any]:
    return dict(minting.run())


def _bulk() -> dict[str, Any]:
    return transcript_insert.run()


def _calls() -> dict[str, Any]:
    return calls.run_latency()


def _concurrency() -> dict[str, Any]:
    return calls.run_concurrency()


def _dedicated() -> dict[str, Any]:
    return calls.run_dedicated()


def _cost() -> dict[str, Any]:
    return call_cost.run()


SECTIONS: dict[str, Callable[[], dict[str, Any]]] = {
    "token": _token,
    "servers": _servers,
    "mint": _mint,
    "calls": _calls,
    "concurrency": _concurrency,
    "dedicated": _dedicated,
    "cost": _cost,
    "bulk": _bulk,
}


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("sections", nargs="*", metavar="section", help=", ".join(SECTIONS))
    args = parser.parse_args()
    unknown = set(args.sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections {sorted(unknown)}; choose from {', '.join(SECTIONS)}")
    results: dict[str, Any] = {"machine": machine(), "started_at": time.time()}
    for name in args.sections or list(SECTIONS):
        print(f"bench: {name} …", file=sys.stderr, flush=True)
        started = time.perf_counter()
        results[name] = SECTIONS[name]()
        print(f"bench: {name} done in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    OUT_DIR.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    text = json.dumps(results, indent=2)
    (OUT_DIR / f"results-{stamp}.json").write_text(text)
    (OUT_DIR / "latest.json").write_text(text)
    print(table(results))
    print(f"\nJSON: {OUT_DIR / f'results-{stamp}.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`python -m devstack.badnet [--loss P] [--delay-ms D] [--jitter-ms J] [--seed N] -- COMMAND...`

Runs COMMAND in a network namespace of its own whose every packet to and from this namespace
crosses a wire that loses and delays it (see the package docstring). Prints one JSON line when the
wire is up and one with its counts when COMMAND has exited, and exits with COMMAND's code. Root.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys

from .impairment import Impairment
from .namespace import run_wired


def _emit(event: str, **fields: object) -> None:
    print(json.dumps({"event": event, **fields}), flush=True)


async def _main(args: argparse.Namespace) -> int:
    # The wire stands for a network and the command for another machine: neither should wait
    # for a CPU that the stack's processes keep busy. Niceness is inherited by the command.
    with contextlib.suppress(PermissionError):
        os.nice(-10)
    impairment = Impairment(
        loss=args.loss, delay_ms=args.delay_ms, jitter_ms=args.jitter_ms, in_order=args.in_order
    )
    _emit("wire", impairment=impairment.describe(), seed=args.seed)
    code, wire, link = await run_wired(args.command, impairment, args.seed)
    _emit("wire_closed", exitCode=code, inside=link.inside_ip, **wire.summary())
    return code


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m devstack.badnet", description=__doc__)
    parser.add_argument("--loss", type=float, default=0.0, help="packet loss, 0..1 (each way)")
    parser.add_argument("--delay-ms", type=float, default=0.0, help="one-way delay")
    parser.add_argument("--jitter-ms", type=float, default=0.0, help="± uniform spread")
    parser.add_argument("--in-order", action="store_true", help="no packet overtakes another")
    parser.add_argument("--seed", type=int, default=1, help="seed of the loss and delay draws")
    parser.add_argument("command", nargs="+", help="the command, after --")
    args = parser.parse_args()
    try:
        sys.exit(asyncio.run(_main(args)))
    except (OSError, RuntimeError, ValueError) as exc:
        sys.exit(f"devstack.badnet: {exc}")


main()

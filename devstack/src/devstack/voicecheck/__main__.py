"""`python -m devstack.netns python -m devstack.voicecheck [--loss P] [--delay-ms D] [--jitter-ms J]
[--calls N]`: a stack of its own, then N calls behind the wire, each reply scored; prints a line
per call and the mean MOS-LQO. Root (namespaces, TUN devices)."""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
from pathlib import Path

from ..badnet import Impairment
from ..harness import TRAINEE_LINES, stub_script
from ..stack import Stack
from .call import CallError, scored_call

_TURNS = 2


async def _calls(stack: Stack, args: argparse.Namespace, impairment: Impairment) -> list[float]:
    user_id = stack.demo["users"][0]["userId"]
    scores: list[float] = []
    for number in range(args.calls):
        call = await scored_call(
            token_service_url=stack.token_service_url,
            stub_state=stack.stub_state,
            user_id=user_id,
            lines=TRAINEE_LINES[:_TURNS],
            impairment=impairment,
            seed=number + 1,
            workdir=stack.log_dir / f"call-{number}",
        )
        mos = [round(r.mos, 2) for r in call.replies]
        print(f"call {number}: MOS {mos}; {call.receiver.line()}", flush=True)
        scores += [r.mos for r in call.replies]
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m devstack.voicecheck", description=__doc__)
    parser.add_argument("--loss", type=float, default=0.0)
    parser.add_argument("--delay-ms", type=float, default=0.0)
    parser.add_argument("--jitter-ms", type=float, default=0.0)
    parser.add_argument("--calls", type=int, default=3)
    parser.add_argument("--reply-ms", type=int, default=4000, help="length of each reply")
    parser.add_argument("--log-dir", type=Path, help="where the stack's logs and recordings go")
    args = parser.parse_args()
    impairment = Impairment(loss=args.loss, delay_ms=args.delay_ms, jitter_ms=args.jitter_ms)
    script = stub_script(_TURNS, reply_ms=args.reply_ms)
    with Stack(stub_script=script, log_dir=args.log_dir) as stack:
        print(f"{impairment.describe()}; logs and recordings in {stack.log_dir}", flush=True)
        try:
            scores = asyncio.run(_calls(stack, args, impairment))
        except CallError as exc:
            sys.exit(f"call failed: {exc}")
    print(f"mean MOS-LQO {statistics.fmean(scores):.2f} over {len(scores)} replies")


main()

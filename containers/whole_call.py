"""One whole call against a running stack, as a trainee and the frontend make it.

`python containers/whole_call.py --token-service URL --user-id UUID` (a user the database holds) runs the trainee client
(`python -m devstack.trainee`) through a call, then asks the token service, as the frontend does,
for the stored session and its evaluation. Checked: the agent published `session.id`, the trainee
heard the caller reply, the transcript (both roles) was stored with the attempt completed, and
the evaluation answered 200. Exit status 1 with the reason on any miss.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from typing import Any

from devstack.harness import TRAINEE_LINES, FrontendApi
from training_contracts import ATTR_SESSION_ID, Evaluation, Role, SessionView

LINE = TRAINEE_LINES[0]
TRAINEE_TIMEOUT_S = 120.0
STORED_TIMEOUT_S = 30.0


JOIN_RETRY_PAUSE_S = 3.0


class CallFailed(Exception):
    pass


class JoinRefused(CallFailed):
    """The trainee never joined: livekit-server refused the connection."""


def run_trainee(token_service: str, user_id: str) -> str:
    """The trainee's call; returns the session id the agent published."""
    argv = [sys.executable, "-m", "devstack.trainee", "--token-service", token_service]
    argv += ["--user-id", user_id, "--say", LINE, "--reply-timeout", "30", "--leave"]
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=TRAINEE_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise CallFailed(
            f"trainee still running after {TRAINEE_TIMEOUT_S} s: {exc.stdout!r}"
        ) from exc
    events: list[dict[str, Any]] = [
        json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")
    ]
    for event in events:
        print(f"  trainee: {json.dumps(event)}")
    names = [event["event"] for event in events]
    if done.returncode != 0:
        failed = JoinRefused if "joined" not in names else CallFailed
        raise failed(f"trainee exited {done.returncode}: {done.stderr[-2000:]}")
    attribute = next((e for e in events if e["event"] == "attribute"), None)
    if attribute is None or attribute["key"] != ATTR_SESSION_ID:
        raise CallFailed(f"the agent published no {ATTR_SESSION_ID}: {attribute}")
    for expected in ("heard_reply", "left"):
        if expected not in names:
            raise CallFailed(f"trainee never reported {expected!r}: {names}")
    return str(attribute["value"])


async def stored_and_evaluated(
    token_service: str, user_id: str, session_id: str
) -> tuple[SessionView, Evaluation]:
    """The session once its attempt is completed, with both roles' turns, then the frontend's
    evaluation loop (409 transcript pending is asked again, a bounded number of times)."""
    frontend = FrontendApi(token_service)
    session, _ = await frontend.wait_for_transcript(
        user_id, session_id, timeout=STORED_TIMEOUT_S, poll=0.5
    )
    roles = {turn.role for turn in session.turns if turn.attempt_number == session.attempt}
    if roles != {Role.USER, Role.ASSISTANT}:
        raise CallFailed(f"the stored transcript lacks a role: {session}")
    evaluation, _, _ = await frontend.evaluation_with_retry(user_id, session_id)
    return session, evaluation


def call(token_service: str, user_id: str, join_attempts: int) -> str:
    """run_trainee, again after a refused join while attempts remain (see --join-attempts)."""
    for attempt in range(1, join_attempts + 1):
        try:
            return run_trainee(token_service, user_id)
        except JoinRefused as exc:
            if attempt == join_attempts:
                raise
            print(f"  join refused (attempt {attempt} of {join_attempts}), again: {exc}")
            time.sleep(JOIN_RETRY_PAUSE_S)
    raise AssertionError("unreachable")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--token-service", required=True, help="its base URL, e.g. http://127.0.0.1:8000"
    )
    parser.add_argument("--user-id", required=True, help="a user in its database (seed-demo's)")
    parser.add_argument(
        "--join-attempts",
        type=int,
        default=1,
        help="calls to try while livekit-server refuses the join (LiveKit's multi-node selector "
        "refuses every join while no node's load report is under 5 s old, which a starved "
        "machine delays)",
    )
    args = parser.parse_args()
    user_id = args.user_id
    try:
        session_id = call(args.token_service, user_id, args.join_attempts)
        print(f"  session.id {session_id} published, the caller heard")
        session, result = asyncio.run(stored_and_evaluated(args.token_service, user_id, session_id))
        print(f"  transcript stored: {len(session.turns)} turns, status {session.status}")
        print(f"  evaluation 200: score {result.overall_score}, model {result.model}")
    except (CallFailed, AssertionError) as exc:
        print(f"whole call FAILED: {exc}", file=sys.stderr)
        return 1
    print("whole call: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())

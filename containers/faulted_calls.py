"""Calls broken for real on compose.yaml's running stack: containers killed, restarted, replaced.

`python containers/faulted_calls.py --token-service URL --stub URL --user-id UUID -- COMPOSE...`
(COMPOSE: the command line that runs the stack's project, e.g. `docker-compose --project-name P
--env-file offline.env`; `podman` does the kill and finds the spool volume). Three calls, each
broken once mid-call, each checked as the fault suite checks (devstack.heard): the turns stored
for the call's attempt are what the model (the stub) heard and said, in order, each once.

1. The token service container stopped, then the agent container SIGKILLed (`podman kill`) with
   the turns in its spool volume, claimed by it (PID 1, as its successor will be); both
   restarted, they arrive once and the spool empties.
2. The Postgres container restarted mid-call.
3. The token service container recreated mid-call, as a deploy does (`up --force-recreate`).

Exit status 1 with the reason on any miss.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
import msgspec

from devstack.harness import TRAINEE_LINES, exchange, stub_script, turns_of
from devstack.heard import Heard, StoredTurn, heard_and_said, unlike_heard
from devstack.trainee import Trainee
from devstack.waits import until
from training_contracts import SESSION_PATH, USER_ID_HEADER, SessionView, fill

SAID = TRAINEE_LINES[:2]
STUB_SCRIPT = stub_script(len(SAID))
TURNS = 2 * len(SAID)
JOIN_TIMEOUT_S = 60.0
REPLY_TIMEOUT_S = 30.0
SPOOLED_TIMEOUT_S = 30.0
STORED_TIMEOUT_S = 90.0
"""Covers a worker container's restart and registration before its spool is sent."""
HTTP_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Stack:
    token_service: str
    stub: str
    compose: Sequence[str]

    def run(self, *args: str) -> str:
        argv = [*self.compose, *args]
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise AssertionError(f"{' '.join(argv)}: exit {done.returncode}: {done.stderr[-1500:]}")
        return done.stdout

    def container(self, service: str) -> str:
        return self.run("ps", "--quiet", service).strip()

    def spool_dir(self) -> Path:
        """The agent's spool volume, as this host sees it."""
        volume = json.loads(self.run("config", "--format", "json"))["volumes"]["agent-spool"]
        return Path(_podman("volume", "inspect", "--format", "{{.Mountpoint}}", volume["name"]))

    async def get(self, url: str, **kwargs: str) -> httpx.Response:
        async with httpx.AsyncClient(timeout=HTTP_TIMEOUT_S, trust_env=False) as client:
            response = await client.get(url, headers=kwargs)
        response.raise_for_status()
        return response

    async def heard(self, connection_id: str) -> list[Heard]:
        state = (await self.get(f"{self.stub}/_stub/state")).json()
        [connection] = [c for c in state["connections"] if c["id"] == connection_id]
        return heard_and_said(connection)

    async def session(self, user_id: str, session_id: str) -> SessionView:
        url = self.token_service + fill(SESSION_PATH, session_id=session_id)
        response = await self.get(url, **{USER_ID_HEADER: user_id})
        return msgspec.json.decode(response.content, type=SessionView)


def _podman(*args: str) -> str:
    done = subprocess.run(["podman", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise AssertionError(f"podman {' '.join(args)}: exit {done.returncode}: {done.stderr}")
    return done.stdout.strip()


@dataclass(frozen=True)
class Call:
    trainee: Trainee
    user_id: str
    session_id: str
    attempt: int
    connection_id: str


async def begin(stack: Stack, user_id: str) -> Call:
    """Join as the frontend does; the caller listens, on a Realtime connection of its own."""
    since = time.time()
    trainee = await Trainee.join(stack.token_service, user_id)
    try:
        session_id = await trainee.wait_for_session_id(JOIN_TIMEOUT_S)
        await trainee.wait_until_listening(JOIN_TIMEOUT_S)

        async def connection() -> str | None:
            state = (await stack.get(f"{stack.stub}/_stub/state")).json()
            fresh = [c for c in state["connections"] if c["connected_at"] >= since]
            return str(fresh[0]["id"]) if len(fresh) == 1 and fresh[0]["instructions"] else None

        connection_id = await until("the caller's Realtime connection", connection, 10.0)
        attempt = (await stack.session(user_id, session_id)).attempt
    except BaseException:
        await trainee.leave()
        raise
    return Call(trainee, user_id, session_id, attempt, connection_id)


async def stored_as_heard(stack: Stack, call: Call, *, completed: bool) -> SessionView:
    """Until the attempt's stored turns are what the model heard and said (and the attempt is
    completed, when `completed`); AssertionError with the difference after STORED_TIMEOUT_S."""
    heard = await stack.heard(call.connection_id)
    if len(heard) != TURNS:
        raise AssertionError(f"the model heard and said {len(heard)} turns, not {TURNS}: {heard}")
    problem = "nothing read yet"

    async def matches() -> SessionView | None:
        nonlocal problem
        try:
            session = await stack.session(call.user_id, call.session_id)
        except httpx.HTTPError as exc:  # a token service still starting, as after a deploy
            problem = f"token service: {type(exc).__name__}: {exc}"
            return None
        turns = turns_of(session, call.attempt)
        stored = [StoredTurn(str(t.role), t.content, t.turn_order) for t in turns]
        problem = unlike_heard(stored, heard) or ""
        if not problem and completed and session.status != "completed":
            problem = f"attempt {call.attempt} still {session.status}"
        return None if problem else session

    return await until(
        "transcript as heard", matches, STORED_TIMEOUT_S, poll=0.5, context=lambda: problem
    )


async def faulted(stack: Stack, user_id: str, fault: Callable[[Call], Awaitable[None]]) -> Call:
    """One call: the first line and its answer, then `fault` (which says the second line where
    it fits), then the hang-up."""
    started = time.monotonic()
    call = await begin(stack, user_id)
    try:
        await exchange(call.trainee, [SAID[0]], timeout=REPLY_TIMEOUT_S)
        await fault(call)
    finally:
        await call.trainee.leave()
    print(f"  hung up after {time.monotonic() - started:.0f} s", flush=True)
    return call


async def agent_killed_while_token_service_down(stack: Stack, call: Call) -> None:
    stack.run("stop", "--timeout", "5", "token-service")
    await exchange(call.trainee, [SAID[1]], timeout=REPLY_TIMEOUT_S)
    spool = stack.spool_dir()

    async def spooled() -> int | None:
        for path in spool.glob(f"{call.session_id}_{call.attempt}.json*"):
            turns = len(json.loads(path.read_bytes())["turns"])
            return turns if turns == TURNS else None
        return None

    await until("the call's turns in the agent's spool volume", spooled, SPOOLED_TIMEOUT_S)
    _podman("kill", "--signal", "KILL", stack.container("agent-service"))
    # What a worker killed while sending the file leaves: its claim, under PID 1 like every
    # container's worker (agent_service.spool_folder). Its successor is PID 1 too, and must take
    # the claim over rather than take it for its own.
    for path in spool.glob(f"{call.session_id}_{call.attempt}.json"):
        path.rename(path.with_name(f"{path.name}.claimed-1-{secrets.token_hex(6)}"))
    print(
        "  token service stopped; agent container SIGKILLed holding the spooled turns", flush=True
    )


def mid_call(stack: Stack, *command: str) -> Callable[[Call], Awaitable[None]]:
    """A fault: `command` on the project, then the second line, heard to its end: the hang-up
    waits until the model sent the whole answer and the caller went back to listening (on a
    starved machine a gap in the answer's audio can look like its end)."""

    async def fault(call: Call) -> None:
        stack.run(*command)
        await exchange(call.trainee, [SAID[1]], timeout=REPLY_TIMEOUT_S)

        async def answered() -> bool | None:
            heard = await stack.heard(call.connection_id)
            return (len(heard) == TURNS and all(h.completed_at for h in heard)) or None

        await until("the caller's whole answer", answered, REPLY_TIMEOUT_S)
        await call.trainee.wait_until_listening(REPLY_TIMEOUT_S)

    return fault


async def run(stack: Stack, user_ids: Sequence[str]) -> None:
    async with httpx.AsyncClient(timeout=HTTP_TIMEOUT_S, trust_env=False) as client:
        (await client.post(f"{stack.stub}/_stub/script", json=STUB_SCRIPT)).raise_for_status()
    first, second = user_ids[0], user_ids[-1]

    print("agent killed while the token service is down", flush=True)
    call = await faulted(
        stack, first, lambda call: agent_killed_while_token_service_down(stack, call)
    )
    stack.run("up", "--detach", "--wait", "--no-recreate", "token-service", "agent-service")
    await stored_as_heard(stack, call, completed=False)
    left = sorted(p.name for p in stack.spool_dir().iterdir() if p.name != "dead")
    if left:
        raise AssertionError(f"the spool still holds {left} after redelivery")
    print("  both started again: the transcript arrived once, the spool is empty", flush=True)

    print("postgres restarted mid-call", flush=True)
    call = await faulted(stack, second, mid_call(stack, "restart", "--timeout", "5", "postgres"))
    await stored_as_heard(stack, call, completed=True)
    print("  transcript stored once, as heard; attempt completed", flush=True)

    print("token service recreated mid-call (a deploy)", flush=True)
    deploy = ("up", "--detach", "--no-deps", "--force-recreate", "token-service")
    call = await faulted(stack, first, mid_call(stack, *deploy))
    await stored_as_heard(stack, call, completed=True)
    print("  transcript stored once, as heard; attempt completed", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--token-service", required=True, help="e.g. http://127.0.0.1:8000")
    parser.add_argument("--stub", required=True, help="the OpenAI stub, e.g. http://127.0.0.1:8090")
    parser.add_argument("--user-id", action="append", required=True, help="a seeded user (repeat)")
    parser.add_argument("compose", nargs="+", help="the compose command line of the project")
    args = parser.parse_args()
    stack = Stack(args.token_service.rstrip("/"), args.stub.rstrip("/"), args.compose)
    try:
        asyncio.run(run(stack, args.user_id))
    except AssertionError as exc:
        print(f"faulted calls FAILED: {exc}", file=sys.stderr)
        return 1
    print("faulted calls: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())

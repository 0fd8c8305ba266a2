"""The real stack for the browser suite, run by the suite (`node --test`) as a child process.

Starts devstack's Stack (Postgres, the OpenAI stub, livekit-server, the token service with short
room bounds, the agent worker) and the trainee page; renders the fake microphone's WAV; then
prints one line `READY {json}` (see `Ready`). Meanwhile two more workers register, one after the
other, each announced by `WORKER-READY <name>` (or `WORKER-FAILED <name> <why>`): one whose
internal API is unreachable (under its own agent name, as tests-e2e/test_agent_failure.py does),
then two standby callers. It runs until its standard input closes, and takes one command there:

    DROP-CALLER <room>   the worker holding the call in <room> is lost (SIGKILL), and its caller
                         is removed from the room at once; answered `DROPPED <room> <identities>`
                         or `FAILED <room> <why>`

The tokens in `Ready` are ones the token service would never mint (bad metadata, another agent
name, a room it does not follow): the suite hands them to the page in place of the token
service's answer to reach the agent's failures through the real page and the real agent.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import threading
import time
import wave
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from uuid import UUID

import msgspec
import numpy as np
from livekit import api

from devstack import harness
from devstack.ports import free_port
from devstack.runs import new_run_dir
from devstack.speech import SAMPLE_RATE, render_speech
from devstack.stack import Stack
from devstack.tokens import mint_token
from devstack.web import allow_page_origin, page_config, serve_page
from training_contracts import (
    AGENT_NAME,
    ROOM_NAME_PREFIX,
    AgentDispatchMetadata,
    TokenResponse,
    encode_dispatch,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = REPO_ROOT / ".data" / "browser"
KEEP_RUNS = 5

TURNS = 2
TRAINEE_LINES = harness.TRAINEE_LINES[:TURNS]
CALLER_LINES = harness.CALLER_LINES[:TURNS]
LEAD_IN_S = 1.0
"""Silence before the first line: the page has published its microphone by then."""
GAP_S = 4.0
"""Silence after each line: the caller's turn (the stub ends a user turn after 0.5 s of silence,
then speaks reply_ms)."""

UNREACHABLE_AGENT = f"{AGENT_NAME}-browser-unreachable-api"
ABSENT_AGENT = f"{AGENT_NAME}-browser-nobody"
"""No worker registers this name: a token dispatching it gets a room with no caller."""
UNWATCHED_ROOM_PREFIX = "browser-unwatched-"
"""Not the training rooms' prefix: the token service ignores the room's webhooks, as it would
every room if webhooks were not configured, so only the page's own bound ends a wait there."""
UNREACHABLE_WORKER = "agent-unreachable-api"
STANDBY_WORKER = "standby"
SECOND_STANDBY_WORKER = "standby-2"

CALLER_JOIN_BOUND_S = 3
REDISPATCH_TRIES = 4
REDISPATCH_BACKOFF_S = 1
REDISPATCH_BACKOFF_MAX_S = 2
ROOM_BOUNDS = {
    "CALLER_JOIN_BOUND_S": str(CALLER_JOIN_BOUND_S),
    "REDISPATCH_TRIES": str(REDISPATCH_TRIES),
    "REDISPATCH_BACKOFF_S": str(REDISPATCH_BACKOFF_S),
    "REDISPATCH_BACKOFF_MAX_S": str(REDISPATCH_BACKOFF_MAX_S),
}
"""The token service's bounds, short for test speed, yet long enough for a caller to join a
normal call before the last try runs out (a job on its way counts as a try)."""
REDIALING_AFTER_MS = CALLER_JOIN_BOUND_S * 1000
"""A trainee who joined a room no caller comes to is told `redialing` this long after (plus up
to one sweep)."""
UNAVAILABLE_AFTER_MS = 1000 * (
    CALLER_JOIN_BOUND_S
    + sum(
        min(REDISPATCH_BACKOFF_S * 2**k, REDISPATCH_BACKOFF_MAX_S) for k in range(REDISPATCH_TRIES)
    )
)
"""... and `unavailable` no sooner than this after joining: the bound, then a backoff after each
try."""


class Ready(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    web_url: str
    token_service_url: str
    demo_user_ids: list[str]
    demo_assignment_ids: list[str]
    trainee_lines: list[str]
    caller_lines: list[str]
    fake_mic_wav: str
    screenshot_dir: str
    log_dir: str
    redialing_after_ms: int
    unavailable_after_ms: int
    bad_metadata_token: TokenResponse
    session_create_fails_token: TokenResponse
    unwatched_room_token: TokenResponse


def fake_mic_wav(path: Path) -> Path:
    """The trainee's lines, spoken by espeak-ng, with the gaps a conversation has; Chromium loops
    the file as its fake microphone."""
    silence = np.zeros(int(SAMPLE_RATE * GAP_S), dtype=np.int16)
    parts = [np.zeros(int(SAMPLE_RATE * LEAD_IN_S), dtype=np.int16)]
    for line in TRAINEE_LINES:
        parts += [render_speech(line).samples, silence]
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(np.concatenate(parts).astype("<i2").tobytes())
    return path


def mint(
    stack: Stack,
    *,
    identity: str,
    agent_name: str,
    metadata: str,
    room_prefix: str = ROOM_NAME_PREFIX,
) -> TokenResponse:
    room_name, jwt = mint_token(
        (stack.livekit.api_key, stack.livekit.api_secret),
        identity=identity,
        agent_name=agent_name,
        metadata=metadata,
        ttl=timedelta(hours=1),
        room_prefix=room_prefix,
    )
    return TokenResponse(token=jwt, server_url=stack.livekit.url, room_name=room_name)


_say_lock = threading.Lock()


def say(line: str) -> None:
    """One line to the suite (stdout), whole, from whichever thread."""
    with _say_lock:
        print(line, flush=True)


def start_extra_workers(stack: Stack) -> None:
    """One after the other, so the machine is not starting two at once while the first tests run:
    a worker whose token service is a closed port (session creation fails), then two standby
    callers (workers of the real agent name: after each dropped line, the new caller's)."""
    closed_port = free_port()  # bound and released: nothing listens there
    extra_workers = {
        UNREACHABLE_WORKER: {
            "TOKEN_SERVICE_URL": f"http://127.0.0.1:{closed_port}",
            "LIVEKIT_AGENT_NAME_OVERRIDE": UNREACHABLE_AGENT,
            "NUM_IDLE_PROCESSES": "1",
        },
        STANDBY_WORKER: {"NUM_IDLE_PROCESSES": "1"},
        SECOND_STANDBY_WORKER: {"NUM_IDLE_PROCESSES": "1"},
    }
    for name, env in extra_workers.items():
        t0 = time.monotonic()
        try:
            stack.start_agent(name, env=env)
        except Exception as exc:
            # One line either way: the suite fails the test that needs the worker with the reason.
            say(f"WORKER-FAILED {name} {exc!r}")
            continue
        status(f"worker {name} registered in {time.monotonic() - t0:.1f} s")
        say(f"WORKER-READY {name}")


def drop_caller(stack: Stack, room: str) -> list[str]:
    """The worker holding the call in `room` is lost outright, and livekit-server lets its caller
    go at once instead of after its ICE timeouts (about 20 s; docs/calls.md, "When the caller is
    missing"): the trainee and the token service see what they would see then, sooner, and no
    final transcript comes. Returns the identities of the callers removed."""
    holders = [name for name, w in stack.workers.items() if room in w.process.log_text()]
    if len(holders) != 1:
        raise RuntimeError(f"workers naming {room}: {holders}")
    stack.kill_agent(holders[0])
    status(f"killed worker {holders[0]}, which held {room}")
    return asyncio.run(_remove_callers(stack, room))


async def _remove_callers(stack: Stack, room: str) -> list[str]:
    lk = stack.livekit
    async with api.LiveKitAPI(lk.url, lk.api_key, lk.api_secret) as lkapi:
        listed = await lkapi.room.list_participants(api.ListParticipantsRequest(room=room))
        callers = [
            p.identity for p in listed.participants if p.kind == api.ParticipantInfo.Kind.AGENT
        ]
        for identity in callers:
            await lkapi.room.remove_participant(
                api.RoomParticipantIdentity(room=room, identity=identity)
            )
    return callers


def serve_commands(stack: Stack) -> None:
    """The suite's commands, one a line, until standard input closes (the suite is done, or died)."""
    for line in sys.stdin:
        command, _, argument = line.strip().partition(" ")
        if command != "DROP-CALLER" or not argument:
            say(f"FAILED {argument or '-'} unknown command {line.strip()!r}")
            continue
        try:
            removed = drop_caller(stack, argument)
        except Exception as exc:
            say(f"FAILED {argument} {exc!r}")
        else:
            say(f"DROPPED {argument} {','.join(removed)}")


def status(message: str) -> None:
    print(f"harness: {message}", file=sys.stderr, flush=True)


def _exit_on_sigterm(_signum: int, _frame: object) -> None:
    raise SystemExit(1)  # unwinds through the stack's cleanup


def main() -> int:
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    run_dir = new_run_dir(DATA_DIR, KEEP_RUNS)
    (run_dir / "screenshots").mkdir()
    wav = fake_mic_wav(run_dir / "fake-mic.wav")
    web_port = free_port()
    allow_page_origin(web_port)
    with Stack(
        log_dir=run_dir / "logs",
        stub_script=harness.stub_script(TURNS),
        token_service_env=ROOM_BOUNDS,
        on_status=status,
    ) as stack:
        # The extra workers register while the first tests run: the suite waits for a worker's
        # WORKER-READY line only before the test that needs it.
        extra = ThreadPoolExecutor(max_workers=1, thread_name_prefix="extra-agent")
        extra.submit(start_extra_workers, stack)
        users = stack.demo["users"]
        first_user = users[0]["userId"]
        valid = encode_dispatch(AgentDispatchMetadata(user_id=UUID(first_user)))
        with serve_page(stack, port=web_port, config=page_config(stack)) as page:
            ready = Ready(
                web_url=page.url,
                token_service_url=stack.token_service_url,
                demo_user_ids=[u["userId"] for u in users],
                demo_assignment_ids=[u["assignmentId"] for u in users],
                trainee_lines=list(TRAINEE_LINES),
                caller_lines=list(CALLER_LINES),
                fake_mic_wav=str(wav),
                screenshot_dir=str(run_dir / "screenshots"),
                log_dir=str(run_dir / "logs"),
                redialing_after_ms=REDIALING_AFTER_MS,
                unavailable_after_ms=UNAVAILABLE_AFTER_MS,
                bad_metadata_token=mint(
                    stack, identity=first_user, agent_name=AGENT_NAME, metadata="not json"
                ),
                session_create_fails_token=mint(
                    stack, identity=first_user, agent_name=UNREACHABLE_AGENT, metadata=valid
                ),
                unwatched_room_token=mint(
                    stack,
                    identity=first_user,
                    agent_name=ABSENT_AGENT,
                    metadata=valid,
                    room_prefix=UNWATCHED_ROOM_PREFIX,
                ),
            )
            timings = ", ".join(f"{k} {v:.1f} s" for k, v in stack.timings.items())
            status(f"stack up ({timings})")
            say("READY " + msgspec.json.encode(ready).decode())
            serve_commands(stack)
            extra.shutdown()
            status("stopping")
    status("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The real stack for the browser suite, run by the suite (`node --test`) as a child process.

Starts devstack's Stack (Postgres, the OpenAI stub, livekit-server, the token service, the agent
worker), a second worker whose internal API is unreachable (registered under its own agent name,
as tests-e2e/test_agent_failure.py does), and the trainee page; renders the fake microphone's
WAV; then prints one line `READY {json}` (see `Ready`) and runs until its standard input closes.

The tokens in `Ready` are ones the token service would never mint (bad metadata, another agent
name): the suite hands them to the page in place of the token service's answer to reach the
agent's failures through the real page and the real agent.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import time
import wave
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from uuid import UUID

import msgspec
import numpy as np

from devstack.ports import free_port
from devstack.speech import SAMPLE_RATE, render_speech
from devstack.stack import Stack
from devstack.tokens import mint_token
from devstack.web import allow_page_origin, page_config, serve_page
from training_contracts import (
    AGENT_NAME,
    AgentDispatchMetadata,
    TokenResponse,
    encode_dispatch,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = REPO_ROOT / ".data" / "browser"
KEEP_RUNS = 5

TRAINEE_LINES = (
    "Hello, you've reached the support line. My name is Sam. What's going on tonight?",
    "That sounds really hard. Can you tell me more about it?",
)
CALLER_LINES = (
    "Hi. I don't really know why I called. Everything just feels like too much.",
    "I lost my job this morning and I haven't told anyone yet.",
)
STUB_SCRIPT = {
    "user_transcripts": list(TRAINEE_LINES),
    "replies": list(CALLER_LINES),
    "reply_ms": 1500,
}
LEAD_IN_S = 1.0
"""Silence before the first line: the page has published its microphone by then."""
GAP_S = 4.0
"""Silence after each line: the caller's turn (the stub ends a user turn after 0.5 s of silence,
then speaks reply_ms)."""

UNREACHABLE_AGENT = f"{AGENT_NAME}-browser-unreachable-api"
ABSENT_AGENT = f"{AGENT_NAME}-browser-nobody"
"""No worker registers this name: a token dispatching it gets a room with no caller."""


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
    bad_metadata_token: TokenResponse
    session_create_fails_token: TokenResponse
    no_caller_token: TokenResponse


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


def mint(stack: Stack, *, identity: str, agent_name: str, metadata: str) -> TokenResponse:
    room, jwt = mint_token(
        (stack.livekit.api_key, stack.livekit.api_secret),
        identity=identity,
        agent_name=agent_name,
        metadata=metadata,
        ttl=timedelta(hours=1),
    )
    return TokenResponse(token=jwt, server_url=stack.livekit.url, room_name=room)


def start_unreachable_agent(stack: Stack) -> None:
    """A second worker whose token service is a closed port: session creation fails."""
    t0 = time.monotonic()
    closed_port = free_port()  # bound and released: nothing listens there
    stack.start_agent(
        "agent-unreachable-api",
        env={
            "TOKEN_SERVICE_URL": f"http://127.0.0.1:{closed_port}",
            "LIVEKIT_AGENT_NAME_OVERRIDE": UNREACHABLE_AGENT,
            "NUM_IDLE_PROCESSES": "1",
        },
    )
    status(f"the unreachable-API worker registered in {time.monotonic() - t0:.1f} s")


def _prune(root: Path) -> None:
    runs = sorted(p for p in root.iterdir() if p.is_dir())
    for old in runs[:-KEEP_RUNS]:
        shutil.rmtree(old, ignore_errors=True)


def status(message: str) -> None:
    print(f"harness: {message}", file=sys.stderr, flush=True)


def _exit_on_sigterm(_signum: int, _frame: object) -> None:
    raise SystemExit(1)  # unwinds through the stack's cleanup


def main() -> int:
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    run_dir = DATA_DIR / f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
    (run_dir / "screenshots").mkdir(parents=True)
    _prune(DATA_DIR)
    wav = fake_mic_wav(run_dir / "fake-mic.wav")
    web_port = free_port()
    allow_page_origin(web_port)
    with Stack(log_dir=run_dir / "logs", stub_script=STUB_SCRIPT, on_status=status) as stack:
        # The failing worker registers while the first tests run: the suite waits for its
        # EXTRA-READY line only before the test that needs it.
        extra = ThreadPoolExecutor(max_workers=1, thread_name_prefix="extra-agent")
        extra_started = extra.submit(start_unreachable_agent, stack)
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
                bad_metadata_token=mint(
                    stack, identity=first_user, agent_name=AGENT_NAME, metadata="not json"
                ),
                session_create_fails_token=mint(
                    stack, identity=first_user, agent_name=UNREACHABLE_AGENT, metadata=valid
                ),
                no_caller_token=mint(
                    stack, identity=first_user, agent_name=ABSENT_AGENT, metadata=valid
                ),
            )
            timings = ", ".join(f"{k} {v:.1f} s" for k, v in stack.timings.items())
            status(f"stack up ({timings})")
            print("READY " + msgspec.json.encode(ready).decode(), flush=True)
            failed = extra_started.exception()
            extra.shutdown()
            # One line either way: the suite fails the test that needs the worker with the reason.
            print(f"EXTRA-FAILED {failed!r}" if failed else "EXTRA-READY", flush=True)
            sys.stdin.read()  # the suite closes it when done (or dies)
            status("stopping")
    status("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())

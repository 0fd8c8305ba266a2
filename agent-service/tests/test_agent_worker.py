"""The worker as it runs in production: `python -m agent_service start` against a real
livekit-server and a real token service."""

import asyncio
import json
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from agent_service.load import LOAD_THRESHOLD, WorkerLoad
from agent_service.spool import Spool, SpoolEntry
from devstack.livekit import livekit_server
from devstack.ports import free_port
from devstack.processes import managed_process
from devstack.token_service import TokenService
from devstack.waits import until
from training_contracts import (
    AGENT_NAME,
    INTERNAL_KEY_HEADER,
    USER_ID_HEADER,
    Role,
    TranscriptTurn,
)

REGISTER_TIMEOUT_S = 40.0


class _Server:
    def __init__(self, jobs: int) -> None:
        self.active_jobs = [object()] * jobs


def load(capacity: int, jobs: int, *, cpu: float = 0.0, cpu_stop: float | None = None) -> float:
    return WorkerLoad(capacity, cpu_stop, cpu_load=lambda _server: cpu)(_Server(jobs))  # type: ignore[arg-type]


def test_load_is_the_share_of_call_capacity_in_use() -> None:
    assert load(8, 0) == 0.0
    assert load(8, 2) == 0.25
    assert load(2, 5) == 1.0
    assert load(8, 2, cpu=0.99) == 0.25  # without CPU_STOP the CPU does not count


def test_with_cpu_stop_the_cpu_stops_the_worker_at_that_share() -> None:
    assert load(100, 2, cpu=0.3, cpu_stop=0.6) == 0.35
    assert load(100, 2, cpu=0.6, cpu_stop=0.6) == LOAD_THRESHOLD  # livekit-server sends no more
    assert load(100, 2, cpu=0.9, cpu_stop=0.6) == 1.0
    assert load(4, 3, cpu=0.1, cpu_stop=0.6) == 0.75  # the count still binds first when lower


def test_the_cpu_measure_is_livekits_own() -> None:
    from livekit.agents.worker import _DefaultLoadCalc

    from agent_service.load import livekit_cpu_load

    assert 0.0 <= livekit_cpu_load(_Server(0)) <= 1.0  # type: ignore[arg-type]
    assert _DefaultLoadCalc._instance is not None  # the calculator livekit-agents' default uses


def spooled_transcript(token_service: TokenService, spool: Spool) -> tuple[str, uuid.UUID]:
    """A session whose final transcript an earlier run of the worker could not deliver."""
    user_id = token_service.demo["users"][1]["userId"]
    created = httpx.post(
        f"{token_service.url}/api/internal/sessions",
        headers={INTERNAL_KEY_HEADER: token_service.internal_key},
        json={"type": "free_practice", "userId": user_id},
    ).json()
    session_id = uuid.UUID(created["sessionId"])
    spool.write(
        SpoolEntry(
            session_id=session_id,
            attempt=created["attempt"],
            turns=[
                TranscriptTurn(
                    role=Role.USER, content="Hello, crisis line.", turn_order=1, attempt_number=1
                ),
                TranscriptTurn(
                    role=Role.ASSISTANT, content="Hi... um.", turn_order=2, attempt_number=1
                ),
            ],
            final=True,
            spooled_at=time.time(),
            reason="token service was down",
        )
    )
    return user_id, session_id


def test_start_registers_under_the_agent_name_and_redelivers_the_spool(
    token_service: TokenService, tmp_path: Path
) -> None:
    spool = Spool(tmp_path / "spool")
    user_id, session_id = spooled_transcript(token_service, spool)
    health_port = free_port()
    with livekit_server(log_dir=tmp_path) as livekit:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": os.environ.get("HOME", str(tmp_path)),
            "LIVEKIT_URL": livekit.url,
            "LIVEKIT_API_KEY": livekit.api_key,
            "LIVEKIT_API_SECRET": livekit.api_secret,
            "TOKEN_SERVICE_URL": token_service.url,
            "INTERNAL_SERVICE_KEY": token_service.internal_key,
            "OPENAI_API_KEY": "test",
            "OPENAI_BASE_URL": "http://127.0.0.1:9/v1",
            "SPOOL_DIR": str(spool.directory),
            "AGENT_HEALTH_PORT": str(health_port),
            "NUM_IDLE_PROCESSES": "0",
        }
        with managed_process(
            "agent",
            [sys.executable, "-m", "agent_service", "start"],
            log_path=tmp_path / "agent.log",
            env=env,
            cwd=tmp_path,
        ) as worker:
            worker.wait_for_line(r"registered worker", REGISTER_TIMEOUT_S)
            emptied = until(
                "empty spool", lambda: not spool.pending(), 10.0, context=worker.log_tail
            )
            asyncio.run(emptied)  # this test has no event loop of its own
            health = httpx.get(f"http://127.0.0.1:{health_port}/", timeout=5)
            assert (health.status_code, health.text) == (200, "OK")
            logs = worker.log_text()

    records = [json.loads(line) for line in logs.splitlines() if line.startswith("{")]
    [registered] = [r for r in records if r.get("message") == "registered worker"]
    assert registered["agent_name"] == AGENT_NAME
    delivered = [r for r in records if r.get("message") == "spooled transcript delivered"]
    assert [r["session_id"] for r in delivered] == [str(session_id)]

    view: dict[str, Any] = httpx.get(
        f"{token_service.url}/api/sessions/{session_id}", headers={USER_ID_HEADER: user_id}
    ).json()
    assert view["status"] == "completed"
    assert [t["content"] for t in view["turns"]] == ["Hello, crisis line.", "Hi... um."]

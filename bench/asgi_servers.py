"""Which ASGI server runs the token service: the same app (token_service.asgi:served_app) under
each candidate, one process on one core, the free-practice token path under the same wrk load."""

import os
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

from devstack.ports import free_port
from devstack.postgres import postgres_server
from devstack.processes import ManagedProcess
from devstack.token_service import DEFAULT_ENV

from .load import SERVER_CPU, post_load

BIN = Path(sys.executable).parent
FACTORY = "token_service.asgi:served_app"
USER = "4a1f0d3e-0000-4000-8000-000000000001"


def _servers(port: int) -> dict[str, list[str]]:
    return {
        "uvicorn (uvloop, httptools)": [
            str(BIN / "uvicorn"), "--factory", FACTORY, "--port", str(port),
            "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning",
        ],
        "granian (asgi, uvloop)": [
            str(BIN / "granian"), "--interface", "asgi", "--factory", "--port", str(port),
            "--workers", "1", "--runtime-threads", "1", "--loop", "uvloop", "--no-access-log",
            FACTORY,
        ],
    }  # fmt: skip


def run(seconds: int = 8) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with postgres_server() as pg, tempfile.TemporaryDirectory() as logs:
        env = {**DEFAULT_ENV, "DATABASE_URL": pg.dsn(), "DB_POOL_MIN": "1"}
        for name, argv in _servers(port := free_port()).items():
            process = ManagedProcess(
                name.split()[0],
                ["taskset", "-c", str(SERVER_CPU), *argv],
                log_path=Path(logs) / "server.log",
                env={**os.environ, **env},
            )
            try:
                process.wait_for_http(f"http://127.0.0.1:{port}/healthz", 30, accept_status=300)
                load = post_load(
                    f"http://127.0.0.1:{port}/api/livekit/token",
                    "{}",
                    {"x-user-id": USER},
                    seconds=seconds,
                )
                results[name] = asdict(load)
            finally:
                process.terminate()
    return results

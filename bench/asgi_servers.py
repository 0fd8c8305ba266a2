"""Which ASGI server runs the token service: the same app (token_service.asgi:served_app) under
each candidate, one process on one core, the free-practice token path under the same wrk load.

The database is migrated and seeded the way every stack's is (`token-service seed-demo`), and the
requests come from a demo user: a user the database does not hold would measure the 401 path."""

import sys
import tempfile
from pathlib import Path

import msgspec

from devstack.environment import token_service_env
from devstack.ports import free_port
from devstack.postgres import postgres_server
from devstack.processes import ManagedProcess
from devstack.token_service import seed_and_migrate
from training_contracts import HEALTH_PATH, TOKEN_PATH, USER_ID_HEADER

from .load import SERVER_CPU, LoadResult, post_load

BIN = Path(sys.executable).parent
FACTORY = "token_service.asgi:served_app"


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


class ServersResult(msgspec.Struct):
    loads: dict[str, LoadResult]
    """By server."""


def run(seconds: int = 8) -> ServersResult:
    loads: dict[str, LoadResult] = {}
    with postgres_server() as pg, tempfile.TemporaryDirectory() as logs:
        port = free_port()
        env = token_service_env(pg.dsn(), port, {"DB_POOL_MIN": "1"})
        user = seed_and_migrate(pg.dsn(), {"DB_POOL_MIN": "1"})["users"][0]["userId"]
        url = f"http://127.0.0.1:{port}"
        for name, argv in _servers(port).items():
            process = ManagedProcess(
                name.split()[0],
                ["taskset", "-c", str(SERVER_CPU), *argv],
                log_path=Path(logs) / "server.log",
                env=env,
            )
            try:
                process.wait_for_http(url + HEALTH_PATH, 30, accept_status=300)
                loads[name] = post_load(
                    url + TOKEN_PATH, "{}", {USER_ID_HEADER: user}, seconds=seconds
                )
            finally:
                process.terminate()
    return ServersResult(loads)

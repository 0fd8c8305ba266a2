"""The token service as a real subprocess, on a migrated (and, unless told not to, seeded) database.

    with run_token_service(database_url) as ts:
        user_id = ts.demo["users"][0]["userId"]
        httpx.post(ts.url + TOKEN_PATH, headers={"x-user-id": user_id}, json={})
        httpx.post(ts.url + INTERNAL_SESSIONS_PATH,
                   headers={"X-Internal-Service-Key": ts.internal_key}, json={...})

`run_token_service(database_url, *, seed=True, env=None, port=None, log_dir=None)
-> Iterator[TokenService]`:
1. with `seed`, runs `token-service seed-demo` against `database_url` (the stand-in of the Next.js
   application's tables where there are none, then the demo rows), parsing its JSON into
   `TokenService.demo`: `{"users": [{"userId", "assignmentId", "scenarioId",
   "requireRecording"}, ...], "scenarios": [{"id", "title", "prompt"}, ...]}`; without, the demo
   is `NO_DEMO` (a database of the application's own: nothing is written to its tables);
   then `token-service migrate` (the voice schema). Both are idempotent, so a database can be
   reused;
2. starts `token-service serve` (`python -m token_service.cli serve`) on 127.0.0.1:`port` (a free
   port when None) and waits, at most READY_TIMEOUT_S, until `GET /readyz` answers 200; a process
   that exits or never gets ready raises TokenServiceError with the end of its output;
3. yields `TokenService(url, internal_key, demo, process)`;
4. on exit sends SIGTERM, waits up to STOP_TIMEOUT_S, then kills.
The server's output goes to `log_dir/token-service.log` (a temporary folder when None).

The environment of every command is `environment.token_service_env`: from weakest to strongest,
`ServiceEnv`'s defaults (LiveKit dev keys at ws://127.0.0.1:7880, a fixed internal key, an OpenAI
base URL nothing listens on), this process's environment, `env`, and finally DATABASE_URL, HOST
and PORT from the arguments. `internal_key` is the INTERNAL_SERVICE_KEY in force.
"""

import contextlib
import json
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from training_contracts import READY_PATH

from .app_migrations import apply_app_migrations
from .environment import token_service_env
from .ports import free_port
from .processes import ManagedProcess, ProcessError

__all__ = [
    "NO_DEMO",
    "TokenService",
    "TokenServiceError",
    "run_token_service",
    "seed_and_migrate",
    "seed_demo",
]

READY_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 10.0
COMMAND_TIMEOUT_S = 60.0
_OUTPUT_TAIL_CHARS = 4000

NO_DEMO: dict[str, Any] = {"users": [], "scenarios": []}
"""The demo of a stack that seeded nothing."""


class TokenServiceError(RuntimeError):
    """A token-service command failed or the server did not become ready; says why."""


@dataclass(frozen=True)
class TokenService:
    url: str
    """Base URL, e.g. http://127.0.0.1:54321 (no trailing slash)."""
    internal_key: str
    """The X-Internal-Service-Key the service accepts."""
    demo: dict[str, Any]
    """seed-demo's output (NO_DEMO when it did not seed): {"users": [{"userId", "assignmentId",
    "scenarioId", "requireRecording"}, …], "scenarios": [{"id", "title", "prompt"}, …]}"""
    process: ManagedProcess


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "token_service.cli", *args]


def _tail(text: str) -> str:
    text = text.strip()
    return text[-_OUTPUT_TAIL_CHARS:] if text else "(no output)"


def _run_command(args: list[str], env: Mapping[str, str]) -> str:
    try:
        result = subprocess.run(
            _command(*args),
            env=dict(env),
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise TokenServiceError(f"token-service {' '.join(args)} timed out") from exc
    if result.returncode != 0:
        raise TokenServiceError(
            f"token-service {' '.join(args)} exited with {result.returncode}:\n"
            f"{_tail(result.stderr + result.stdout)}"
        )
    return result.stdout


def seed_demo(database_url: str, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """`token-service seed-demo` against `database_url`: what it printed. With APP_MIGRATIONS
    set, the application's own migrations create its tables first (app_migrations.py)."""
    apply_app_migrations(database_url)
    full_env = token_service_env(database_url, 0, env)
    try:
        demo: dict[str, Any] = json.loads(_run_command(["seed-demo"], full_env))
    except json.JSONDecodeError as exc:
        raise TokenServiceError(f"token-service seed-demo printed no JSON: {exc}") from exc
    return demo


def seed_and_migrate(database_url: str, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """`seed_demo`, then `token-service migrate` (the voice schema): a database ready to serve,
    and the demo it holds."""
    demo = seed_demo(database_url, env)
    _run_command(["migrate"], token_service_env(database_url, 0, env))
    return demo


@contextlib.contextmanager
def run_token_service(
    database_url: str,
    *,
    seed: bool = True,
    env: dict[str, str] | None = None,
    port: int | None = None,
    log_dir: Path | None = None,
    name: str = "token-service",
) -> Iterator[TokenService]:
    """Seed (unless `seed` is False), migrate and serve the token service; see the module
    docstring. `name` names its log file (`<name>.log`), so several can serve side by side."""
    port = port or free_port()
    full_env = token_service_env(database_url, port, env)
    if seed:
        demo = seed_and_migrate(database_url, env)
    else:
        demo = NO_DEMO
        _run_command(["migrate"], full_env)

    url = f"http://127.0.0.1:{port}"
    with contextlib.ExitStack() as cleanup:
        if log_dir is None:
            log_dir = Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="ts-")))
        process = ManagedProcess(
            name,
            _command("serve"),
            log_path=log_dir / f"{name}.log",
            env=full_env,
            inherit_env=False,
        )
        try:
            try:
                process.wait_for_http(url + READY_PATH, READY_TIMEOUT_S, accept_status=300)
            except ProcessError as exc:
                raise TokenServiceError(str(exc)) from exc
            yield TokenService(
                url=url,
                internal_key=full_env["INTERNAL_SERVICE_KEY"],
                demo=demo,
                process=process,
            )
        finally:
            process.terminate(STOP_TIMEOUT_S)

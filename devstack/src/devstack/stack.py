"""The whole stack as local processes: Postgres, the OpenAI stub, livekit-server, the token service
and the agent worker, started in dependency order (independent parts in parallel).

    with Stack() as stack:
        stack.token_service.url, stack.livekit.url, stack.demo["users"][0]["userId"], ...

Every process logs to a file under `stack.log_dir`; a part that fails to start raises with the
tail of its log. The agent worker and the token service can be stopped and started again.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import httpx

from .livekit import LiveKitServer, find_livekit_server, livekit_server
from .ports import free_port
from .postgres import PostgresServer, postgres_server
from .processes import ManagedProcess, managed_process
from .token_service import TokenService, run_token_service

__all__ = ["AgentWorker", "OpenAIStub", "Stack", "StackError"]

T = TypeVar("T")

STUB_API_KEY = "sk-local-stub"
"""Any non-empty key: the stub accepts every key."""

AGENT_REGISTER_TIMEOUT_S = 90.0
STUB_START_TIMEOUT_S = 30.0

_REGISTERED = r"registered worker"

AGENT_COMMAND = "start"
"""Production mode, as deployed: JSON logs, health server on AGENT_HEALTH_PORT, drain on SIGTERM.
The worker reports its load as running calls / JOB_CAPACITY, so a busy CPU does not make it turn
calls away."""

AGENT_IDLE_PROCESSES = "2"
"""Warm job processes: two calls at once join without waiting for a process to start."""


class StackError(RuntimeError):
    pass


def _openai_default_url() -> str:
    """OpenAI's own address, as the token service's settings spell it."""
    from token_service.settings import Settings  # noqa: PLC0415 - only without the stub

    return str(Settings.model_fields["openai_base_url"].default)


def _ok(result: T | BaseException) -> T:
    if isinstance(result, BaseException):
        raise result
    return result


@dataclass(frozen=True)
class OpenAIStub:
    url: str
    """http://127.0.0.1:PORT: root of the control routes (/_stub/state, /_stub/script)."""
    process: ManagedProcess

    @property
    def base_url(self) -> str:
        """What OPENAI_BASE_URL is set to."""
        return f"{self.url}/v1"

    def state(self) -> dict[str, Any]:
        response = httpx.get(f"{self.url}/_stub/state", timeout=5.0, trust_env=False)
        response.raise_for_status()
        state: dict[str, Any] = response.json()
        return state

    def set_script(self, script: Mapping[str, Any]) -> None:
        response = httpx.post(
            f"{self.url}/_stub/script", json=dict(script), timeout=5.0, trust_env=False
        )
        response.raise_for_status()


@contextlib.contextmanager
def openai_stub(
    log_dir: Path, *, script: Mapping[str, Any] | None = None, port: int = 0
) -> Iterator[OpenAIStub]:
    """`python -m openai_stub` on loopback; `script` (Script JSON) is what it says."""
    argv = [sys.executable, "-m", "openai_stub", "--host", "127.0.0.1", "--port", str(port)]
    if script is not None:
        script_file = log_dir / "stub-script.json"
        script_file.write_text(json.dumps(script, indent=2))
        argv += ["--script", str(script_file)]
    with managed_process("openai-stub", argv, log_path=log_dir / "openai-stub.log") as proc:
        match = proc.wait_for_line(
            r"openai-stub listening on (http://[^\s/]+)/v1", STUB_START_TIMEOUT_S
        )
        yield OpenAIStub(url=match.group(1), process=proc)


@dataclass(frozen=True)
class AgentWorker:
    name: str
    process: ManagedProcess
    health_port: int
    spool_dir: Path
    registered_after_s: float

    def stop(self, timeout: float = 20.0) -> None:
        self.process.terminate(timeout)


class Stack:
    """Starts on `__enter__` (or `start()`), stops everything on `__exit__` (or `stop()`).

    Ports default to free ones; `up` passes fixed ones for local development.
    """

    def __init__(
        self,
        *,
        log_dir: Path | None = None,
        stub_script: Mapping[str, Any] | None = None,
        livekit_port: int | None = None,
        token_service_port: int | None = None,
        stub_port: int = 0,
        use_stub: bool = True,
        agent_env: Mapping[str, str] | None = None,
        on_status: Callable[[str], None] | None = None,
    ) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix="devstack-"))
        self.log_dir = log_dir or self.workdir / "logs"
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.internal_key = secrets.token_urlsafe(24)
        self._stub_script = stub_script
        self._livekit_port = livekit_port
        self._token_service_port = token_service_port or free_port()
        self._stub_port = stub_port
        self.use_stub = use_stub
        self._agent_env = dict(agent_env or {})
        self._status = on_status or (lambda _msg: None)
        self._exit = ExitStack()
        self._token_service_cm: AbstractContextManager[TokenService] | None = None
        self._agent_cms: dict[str, ManagedProcess] = {}
        self.timings: dict[str, float] = {}
        self.postgres: PostgresServer
        self.database_url: str
        self.stub: OpenAIStub | None = None
        self.livekit: LiveKitServer
        self.token_service: TokenService | None = None
        self.agent: AgentWorker | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    def __enter__(self) -> Stack:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> Stack:
        started = time.monotonic()
        find_livekit_server()  # missing: say so before starting anything
        try:
            # Nothing below depends on anything else here: start the three side by side.
            with ThreadPoolExecutor(max_workers=3, thread_name_prefix="devstack") as pool:
                pg = self._enter_in(pool, "postgres", postgres_server())
                stub = None
                if self.use_stub:
                    stub = self._enter_in(
                        pool,
                        "openai-stub",
                        openai_stub(self.log_dir, script=self._stub_script, port=self._stub_port),
                    )
                lk = self._enter_in(
                    pool,
                    "livekit-server",
                    livekit_server(log_dir=self.log_dir, port=self._livekit_port),
                )
            # Whatever started is exited with the rest, even if a sibling failed.
            pg_result = self._collect(pg)
            stub_result: OpenAIStub | BaseException | None = None
            if stub is not None:
                stub_result = self._collect(stub)
            lk_result = self._collect(lk)
            self.postgres = _ok(pg_result)
            self.stub = _ok(stub_result) if stub_result is not None else None
            self.livekit = _ok(lk_result)
            self.database_url = self.postgres.dsn()
            # The token service's port is known in advance, so the worker (slow to import)
            # starts while the token service migrates and seeds.
            with ThreadPoolExecutor(max_workers=2, thread_name_prefix="devstack") as pool:
                ts = pool.submit(self._timed, "token-service", self.start_token_service)
                agent = pool.submit(self._timed, "agent", self.start_agent)
                for future in (ts, agent):
                    exc = future.exception()
                    if exc is not None:
                        raise exc
        except BaseException:
            self.stop()
            raise
        self.timings["total"] = time.monotonic() - started
        return self

    def stop(self) -> None:
        for name in list(self._agent_cms):
            self.stop_agent(name)
        self.stop_token_service()
        self._exit.close()
        shutil.rmtree(self.workdir / "spool", ignore_errors=True)

    def _timed(self, name: str, fn: Callable[[], T]) -> T:
        t0 = time.monotonic()
        self._status(f"starting {name}")
        result = fn()
        self.timings[name] = time.monotonic() - t0
        self._status(f"{name} ready in {self.timings[name]:.1f} s")
        return result

    def _enter_in(
        self, pool: ThreadPoolExecutor, name: str, cm: AbstractContextManager[T]
    ) -> tuple[AbstractContextManager[T], Future[T]]:
        return cm, pool.submit(self._timed, name, cm.__enter__)

    def _collect(self, pending: tuple[AbstractContextManager[T], Future[T]]) -> T | BaseException:
        cm, future = pending
        exc = future.exception()
        if exc is not None:
            return exc
        self._exit.push(cm.__exit__)
        return future.result()

    # -- the token service -----------------------------------------------------------------------

    def _openai_env(self) -> dict[str, str]:
        """The stub's address, or nothing: OPENAI_API_KEY (and OPENAI_BASE_URL, if set) are then
        inherited from this process's environment."""
        if self.stub is not None:
            return {"OPENAI_API_KEY": STUB_API_KEY, "OPENAI_BASE_URL": self.stub.base_url}
        # Explicit, because run_token_service's own default points at a closed port.
        return {"OPENAI_BASE_URL": os.environ.get("OPENAI_BASE_URL") or _openai_default_url()}

    def stub_state(self) -> dict[str, Any]:
        """The stub's `GET /_stub/state`: per Realtime connection, the instructions it got."""
        if self.stub is None:
            raise StackError("this stack talks to OpenAI itself: there is no stub to inspect")
        return self.stub.state()

    def token_service_env(self) -> dict[str, str]:
        return {
            "LIVEKIT_URL": self.livekit.url,
            "LIVEKIT_API_KEY": self.livekit.api_key,
            "LIVEKIT_API_SECRET": self.livekit.api_secret,
            "INTERNAL_SERVICE_KEY": self.internal_key,
            **self._openai_env(),
        }

    def start_token_service(self) -> TokenService:
        """Start it (again) on its port; the database and its demo data are kept."""
        if self._token_service_cm is not None:
            raise StackError("the token service is already running")
        cm = run_token_service(
            self.database_url,
            env=self.token_service_env(),
            port=self._token_service_port,
            log_dir=self.log_dir,
        )
        self.token_service = cm.__enter__()
        self._token_service_cm = cm
        return self.token_service

    def stop_token_service(self) -> None:
        cm, self._token_service_cm = self._token_service_cm, None
        if cm is not None:
            cm.__exit__(None, None, None)

    @property
    def token_service_url(self) -> str:
        return f"http://127.0.0.1:{self._token_service_port}"

    @property
    def demo(self) -> dict[str, Any]:
        if self.token_service is None:
            raise StackError("the token service is not running")
        return self.token_service.demo

    # -- agent workers ---------------------------------------------------------------------------

    def agent_env(self, **overrides: str) -> dict[str, str]:
        env = {
            "LIVEKIT_URL": self.livekit.url,
            "LIVEKIT_API_KEY": self.livekit.api_key,
            "LIVEKIT_API_SECRET": self.livekit.api_secret,
            "NUM_IDLE_PROCESSES": AGENT_IDLE_PROCESSES,
            "TOKEN_SERVICE_URL": self.token_service_url,
            "INTERNAL_SERVICE_KEY": self.internal_key,
            **self._openai_env(),
        }
        env.update(self._agent_env)
        env.update(overrides)
        return env

    def start_agent(
        self, name: str = "agent", *, env: Mapping[str, str] | None = None
    ) -> AgentWorker:
        """`python -m agent_service start`, waited for until it registered with livekit-server.

        `name` tells workers apart (log file, health port, spool folder); the default one is
        `self.agent`. `env` overrides the environment `agent_env()` gives it.
        """
        if name in self._agent_cms:
            raise StackError(f"agent worker {name!r} is already running")
        health_port = free_port()
        spool_dir = self.workdir / "spool" / name
        spool_dir.mkdir(parents=True, exist_ok=True)
        full_env = self.agent_env(
            SPOOL_DIR=str(spool_dir), AGENT_HEALTH_PORT=str(health_port), **dict(env or {})
        )
        t0 = time.monotonic()
        proc = ManagedProcess(
            name,
            [sys.executable, "-m", "agent_service", AGENT_COMMAND],
            log_path=self.log_dir / f"{name}.log",
            env=full_env,
        )
        self._agent_cms[name] = proc
        try:
            proc.wait_for_line(_REGISTERED, AGENT_REGISTER_TIMEOUT_S)
        except BaseException:
            self.stop_agent(name)
            raise
        worker = AgentWorker(
            name=name,
            process=proc,
            health_port=health_port,
            spool_dir=spool_dir,
            registered_after_s=time.monotonic() - t0,
        )
        if name == "agent":
            self.agent = worker
        return worker

    def stop_agent(self, name: str = "agent", timeout: float = 20.0) -> None:
        """SIGTERM (the worker drains its jobs), then SIGKILL after `timeout`."""
        proc = self._agent_cms.pop(name, None)
        if proc is not None:
            proc.terminate(timeout)
        if name == "agent":
            self.agent = None

    @contextlib.contextmanager
    def extra_agent(self, name: str, *, env: Mapping[str, str]) -> Iterator[AgentWorker]:
        """A second worker for the duration of a block."""
        worker = self.start_agent(name, env=env)
        try:
            yield worker
        finally:
            self.stop_agent(name)

    # -- for people ------------------------------------------------------------------------------

    def describe(self) -> dict[str, Any]:
        return {
            "livekitUrl": self.livekit.url,
            "tokenServiceUrl": self.token_service_url,
            "openaiBaseUrl": self.stub.base_url if self.stub is not None else None,
            "databaseUrl": self.database_url,
            "logDir": str(self.log_dir),
            "demo": self.demo,
        }

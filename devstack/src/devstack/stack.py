"""The whole stack as local processes: Postgres, the OpenAI stub, livekit-server, the token service
and the agent workers, started in dependency order (independent parts in parallel).

    with Stack() as stack:
        stack.token_service.url, stack.livekit.url, stack.demo["users"][0]["userId"], ...

Postgres is a throwaway cluster holding the stand-in of the Next.js application's tables and the
demo data, unless `database_url` names a database of one's own (the application's): then only the
voice schema is migrated there, and nothing is seeded unless `seed_demo` asks for it.

Every process logs to a file under `stack.log_dir`; a part that fails to start raises with the
tail of its log. The token service and each agent worker (`stack.workers`, by name) can be stopped
and started again.
"""

from __future__ import annotations

import contextlib
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from training_contracts import LIVEKIT_WEBHOOK_PATH

from .agent import STOP_TIMEOUT_S, AgentWorker, agent_worker
from .environment import ServiceEnv
from .livekit import LiveKitServer, find_livekit_server, livekit_server
from .parts import Parts
from .ports import free_port
from .postgres import PostgresServer, postgres_server
from .stub import OpenAIStub, openai_stub
from .token_service import TokenService, run_token_service

__all__ = ["DEFAULT_AGENT", "AgentWorker", "OpenAIStub", "Stack", "StackError"]

DEFAULT_AGENT = "agent"
"""The worker a stack starts with: `stack.agent`."""

TOKEN_SERVICE = "token-service"  # noqa: S105 - the part's name, not a secret


class StackError(RuntimeError):
    pass


def _worker_part(name: str) -> str:
    return f"worker {name}"


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
        token_service_env: Mapping[str, str] | None = None,
        on_status: Callable[[str], None] | None = None,
        database_url: str | None = None,
        seed_demo: bool | None = None,
    ) -> None:
        """`database_url`: run on that database instead of a throwaway Postgres; `seed_demo`:
        insert the demo data (default: only into the throwaway one)."""
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
        self._token_service_env = dict(token_service_env or {})
        self.recordings_dir = self.workdir / "recordings"
        """The token service's recording store (call audio: removed with the stack)."""
        self._parts = Parts(on_status)
        self.timings = self._parts.timings
        self._postgres: PostgresServer | None = None
        self.database_url: str = database_url or ""
        self.seed_demo = database_url is None if seed_demo is None else seed_demo
        self.stub: OpenAIStub | None = None
        self.livekit: LiveKitServer
        self.environment: ServiceEnv
        """What the services are told about the rest of the stack, once it runs."""
        self.token_service: TokenService | None = None
        self.workers: dict[str, AgentWorker] = {}
        """The running agent workers by name."""

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
            self._parts.start_side_by_side(self._foundation())
            self.environment = ServiceEnv.for_stack(
                livekit_url=self.livekit.url,
                livekit_api_key=self.livekit.api_key,
                livekit_api_secret=self.livekit.api_secret,
                internal_key=self.internal_key,
                stub_base_url=self.stub.base_url if self.stub is not None else None,
            )
            # The token service's port is known in advance, so the worker (slow to import)
            # starts while the token service migrates and seeds.
            self._parts.start_side_by_side(self._services())
        except BaseException:
            self.stop()
            raise
        self.timings["total"] = time.monotonic() - started
        return self

    def stop(self) -> None:
        """The workers first (they deliver what they hold to the token service), then the token
        service, then the rest."""
        for name in list(self.workers):
            self.stop_agent(name)
        self.stop_token_service()
        self._parts.stop_all()
        shutil.rmtree(self.workdir / "spool", ignore_errors=True)
        shutil.rmtree(self.recordings_dir, ignore_errors=True)

    def _foundation(self) -> dict[str, Callable[[], object]]:
        """What the services need, none of it needing anything else."""
        starts: dict[str, Callable[[], object]] = {}
        if not self.database_url:
            starts["postgres"] = self._start_postgres
        if self.use_stub:
            starts["openai-stub"] = self._start_stub
        starts["livekit-server"] = self._start_livekit
        return starts

    def _services(self) -> dict[str, Callable[[], object]]:
        """What runs on the foundation; started side by side too."""
        return {TOKEN_SERVICE: self.start_token_service, DEFAULT_AGENT: self.start_agent}

    def _start_postgres(self) -> None:
        self._postgres = self._parts.start("postgres", postgres_server())
        self.database_url = self._postgres.dsn()

    @property
    def postgres(self) -> PostgresServer:
        """The throwaway cluster (a stack on a database of one's own has none to restart)."""
        if self._postgres is None:
            raise StackError("this stack runs on a database of its user's: no Postgres of its own")
        return self._postgres

    def _start_stub(self) -> None:
        stub = openai_stub(self.log_dir, script=self._stub_script, port=self._stub_port)
        self.stub = self._parts.start("openai-stub", stub)

    def _start_livekit(self) -> None:
        # The token service's port is known before it starts: webhooks go there from the start.
        server = livekit_server(
            log_dir=self.log_dir,
            port=self._livekit_port,
            webhook_urls=[self.token_service_url + LIVEKIT_WEBHOOK_PATH],
        )
        self.livekit = self._parts.start("livekit-server", server)

    # -- the token service -----------------------------------------------------------------------

    def stub_state(self) -> dict[str, Any]:
        """The stub's `GET /_stub/state`: per Realtime connection, the instructions it got."""
        if self.stub is None:
            raise StackError("this stack talks to OpenAI itself: there is no stub to inspect")
        return self.stub.state()

    def token_service_env(self) -> dict[str, str]:
        """The stack's, where it keeps recordings, then the stack's `token_service_env`."""
        return {
            **self.environment.shared(),
            "RECORDINGS_DIR": str(self.recordings_dir),
            **self._token_service_env,
        }

    def start_token_service(self) -> TokenService:
        """Start it (again) on its port; the database and its demo data are kept."""
        if TOKEN_SERVICE in self._parts:
            raise StackError("the token service is already running")
        service = run_token_service(
            self.database_url,
            seed=self.seed_demo,
            env=self.token_service_env(),
            port=self._token_service_port,
            log_dir=self.log_dir,
        )
        self.token_service = self._parts.start(TOKEN_SERVICE, service)
        return self.token_service

    def stop_token_service(self) -> None:
        self.token_service = None
        self._parts.stop(TOKEN_SERVICE)

    @property
    def token_service_url(self) -> str:
        return f"http://127.0.0.1:{self._token_service_port}"

    @property
    def demo(self) -> dict[str, Any]:
        if self.token_service is None:
            raise StackError("the token service is not running")
        return self.token_service.demo

    # -- agent workers ---------------------------------------------------------------------------

    @property
    def agent(self) -> AgentWorker | None:
        """The worker the stack started with, while it runs."""
        return self.workers.get(DEFAULT_AGENT)

    def agent_env(self, **overrides: str) -> dict[str, str]:
        """A worker's environment: the stack's, the stack's `agent_env`, then `overrides`."""
        return {**self.environment.agent(self.token_service_url), **self._agent_env, **overrides}

    def start_agent(
        self, name: str = DEFAULT_AGENT, *, env: Mapping[str, str] | None = None
    ) -> AgentWorker:
        """`python -m agent_service start`, waited for until it registered with livekit-server.

        `name` tells workers apart (log file, health port, spool folder); `env` overrides the
        environment `agent_env()` gives it.
        """
        if name in self.workers:
            raise StackError(f"agent worker {name!r} is already running")
        worker = agent_worker(
            name,
            env=self.agent_env(**(env or {})),
            log_dir=self.log_dir,
            spool_dir=self.workdir / "spool" / name,
        )
        self.workers[name] = self._parts.start(_worker_part(name), worker)
        return self.workers[name]

    def stop_agent(self, name: str = DEFAULT_AGENT, timeout: float = STOP_TIMEOUT_S) -> None:
        """SIGTERM (the worker drains its jobs), then SIGKILL after `timeout`."""
        worker = self.workers.pop(name, None)
        if worker is not None:
            worker.stop(timeout)
        self._parts.stop(_worker_part(name))

    def kill_agent(self, name: str = DEFAULT_AGENT) -> None:
        """SIGKILL the worker's process group: its calls are lost with it."""
        worker = self.workers.pop(name, None)
        if worker is not None:
            worker.kill()
        self._parts.stop(_worker_part(name))

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
            "ownDatabase": self._postgres is None,
            "logDir": str(self.log_dir),
            "demo": self.demo,
        }

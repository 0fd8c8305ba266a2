"""The stack in the shape of a deployment that outgrew one machine: LiveKit's multi-node mode.

    with ClusterStack() as cluster:
        cluster.nodes["node-2"].url, cluster.token_services["token-service-2"].url,
        cluster.room_node("training-1a2b3c4d"), cluster.job_worker("training-1a2b3c4d")

Redis (Debian's redis-server) and two livekit-server nodes sharing it; two agent workers, each
registered with a node of its own; two token services on the one Postgres, each handing browsers
a node of its own as `serverUrl`. Any node takes any trainee or worker: LiveKit relays signalling
and job requests between nodes through Redis, so a room's node, the node its trainee connected
to and the node its worker is registered with need not be the same.

Every service serves its Prometheus metrics on a loopback port of its own (`metrics_urls`).
"""

from __future__ import annotations

import functools
import json
import re
import shutil
from collections.abc import Callable
from typing import Any

from training_contracts import LIVEKIT_WEBHOOK_PATH

from .agent import REGISTER_TIMEOUT_S, REGISTERED_LINE
from .livekit import LiveKitServer, livekit_server
from .ports import free_port
from .redis import RedisServer, redis_server
from .stack import DEFAULT_AGENT, TOKEN_SERVICE, Stack, StackError
from .token_service import TokenService, run_token_service

__all__ = ["NODE_COUNT", "ClusterStack"]

NODE_COUNT = 2
"""Nodes, workers and token services alike: the smallest shape in which each can be seen to
spread, and to survive the loss of one of its kind."""

_ROOM_STARTED = "starting RTC session"
"""What the node hosting a room logs when a participant's session on it starts."""
_NODE_ID = re.compile(r'"nodeID":\s*"(ND_\w+)"')


def _node(i: int) -> str:
    return f"node-{i}"


def _token_service(i: int) -> str:
    return TOKEN_SERVICE if i == 1 else f"{TOKEN_SERVICE}-{i}"


def _worker(i: int) -> str:
    return DEFAULT_AGENT if i == 1 else f"{DEFAULT_AGENT}-{i}"


class ClusterStack(Stack):
    """A Stack (so everything it offers works, on node-1 / token-service / agent) plus the rest
    of the cluster. Fixed `livekit_port` / `token_service_port` number the later nodes and token
    services from there: node i on livekit_port + 100 * (i - 1), token service i on
    token_service_port + i - 1."""

    def __init__(
        self,
        *,
        livekit_port: int | None = None,
        token_service_port: int | None = None,
        **options: Any,
    ) -> None:
        """`options`: Stack's other keyword arguments (log_dir, stub_script, use_stub, ...)."""
        super().__init__(
            livekit_port=livekit_port, token_service_port=token_service_port, **options
        )
        first_ts = token_service_port or free_port()
        self._node_ports = {
            _node(i): (livekit_port + 100 * (i - 1) if livekit_port else free_port())
            for i in range(1, NODE_COUNT + 1)
        }
        self._ts_ports = {
            _token_service(i): (first_ts + i - 1 if token_service_port else free_port())
            for i in range(1, NODE_COUNT + 1)
        }
        self._token_service_port = self._ts_ports[TOKEN_SERVICE]
        self.metrics_ports: dict[str, int] = {
            name: free_port()
            for i in range(1, NODE_COUNT + 1)
            for name in (_token_service(i), _worker(i))
        }
        """Each token service's and worker's METRICS_PORT, by name."""
        self.redis: RedisServer
        self.nodes: dict[str, LiveKitServer] = {}
        self.token_services: dict[str, TokenService] = {}
        self._node_ids: dict[str, str] = {}

    def __enter__(self) -> ClusterStack:
        self.start()
        return self

    def stop(self) -> None:
        super().stop()
        shutil.rmtree(self.workdir / "metrics", ignore_errors=True)

    # -- the foundation: Redis, then the nodes side by side ------------------------------------

    def _start_livekit(self) -> None:
        self.redis = self._parts.start("redis", redis_server(self.log_dir))
        self._parts.start_side_by_side(
            {name: functools.partial(self.start_node, name) for name in self._node_ports}
        )
        self.livekit = self.nodes[_node(1)]

    def _node_index(self, name: str) -> int:
        """Node `name`'s number, from 1: its worker and token service carry the same."""
        return list(self._node_ports).index(name) + 1

    def start_node(self, name: str) -> LiveKitServer:
        """Start node `name` (again), on its port, with the same Redis."""
        if name in self.nodes:
            raise StackError(f"{name} is already running")
        # Each node posts its webhooks to a token service of its own: the rooms' state is in
        # Postgres, so whichever process a room's events land on, every one can act on it.
        token_service = self._ts_ports[_token_service(self._node_index(name))]
        node = livekit_server(
            log_dir=self.log_dir,
            port=self._node_ports[name],
            redis_address=self.redis.address,
            name=name,
            webhook_urls=[f"http://127.0.0.1:{token_service}{LIVEKIT_WEBHOOK_PATH}"],
        )
        self.nodes[name] = self._parts.start(name, node)
        return self.nodes[name]

    def stop_node(self, name: str) -> None:
        """SIGTERM: the node leaves the cluster; its workers lose their connection."""
        self.nodes.pop(name, None)
        self._parts.stop(name)

    def restore_node(self, name: str) -> None:
        """After `stop_node(name)`: the node runs again, and its worker, which kept trying to
        reach it (livekit-agents retries with a growing back-off), is registered with it again,
        as when the cluster started."""
        worker = self.workers[_worker(self._node_index(name))]
        mark = len(worker.process.log_text())
        self.start_node(name)
        worker.process.wait_for_line(REGISTERED_LINE, REGISTER_TIMEOUT_S, start=mark)

    # -- the services ----------------------------------------------------------------------------

    def _services(self) -> dict[str, Callable[[], object]]:
        starts: dict[str, Callable[[], object]] = {}
        for i in range(1, NODE_COUNT + 1):
            starts[_token_service(i)] = functools.partial(self.start_cluster_token_service, i)
            starts[_worker(i)] = functools.partial(self._start_cluster_worker, i)
        return starts

    def start_token_service(self) -> TokenService:
        return self.start_cluster_token_service(1)

    def start_cluster_token_service(self, i: int) -> TokenService:
        name = _token_service(i)
        if name in self.token_services:
            raise StackError(f"{name} is already running")
        service = run_token_service(
            self.database_url,
            seed=self.seed_demo,
            env={
                **self.token_service_env(),
                "LIVEKIT_URL": self.nodes[_node(i)].url,
                "METRICS_PORT": str(self.metrics_ports[name]),
            },
            port=self._ts_ports[name],
            log_dir=self.log_dir,
            name=name,
        )
        self.token_services[name] = self._parts.start(name, service)
        if i == 1:
            self.token_service = self.token_services[name]
        return self.token_services[name]

    def stop_token_service(self) -> None:
        for name in list(self.token_services):
            self.token_services.pop(name)
            self._parts.stop(name)
        self.token_service = None

    def _start_cluster_worker(self, i: int) -> object:
        return self.start_agent(_worker(i), env=self._worker_env(i))

    def _worker_env(self, i: int) -> dict[str, str]:
        return {
            "LIVEKIT_URL": self.nodes[_node(i)].url,
            "TOKEN_SERVICE_URL": f"http://127.0.0.1:{self._ts_ports[_token_service(i)]}",
            "METRICS_PORT": str(self.metrics_ports[_worker(i)]),
            "METRICS_DIR": str(self.workdir / "metrics" / _worker(i)),
        }

    @property
    def metrics_urls(self) -> dict[str, str]:
        return {
            name: f"http://127.0.0.1:{port}/metrics" for name, port in self.metrics_ports.items()
        }

    # -- where things ran ------------------------------------------------------------------------

    def node_id(self, name: str) -> str:
        """The node's LiveKit id (`ND_…`), from its start-up line."""
        if name not in self._node_ids:
            log = (self.log_dir / f"{name}.log").read_text(errors="replace")
            found = _NODE_ID.search(log)
            if found is None:
                raise StackError(f"{name} logged no node id")
            self._node_ids[name] = found.group(1)
        return self._node_ids[name]

    def room_node(self, room: str) -> str | None:
        """The node that hosted `room`: the one whose log has a session starting in it."""
        for name in self._node_ports:
            for line in (self.log_dir / f"{name}.log").read_text(errors="replace").splitlines():
                if _ROOM_STARTED not in line or room not in line:
                    continue
                entry = json.loads(line)
                if entry.get("msg") == _ROOM_STARTED and entry.get("room") == room:
                    return name
        return None

    def job_worker(self, room: str) -> str | None:
        """The worker that ran `room`'s job: its job process logs with the room's name."""
        for i in range(1, NODE_COUNT + 1):
            name = _worker(i)
            if f'"room": "{room}"' in (self.log_dir / f"{name}.log").read_text(errors="replace"):
                return name
        return None

    def describe(self) -> dict[str, Any]:
        return {
            **super().describe(),
            "redis": self.redis.address,
            "nodes": {name: self.nodes[name].url for name in sorted(self.nodes)},
            "tokenServices": {
                name: self.token_services[name].url for name in sorted(self.token_services)
            },
            "workers": {
                _worker(i): {"node": _node(i), "tokenService": _token_service(i)}
                for i in range(1, NODE_COUNT + 1)
            },
            "metrics": self.metrics_urls,
        }

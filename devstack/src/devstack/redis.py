"""A throwaway Redis on loopback for LiveKit's multi-node mode: Debian's redis-server, nothing
written to disk, gone when the block ends."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .ports import free_port
from .processes import ManagedProcess, managed_process

__all__ = ["RedisNotFoundError", "RedisServer", "find_redis_server", "redis_server"]

_READY = r"Ready to accept connections"
_START_TIMEOUT_S = 20.0


class RedisNotFoundError(RuntimeError):
    pass


def find_redis_server() -> Path:
    found = shutil.which("redis-server")
    if found is None:
        raise RedisNotFoundError(
            "redis-server not found on PATH: `make system-deps` installs Debian's redis-server "
            "(as root), or: sudo apt-get install redis-server"
        )
    return Path(found)


@dataclass(frozen=True)
class RedisServer:
    port: int
    process: ManagedProcess

    @property
    def address(self) -> str:
        """host:port, as livekit-server's `redis.address` takes it."""
        return f"127.0.0.1:{self.port}"


@contextlib.contextmanager
def redis_server(log_dir: Path, *, port: int | None = None) -> Iterator[RedisServer]:
    port = port or free_port()
    argv = [
        str(find_redis_server()),
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        # LiveKit keeps only live routing state here: no snapshots, no append-only file.
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(log_dir),
    ]
    with managed_process("redis", argv, log_path=log_dir / "redis.log") as proc:
        proc.wait_for_line(_READY, _START_TIMEOUT_S)
        yield RedisServer(port=port, process=proc)

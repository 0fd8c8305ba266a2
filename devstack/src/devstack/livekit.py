"""A real `livekit-server --dev` on loopback, on ports of its own so several can run side by side.

Given a Redis address, the server is one node of LiveKit's multi-node mode: nodes sharing a Redis
route signalling and agent jobs to each other, a room lives on the node the selector picked
(the one holding the fewest rooms here), and any node accepts any client or worker.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from .ports import free_port
from .processes import ManagedProcess, managed_process

__all__ = [
    "DEV_API_KEY",
    "DEV_API_SECRET",
    "LIVEKIT_VERSION",
    "LiveKitNotFoundError",
    "LiveKitServer",
    "find_livekit_server",
    "livekit_server",
]

LIVEKIT_VERSION = "v1.13.5"
DEV_API_KEY = "devkey"
DEV_API_SECRET = "secret"  # noqa: S105 - the well-known key of livekit-server --dev

_REPO_ROOT = Path(__file__).resolve().parents[3]
_STARTUP_TIMEOUT_S = 30.0


class LiveKitNotFoundError(RuntimeError):
    pass


def find_livekit_server() -> Path:
    """`$LIVEKIT_SERVER`, `livekit-server` on PATH, or the copy `make livekit-server` builds."""
    explicit = os.environ.get("LIVEKIT_SERVER")
    if explicit:
        if Path(explicit).is_file() and os.access(explicit, os.X_OK):
            return Path(explicit)
        raise LiveKitNotFoundError(f"LIVEKIT_SERVER={explicit} is not an executable file")
    candidates: list[Path] = []
    on_path = shutil.which("livekit-server")
    if on_path:
        candidates.append(Path(on_path))
    tools = _REPO_ROOT / ".tools" / "bin"
    candidates += [tools / "livekit-server", tools / "server"]
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise LiveKitNotFoundError(
        "livekit-server not found (looked at $LIVEKIT_SERVER, PATH, "
        f"{tools / 'livekit-server'}, {tools / 'server'}): run `make livekit-server` "
        f"(builds it with go install github.com/livekit/livekit-server/cmd/server@{LIVEKIT_VERSION})"
    )


@dataclass(frozen=True)
class LiveKitServer:
    url: str
    """ws://127.0.0.1:PORT, for clients and agent workers."""
    http_url: str
    api_key: str
    api_secret: str
    port: int
    process: ManagedProcess


def _config(
    port: int,
    tcp_port: int,
    udp_port: int,
    api_key: str,
    api_secret: str,
    *,
    redis_address: str | None,
    webhook_urls: Sequence[str],
) -> str:
    config: dict[str, object] = {
        "port": port,
        "bind_addresses": ["127.0.0.1"],
        "rtc": {"tcp_port": tcp_port, "udp_port": udp_port, "use_external_ip": False},
        "keys": {api_key: api_secret},
    }
    if redis_address is not None:
        config["redis"] = {"address": redis_address}
        # The default picks a node at random; by room count, consecutive calls spread out.
        config["node_selector"] = {"kind": "any", "sort_by": "rooms"}
        # JSON lines, so where a room runs can be read from the node's log (room_node).
        config["logging"] = {"json": True}
    if webhook_urls:
        # Signed with this key; --dev keeps the rest of its defaults beside a --config file.
        config["webhook"] = {"api_key": api_key, "urls": list(webhook_urls)}
    # JSON is YAML: no YAML library needed to write it.
    return json.dumps(config, indent=2) + "\n"


@contextlib.contextmanager
def livekit_server(
    *,
    log_dir: Path | None = None,
    port: int | None = None,
    api_key: str = DEV_API_KEY,
    api_secret: str = DEV_API_SECRET,
    redis_address: str | None = None,
    name: str = "livekit-server",
    webhook_urls: Sequence[str] = (),
) -> Iterator[LiveKitServer]:
    """Run `livekit-server --dev --bind 127.0.0.1` until the block ends, posting its webhooks
    (signed with `api_key`) to `webhook_urls`.

    The log goes to `log_dir/<name>.log` (default: a fresh temporary folder, kept afterwards).
    With `redis_address` it is a node of a multi-node cluster (see the module docstring).
    """
    binary = find_livekit_server()
    workdir = Path(tempfile.mkdtemp(prefix="livekit-"))
    log_dir = log_dir or workdir
    port = port or free_port()
    tcp_port = free_port()
    udp_port = free_port()  # a free TCP port number; UDP on loopback is almost never taken
    config = workdir / "livekit.yaml"
    config.write_text(
        _config(
            port,
            tcp_port,
            udp_port,
            api_key,
            api_secret,
            redis_address=redis_address,
            webhook_urls=webhook_urls,
        )
    )
    argv = [
        str(binary),
        "--dev",
        "--config",
        str(config),
        "--bind",
        "127.0.0.1",
        "--node-ip",
        "127.0.0.1",
    ]
    try:
        with managed_process(name, argv, log_path=log_dir / f"{name}.log", stop_timeout=10) as proc:
            proc.wait_for_http(f"http://127.0.0.1:{port}/", _STARTUP_TIMEOUT_S)
            yield LiveKitServer(
                url=f"ws://127.0.0.1:{port}",
                http_url=f"http://127.0.0.1:{port}",
                api_key=api_key,
                api_secret=api_secret,
                port=port,
                process=proc,
            )
    finally:
        # The log stays for post-mortems; only the config goes.
        config.unlink(missing_ok=True)

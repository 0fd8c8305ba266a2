"""The benchmark peer: a token endpoint in Node with livekit-server-sdk, as the Next.js
application would serve it itself; the yardstick the token service's own endpoint is measured by.

Its source stays in ../shared/peers; we copy it under .bench/ and install its two packages there
with --no-package-lock, so no lockfile with download addresses is ever written into the repo.
"""

import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from devstack.ports import free_port
from training_contracts import TOKEN_PATH, USER_ID_HEADER

from .load import SERVER_CPU

ROOT = Path(__file__).resolve().parents[1]
PEER_SOURCE = Path(
    os.environ.get("BENCH_PEER_SOURCE") or ROOT.parent / "shared" / "peers" / "node-token-server"
)
PEER_DIR = ROOT / ".bench" / "peer"


def install_peer() -> Path:
    if not PEER_SOURCE.is_dir():
        raise RuntimeError(
            f"benchmark peer not found at {PEER_SOURCE}: keep shared/ beside the repository "
            "or set BENCH_PEER_SOURCE to the peer's folder"
        )
    PEER_DIR.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "server.cjs"):
        target = PEER_DIR / name
        shutil.copyfile(PEER_SOURCE / name, target)
        target.chmod(0o644)
    if not (PEER_DIR / "node_modules" / "livekit-server-sdk").is_dir():
        subprocess.run(
            ["npm", "install", "--no-package-lock", "--omit=dev", "--no-audit", "--no-fund"],
            cwd=PEER_DIR,
            check=True,
            capture_output=True,
        )
    return PEER_DIR


@contextlib.contextmanager
def run_peer(agent_name: str, api_key: str, api_secret: str) -> Iterator[str]:
    """Start the peer on SERVER_CPU; yields its token URL."""
    directory = install_peer()
    port = free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "LIVEKIT_API_KEY": api_key,
        "LIVEKIT_API_SECRET": api_secret,
        "AGENT_NAME": agent_name,
    }
    process = subprocess.Popen(
        ["taskset", "-c", str(SERVER_CPU), "node", "server.cjs"],
        cwd=directory,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}{TOKEN_PATH}"
    try:
        deadline = time.monotonic() + 15
        while True:
            with contextlib.suppress(httpx.HTTPError):
                httpx.post(url, json={}, headers={USER_ID_HEADER: "bad"}, timeout=1)
                break
            if process.poll() is not None or time.monotonic() > deadline:
                output = process.stderr.read().decode(errors="replace") if process.stderr else ""
                raise RuntimeError(f"peer did not start: {output}")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)

"""The OpenAI stub (`python -m openai_stub`) as a process of the stack, with its control routes."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from .processes import ManagedProcess, managed_process

__all__ = ["OpenAIStub", "openai_stub"]

STUB_START_TIMEOUT_S = 30.0


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

"""The environment the stack's services start with, built in one place.

`ServiceEnv` says where the rest of the stack is. Its defaults are what a service started on its
own gets (a service's tests, bench): livekit-server --dev's keys at its usual address, a fixed
internal key, and an OpenAI key with a base URL nothing listens on. `ServiceEnv.for_stack` fills in
the processes a `Stack` started.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from .livekit import DEV_API_KEY, DEV_API_SECRET

__all__ = [
    "AGENT_IDLE_PROCESSES",
    "CLOSED_OPENAI_URL",
    "DEFAULT_INTERNAL_KEY",
    "STUB_API_KEY",
    "ServiceEnv",
    "openai_default_url",
    "token_service_env",
]

CLOSED_OPENAI_URL = "http://127.0.0.1:9/v1"
"""Nothing listens on the discard port: an evaluation fails fast with 502 unless a stub is given."""

STUB_API_KEY = "sk-local-stub"
"""Any non-empty key: the stub accepts every key."""

DEFAULT_INTERNAL_KEY = "devstack-internal-key"

AGENT_IDLE_PROCESSES = "2"
"""Warm job processes: two calls at once join without waiting for a process to start."""


def openai_default_url() -> str:
    """OpenAI's own address, as the token service's settings spell it."""
    from token_service.settings import Settings  # noqa: PLC0415 - only without the stub

    return str(Settings.model_fields["openai_base_url"].default)


@dataclass(frozen=True)
class ServiceEnv:
    """What both services are told about the rest of the stack."""

    livekit_url: str = "ws://127.0.0.1:7880"
    livekit_api_key: str = DEV_API_KEY
    livekit_api_secret: str = DEV_API_SECRET
    internal_key: str = DEFAULT_INTERNAL_KEY
    openai_base_url: str = CLOSED_OPENAI_URL
    openai_api_key: str | None = "test"
    """None: the service inherits this process's OPENAI_API_KEY."""

    @classmethod
    def for_stack(
        cls,
        *,
        livekit_url: str,
        livekit_api_key: str,
        livekit_api_secret: str,
        internal_key: str,
        stub_base_url: str | None,
    ) -> ServiceEnv:
        """The stub's address with its key, or OpenAI's (OPENAI_BASE_URL if set) with this
        process's OPENAI_API_KEY. The address is explicit either way: the default one is closed."""
        if stub_base_url is not None:
            base_url, api_key = stub_base_url, STUB_API_KEY
        else:
            base_url = os.environ.get("OPENAI_BASE_URL") or openai_default_url()
            api_key = None
        return cls(
            livekit_url=livekit_url,
            livekit_api_key=livekit_api_key,
            livekit_api_secret=livekit_api_secret,
            internal_key=internal_key,
            openai_base_url=base_url,
            openai_api_key=api_key,
        )

    def shared(self) -> dict[str, str]:
        """The variables both services read."""
        env = {
            "LIVEKIT_URL": self.livekit_url,
            "LIVEKIT_API_KEY": self.livekit_api_key,
            "LIVEKIT_API_SECRET": self.livekit_api_secret,
            "INTERNAL_SERVICE_KEY": self.internal_key,
            "OPENAI_BASE_URL": self.openai_base_url,
        }
        if self.openai_api_key is not None:
            env["OPENAI_API_KEY"] = self.openai_api_key
        return env

    def agent(self, token_service_url: str) -> dict[str, str]:
        """An agent worker's variables (it also inherits this process's environment);
        `agent.agent_worker` adds where this one spools and answers health checks."""
        return {
            **self.shared(),
            "NUM_IDLE_PROCESSES": AGENT_IDLE_PROCESSES,
            "TOKEN_SERVICE_URL": token_service_url,
        }


def token_service_env(
    database_url: str, port: int, env: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The token service's whole environment, weakest first: `ServiceEnv()`'s defaults, this
    process's environment, `env`, and where it stores and serves."""
    return {
        **ServiceEnv().shared(),
        **os.environ,
        **(env or {}),
        "DATABASE_URL": database_url,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "PYTHONUNBUFFERED": "1",
    }

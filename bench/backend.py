"""A migrated, seeded Postgres and a token service, the whole server side pinned to SERVER_CPU."""

import contextlib
from collections.abc import Iterator
from pathlib import Path

from devstack.postgres import postgres_server
from devstack.token_service import TokenService, run_token_service

from .load import SERVER_CPU, pin


def postmaster_pid(datadir: Path) -> int:
    return int((datadir / "postmaster.pid").read_text().splitlines()[0])


@contextlib.contextmanager
def pinned_backend(env: dict[str, str] | None = None) -> Iterator[TokenService]:
    with postgres_server() as pg:
        # Backends fork from the postmaster after this, so they inherit its CPU.
        pin(postmaster_pid(pg.datadir), SERVER_CPU)
        with run_token_service(pg.dsn(), env=env) as service:
            pin(service.process.pid, SERVER_CPU)
            yield service

"""A throwaway PostgreSQL cluster from the machine's own binaries.

PostgreSQL refuses to run as root, and our CI runs as root: when we are root, every server command
runs as the `postgres` user (runuser) and the data directory is handed to that user. pytest-postgresql
and testing.postgresql both assume an unprivileged caller, hence this small module.
"""

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .ports import free_port

_SUPERUSER = "postgres"


def pg_bindir() -> Path:
    explicit = os.environ.get("PG_BINDIR")
    if explicit:
        return Path(explicit)
    on_path = shutil.which("pg_ctl")
    if on_path:
        return Path(on_path).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    if not candidates:
        raise RuntimeError(
            "PostgreSQL server binaries not found: install PostgreSQL (Debian: postgresql-15) "
            "or set PG_BINDIR to the folder holding pg_ctl"
        )
    return Path(candidates[0])


def _as_server_user(argv: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", _SUPERUSER, "--", *argv]
    return argv


@dataclass(frozen=True)
class PostgresServer:
    port: int
    datadir: Path
    database: str
    options: str = ""
    """The server's command-line options, for `start` after a `stop`."""
    log_path: Path | None = None
    superuser: str = _SUPERUSER

    def _pg_ctl(self, *args: str) -> None:
        argv = [str(pg_bindir() / "pg_ctl"), "-D", str(self.datadir), *args]
        result = subprocess.run(_as_server_user(argv), capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"pg_ctl {args[-1]} failed ({result.returncode}): {result.stderr}")

    def stop(self) -> None:
        """A fast shutdown, as an operator's restart does it: every connection is told and closed."""
        self._pg_ctl("-m", "fast", "-w", "stop")

    def start(self) -> None:
        """Start it again on its port and data (after `stop`); returns once it accepts connections."""
        log = ["-l", str(self.log_path)] if self.log_path is not None else []
        self._pg_ctl("-o", self.options, *log, "-w", "-t", "60", "start")

    def restart(self) -> None:
        self.stop()
        self.start()

    def dsn(self, database: str | None = None) -> str:
        return f"postgresql://{_SUPERUSER}@127.0.0.1:{self.port}/{database or self.database}"

    def create_database(self, name: str) -> str:
        self._psql("postgres", f'CREATE DATABASE "{name}"')
        return self.dsn(name)

    def _psql(self, database: str, sql: str) -> None:
        subprocess.run(
            [
                str(pg_bindir() / "psql"),
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                _SUPERUSER,
                "-d",
                database,
                "-c",
                sql,
            ],
            check=True,
            capture_output=True,
        )


@contextlib.contextmanager
def postgres_server(
    database: str = "training", port: int | None = None
) -> Iterator[PostgresServer]:
    """Start a fresh cluster on 127.0.0.1 (trust auth, fsync off) and remove it afterwards."""
    bindir = pg_bindir()
    root = Path(tempfile.mkdtemp(prefix="pg-"))
    datadir = root / "data"
    root.chmod(0o755)
    if os.geteuid() == 0:
        shutil.chown(root, _SUPERUSER)
    port = port or free_port()
    options = f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={root} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
    server = PostgresServer(
        port=port, datadir=datadir, database=database, options=options, log_path=root / "log"
    )

    def run(argv: list[str]) -> None:
        result = subprocess.run(_as_server_user(argv), capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"{argv[0]} failed ({result.returncode}): {result.stderr.strip()}")

    run(
        [
            str(bindir / "initdb"),
            "-D",
            str(datadir),
            "-U",
            _SUPERUSER,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
        ]
    )
    try:
        server.start()
        server.create_database(database)
        yield server
    finally:
        subprocess.run(
            _as_server_user(
                [str(bindir / "pg_ctl"), "-D", str(datadir), "-m", "immediate", "-w", "stop"]
            ),
            capture_output=True,
            check=False,
        )
        shutil.rmtree(root, ignore_errors=True)

"""`token-service migrate | seed-demo | serve | openapi`.

Configuration comes from the environment (see settings.py). A missing or empty required
variable stops the command with one line on stderr naming every one of them, and exit code 2.
"""

import argparse
import asyncio
import logging
import os
import sys
from importlib.util import find_spec

import msgspec
import psycopg

from .settings import SettingsError, load_settings

PROG = "token-service"
EXIT_CONFIG = 2
EXIT_FAILURE = 1


def _fail(message: str, code: int) -> int:
    print(f"{PROG}: {message}", file=sys.stderr)
    return code


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        raise SettingsError("missing required settings: DATABASE_URL")
    return url


def run_server(app: object, host: str, port: int) -> None:
    """The one place that picks the ASGI server: uvicorn, on uvloop and httptools when installed."""
    import uvicorn  # noqa: PLC0415  (only `serve` needs it)

    uvicorn.run(
        app,  # type: ignore[arg-type]
        host=host,
        port=port,
        loop="uvloop" if find_spec("uvloop") else "asyncio",
        http="httptools" if find_spec("httptools") else "h11",
        access_log=False,
        log_level="info",
        lifespan="on",
    )


def _migrate() -> int:
    from .migrations import migrate  # noqa: PLC0415

    applied = migrate(_database_url())
    print(f"applied {len(applied)} migration(s): {', '.join(applied) or 'none pending'}")
    return 0


def _seed_demo() -> int:
    from .seed import seed_demo  # noqa: PLC0415

    demo = seed_demo(_database_url())
    sys.stdout.write(msgspec.json.encode(demo).decode() + "\n")
    return 0


def _serve() -> int:
    from .asgi import served_app  # noqa: PLC0415

    settings = load_settings()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    run_server(served_app(), settings.host, settings.port)
    return 0


def _openapi() -> int:
    from .openapi_document import default_path, write  # noqa: PLC0415

    print(write(default_path()))
    return 0


def _purge_recordings() -> int:
    from .recordings.purge import purge_expired  # noqa: PLC0415

    report = asyncio.run(purge_expired(_database_url()))
    sys.stdout.write(msgspec.json.encode(report).decode() + "\n")
    return EXIT_FAILURE if report.failed else 0


COMMANDS = {
    "migrate": _migrate,
    "seed-demo": _seed_demo,
    "serve": _serve,
    "purge-recordings": _purge_recordings,
    "openapi": _openapi,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog=PROG, description="LiveKit tokens and the voice training session API."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("migrate", help="apply pending database migrations (DATABASE_URL)")
    commands.add_parser(
        "seed-demo", help="insert the demo users, scenarios and assignments; print them as JSON"
    )
    commands.add_parser("serve", help="run the HTTP API on HOST:PORT")
    commands.add_parser(
        "openapi", help="write the OpenAPI document to contracts/export/openapi.json"
    )
    commands.add_parser(
        "purge-recordings",
        help="delete recordings older than RECORDING_RETENTION_DAYS (files and rows; cron-safe)",
    )
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command]()
    except SettingsError as exc:
        return _fail(str(exc), EXIT_CONFIG)
    except psycopg.Error as exc:
        return _fail(f"database error: {str(exc).strip()}", EXIT_FAILURE)


if __name__ == "__main__":
    sys.exit(main())

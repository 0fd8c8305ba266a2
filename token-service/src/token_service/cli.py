"""`token-service migrate | seed-demo | serve | purge-recordings | grants | openapi`.

Configuration comes from the environment (settings.py; docs/configuration.md). A missing, empty or
invalid variable stops the command with one line on stderr naming every one of them, and exit
code 2 (training_contracts.settings_report).
A database that lacks what the service needs of the application's tables (app_tables.required)
stops `migrate` and `serve` with one line naming what is missing, and exit code 1.
"""

import argparse
import asyncio
import logging
import sys
from importlib.util import find_spec

import msgspec
import psycopg

from training_contracts import EXIT_BAD_SETTINGS

from .app_tables.required import AppTablesError
from .app_tables.standin import StandinError
from .settings import (
    Settings,
    SettingsError,
    environment_help,
    load_database_settings,
    load_schema_settings,
    load_settings,
)

PROG = "token-service"
EXIT_FAILURE = 1


def _fail(message: str, code: int) -> int:
    print(f"{PROG}: {message}", file=sys.stderr)
    return code


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

    settings = load_database_settings()
    applied = migrate(settings.database_url, settings.voice_schema)
    print(
        f"voice schema {settings.voice_schema!r}: applied {len(applied)} migration(s): "
        f"{', '.join(applied) or 'none pending'}"
    )
    return 0


def _seed_demo() -> int:
    from .seed import seed_demo  # noqa: PLC0415

    demo = seed_demo(load_database_settings().database_url)
    sys.stdout.write(msgspec.json.encode(demo).decode() + "\n")
    return 0


def _check_database(settings: Settings) -> None:
    """Raise AppTablesError when the database lacks what the service needs; a database that
    cannot be reached now is left to `/readyz` (the service starts with it down). Blocking
    psycopg, not an event loop of its own: an asyncio connection made before uvicorn's loop
    left the served app measurably slower (`make bench`, the token route)."""
    from .readiness import database_problem_now  # noqa: PLC0415

    try:
        conn = psycopg.connect(settings.database_url, connect_timeout=5)
    except psycopg.OperationalError as exc:
        logging.getLogger("token_service").warning(
            "database unreachable at start (readyz checks it later): %s", str(exc).strip()
        )
        return
    with conn:
        found = database_problem_now(conn, settings.voice_schema)
    if found is not None:
        raise AppTablesError(found)


def _serve() -> int:
    from .asgi import served_app  # noqa: PLC0415

    settings = load_settings()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    _check_database(settings)
    run_server(served_app(), settings.host, settings.port)
    return 0


def _grants(role: str) -> int:
    from .app_tables.grants import grants_text  # noqa: PLC0415

    sys.stdout.write(grants_text(role, load_schema_settings().voice_schema))
    return 0


def _openapi() -> int:
    from .openapi_document import default_path, write  # noqa: PLC0415

    print(write(default_path()))
    return 0


def _purge_recordings() -> int:
    from .recordings.purge import purge_expired  # noqa: PLC0415

    report = asyncio.run(purge_expired())
    sys.stdout.write(msgspec.json.encode(report).decode() + "\n")
    return EXIT_FAILURE if report.failed else 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="LiveKit tokens and the voice training session API.",
        epilog=environment_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser(
        "migrate", help="create or update the voice schema (DATABASE_URL, VOICE_SCHEMA) only"
    ).set_defaults(run=lambda _: _migrate())
    commands.add_parser(
        "seed-demo",
        help="standalone runs: the application's tables from the stand-in where there are none, "
        "and the demo account, users, scenarios and assignments; print them as JSON",
    ).set_defaults(run=lambda _: _seed_demo())
    commands.add_parser("serve", help="run the HTTP API on HOST:PORT").set_defaults(
        run=lambda _: _serve()
    )
    commands.add_parser(
        "purge-recordings",
        help="delete recordings older than RECORDING_RETENTION_DAYS, and the voice state of "
        "sessions the application deleted (files and rows; cron-safe)",
    ).set_defaults(run=lambda _: _purge_recordings())
    grants = commands.add_parser(
        "grants", help="print the GRANTs the service's role needs (VOICE_SCHEMA names its schema)"
    )
    grants.add_argument("role", help="the role the token service connects as")
    grants.set_defaults(run=lambda args: _grants(args.role))
    commands.add_parser(
        "openapi", help="write the OpenAPI document to contracts/export/openapi.json"
    ).set_defaults(run=lambda _: _openapi())
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        code: int = args.run(args)
    except SettingsError as exc:
        return _fail(str(exc), EXIT_BAD_SETTINGS)
    except (AppTablesError, StandinError) as exc:
        return _fail(str(exc), EXIT_FAILURE)
    except psycopg.Error as exc:
        return _fail(f"database error: {str(exc).strip()}", EXIT_FAILURE)
    return code


if __name__ == "__main__":
    sys.exit(main())

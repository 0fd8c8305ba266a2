"""`python -m training_contracts export [--out DIR]`: write the JSON Schema and TypeScript exports.
`python -m training_contracts page-config [--port]`: print the trainee page's PageConfig, as the
page's server answers it, from the page's settings in the environment (page_settings.py); the web
image writes its /config.json with it. `--port` prints the port the page is served on instead."""

import argparse
import sys
from pathlib import Path

import msgspec

from .export import default_export_dir, write
from .page_settings import load_page_settings
from .settings_report import EXIT_BAD_SETTINGS, SettingsError

PROG = "training-contracts"


def _page_config(port: bool) -> int:
    try:
        settings = load_page_settings()
    except SettingsError as exc:
        print(f"{PROG} page-config: {exc}", file=sys.stderr)
        return EXIT_BAD_SETTINGS
    if port:
        print(settings.port)
    else:
        sys.stdout.buffer.write(msgspec.json.encode(settings.page_config()) + b"\n")
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(prog=PROG)
    commands = parser.add_subparsers(dest="command", required=True)
    export = commands.add_parser("export", help="write JSON Schema and a TypeScript module")
    export.add_argument("--out", type=Path, default=default_export_dir())
    page = commands.add_parser(
        "page-config",
        help="print the trainee page's PageConfig (JSON) from the page's settings "
        "(TOKEN_SERVICE_URL, NO_CALLER_TIMEOUT_MS, ICE_SERVERS, DEMO_USER_IDS: docs/configuration.md)",
    )
    page.add_argument("--port", action="store_true", help="print the port (PORT) instead")
    args = parser.parse_args()
    if args.command == "page-config":
        sys.exit(_page_config(args.port))
    for path in write(args.out):
        print(path)


if __name__ == "__main__":
    main()

"""`python -m training_contracts export [--out DIR]`: write the JSON Schema and TypeScript exports.
`python -m training_contracts page-config --token-service-url URL ...`: print the trainee page's
PageConfig as the page's server answers it (the web image writes its /config.json with it)."""

import argparse
import sys
from pathlib import Path
from uuid import UUID

import msgspec

from .export import default_export_dir, write
from .web_page import IceServer, PageConfig


def _ice_servers(text: str) -> list[IceServer]:
    try:
        return msgspec.json.decode(text, type=list[IceServer])
    except msgspec.DecodeError as exc:
        raise argparse.ArgumentTypeError(
            f'a JSON list of RTCIceServer objects ({{"urls": ["stun:..."]}}), not {text!r}: {exc}'
        ) from exc


def _user_ids(text: str) -> list[UUID]:
    try:
        return [UUID(part) for part in text.replace(",", " ").split()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"user ids (UUIDs, comma-separated), not {text!r}"
        ) from exc


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) <= 0:
        raise argparse.ArgumentTypeError(f"a positive number of milliseconds, not {text!r}")
    return int(text)


def main() -> None:
    parser = argparse.ArgumentParser(prog="training-contracts")
    commands = parser.add_subparsers(dest="command", required=True)
    export = commands.add_parser("export", help="write JSON Schema and a TypeScript module")
    export.add_argument("--out", type=Path, default=default_export_dir())
    page = commands.add_parser("page-config", help="print the trainee page's PageConfig (JSON)")
    page.add_argument("--token-service-url", required=True, help="as browsers reach it")
    page.add_argument("--no-caller-timeout-ms", required=True, type=_positive)
    page.add_argument(
        "--ice-servers",
        type=_ice_servers,
        help="a JSON list ([] for host candidates only); left out: the LiveKit server's own",
    )
    page.add_argument("--demo-user-ids", type=_user_ids, default=[], help="comma-separated")
    args = parser.parse_args()
    if args.command == "page-config":
        config = PageConfig(
            token_service_url=args.token_service_url,
            no_caller_timeout_ms=args.no_caller_timeout_ms,
            demo_user_ids=args.demo_user_ids,
            ice_servers=args.ice_servers,
        )
        sys.stdout.buffer.write(msgspec.json.encode(config) + b"\n")
        return
    for path in write(args.out):
        print(path)


if __name__ == "__main__":
    main()

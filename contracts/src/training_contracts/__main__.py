"""`python -m training_contracts export [--out DIR]`: write the JSON Schema and TypeScript exports."""

import argparse
from pathlib import Path

from .export import default_export_dir, write


def main() -> None:
    parser = argparse.ArgumentParser(prog="training-contracts")
    commands = parser.add_subparsers(dest="command", required=True)
    export = commands.add_parser("export", help="write JSON Schema and a TypeScript module")
    export.add_argument("--out", type=Path, default=default_export_dir())
    args = parser.parse_args()
    for path in write(args.out):
        print(path)


if __name__ == "__main__":
    main()

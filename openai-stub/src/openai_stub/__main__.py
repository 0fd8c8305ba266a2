"""`python -m openai_stub --host 127.0.0.1 --port 8090 [--script file.json] [--reply-ms N]`"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from dataclasses import replace

from .script import Script
from .testing import start_stub


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m openai_stub",
        description="Local stand-in for the OpenAI Realtime and chat completions APIs.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=8090, help="port to bind, 0 for a free one (default 8090)"
    )
    parser.add_argument("--script", help="a Script JSON file (default: the built-in script)")
    parser.add_argument(
        "--reply-ms", type=int, help="length of each reply's audio in ms (overrides the script)"
    )
    parser.add_argument("--log-level", default="INFO", help="logging level (default INFO)")
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    script = Script.from_file(args.script) if args.script else Script()
    if args.reply_ms is not None:
        script = replace(script, reply_ms=args.reply_ms)
    stub = await start_stub(script, host=args.host, port=args.port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"openai-stub listening on {stub.base_url}", flush=True)
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        await stub.aclose()
    logging.getLogger("openai_stub").info("stopped")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        asyncio.run(serve(args))
    except (ValueError, OSError) as e:
        print(f"openai-stub: {e}", file=sys.stderr, flush=True)
        return 2
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())

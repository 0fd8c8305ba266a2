"""`python -m devstack up` runs the whole stack in the foreground; `python -m devstack down` stops it.

`up` starts a throwaway Postgres (the stand-in of the Next.js application's tables and demo data,
gone when the stack stops; `--database-url URL` runs on a database of one's own instead, migrating
its voice schema only and seeding nothing unless `--seed-demo`), the OpenAI stub (unless
OPENAI_API_KEY is set: then both services talk to OpenAI, or to OPENAI_BASE_URL), livekit-server
--dev, the token service and the agent worker, prints where they listen, and runs until Ctrl-C or
SIGTERM, then stops everything. Its pid and URLs are kept in `.data/devstack.json`
so that `down`, from another terminal, can stop it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from training_contracts import TOKEN_PATH, USER_ID_HEADER

from .web import DEFAULT_PORT, page_for_up, page_port

_REPO_ROOT = Path(__file__).resolve().parents[3]


def _state_dir() -> Path:
    return Path(os.environ.get("DEVSTACK_STATE_DIR") or _REPO_ROOT / ".data")


def _state_file() -> Path:
    return _state_dir() / "devstack.json"


class _Stop(BaseException):
    """Raised in the main thread by SIGTERM/SIGINT: unwinds into the stack's cleanup."""


def _raise_stop(signum: int, _frame: FrameType | None) -> None:
    # Once: a second Ctrl-C must not interrupt the cleanup the first one started.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    raise _Stop(signal.Signals(signum).name)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _is_devstack(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return _alive(pid)
    return b"devstack" in cmdline and b"up" in cmdline


def _read_state() -> dict[str, Any] | None:
    try:
        state: dict[str, Any] = json.loads(_state_file().read_text())
    except (OSError, ValueError):
        return None
    return state


def _write_state(state: dict[str, Any]) -> None:
    _state_dir().mkdir(parents=True, exist_ok=True)
    tmp = _state_file().with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2))
    tmp.replace(_state_file())


def _print_summary(info: dict[str, Any]) -> None:
    demo = info["demo"]
    print("\nThe stack is up.", flush=True)
    if info.get("webUrl"):
        print(f"  trainee page    {info['webUrl']}  (open it to practise a call)")
    print(f"  token service   {info['tokenServiceUrl']}  (OpenAPI: /schema)")
    print(f"  livekit-server  {info['livekitUrl']}  (keys devkey / secret)")
    if info["openaiBaseUrl"]:
        print(f"  OpenAI stub     {info['openaiBaseUrl']}  (state: /_stub/state)")
    else:
        print("  OpenAI          the real one (OPENAI_API_KEY is set)")
    if info.get("ownDatabase"):
        print(f"  Postgres        {info['databaseUrl']}  (yours: its voice schema migrated)")
    else:
        print(f"  Postgres        {info['databaseUrl']}  (throwaway: gone when the stack stops)")
    print(f"  logs            {info['logDir']}")
    if "nodes" in info:
        _print_cluster(info)
    print("\nDemo users:")
    for user in demo.get("users", []):
        print(
            f"  user {user.get('userId')}  assignment {user.get('assignmentId')}  "
            f"scenario {user.get('scenarioId')}"
        )
    for scenario in demo.get("scenarios", []):
        print(f"  scenario {scenario.get('id')}  {scenario.get('title')!r}")
    users = demo.get("users")
    if users:
        body = json.dumps({"assignmentId": users[0]["assignmentId"]})
        print("\nA token for the first demo user's assignment:")
        print(
            f"  curl -s -X POST {info['tokenServiceUrl']}{TOKEN_PATH} "
            f"-H '{USER_ID_HEADER}: {users[0]['userId']}' -H 'content-type: application/json' "
            f"-d '{body}'"
        )
    else:
        print("  (none seeded: a token needs one of your users' ids, the application's users.id)")
    print("\nCtrl-C (or `python -m devstack down`) stops everything.", flush=True)


def _print_cluster(info: dict[str, Any]) -> None:
    print(f"\nCluster: Redis {info['redis']}")
    for name, url in info["nodes"].items():
        print(f"  {name:<16}{url}")
    for name, url in info["tokenServices"].items():
        print(f"  {name:<16}{url}")
    for name, placed in info["workers"].items():
        print(
            f"  {name:<16}registered with {placed['node']}, stores through {placed['tokenService']}"
        )
    print("Metrics (loopback only):")
    for name, url in info["metrics"].items():
        print(f"  {name:<16}{url}")


def up(args: argparse.Namespace) -> int:
    # `down` must not pay for importing the stack
    from .cluster import ClusterStack  # noqa: PLC0415
    from .stack import Stack  # noqa: PLC0415

    previous = _read_state()
    if previous and _alive(int(previous["pid"])) and _is_devstack(int(previous["pid"])):
        print(
            f"devstack: already running (pid {previous['pid']}); `python -m devstack down` first",
            file=sys.stderr,
        )
        return 1
    log_dir = Path(args.log_dir) if args.log_dir else _state_dir() / "devstack-logs"
    ports: dict[str, Any] = {}
    if not args.free_ports:
        ports = {
            "livekit_port": args.livekit_port,
            "token_service_port": args.token_service_port,
            "stub_port": args.stub_port,
        }
    _write_state({"pid": os.getpid(), "status": "starting", "logDir": str(log_dir)})
    web_port = page_port(free=args.free_ports, port=args.web_port)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _raise_stop)
    shape = ClusterStack if args.cluster else Stack
    stack = shape(
        log_dir=log_dir,
        use_stub=not os.environ.get("OPENAI_API_KEY"),
        on_status=lambda msg: print(f"devstack: {msg}", flush=True),
        database_url=args.database_url,
        seed_demo=True if args.seed_demo else None,
        **ports,
    )
    try:
        with stack, page_for_up(stack, web_port, lambda m: print(f"devstack: {m}")) as page:
            info = {**stack.describe(), **page}
            _write_state({"pid": os.getpid(), "status": "up", **info})
            _print_summary(info)
            while True:
                time.sleep(1.0)
                if stack.agent is not None and not stack.agent.process.running:
                    print(
                        "devstack: the agent worker exited; its log tail:\n"
                        + stack.agent.process.log_tail(),
                        file=sys.stderr,
                        flush=True,
                    )
                    return 1
    except _Stop as stop:
        print(f"\ndevstack: {stop.args[0]}, stopping", flush=True)
        return 0
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_IGN)
        state = _read_state()
        if state and state.get("pid") == os.getpid():
            _state_file().unlink(missing_ok=True)
        print("devstack: stopped", flush=True)


def down(args: argparse.Namespace) -> int:
    state = _read_state()
    if state is None:
        print("devstack: nothing running (no state file)")
        return 0
    pid = int(state["pid"])
    if not _alive(pid) or not _is_devstack(pid):
        print(f"devstack: pid {pid} is not running a stack; removing the stale state file")
        _state_file().unlink(missing_ok=True)
        return 0
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + args.timeout
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    if _alive(pid):
        print(f"devstack: pid {pid} did not stop within {args.timeout:.0f} s", file=sys.stderr)
        return 1
    with contextlib.suppress(FileNotFoundError):
        _state_file().unlink()
    print(f"devstack: stopped pid {pid}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    up_parser = commands.add_parser("up", help="run the whole stack in the foreground")
    up_parser.add_argument("--livekit-port", type=int, default=7880)
    up_parser.add_argument("--token-service-port", type=int, default=8000)
    up_parser.add_argument("--stub-port", type=int, default=8090)
    up_parser.add_argument("--web-port", type=int, default=DEFAULT_PORT)
    up_parser.add_argument(
        "--free-ports", action="store_true", help="pick free ports instead of the usual ones"
    )
    up_parser.add_argument(
        "--log-dir", help="where the processes log (default .data/devstack-logs)"
    )
    up_parser.add_argument(
        "--database-url",
        help="run on this Postgres database (the Next.js application's) instead of a throwaway "
        "one: only the voice schema is migrated there (docs/app-database.md)",
    )
    up_parser.add_argument(
        "--seed-demo",
        action="store_true",
        help="with --database-url: insert the demo account, users, scenarios and assignments too",
    )
    up_parser.add_argument(
        "--cluster",
        action="store_true",
        help="Redis, two livekit-server nodes, two workers, two token services (make up-cluster)",
    )
    down_parser = commands.add_parser("down", help="stop the stack `up` started")
    down_parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args(argv)
    return up(args) if args.command == "up" else down(args)


if __name__ == "__main__":
    sys.exit(main())

"""`python -m agent_service start|dev|console|connect`: LiveKit's worker CLI, after a config check.

A `.env` file in the working directory is loaded here (and only here), without overriding the
environment. The settings are validated before LiveKit's CLI starts: a missing or invalid
variable is one line on stderr and exit status 2 (training_contracts.settings_report).
"""

import atexit
import os
import shutil
import sys
import tempfile
import warnings
from pathlib import Path

from dotenv import load_dotenv

from training_contracts import EXIT_BAD_SETTINGS

from .settings import SettingsError, environment_help, load_settings

PROG = "agent-service"
COMMANDS = """\
usage: python -m agent_service COMMAND [OPTIONS]

  start           run the worker (production: JSON logs, health server on AGENT_HEALTH_PORT)
  dev             run the worker in development mode
  console | connect   LiveKit's other worker commands
  download-files  fetch the files LiveKit plugins need (none for the OpenAI plugin)
"""


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else ""
    if command in ("", "-h", "--help", "help"):
        print(COMMANDS + "\n" + environment_help(), end="")
        return 0
    if command == "download-files":
        from livekit.agents.__main__ import main as livekit_main  # noqa: PLC0415

        return livekit_main(["download-files"])

    load_dotenv(Path.cwd() / ".env")
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return EXIT_BAD_SETTINGS

    # The caller uses the Realtime model's own turn detection: the local VAD and end-of-turn
    # weights need not be preloaded into the job processes' image.
    os.environ.setdefault("LIVEKIT_AGENTS_PRELOAD_LOCAL_INFERENCE", "0")
    # livekit-agents' event-loop monitor wakes every job process, warm idle ones included, many
    # times a second (a heartbeat and a watchdog thread), a sizeable share of what a listening
    # call costs (README, "Cost of a call"). Calls here are I/O on one loop with no blocking work
    # to catch; an operator who wants the stall reports sets a threshold explicitly (LiveKit's
    # default is 100 ms).
    os.environ.setdefault("LIVEKIT_AGENTS_LOOP_BLOCK_WARN_MS", "0")
    if settings.metrics_port is not None:
        # Before anything imports prometheus_client, which picks its value store once (metrics.py).
        metrics_dir = settings.metrics_dir
        if metrics_dir is None:
            metrics_dir = Path(tempfile.mkdtemp(prefix="agent-metrics-"))
            atexit.register(shutil.rmtree, metrics_dir, ignore_errors=True)
        metrics_dir.mkdir(parents=True, exist_ok=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)

    # Imported only now: livekit-agents is slow to import, and a configuration error
    # should be reported at once.
    from livekit.agents import cli  # noqa: PLC0415

    from .runtime import Runtime  # noqa: PLC0415
    from .worker import build_server  # noqa: PLC0415

    # run_app is LiveKit's documented way to serve `start`/`dev`; its notice that `lk agent`
    # is the preferred launcher is not actionable for a container's entrypoint.
    warnings.filterwarnings("ignore", message="the built-in Python CLI is deprecated")
    cli.run_app(build_server(Runtime.from_settings(settings)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

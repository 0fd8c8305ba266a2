"""Run a test suite in a network namespace of its own, so WebRTC never sees an interface change.

Shared CI hosts start and stop containers beside us; every new or vanished interface makes
libwebrtc restart ICE, which can stall a call for seconds and, on a loaded machine, time it out.
In a namespace of our own nothing changes: loopback carries every process of the stack (all bind
127.0.0.1), and one veth pair gives libwebrtc the non-loopback interface it needs before it
gathers any candidate at all.

The suites whose calls carry media use it: a pytest suite calls `reexec_in_namespace` from its
`pytest_configure`, which replaces the pytest process with the same command inside
`unshare --net`; anything else runs as `python -m devstack.netns COMMAND...`. Root only (CI is
root); `TESTS_NETNS=host` runs in the host's namespace instead, e.g. as a non-root developer,
accepting the flakiness this avoids.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from collections.abc import Sequence

ENV_FLAG = "TESTS_NETNS"
INSIDE = "inside"
HOST = "host"

_SETUP = (
    "ip link set lo up"
    " && ip link add netns-a type veth peer name netns-b"
    " && ip addr add 10.213.0.1/30 dev netns-a && ip addr add 10.213.0.2/30 dev netns-b"
    " && ip link set netns-a up && ip link set netns-b up"
)


class NamespaceError(RuntimeError):
    pass


def command(argv: Sequence[str]) -> list[str]:
    """`argv` wrapped to run in a fresh network namespace set up as above."""
    return ["unshare", "--net", "sh", "-c", f"{_SETUP} && exec {shlex.join(argv)}"]


def exec_in_namespace(argv: Sequence[str]) -> None:
    """Replace this process with `argv` inside a namespace of its own, unless already inside one
    (or told to stay on the host): then `argv` runs here."""
    mode = os.environ.get(ENV_FLAG, "")
    if mode not in (INSIDE, HOST):
        if os.geteuid() != 0 or shutil.which("unshare") is None or shutil.which("ip") is None:
            raise NamespaceError(
                "this suite runs in a network namespace of its own, which needs root, unshare "
                f"and ip; run as root, or set {ENV_FLAG}={HOST} to run in the host's namespace"
            )
        os.environ[ENV_FLAG] = INSIDE
        argv = command(argv)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execvp(argv[0], list(argv))  # noqa: S606 - argv is the caller's own command


def reexec_in_namespace(pytest_args: Sequence[str]) -> None:
    """From `pytest_configure`: run this pytest again inside a namespace, unless already inside
    one (or told to stay on the host), in which case it returns and the suite goes on."""
    if os.environ.get(ENV_FLAG, "") in (INSIDE, HOST):
        return
    exec_in_namespace([sys.executable, "-m", "pytest", *pytest_args])

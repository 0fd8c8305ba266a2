"""Run the suite in a network namespace of its own, so WebRTC never sees an interface change.

Shared CI hosts start and stop containers beside us; every new or vanished interface makes
libwebrtc restart ICE, which can stall a call for seconds. In a namespace of our own nothing
changes: loopback carries every process of the stack (all bind 127.0.0.1), and one veth pair
gives libwebrtc the non-loopback interface it needs before it gathers any candidate at all.

`reexec_in_namespace` replaces the current pytest process with the same command inside
`unshare --net` (root only, which CI is). `FAULTS_NETNS=host` runs in the host's namespace
instead, e.g. as a non-root developer, accepting the flakiness this avoids.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from collections.abc import Sequence

ENV_FLAG = "FAULTS_NETNS"
INSIDE = "inside"
HOST = "host"

_SETUP = (
    "ip link set lo up"
    " && ip link add faults-a type veth peer name faults-b"
    " && ip addr add 10.213.0.1/30 dev faults-a && ip addr add 10.213.0.2/30 dev faults-b"
    " && ip link set faults-a up && ip link set faults-b up"
)


class NamespaceError(RuntimeError):
    pass


def command(argv: Sequence[str]) -> list[str]:
    """`argv` wrapped to run in a fresh network namespace set up as above."""
    return ["unshare", "--net", "sh", "-c", f"{_SETUP} && exec {shlex.join(argv)}"]


def reexec_in_namespace(pytest_args: Sequence[str]) -> None:
    """Unless already inside (or told to stay on the host), exec pytest again inside."""
    mode = os.environ.get(ENV_FLAG, "")
    if mode in (INSIDE, HOST):
        return
    if os.geteuid() != 0 or shutil.which("unshare") is None or shutil.which("ip") is None:
        raise NamespaceError(
            "tests-faults runs in a network namespace of its own, which needs root, unshare "
            f"and ip; run as root, or set {ENV_FLAG}={HOST} to run in the host's namespace"
        )
    os.environ[ENV_FLAG] = INSIDE
    argv = command([sys.executable, "-m", "pytest", *pytest_args])
    sys.stdout.flush()
    sys.stderr.flush()
    os.execvp(argv[0], argv)  # noqa: S606 - argv is ours: unshare, sh and this pytest

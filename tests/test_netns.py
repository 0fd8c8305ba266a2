"""devstack.netns: the media suites' own network namespace holds loopback and one veth pair,
nothing from the host, and `TESTS_NETNS=host` opts out."""

import os
import subprocess
import sys

from devstack import netns


def links(env_flag: str | None) -> set[str]:
    env = {k: v for k, v in os.environ.items() if k != netns.ENV_FLAG}
    if env_flag is not None:
        env[netns.ENV_FLAG] = env_flag
    shown = subprocess.run(
        [sys.executable, "-m", "devstack.netns", "ip", "-o", "link", "show", "up"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    return {line.split(":")[1].strip().split("@")[0] for line in shown.splitlines()}


def test_inside_only_loopback_and_the_veth_pair_are_up() -> None:
    assert links(None) == {"lo", "netns-a", "netns-b"}


def test_host_runs_the_command_in_the_hosts_namespace() -> None:
    assert "netns-a" not in links(netns.HOST)
    assert "lo" in links(netns.HOST)


def test_the_command_is_wrapped_in_unshare_and_quoted() -> None:
    wrapped = netns.command(["echo", "a b"])
    assert wrapped[:3] == ["unshare", "--net", "sh"]
    assert wrapped[-1].endswith("exec echo 'a b'")

"""A command in a network namespace of its own whose only way out is the wire.

Inside, loopback stays down and every destination, 127.0.0.0/8 included, is routed into the wire's
inner TUN device; outside, the outer TUN device accepts packets for 127.0.0.1 (`route_localnet`).
So the command reaches every server of this namespace at the very addresses it was given
(`ws://127.0.0.1:PORT`, livekit-server's ICE candidates on 127.0.0.1), with no address rewritten,
and every packet it exchanges with them, TCP and UDP alike, crosses the wire. The servers see it
come from its own address on the wire and answer there. The default route matters too:
livekit-server answers ICE checks from whichever of its addresses it likes (the suite's veth
address, not 127.0.0.1), and the command must be able to answer back. Nothing else of this
namespace is touched, so the stack's own traffic stays clean.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address

from .impairment import Impairment
from .tun import open_tun
from .wire import Wire

__all__ = ["Link", "run_wired"]

_SUBNET_BASE = IPv4Address("10.214.0.0")
"""Point-to-point /30s are taken from 10.214.0.0/16, one per relay (devstack.netns uses 10.213)."""
_LINKS = 16_384


@dataclass(frozen=True)
class Link:
    """The wire's two ends: interface names and addresses, distinct per relay process."""

    inside_dev: str
    outside_dev: str
    inside_ip: str
    outside_ip: str

    @classmethod
    def for_process(cls, pid: int) -> Link:
        n = pid % _LINKS
        base = _SUBNET_BASE + 4 * n
        return cls(f"bad{n}i", f"bad{n}o", str(base + 2), str(base + 1))

    def inside_script(self) -> str:
        dev = self.inside_dev
        return (
            f"sysctl -qw net.ipv6.conf.{dev}.disable_ipv6=1"
            f" && ip addr add {self.inside_ip} peer {self.outside_ip} dev {dev}"
            f" && ip link set {dev} up"
            f" && sysctl -qw net.ipv4.conf.{dev}.route_localnet=1"
            f" && ip route add 127.0.0.0/8 dev {dev} src {self.inside_ip}"
            f" && ip route add default dev {dev} src {self.inside_ip}"
        )

    def outside_script(self) -> str:
        dev = self.outside_dev
        return (
            f"sysctl -qw net.ipv6.conf.{dev}.disable_ipv6=1"
            f" && ip addr add {self.outside_ip} peer {self.inside_ip} dev {dev}"
            f" && ip link set {dev} up"
            f" && sysctl -qw net.ipv4.conf.{dev}.route_localnet=1"
        )


async def _own_namespace(pid: int, within: float = 10.0) -> None:
    """Until process `pid` has left this network namespace: `unshare` creates its own only
    after it started, and a device moved there before would stay here."""
    ours = os.readlink("/proc/self/ns/net")
    deadline = asyncio.get_running_loop().time() + within
    while os.readlink(f"/proc/{pid}/ns/net") == ours:
        if asyncio.get_running_loop().time() > deadline:
            raise RuntimeError(f"process {pid} did not enter a network namespace of its own")
        await asyncio.sleep(0.01)


def _sh(script: str, *, in_pid: int | None = None) -> None:
    argv = ["sh", "-c", script]
    if in_pid is not None:
        argv = ["nsenter", f"--net=/proc/{in_pid}/ns/net", *argv]
    done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=30)
    if done.returncode != 0:
        raise RuntimeError(f"setting up the wire failed: {script}: {done.stderr.strip()}")


async def _start_child(argv: Sequence[str], link: Link) -> asyncio.subprocess.Process:
    """`argv` in a new network namespace, held at its start until the wire is in place."""
    gate_read, gate_write = os.pipe()
    try:
        child = await asyncio.create_subprocess_exec(
            "unshare",
            "--net",
            "sh",
            "-c",
            # EOF instead of "go" (the relay died first) ends it before the command runs.
            f'read go <&{gate_read} && exec {gate_read}<&- && exec "$@"',
            "sh",
            *argv,
            pass_fds=(gate_read,),
        )
    finally:
        os.close(gate_read)
    try:
        await _own_namespace(child.pid)
        _sh(f"ip link set dev {link.inside_dev} netns {child.pid}")
        _sh(link.inside_script(), in_pid=child.pid)
        _sh(link.outside_script())
        os.write(gate_write, b"go\n")
    except BaseException:
        child.kill()
        await child.wait()
        raise
    finally:
        os.close(gate_write)
    return child


async def run_wired(
    argv: Sequence[str], impairment: Impairment, seed: int
) -> tuple[int, Wire, Link]:
    """Run `argv` behind the impaired wire until it exits; returns its exit code, the wire (for
    its counts) and the link. SIGTERM and SIGINT are passed on to the command."""
    link = Link.for_process(os.getpid())
    outside = open_tun(link.outside_dev)
    inside = open_tun(link.inside_dev)
    try:
        wire = Wire(inside, outside, impairment, seed)
        child = await _start_child(argv, link)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, child.send_signal, sig)
        relay = asyncio.create_task(wire.run(), name="wire")
        try:
            code = await child.wait()
        finally:
            wire.close()
            await relay
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
    finally:
        os.close(inside)
        os.close(outside)
    return code, wire, link

"""A TUN device: a network interface whose packets a process reads and writes as whole IP packets.

Opened with the one ioctl it takes (TUNSETIFF, linux/if_tun.h) rather than a wrapper package: the
wrappers on the index are C extensions around this same call. The device exists while its file
descriptor is open and vanishes with it.
"""

from __future__ import annotations

import fcntl
import os
import struct

__all__ = ["IFNAMSIZ", "open_tun"]

IFNAMSIZ = 16
_TUNSETIFF = 0x400454CA
_IFF_TUN = 0x0001
_IFF_NO_PI = 0x1000  # bare IP packets, no 4-byte packet-information header


def open_tun(name: str) -> int:
    """Create the TUN device `name` in this thread's network namespace; returns its non-blocking
    file descriptor, one IP packet per read and per write."""
    if not 0 < len(name) < IFNAMSIZ:
        raise ValueError(f"interface name {name!r}: 1 to {IFNAMSIZ - 1} characters")
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        fcntl.ioctl(fd, _TUNSETIFF, struct.pack("16sH", name.encode(), _IFF_TUN | _IFF_NO_PI))
    except OSError:
        os.close(fd)
        raise
    return fd

"""A bad network for one process: loss and delay on every packet it exchanges with the stack.

The kernel here has no netem (`tc qdisc ... netem`: "Specified qdisc kind is unknown"), so the
impairment is done in user space: the process runs in a network namespace of its own (`namespace`)
joined to ours by two TUN devices, and a relay (`wire`) copies each IP packet from one device to
the other, losing or delaying it (`impairment`, seeded). Working at the IP layer, it treats TCP
(signalling, the token request, ICE over TCP) and UDP (media) alike, with the kernel's own
retransmissions on top, as a real path would.

`python -m devstack.badnet --loss 0.1 --delay-ms 100 --jitter-ms 30 -- python -m devstack.trainee ...`
puts a trainee behind it.
"""

from .impairment import Fate, Impairment
from .namespace import Link, run_wired
from .tun import open_tun
from .wire import Wire

__all__ = ["Fate", "Impairment", "Link", "Wire", "open_tun", "run_wired"]

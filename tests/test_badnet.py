"""devstack.badnet: the impairment is drawn per packet from a seeded generator, and a command run
behind the wire reaches this namespace's 127.0.0.1 over TCP and UDP, lossy and late, while
traffic that does not cross the wire stays clean."""

import json
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from devstack.badnet import Fate, Impairment

_PROBE = Path(__file__).with_name("badnet_probe.py")
_NETWORK = ("--loss", "0.2", "--delay-ms", "50", "--jitter-ms", "10", "--seed", "3")


def fates(impairment: Impairment, seed: str, packets: int = 2000) -> list[float | None]:
    fate = Fate(impairment, seed)
    return [fate.departure(i * 0.02) for i in range(packets)]


def test_the_same_seed_gives_the_same_fates() -> None:
    network = Impairment(loss=0.1, delay_ms=100, jitter_ms=30)
    assert fates(network, "7:up") == fates(network, "7:up")
    assert fates(network, "7:up") != fates(network, "7:down")


def test_loss_and_delay_follow_the_impairment() -> None:
    network = Impairment(loss=0.1, delay_ms=100, jitter_ms=30)
    departures = fates(network, "1:up", packets=20_000)
    delays = [d - i * 0.02 for i, d in enumerate(departures) if d is not None]
    assert 0.09 < 1 - len(delays) / len(departures) < 0.11
    assert 0.0699 < min(delays) < 0.072
    assert 0.128 < max(delays) <= 0.130
    assert statistics.fmean(delays) == pytest.approx(0.100, abs=0.001)


def test_in_order_never_lets_a_packet_overtake() -> None:
    network = Impairment(delay_ms=100, jitter_ms=30, in_order=True)
    departures = [d for d in fates(network, "1:up") if d is not None]
    assert departures == sorted(departures)
    reordering = Impairment(delay_ms=100, jitter_ms=30)
    overtaken = [d for d in fates(reordering, "1:up") if d is not None]
    assert overtaken != sorted(overtaken)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"loss": 1.0}, "loss"),
        ({"loss": -0.1}, "loss"),
        ({"delay_ms": 10, "jitter_ms": 20}, "jitter"),
    ],
)
def test_an_impossible_impairment_is_refused(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Impairment(**kwargs)


def test_udp_and_tcp_cross_the_wire_lossy_and_late_and_nothing_else_does() -> None:
    """Root: namespaces and TUN devices (CI runs as root, as the media suites need)."""
    done = subprocess.run(
        [sys.executable, "-m", "devstack.netns", sys.executable, str(_PROBE), *_NETWORK],
        capture_output=True,
        text=True,
        check=True,
        timeout=180,
    )
    result = json.loads(done.stdout.splitlines()[-1])
    assert result["exitCode"] == 0, result["stderr"]
    probe, wire = result["probe"], result["wire_closed"]
    # Each ping crosses the wire twice: 80 % x 80 % come back, 80 to 120 ms later.
    assert 0.5 * 200 < probe["echoed"] < 0.8 * 200, probe["echoed"]
    assert min(probe["rtts"]) >= 0.080
    assert max(probe["rtts"]) < 0.500  # 120 ms and whatever a loaded machine adds
    # TCP retransmits what the wire lost: everything arrives, in order.
    assert probe["tcpIntact"]
    for direction in ("up", "down"):
        counts = wire[direction]
        assert counts["dropped"] > 0.15 * counts["packets"], wire
    # The server's own namespace is not impaired.
    assert result["directRtt"] < 0.010

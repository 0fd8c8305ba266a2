"""The trainee's receiver statistics of the caller's audio, reduced to what explains its quality
(names as in the W3C `RTCInboundRtpStreamStats`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["ReceiverSummary", "summarize"]

_RATE = 48_000
"""Opus's RTP clock: the sample counts below are at this rate."""


@dataclass(frozen=True)
class ReceiverSummary:
    codec: str
    """mimeType and fmtp line of what arrived (audio/opus, or audio/red when RED came through)."""
    packets_received: int
    packets_lost: int
    packets_discarded: int
    """Arrived too late for playout, or dropped by a jitter-buffer flush."""
    fec_packets_received: int
    concealed_ms: float
    """Audio the decoder made up for packets it did not have (silent concealment excluded)."""
    concealment_events: int
    inserted_ms: float
    """Stretched in to slow playout down (the buffer ran low)."""
    removed_ms: float
    """Cut out to speed playout up (the buffer ran high)."""
    jitter_buffer_ms: float
    """Mean time a sample waited in the jitter buffer."""
    target_delay_ms: float
    transport: str
    """The selected candidate pair's protocol (udp, tcp)."""

    def line(self) -> str:
        return (
            f"{self.codec}; {self.packets_received} packets, {self.packets_lost} lost, "
            f"{self.packets_discarded} discarded, {self.fec_packets_received} FEC; concealed "
            f"{self.concealed_ms:.0f} ms in {self.concealment_events} events; stretched "
            f"+{self.inserted_ms:.0f}/-{self.removed_ms:.0f} ms; jitter buffer "
            f"{self.jitter_buffer_ms:.0f} ms (target {self.target_delay_ms:.0f}); {self.transport}"
        )


def _int(section: dict[str, Any], key: str) -> int:
    return int(section.get(key, 0))


def summarize(report: dict[str, Any]) -> ReceiverSummary:
    """From the `receiver_stats` event of `python -m devstack.trainee` (receiver_stats.py)."""
    [inbound_rtp] = report["inbound_rtp"]
    received = inbound_rtp.get("received", {})
    inbound = inbound_rtp.get("inbound", {})
    codecs = {c["rtc"]["id"]: c["codec"] for c in report.get("codec", [])}
    codec = codecs.get(inbound_rtp.get("stream", {}).get("codecId", ""), {})
    emitted = max(_int(inbound, "jitterBufferEmittedCount"), 1)
    pairs = [p["candidatePair"] for p in report.get("candidate_pair", [])]
    nominated = [p for p in pairs if p.get("nominated")]
    local = {c["rtc"]["id"]: c["candidate"] for c in report.get("local_candidate", [])}
    transport = "?"
    if nominated:
        transport = local.get(nominated[0]["localCandidateId"], {}).get("protocol", "?")
    return ReceiverSummary(
        codec=f"{codec.get('mimeType', '?')} ({codec.get('sdpFmtpLine', '')})",
        packets_received=_int(received, "packetsReceived"),
        packets_lost=_int(received, "packetsLost"),
        packets_discarded=_int(inbound, "packetsDiscarded"),
        fec_packets_received=_int(inbound, "fecPacketsReceived"),
        concealed_ms=1000
        * (_int(inbound, "concealedSamples") - _int(inbound, "silentConcealedSamples"))
        / _RATE,
        concealment_events=_int(inbound, "concealmentEvents"),
        inserted_ms=1000 * _int(inbound, "insertedSamplesForDeceleration") / _RATE,
        removed_ms=1000 * _int(inbound, "removedSamplesForAcceleration") / _RATE,
        jitter_buffer_ms=1000 * float(inbound.get("jitterBufferDelay", 0.0)) / emitted,
        target_delay_ms=1000 * float(inbound.get("jitterBufferTargetDelay", 0.0)) / emitted,
        transport=transport,
    )

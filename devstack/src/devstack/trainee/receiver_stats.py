"""The receiving side's WebRTC statistics of one audio track, as JSON-ready dicts."""

from __future__ import annotations

from typing import Any

from google.protobuf.json_format import MessageToDict
from livekit import rtc

__all__ = ["receiver_stats"]


async def receiver_stats(track: rtc.Track) -> dict[str, Any]:
    """Every stats object of the track's receiver (codec, inbound-rtp, transport, candidate
    pairs...), keyed by its type, as `RTCStatsReport` names them."""
    report: dict[str, list[dict[str, Any]]] = {}
    for stats in await track.get_stats():
        kind = stats.WhichOneof("stats")
        if kind is None:
            continue
        report.setdefault(kind, []).append(MessageToDict(getattr(stats, kind)))
    return report

"""devstack.voicecheck: each line's reply is the model's response that started after it and before
the next line ended; a reply the caller gave first is not one of them; a line without a reply
fails the call; the receiver's statistics are read the way the W3C names them."""

from typing import Any

import pytest

from devstack.voicecheck import CallError
from devstack.voicecheck.call import _replies_heard
from devstack.voicecheck.receiver import summarize


def line(text: str, wall: float) -> dict[str, Any]:
    return {"event": "said", "text": text, "wall": wall, "atSample": 0}


def response(rid: str, started: float | None) -> dict[str, Any]:
    return {"id": rid, "audio_started_at": started, "reply_ms": 1500, "audio_ms": 1500}


def test_each_line_gets_the_reply_that_followed_it() -> None:
    said = [line("one", 10.0), line("two", 20.0)]
    responses = [response("hello", 5.0), response("r1", 11.0), response("r2", 21.0)]
    assert [r["id"] for r in _replies_heard(said, responses)] == ["r1", "r2"]


def test_a_line_without_a_reply_fails_the_call() -> None:
    said = [line("one", 10.0), line("two", 20.0)]
    responses = [response("r2", 21.0), response("never spoken", None)]
    with pytest.raises(CallError, match="one"):
        _replies_heard(said, responses)


def test_the_receiver_summary_reads_inbound_rtp_codec_and_the_pair() -> None:
    report = {
        "codec": [{"rtc": {"id": "C1"}, "codec": {"mimeType": "audio/opus", "sdpFmtpLine": "x"}}],
        "inbound_rtp": [
            {
                "stream": {"codecId": "C1"},
                "received": {"packetsReceived": "300", "packetsLost": "30"},
                "inbound": {
                    "packetsDiscarded": "200",
                    "concealedSamples": "14400",
                    "silentConcealedSamples": "4800",
                    "concealmentEvents": 5,
                    "insertedSamplesForDeceleration": "480",
                    "removedSamplesForAcceleration": "960",
                    "jitterBufferDelay": 60.0,
                    "jitterBufferTargetDelay": 90.0,
                    "jitterBufferEmittedCount": "1000",
                },
            }
        ],
        "candidate_pair": [{"candidatePair": {"nominated": True, "localCandidateId": "L"}}],
        "local_candidate": [{"rtc": {"id": "L"}, "candidate": {"protocol": "udp"}}],
    }
    summary = summarize(report)
    assert summary.codec == "audio/opus (x)"
    assert (summary.packets_received, summary.packets_lost) == (300, 30)
    assert summary.packets_discarded == 200
    assert summary.concealed_ms == pytest.approx(200.0)
    assert summary.inserted_ms == pytest.approx(10.0)
    assert summary.removed_ms == pytest.approx(20.0)
    assert summary.jitter_buffer_ms == pytest.approx(60.0)
    assert summary.target_delay_ms == pytest.approx(90.0)
    assert summary.transport == "udp"

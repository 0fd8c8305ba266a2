"""devstack.voice_quality: a reply heard as sent scores near PESQ's ceiling wherever it sits in
the recording; one heard with gaps scores low; the alignment finds where it was heard."""

import numpy as np
import numpy.typing as npt
import pytest

from devstack.voice_quality import PESQ_RATE, align, resample, score_reply
from openai_stub.audio import sent_audio
from openai_stub.session_config import SAMPLE_RATE as MODEL_RATE


@pytest.fixture(scope="module")
def reply() -> npt.NDArray[np.int16]:
    """The stub's reply clip, as the model sends it, at PESQ's rate."""
    sent = np.frombuffer(sent_audio(None, 2000), dtype="<i2").astype(np.int16)
    return resample(sent, MODEL_RATE)


def heard_at(reply: npt.NDArray[np.int16], delay_s: float) -> npt.NDArray[np.int16]:
    before = np.zeros(int(delay_s * PESQ_RATE), dtype=np.int16)
    after = np.zeros(PESQ_RATE, dtype=np.int16)
    return np.concatenate([before, reply, after])


def test_resampling_keeps_the_length_in_time(reply: npt.NDArray[np.int16]) -> None:
    assert len(reply) == pytest.approx(2.0 * PESQ_RATE, abs=PESQ_RATE // 100)


def test_the_alignment_finds_the_reply(reply: npt.NDArray[np.int16]) -> None:
    offset, correlation = align(reply, heard_at(reply, 0.731))
    assert offset == int(0.731 * PESQ_RATE)
    assert correlation == pytest.approx(1.0)


def test_a_reply_heard_as_sent_scores_near_the_ceiling(reply: npt.NDArray[np.int16]) -> None:
    score = score_reply(reply, heard_at(reply, 1.25))
    assert score.mos > 4.4
    assert score.offset_s == pytest.approx(1.25)


def test_a_reply_heard_with_gaps_scores_low(reply: npt.NDArray[np.int16]) -> None:
    gappy = reply.copy()
    for start in range(0, len(gappy), PESQ_RATE // 5):  # 40 ms lost in every 200 ms
        gappy[start : start + PESQ_RATE // 25] = 0
    assert score_reply(reply, heard_at(gappy, 0.5)).mos < 2.5

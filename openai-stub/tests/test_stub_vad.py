import pytest

from openai_stub import audio
from openai_stub.vad import EnergyVAD, SpeechStarted, SpeechStopped, rms


def test_rms_of_silence_tone_and_empty_input() -> None:
    assert rms(b"") == 0.0
    assert rms(audio.silence(100)) == 0.0
    # a sine's RMS is its amplitude / sqrt(2)
    assert rms(audio.tone(100, amplitude=8000)) == pytest.approx(8000 / 2**0.5, rel=0.01)


def test_speech_starts_after_200ms_and_stops_after_the_configured_silence() -> None:
    vad = EnergyVAD(silence_ms=300)
    assert vad.push(audio.silence(300)) == []
    # the first 100 ms of speech are not enough
    assert vad.push(audio.tone(100)) == []
    assert vad.push(audio.tone(100)) == [SpeechStarted(audio_start_ms=300)]
    assert vad.speaking
    assert vad.push(audio.tone(400) + audio.silence(200)) == []
    assert vad.push(audio.silence(100)) == [SpeechStopped(audio_end_ms=1200)]
    assert not vad.speaking


def test_default_silence_is_500ms() -> None:
    vad = EnergyVAD()
    events = vad.push(audio.tone(300) + audio.silence(400))
    assert events == [SpeechStarted(audio_start_ms=0)]
    assert vad.push(audio.silence(100)) == [SpeechStopped(audio_end_ms=800)]


def test_quiet_audio_and_short_blips_are_not_speech() -> None:
    vad = EnergyVAD()
    quiet = audio.tone(2000, amplitude=500)  # RMS about 354, under the 500 threshold
    assert vad.push(quiet) == []
    # 100 ms blips separated by 200 ms gaps never add up to a start
    blips = (audio.tone(100) + audio.silence(200)) * 5
    assert vad.push(blips) == []
    assert not vad.speaking


def test_short_pauses_inside_a_word_do_not_reset_the_start() -> None:
    vad = EnergyVAD()
    # 100 ms speech, 100 ms pause, 100 ms speech: 200 ms of speech without a 200 ms gap
    events = vad.push(audio.tone(100) + audio.silence(100) + audio.tone(100))
    assert events == [SpeechStarted(audio_start_ms=0)]


def test_chunk_boundaries_do_not_matter() -> None:
    signal = audio.silence(250) + audio.tone(700) + audio.silence(650)
    whole = EnergyVAD().push(signal)
    pieces: list[object] = []
    vad = EnergyVAD()
    for start in range(0, len(signal), 1234):  # odd-sized pieces, some splitting a sample
        pieces.extend(vad.push(signal[start : start + 1234]))
    assert pieces == whole
    assert [type(e) for e in whole] == [SpeechStarted, SpeechStopped]


def test_the_shipped_voice_clip_is_one_turn() -> None:
    vad = EnergyVAD()
    events = vad.push(audio.silence(500) + audio.clip() + audio.silence(600))
    assert [type(e) for e in events] == [SpeechStarted, SpeechStopped]
    assert events[0] == SpeechStarted(audio_start_ms=500)


def test_reset_forgets_speech_but_keeps_the_clock() -> None:
    vad = EnergyVAD()
    assert vad.push(audio.tone(300)) == [SpeechStarted(audio_start_ms=0)]
    vad.reset()
    assert not vad.speaking
    assert vad.audio_ms == 300
    assert vad.push(audio.silence(1000)) == []
    assert vad.push(audio.tone(200)) == [SpeechStarted(audio_start_ms=1300)]

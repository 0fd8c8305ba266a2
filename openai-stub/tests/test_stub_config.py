import json
from pathlib import Path
from typing import Any

import pytest

from openai_stub import audio
from openai_stub.script import DEFAULT_REPLIES, Script, default_evaluation
from openai_stub.session_config import (
    DEFAULT_SILENCE_MS,
    TurnDetection,
    audio_output,
    deep_merge,
    default_session,
    transcription_enabled,
    turn_detection,
)


def test_deep_merge_is_partial_recursive_and_honours_explicit_nulls() -> None:
    base: dict[str, Any] = {
        "instructions": "old",
        "tools": [{"name": "a"}],
        "audio": {
            "input": {"transcription": {"model": "m"}, "turn_detection": {"type": "server_vad"}},
            "output": {"voice": "marin", "speed": 1.0},
        },
    }
    update: dict[str, Any] = {
        "tools": [],
        "audio": {"input": {"transcription": None}, "output": {"voice": "alloy"}},
        "tracing": None,
    }
    merged = deep_merge(base, update)
    assert merged == {
        "instructions": "old",
        "tools": [],
        "audio": {
            "input": {"transcription": None, "turn_detection": {"type": "server_vad"}},
            "output": {"voice": "alloy", "speed": 1.0},
        },
        "tracing": None,
    }
    # neither input is modified, and the result shares nothing with them
    assert base["audio"]["output"]["voice"] == "marin"
    assert update["audio"]["output"] == {"voice": "alloy"}
    merged["audio"]["input"]["turn_detection"]["type"] = "changed"
    assert base["audio"]["input"]["turn_detection"]["type"] == "server_vad"


def test_a_dict_replaces_a_null_and_a_null_replaces_a_dict() -> None:
    base: dict[str, Any] = {"a": None, "b": {"x": 1}}
    assert deep_merge(base, {"a": {"y": 2}, "b": None}) == {"a": {"y": 2}, "b": None}


def test_turn_detection_settings_are_read_from_the_session() -> None:
    session = default_session("sess_1", "gpt-realtime")
    assert turn_detection(session) == TurnDetection(silence_ms=DEFAULT_SILENCE_MS)
    semantic = deep_merge(
        session,
        {
            "audio": {
                "input": {
                    "turn_detection": {
                        "type": "semantic_vad",
                        "silence_duration_ms": None,
                        "create_response": False,
                        "interrupt_response": False,
                    }
                }
            }
        },
    )
    assert turn_detection(semantic) == TurnDetection(
        silence_ms=500, create_response=False, interrupt_response=False
    )
    fast = deep_merge(
        session, {"audio": {"input": {"turn_detection": {"silence_duration_ms": 200}}}}
    )
    assert turn_detection(fast) == TurnDetection(silence_ms=200)
    off = deep_merge(session, {"audio": {"input": {"turn_detection": None}}})
    assert turn_detection(off) is None


def test_transcription_and_output_modality_flags() -> None:
    session = default_session("sess_1", "gpt-realtime")
    assert not transcription_enabled(session)
    assert transcription_enabled(
        deep_merge(session, {"audio": {"input": {"transcription": {"model": "x"}}}})
    )
    assert audio_output(session)
    assert not audio_output(deep_merge(session, {"output_modalities": ["text"]}))


def test_script_defaults_cycle_and_the_first_reply_is_what_the_clip_says() -> None:
    script = Script()
    assert script.reply(0) == "Hi. I don't really know why I called."
    assert script.reply(len(DEFAULT_REPLIES)) == script.reply(0)
    assert script.user_transcript(1) == script.user_transcripts[1]
    assert script.user_transcript(len(script.user_transcripts) + 1) == script.user_transcripts[1]
    assert json.loads(script.evaluation_content()) == default_evaluation()


def test_default_evaluation_has_the_shape_the_token_service_asks_for() -> None:
    evaluation = default_evaluation()
    assert set(evaluation) == {"overallScore", "summary", "strengths", "improvements"}
    assert isinstance(evaluation["overallScore"], int)
    assert 0 <= evaluation["overallScore"] <= 100
    for key in ("strengths", "improvements"):
        for observation in evaluation[key]:
            assert set(observation) == {"point", "turnOrders"}
            assert all(isinstance(t, int) and t >= 1 for t in observation["turnOrders"])


def test_script_from_json_file(tmp_path: Path) -> None:
    path = tmp_path / "script.json"
    path.write_text(
        json.dumps(
            {
                "user_transcripts": ["one"],
                "replies": ["r1", "r2"],
                "evaluation": {"overallScore": 10},
                "reply_ms": 800,
            }
        )
    )
    script = Script.from_file(path)
    assert script.user_transcript(5) == "one"
    assert script.reply(3) == "r2"
    assert json.loads(script.evaluation_content()) == {"overallScore": 10}
    assert script.reply_ms == 800
    assert Script.from_dict(script.to_dict()) == script


def test_evaluation_raw_is_returned_verbatim() -> None:
    assert Script(evaluation_raw="not json").evaluation_content() == "not json"


@pytest.mark.parametrize(
    "data",
    [
        [],
        {"unknown": 1},
        {"replies": []},
        {"replies": "text"},
        {"user_transcripts": [1]},
        {"evaluation": [1]},
        {"chat_error_status": 200},
        {"chat_error_status": True},
        {"reply_ms": 10},
        {"transcript_delay_ms": -1},
    ],
)
def test_invalid_scripts_are_refused(data: object) -> None:
    with pytest.raises(ValueError, match=r"\S"):
        Script.from_dict(data)


def test_invalid_json_is_refused() -> None:
    with pytest.raises(ValueError, match="not valid JSON"):
        Script.from_json("{")


def test_reply_audio_is_the_clip_cut_or_repeated() -> None:
    clip = audio.clip()
    assert 1500 <= audio.duration_ms(clip) <= 2500
    assert len(clip) < 150_000
    assert audio.reply_audio() == clip
    assert audio.reply_audio(1000) == clip[: 1000 * audio.BYTES_PER_MS]
    long = audio.reply_audio(5000)
    assert audio.duration_ms(long) == 5000
    assert long.startswith(clip + audio.silence(audio.GAP_MS) + clip[:100])
    pieces = audio.chunks(audio.reply_audio(1050))
    assert [audio.duration_ms(p) for p in pieces] == [100] * 10 + [50]

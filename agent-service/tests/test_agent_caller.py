"""The caller's prompts and the Agent the worker runs."""

from livekit import rtc
from livekit.agents import room_io
from livekit.plugins.openai.realtime import RealtimeModel

from agent_service.caller import (
    DEFAULT_CALLER_PROMPT,
    SPEAKING_STYLE,
    CallerAgent,
    RealtimeConfig,
    call_room_options,
    caller_instructions,
)

SCENARIO_PROMPT = (
    "You are Priya, 19, a first-year student calling after a panic attack in the library.\n"
    "  Keep this indented line exactly as written: {braces} and *asterisks* stay.\n"
)


def test_free_practice_uses_the_default_caller() -> None:
    instructions = caller_instructions(None)
    assert instructions.startswith(DEFAULT_CALLER_PROMPT.rstrip())
    assert instructions.endswith(SPEAKING_STYLE)


def test_a_scenario_prompt_is_used_verbatim_instead_of_the_default() -> None:
    instructions = caller_instructions(SCENARIO_PROMPT)
    assert SCENARIO_PROMPT.rstrip() in instructions
    assert instructions.startswith(SCENARIO_PROMPT.rstrip())
    assert "Alex" not in instructions
    assert instructions.endswith(SPEAKING_STYLE)


def test_the_default_caller_is_a_person_in_crisis_who_stays_in_character() -> None:
    prompt = DEFAULT_CALLER_PROMPT.lower()
    for must in ("alex", "helpline", "suicide", "lectur", "advice", "no plan"):
        assert must in prompt, must
    style = SPEAKING_STYLE.lower()
    for must in (
        "one to three short sentences",
        "never use lists",
        "never say or hint that you are an ai",
    ):
        assert must in style, must


def test_caller_agent_runs_the_realtime_model_with_input_transcription() -> None:
    agent = CallerAgent(
        scenario_prompt=SCENARIO_PROMPT,
        realtime=RealtimeConfig(
            api_key="k", base_url="http://127.0.0.1:9/v1", model="gpt-realtime", voice="alloy"
        ),
    )
    assert agent.instructions == caller_instructions(SCENARIO_PROMPT)
    model = agent.llm
    assert isinstance(model, RealtimeModel)
    assert model.model == "gpt-realtime"
    assert model.capabilities.user_transcription
    assert model._opts.input_audio_transcription is not None
    assert model._opts.voice == "alloy"
    assert model._opts.base_url == "http://127.0.0.1:9/v1"
    assert model._opts.turn_detection is not None


def test_the_caller_publishes_its_voice_with_red() -> None:
    """docs/bad-network.md: RED is what a trainee on a lossy network recovers from. Both are set
    explicitly, so that a change of the SDK's defaults cannot turn them off."""
    output = call_room_options().audio_output
    assert isinstance(output, room_io.AudioOutputOptions)
    options = output.track_publish_options
    assert options.source == rtc.TrackSource.SOURCE_MICROPHONE
    assert options.HasField("red")
    assert options.red
    assert options.HasField("dtx")
    assert options.dtx

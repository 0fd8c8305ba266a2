"""The forkserver's warm-up leaves nothing for a call's first Realtime events to build, and an
OpenAI SDK whose private helpers no longer work as the warm-up assumes fails here.

The event checks run in a fresh interpreter: the validators are cached per process, and this test
process has built many of them already.
"""

import json
import logging
import subprocess
import sys
import types
from typing import Any, Union, get_origin

import openai._models
import pydantic
import pytest

from agent_service import warmup

# Server events of one call, as the Realtime plugin parses them with `construct()`: every one has
# a union-typed field (the item, the usage, the logprobs, the response's output).
EVENTS = [
    (
        "ConversationItemInputAudioTranscriptionCompletedEvent",
        {
            "type": "conversation.item.input_audio_transcription.completed",
            "event_id": "ev_1",
            "item_id": "item_1",
            "content_index": 0,
            "transcript": "Hello, you've reached the support line.",
            "usage": {"type": "tokens", "input_tokens": 9, "output_tokens": 8, "total_tokens": 17},
            "logprobs": [{"token": "Hello", "bytes": [72], "logprob": -0.1}],
        },
    ),
    (
        "ConversationItemAdded",
        {
            "type": "conversation.item.added",
            "event_id": "ev_2",
            "previous_item_id": None,
            "item": {
                "id": "item_2",
                "type": "message",
                "role": "assistant",
                "status": "completed",
                "content": [{"type": "output_audio", "transcript": "Hi."}],
            },
        },
    ),
    (
        "ResponseDoneEvent",
        {
            "type": "response.done",
            "event_id": "ev_3",
            "response": {
                "id": "resp_1",
                "object": "realtime.response",
                "status": "completed",
                "output": [
                    {
                        "id": "item_2",
                        "type": "message",
                        "role": "assistant",
                        "content": [{"type": "output_audio", "transcript": "Hi."}],
                    }
                ],
                "usage": {
                    "total_tokens": 10,
                    "input_tokens": 4,
                    "output_tokens": 6,
                    "input_token_details": {"cached_tokens": 0, "text_tokens": 4},
                    "output_token_details": {"text_tokens": 2, "audio_tokens": 4},
                },
            },
        },
    ),
]

PROGRAM = """
import json, sys
if sys.argv[1] == "warm":
    import agent_service.warmup
from openai._models import TypeAdapter
from openai.types import realtime
events = json.loads(sys.argv[2])
before = TypeAdapter.cache_info().misses
for name, payload in events:
    getattr(realtime, name).construct(**payload)
print(TypeAdapter.cache_info().misses - before)
"""


def _validators_built(mode: str) -> int:
    result = subprocess.run(
        [sys.executable, "-c", PROGRAM, mode, json.dumps(EVENTS)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return int(result.stdout.strip())


def test_the_first_events_of_a_call_build_no_validator_after_the_warm_up() -> None:
    assert _validators_built("warm") == 0


def test_without_the_warm_up_the_same_events_build_validators() -> None:
    # the control: what the warm-up saves the call's event loop
    assert _validators_built("cold") > 0


def test_the_sdk_helpers_the_warm_up_follows_are_the_ones_construct_type_calls() -> None:
    # An SDK upgrade that moves or replaces them fails here rather than leaving calls cold.
    sdk = warmup.sdk_internals()
    assert sdk is not None
    for name, helper in sdk._asdict().items():
        assert getattr(openai._models, name) is helper, name


def _adapters_built() -> int:
    """Validators the SDK's per-process TypeAdapter cache has built so far."""
    cached: Any = vars(openai._models)["TypeAdapter"]
    return int(cached.cache_info().misses)


def test_validate_type_builds_one_cached_validator_per_union_type() -> None:
    sdk = warmup.sdk_internals()
    assert sdk is not None

    class Fresh(pydantic.BaseModel):  # a union no validator was built for yet in this process
        count: int

    union: Any = Union[Fresh, int]  # noqa: UP007 - the SDK's Realtime types spell unions so
    assert sdk.is_union(get_origin(union))
    before = _adapters_built()
    for _ in range(2):
        with pytest.raises(pydantic.ValidationError):
            sdk.validate_type(type_=union, value=object())
    assert _adapters_built() - before == 1


def test_without_the_sdk_helpers_the_warm_up_says_so(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(sys.modules, "openai._compat", types.ModuleType("openai._compat"))
    with caplog.at_level(logging.ERROR, logger="agent_service.warmup"):
        assert warmup.sdk_internals() is None
    [record] = caplog.records
    assert record.getMessage().startswith("the OpenAI SDK's private helpers moved")

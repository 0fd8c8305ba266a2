"""The forkserver's warm-up leaves nothing for a call's first Realtime events to build.

Each check runs in a fresh interpreter: the validators are cached per process, and this test
process has built many of them already.
"""

import json
import subprocess
import sys

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

"""`usage` in `response.done` and in chat completions, shaped and counted as OpenAI reports it."""

from typing import Any

import aiohttp
from stub_test_helpers import realtime_client
from test_stub_realtime import VAD_SESSION, configure

from openai_stub import audio
from openai_stub.testing import StubHandle
from openai_stub.usage import UsageMeter


def details(usage: dict[str, Any]) -> tuple[int, int, int, int, int]:
    """(input text, input audio, cached, output text, output audio)"""
    given, produced = usage["input_token_details"], usage["output_token_details"]
    return (
        given["text_tokens"],
        given["audio_tokens"],
        given["cached_tokens"],
        produced["text_tokens"],
        produced["audio_tokens"],
    )


def test_every_response_reads_the_whole_conversation_and_the_cache_serves_what_was_read() -> None:
    meter = UsageMeter()
    items: list[dict[str, Any]] = [{"id": "u1", "type": "message", "role": "user"}]
    meter.user_audio("u1", 1_250)
    first = meter.response(
        instructions="x" * 40, items=items, output_item_id="a1", transcript="Hello?", audio_ms=1_000
    )
    assert details(first) == (10, 13, 0, 2, 20)
    assert first["input_tokens"] == 23
    assert first["output_tokens"] == 22
    assert first["total_tokens"] == 45

    items += [{"id": "a1", "type": "message", "role": "assistant"}]
    items += [{"id": "t1", "role": "user", "content": [{"type": "input_text", "text": "y" * 8}]}]
    second = meter.response(
        instructions="x" * 40, items=items, output_item_id="a2", transcript="", audio_ms=0
    )
    # the assistant's spoken reply is read back as audio; the text item is two tokens
    assert details(second) == (12, 33, 23, 0, 0)
    cached = second["input_token_details"]["cached_tokens_details"]
    assert cached["text_tokens"] + cached["audio_tokens"] == 23


async def test_response_done_reports_the_user_audio_and_the_spoken_reply(stub: StubHandle) -> None:
    stub.set_script({"user_transcripts": ["Hello, you're through to the line."], "reply_ms": 500})
    async with realtime_client(stub) as client:
        await configure(client, {**VAD_SESSION, "instructions": "z" * 400})
        await client.append_audio(audio.silence(200) + audio.tone(600) + audio.silence(500))
        first = (await client.until("response.done"))[-1]["response"]["usage"]
        await client.send({"type": "response.create"})
        second = (await client.until("response.done"))[-1]["response"]["usage"]

    text_in, audio_in, cached, text_out, audio_out = details(first)
    assert text_in == 100
    assert audio_in >= 11  # at least the 1.1 s up to the end of speech, at 10 tokens a second
    assert cached == 0
    assert text_out > 0
    assert audio_out == 10  # 500 ms at 20 tokens a second
    assert first["input_tokens"] == text_in + audio_in
    assert first["output_tokens"] == text_out + audio_out
    assert second["input_token_details"]["cached_tokens"] == first["input_tokens"]
    assert second["input_token_details"]["audio_tokens"] == audio_in + audio_out


async def test_chat_completion_usage_has_the_token_details(stub: StubHandle) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            stub.url + "/v1/chat/completions",
            headers={"Authorization": "Bearer k"},
            json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "a" * 400}]},
        ) as response,
    ):
        usage = (await response.json())["usage"]
    assert usage["prompt_tokens"] >= 100
    assert usage["prompt_tokens_details"] == {"cached_tokens": 0, "audio_tokens": 0}
    assert usage["completion_tokens_details"]["reasoning_tokens"] == 0
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]

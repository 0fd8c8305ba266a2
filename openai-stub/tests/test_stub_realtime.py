"""The Realtime protocol as the stub speaks it, driven by a bare WebSocket client."""

import base64
import time
from typing import Any

import aiohttp
import pytest
from stub_test_helpers import Event, RealtimeClient, closed_connections, realtime_client, types

from devstack.waits import until
from openai_stub import audio
from openai_stub.testing import StubHandle

FATAL_CODES = {
    "insufficient_quota",
    "credit_balance_exhausted",
    "invalid_api_key",
    "account_deactivated",
    "billing_hard_limit_reached",
}

VAD_SESSION: dict[str, Any] = {
    "type": "realtime",
    "audio": {
        "input": {
            "transcription": {"model": "gpt-4o-mini-transcribe"},
            "turn_detection": {
                "type": "server_vad",
                "silence_duration_ms": 300,
                "create_response": True,
                "interrupt_response": True,
            },
        }
    },
}


async def configure(client: RealtimeClient, session: dict[str, Any]) -> Event:
    await client.send({"type": "session.update", "session": session})
    return await client.expect("session.updated")


def assert_recoverable_error(event: Event, code: str) -> None:
    assert event["type"] == "error"
    assert event["error"]["code"] == code
    assert event["error"]["code"] not in FATAL_CODES
    assert event["error"]["type"] not in FATAL_CODES


async def test_upgrade_without_bearer_token_is_refused_before_accepting(stub: StubHandle) -> None:
    async with aiohttp.ClientSession() as http:
        for headers in ({}, {"Authorization": "Bearer "}, {"Authorization": "Basic abc"}):
            with pytest.raises(aiohttp.WSServerHandshakeError) as info:
                await http.ws_connect(stub.url + "/v1/realtime?model=x", headers=headers)
            assert info.value.status == 401
    assert stub.connections() == []


@pytest.mark.parametrize(
    "path", ["/v1/realtime", "/realtime", "/openai/realtime", "/openai/v1/realtime"]
)
async def test_every_realtime_path_serves_a_session(stub: StubHandle, path: str) -> None:
    async with realtime_client(stub, path + "?model=gpt-realtime"):
        pass
    [conn] = await until("closed connection", closed_connections(stub), 5.0, context=stub.summary)
    assert conn["path"] == path
    assert conn["model"] == "gpt-realtime"
    assert conn["server_event_counts"] == {"session.created": 1}


async def test_session_update_merges_partial_updates_and_tracks_instructions(
    stub: StubHandle,
) -> None:
    async with realtime_client(stub) as client:
        first = await configure(
            client,
            {
                "type": "realtime",
                "instructions": "SCENARIO PROMPT X",
                "audio": {
                    "input": {"transcription": {"model": "m"}, "noise_reduction": None},
                    "output": {"voice": "cedar"},
                },
            },
        )
        assert first["session"]["instructions"] == "SCENARIO PROMPT X"
        assert first["session"]["audio"]["output"] == {
            "format": {"type": "audio/pcm", "rate": 24000},
            "voice": "cedar",
            "speed": 1.0,
        }
        second = await configure(
            client, {"type": "realtime", "instructions": None, "tools": [{"name": "t"}]}
        )
        session = second["session"]
        assert session["instructions"] is None  # an explicit null clears it
        assert session["tools"] == [{"name": "t"}]
        assert session["audio"]["input"]["transcription"] == {"model": "m"}
        assert session["audio"]["output"]["voice"] == "cedar"

        [conn] = stub.connections()
        assert conn["session"] == session
        # the latest non-null instructions, for tests to assert the prompt that was used
        assert conn["instructions"] == "SCENARIO PROMPT X"
        assert conn["client_events"] == ["session.update", "session.update"]


async def test_item_create_answers_added_with_the_real_previous_item(stub: StubHandle) -> None:
    def message(item_id: str, text: str) -> dict[str, Any]:
        return {
            "id": item_id,
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": text}],
        }

    async with realtime_client(stub) as client:
        await client.send({"type": "conversation.item.create", "item": message("a", "one")})
        added = await client.expect("conversation.item.added")
        assert added["item"]["id"] == "a"
        assert added["previous_item_id"] is None
        assert added["item"]["content"] == [{"type": "input_text", "text": "one"}]

        await client.send({"type": "conversation.item.create", "item": message("b", "two")})
        assert (await client.expect("conversation.item.added"))["previous_item_id"] == "a"

        await client.send(
            {
                "type": "conversation.item.create",
                "previous_item_id": "root",
                "item": message("c", "zero"),
            }
        )
        assert (await client.expect("conversation.item.added"))["previous_item_id"] is None

        await client.send(
            {"type": "conversation.item.create", "previous_item_id": "a", "item": message("d", "")}
        )
        assert (await client.expect("conversation.item.added"))["previous_item_id"] == "a"

        await client.send(
            {"type": "conversation.item.create", "event_id": "ev_dup", "item": message("a", "x")}
        )
        dup = await client.expect("error")
        assert_recoverable_error(dup, "item_create_duplicate_item_id")
        assert dup["error"]["event_id"] == "ev_dup"

        await client.send({"type": "conversation.item.delete", "item_id": "b"})
        assert (await client.expect("conversation.item.deleted"))["item_id"] == "b"
        await client.send(
            {"type": "conversation.item.delete", "event_id": "ev_del", "item_id": "nope"}
        )
        missing = await client.expect("error")
        assert_recoverable_error(missing, "item_delete_invalid_item_id")
        assert missing["error"]["event_id"] == "ev_del"

        [conn] = stub.connections()
        assert [i["id"] for i in conn["items"]] == ["c", "a", "d"]
        assert [i["text"] for i in conn["items"]] == ["zero", "one", ""]


async def test_response_create_streams_a_complete_response(stub: StubHandle) -> None:
    stub.set_script({"replies": ["Hi. I don't really know why I called."], "reply_ms": 1000})
    async with realtime_client(stub) as client:
        await client.send(
            {
                "type": "conversation.item.create",
                "item": {"id": "u1", "type": "message", "role": "user", "content": []},
            }
        )
        await client.expect("conversation.item.added")
        started = time.monotonic()
        wall_started = time.time()
        await client.send(
            {
                "type": "response.create",
                "event_id": "response_create_1",
                "response": {"metadata": {"client_event_id": "response_create_1"}},
            }
        )
        events = await client.until("response.done")
        elapsed = time.monotonic() - started

    kinds = types(events)
    assert kinds[:4] == [
        "response.created",
        "response.output_item.added",
        "conversation.item.added",
        "response.content_part.added",
    ]
    assert kinds[-5:] == [
        "response.output_audio_transcript.done",
        "response.output_audio.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.done",
    ]
    assert set(kinds[4:-5]) == {
        "response.output_audio.delta",
        "response.output_audio_transcript.delta",
    }

    created = events[0]["response"]
    assert created["status"] == "in_progress"
    assert created["metadata"] == {"client_event_id": "response_create_1"}
    response_id = created["id"]
    item = events[1]["item"]
    assert item["type"] == "message"
    assert item["role"] == "assistant"
    assert item["status"] == "in_progress"
    assert events[2]["item"]["id"] == item["id"]
    assert events[2]["previous_item_id"] == "u1"
    for event in events[1:]:
        if "response_id" in event:
            assert event["response_id"] == response_id
        if "item_id" in event:
            assert event["item_id"] == item["id"]

    deltas = [e for e in events if e["type"] == "response.output_audio.delta"]
    pcm = b"".join(base64.b64decode(e["delta"]) for e in deltas)
    assert pcm == audio.reply_audio(1000)
    assert len(deltas) == 10  # 100 ms each
    assert elapsed >= 0.9  # real-time pace
    transcript = "".join(
        e["delta"] for e in events if e["type"] == "response.output_audio_transcript.delta"
    )
    assert transcript == "Hi. I don't really know why I called."
    assert events[-5]["transcript"] == transcript

    done = events[-1]["response"]
    assert done["id"] == response_id
    assert done["status"] == "completed"
    assert done["metadata"] == {"client_event_id": "response_create_1"}
    assert done["output"][0]["id"] == item["id"]
    assert done["output"][0]["status"] == "completed"
    assert done["output"][0]["content"] == [{"type": "output_audio", "transcript": transcript}]

    [conn] = stub.connections()
    assert conn["response_count"] == 1
    assert conn["responses"][0]["status"] == "completed"
    assert conn["responses"][0]["auto"] is False
    # The record tells what was streamed, and when: what a listener should have heard.
    record = conn["responses"][0]
    assert (record["reply_ms"], record["audio_ms"]) == (1000, 1000)
    assert audio.sent_audio(record["reply_ms"], record["audio_ms"]) == pcm
    assert record["audio_started_at"] <= time.time()
    completed_at = conn["items"][-1].pop("completed_at")
    assert conn["items"][-1] == {
        "id": item["id"],
        "type": "message",
        "role": "assistant",
        "status": "completed",
        "text": transcript,
    }
    # complete once its audio had played out in real time
    assert completed_at >= wall_started + 1.0
    assert conn["items"][0]["completed_at"] is None  # created by the client


async def test_response_cancel_ends_the_running_response_as_cancelled(stub: StubHandle) -> None:
    stub.set_script({"reply_ms": 3000})
    async with realtime_client(stub) as client:
        await client.send({"type": "response.create", "response": {"metadata": {"k": "v"}}})
        await client.expect("response.output_audio.delta")
        started = time.monotonic()
        await client.send({"type": "response.cancel"})
        events = await client.until("response.done", timeout_s=1.0)
        assert time.monotonic() - started < 0.5
        done = events[-1]["response"]
        assert done["status"] == "cancelled"
        assert done["status_details"] == {"type": "cancelled", "reason": "client_cancelled"}
        assert done["metadata"] == {"k": "v"}
        item_done = next(e for e in events if e["type"] == "response.output_item.done")
        assert item_done["item"]["status"] == "incomplete"
        # nothing of the cancelled response follows
        assert await client.quiet(0.3) == []

        # the conversation can go on
        await client.send({"type": "response.create"})
        created = await client.expect("response.created")
        assert created["response"]["metadata"] is None

    [conn] = stub.connections()
    assert [(r["status"], r["reason"]) for r in conn["responses"][:1]] == [
        ("cancelled", "client_cancelled")
    ]
    # only what went out before the cancel counts as sent
    assert 0 < conn["responses"][0]["audio_ms"] < 3000


async def test_cancel_without_a_response_is_a_benign_error(stub: StubHandle) -> None:
    async with realtime_client(stub) as client:
        await client.send({"type": "response.cancel"})
        error = await client.expect("error")
        assert_recoverable_error(error, "response_cancel_not_active")
        # the plugin ignores errors whose message starts like this
        assert error["error"]["message"].startswith("Cancellation failed")


async def test_one_response_at_a_time(stub: StubHandle) -> None:
    stub.set_script({"reply_ms": 500})
    async with realtime_client(stub) as client:
        await client.send({"type": "response.create", "event_id": "first"})
        await client.expect("response.created")
        await client.send({"type": "response.create", "event_id": "second"})
        events = await client.until("response.done")
        errors = [e for e in events if e["type"] == "error"]
        assert len(errors) == 1
        assert_recoverable_error(errors[0], "conversation_already_has_active_response")
        assert errors[0]["error"]["event_id"] == "second"
        assert events[-1]["response"]["status"] == "completed"
    assert stub.connections()[0]["response_count"] == 1


async def test_bad_frames_get_errors_and_the_socket_stays_open(stub: StubHandle) -> None:
    async with realtime_client(stub) as client:
        await client.ws.send_str("not json")
        assert_recoverable_error(await client.expect("error"), "invalid_json")
        await client.ws.send_str('{"no": "type"}')
        assert_recoverable_error(await client.expect("error"), "invalid_event")
        await client.ws.send_bytes(b"\x00\x01")
        assert_recoverable_error(await client.expect("error"), "invalid_event")
        await client.send({"type": "session.nonsense", "event_id": "e1"})
        unknown = await client.expect("error")
        assert_recoverable_error(unknown, "invalid_value")
        assert unknown["error"]["event_id"] == "e1"
        await configure(client, {"type": "realtime", "instructions": "still here"})
    [conn] = await until("closed connection", closed_connections(stub), 5.0, context=stub.summary)
    assert conn["instructions"] == "still here"
    assert len(conn["errors"]) == 4


async def test_a_user_turn_detected_by_energy(stub: StubHandle) -> None:
    stub.set_script({"user_transcripts": ["Hello there, how can I help?"], "reply_ms": 300})
    async with realtime_client(stub) as client:
        await configure(client, VAD_SESSION)
        # 600 ms of speech, then silence: speech stops after 300 ms of it
        await client.append_audio(audio.silence(200) + audio.tone(600) + audio.silence(500))
        events = await client.until("response.created")

    kinds = [k for k in types(events) if k != "conversation.item.input_audio_transcription.delta"]
    assert kinds == [
        "input_audio_buffer.speech_started",
        "input_audio_buffer.speech_stopped",
        "input_audio_buffer.committed",
        "conversation.item.added",
        "conversation.item.input_audio_transcription.completed",
        "response.created",
    ]
    started, stopped, committed, added, completed, created = (
        e for e in events if e["type"] != "conversation.item.input_audio_transcription.delta"
    )
    item_id = started["item_id"]
    assert started["audio_start_ms"] == 200
    assert stopped == {**stopped, "item_id": item_id, "audio_end_ms": 1100}
    assert committed["item_id"] == item_id
    assert committed["previous_item_id"] is None
    assert added["previous_item_id"] is None
    assert added["item"] == {
        "id": item_id,
        "object": "realtime.item",
        "type": "message",
        "role": "user",
        "status": "completed",
        "content": [{"type": "input_audio", "transcript": None}],
    }
    assert completed["item_id"] == item_id
    assert completed["content_index"] == 0
    assert completed["transcript"] == "Hello there, how can I help?"
    partials = [
        e["delta"]
        for e in events
        if e["type"] == "conversation.item.input_audio_transcription.delta"
    ]
    assert "".join(partials) == "Hello there, how can I help?"
    assert created["response"]["metadata"] is None

    [conn] = stub.connections()
    assert conn["user_transcripts"] == ["Hello there, how can I help?"]
    [user_item] = [i for i in conn["items"] if i["role"] == "user"]
    assert user_item["completed_at"] is not None  # its transcript was sent
    assert conn["speech"] == [
        {"type": "speech_started", "item_id": item_id, "audio_ms": 200},
        {"type": "speech_stopped", "item_id": item_id, "audio_ms": 1100},
    ]
    assert conn["audio_received_ms"] == 1300
    assert conn["responses"][0]["auto"] is True
    assert conn["client_events"] == ["session.update", "input_audio_buffer.append"]
    assert conn["client_event_counts"]["input_audio_buffer.append"] == 13


async def test_turns_take_the_next_scripted_transcript_and_reply(stub: StubHandle) -> None:
    stub.set_script({"user_transcripts": ["one", "two"], "replies": ["r1", "r2"], "reply_ms": 200})
    async with realtime_client(stub) as client:
        await configure(client, VAD_SESSION)
        transcripts, replies = [], []
        for _ in range(3):
            await client.append_audio(audio.tone(300) + audio.silence(400))
            completed = await client.expect("conversation.item.input_audio_transcription.completed")
            transcripts.append(completed["transcript"])
            done = await client.expect("response.done")
            replies.append(done["response"]["output"][0]["content"][0]["transcript"])
    assert transcripts == ["one", "two", "one"]
    assert replies == ["r1", "r2", "r1"]
    # a new connection starts at the beginning of the script
    async with realtime_client(stub) as client:
        await configure(client, VAD_SESSION)
        await client.append_audio(audio.tone(300) + audio.silence(400))
        completed = await client.expect("conversation.item.input_audio_transcription.completed")
        assert completed["transcript"] == "one"


async def test_create_response_false_and_transcription_off(stub: StubHandle) -> None:
    async with realtime_client(stub) as client:
        await configure(
            client,
            {
                "type": "realtime",
                "audio": {
                    "input": {
                        "transcription": None,
                        "turn_detection": {"type": "semantic_vad", "create_response": False},
                    }
                },
            },
        )
        await client.append_audio(audio.tone(300) + audio.silence(500))
        events = await client.until("conversation.item.added")
        assert types(events) == [
            "input_audio_buffer.speech_started",
            "input_audio_buffer.speech_stopped",
            "input_audio_buffer.committed",
            "conversation.item.added",
        ]
        assert events[1]["audio_end_ms"] == 800  # semantic_vad: 500 ms of silence
        assert await client.quiet(0.4) == []
    [conn] = stub.connections()
    assert conn["user_transcripts"] == []
    assert conn["response_count"] == 0


async def test_no_turn_detection_means_manual_commit(stub: StubHandle) -> None:
    stub.set_script({"user_transcripts": ["typed by hand"]})
    async with realtime_client(stub) as client:
        await configure(
            client,
            {
                "type": "realtime",
                "audio": {"input": {"transcription": {"model": "m"}, "turn_detection": None}},
            },
        )
        await client.send({"type": "input_audio_buffer.commit", "event_id": "c1"})
        empty = await client.expect("error")
        assert_recoverable_error(empty, "input_audio_buffer_commit_empty")
        assert empty["error"]["event_id"] == "c1"

        await client.append_audio(audio.tone(500) + audio.silence(1000))
        assert await client.quiet(0.3) == []  # no VAD events
        await client.send({"type": "input_audio_buffer.commit"})
        events = await client.until("conversation.item.input_audio_transcription.completed")
        kinds = [k for k in types(events) if not k.endswith(".delta")]
        assert kinds == [
            "input_audio_buffer.committed",
            "conversation.item.added",
            "conversation.item.input_audio_transcription.completed",
        ]
        assert events[-1]["transcript"] == "typed by hand"
        assert await client.quiet(0.3) == []  # a manual commit does not answer

        await client.append_audio(audio.tone(200))
        await client.send({"type": "input_audio_buffer.clear"})
        await client.expect("input_audio_buffer.cleared")
        await client.send({"type": "input_audio_buffer.commit"})
        assert_recoverable_error(await client.expect("error"), "input_audio_buffer_commit_empty")


async def test_speech_during_a_response_cancels_it(stub: StubHandle) -> None:
    stub.set_script({"reply_ms": 3000})
    async with realtime_client(stub) as client:
        await configure(client, VAD_SESSION)
        await client.send({"type": "response.create"})
        await client.expect("response.output_audio.delta")
        await client.append_audio(audio.tone(300))
        events = await client.until("response.done", timeout_s=1.0)
        assert "input_audio_buffer.speech_started" in types(events)
        done = events[-1]["response"]
        assert done["status"] == "cancelled"
        assert done["status_details"] == {"type": "cancelled", "reason": "turn_detected"}

        # the client's own cancel now finds nothing to cancel, which it ignores
        await client.send({"type": "response.cancel"})
        assert_recoverable_error(await client.expect("error"), "response_cancel_not_active")

        # the client truncates what was played
        item_id = done["output"][0]["id"]
        await client.send(
            {
                "type": "conversation.item.truncate",
                "item_id": item_id,
                "content_index": 0,
                "audio_end_ms": 150,
            }
        )
        truncated = await client.expect("conversation.item.truncated")
        assert truncated["item_id"] == item_id
        assert truncated["audio_end_ms"] == 150

        # the user's turn ends and gets its own answer
        await client.append_audio(audio.silence(400))
        await client.expect("input_audio_buffer.speech_stopped")
        created = await client.expect("response.created")
        assert created["response"]["status"] == "in_progress"

    [conn] = stub.connections()
    assert conn["responses"][0]["status"] == "cancelled"
    assert conn["responses"][0]["reason"] == "turn_detected"
    truncated_items = [i for i in conn["items"] if i["id"] == item_id]
    assert truncated_items[0]["truncated_audio_end_ms"] == 150


async def test_interrupt_response_false_lets_the_response_finish(stub: StubHandle) -> None:
    stub.set_script({"reply_ms": 600})
    session = {
        "type": "realtime",
        "audio": {"input": {"turn_detection": {"type": "server_vad", "interrupt_response": False}}},
    }
    async with realtime_client(stub) as client:
        await configure(client, session)
        await client.send({"type": "response.create"})
        await client.expect("response.output_audio.delta")
        await client.append_audio(audio.tone(300))
        events = await client.until("response.done")
        assert "input_audio_buffer.speech_started" in types(events)
        assert events[-1]["response"]["status"] == "completed"


async def test_truncating_an_unknown_item_is_an_error(stub: StubHandle) -> None:
    async with realtime_client(stub) as client:
        await client.send(
            {"type": "conversation.item.truncate", "item_id": "x", "audio_end_ms": 10}
        )
        assert_recoverable_error(await client.expect("error"), "item_truncate_invalid_item_id")


async def test_text_only_sessions_get_text_responses(stub: StubHandle) -> None:
    stub.set_script({"replies": ["Just text."]})
    async with realtime_client(stub) as client:
        await configure(client, {"type": "realtime", "output_modalities": ["text"]})
        await client.send({"type": "response.create"})
        events = await client.until("response.done")
    kinds = types(events)
    assert "response.output_audio.delta" not in kinds
    text = "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")
    assert text == "Just text."
    assert events[-1]["response"]["output"][0]["content"] == [
        {"type": "output_text", "text": "Just text."}
    ]


async def test_a_delayed_transcript_arrives_after_the_reply_starts(stub: StubHandle) -> None:
    stub.set_script({"transcript_delay_ms": 400, "reply_ms": 1000})
    async with realtime_client(stub) as client:
        await configure(client, VAD_SESSION)
        await client.append_audio(audio.tone(300) + audio.silence(300))
        events = await client.until("conversation.item.input_audio_transcription.completed")
    kinds = types(events)
    assert kinds.index("response.created") < kinds.index(
        "conversation.item.input_audio_transcription.completed"
    )


async def test_closing_the_socket_stops_the_response(stub: StubHandle) -> None:
    stub.set_script({"reply_ms": 5000})
    async with realtime_client(stub) as client:
        await client.send({"type": "response.create"})
        await client.expect("response.output_audio.delta")
    [conn] = await until("closed connection", closed_connections(stub), 5.0, context=stub.summary)
    assert conn["closed_at"] is not None
    count = conn["server_event_counts"]["response.output_audio.delta"]

    def ended() -> dict[str, Any] | None:
        [response] = stub.connections()[0]["responses"]
        return response if response["status"] != "in_progress" else None

    # well before the reply's 5 s would end it
    response = await until("end of the response", ended, 2.0, context=stub.summary)
    assert (response["status"], response["reason"]) == ("cancelled", "connection_closed")
    assert response["audio_ms"] < 5000
    assert stub.connections()[0]["server_event_counts"]["response.output_audio.delta"] == count


async def test_out_of_band_text_response(stub: StubHandle) -> None:
    stub.set_script({"replies": ["Aside."]})
    async with realtime_client(stub) as client:
        await client.send(
            {
                "type": "response.create",
                "response": {"conversation": "none", "output_modalities": ["text"]},
            }
        )
        events = await client.until("response.done")
    kinds = types(events)
    assert "conversation.item.added" not in kinds
    assert "response.output_text.delta" in kinds
    assert "response.output_audio.delta" not in kinds
    assert stub.connections()[0]["items"] == []

"""LiveKit's webhooks as room state, attempts closed cut short, and what a late final transcript
does to them; the sweep's claims across processes. livekit-server itself is in tests-faults."""

import asyncio
import base64
import hashlib
from typing import Any
from uuid import UUID, uuid4

import psycopg
from google.protobuf.json_format import MessageToJson
from livekit import api
from livekit.protocol.models import ParticipantInfo, Room
from livekit.protocol.webhook import WebhookEvent
from token_test_helpers import VOICE_SCHEMA, Client, Rows, as_user, assert_error, internal

from token_service.db import connect
from token_service.rooms import repository
from training_contracts import ATTR_ERROR, LIVEKIT_WEBHOOK_PATH

TRAINEE = ParticipantInfo.Kind.STANDARD
AGENT = ParticipantInfo.Kind.AGENT


def event(
    name: str,
    room: str,
    sid: str = "",
    kind: int = TRAINEE,
    attributes: dict[str, str] | None = None,
) -> str:
    participant = ParticipantInfo(
        sid=sid,
        identity=sid,
        kind=kind,  # type: ignore[arg-type]
        attributes=attributes or {},
    )
    return MessageToJson(WebhookEvent(event=name, room=Room(name=room), participant=participant))


def signed(body: str, secret: str = "secret") -> dict[str, str]:  # noqa: S107 - the dev secret
    digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
    token = api.AccessToken("devkey", secret).with_sha256(digest).to_jwt()
    return {"Authorization": token, "Content-Type": "application/webhook+json"}


async def webhook(client: Client, body: str, headers: dict[str, str] | None = None) -> Any:
    return await client.post(
        LIVEKIT_WEBHOOK_PATH,
        content=body.encode(),
        headers=signed(body) if headers is None else headers,
    )


async def session_in_room(client: Client, rows: Rows, room: str) -> tuple[UUID, UUID]:
    """(user, session) of a free practice call the agent started in `room`."""
    user_id = await rows.user()
    body = {"type": "free_practice", "userId": str(user_id), "roomName": room}
    response = await client.post("/api/internal/sessions", json=body, headers=internal())
    assert response.status_code == 200, response.text
    return user_id, UUID(response.json()["sessionId"])


async def room_row(rows: Rows, room: str) -> dict[str, Any]:
    cur = await rows.conn.execute(
        "SELECT session_id, attempt, trainee_sid, agent_sid, waiting_since IS NOT NULL,"
        " next_dispatch_at IS NOT NULL, finished_at IS NOT NULL FROM call_rooms"
        " WHERE room_name = %s",
        (room,),
    )
    row = await cur.fetchone()
    assert row is not None
    keys = ("session", "attempt", "trainee", "agent", "waiting", "due", "finished")
    found = dict(zip(keys, row, strict=True))
    if found["session"] is not None:
        found["session"] = UUID(found["session"])
    return found


def room_name() -> str:
    return f"training-{uuid4().hex[:8]}"


async def test_a_webhook_without_a_valid_signature_is_refused(client: Client) -> None:
    body = event("room_started", room_name())
    assert_error(await webhook(client, body, headers={}), 401, "unauthorized")
    assert_error(await webhook(client, body, headers=signed(body, "wrong")), 401, "unauthorized")
    tampered = signed(body)
    assert_error(await webhook(client, body + " ", headers=tampered), 401, "unauthorized")


async def test_rooms_of_other_apps_are_ignored(client: Client, rows: Rows) -> None:
    response = await webhook(client, event("room_started", "someone-elses-room"))
    assert response.status_code == 204, response.text
    count = "SELECT count(*) FROM call_rooms WHERE room_name = %s"
    assert await rows.value(count, "someone-elses-room") == 0


async def test_participants_move_the_room_between_waiting_and_served(
    client: Client, rows: Rows
) -> None:
    room = room_name()
    _, session_id = await session_in_room(client, rows, room)
    for body in (event("room_started", room), event("participant_joined", room, "PA_t")):
        assert (await webhook(client, body)).status_code == 204
    waiting = await room_row(rows, room)
    assert waiting["session"] == session_id
    assert waiting["trainee"] == "PA_t"
    assert waiting["waiting"]
    assert waiting["due"]

    await webhook(client, event("participant_joined", room, "PA_a", AGENT))
    served = await room_row(rows, room)
    assert served["agent"] == "PA_a"
    assert not served["waiting"]
    assert not served["due"]

    # An older participant of the trainee leaving after a rejoin changes nothing.
    await webhook(client, event("participant_left", room, "PA_old"))
    assert (await room_row(rows, room))["trainee"] == "PA_t"
    await webhook(client, event("participant_left", room, "PA_t"))
    assert (await room_row(rows, room))["trainee"] is None


async def test_a_room_finishing_closes_its_open_attempt_cut_short(
    client: Client, rows: Rows
) -> None:
    room = room_name()
    user_id, session_id = await session_in_room(client, rows, room)
    turns = [{"role": "user", "content": "Hello?", "turnOrder": 1}]
    await client.post(
        f"/api/internal/sessions/{session_id}/transcript", json={"turns": turns}, headers=internal()
    )
    assert_error(
        await client.post(f"/api/sessions/{session_id}/evaluation", headers=as_user(user_id)),
        409,
        "transcript_pending",
    )
    await webhook(client, event("room_finished", room))
    session = (await client.get(f"/api/sessions/{session_id}", headers=as_user(user_id))).json()
    assert session["status"] == "completed"
    assert session["cutShort"] is True
    assert (await room_row(rows, room))["finished"]
    reason = await rows.value("SELECT cut_short FROM attempts WHERE session_id = %s", session_id)
    assert reason == "room_finished"


async def test_a_final_transcript_after_a_cut_short_close_replaces_a_stale_evaluation(
    client: Client, rows: Rows, openai_stub: object
) -> None:
    room = room_name()
    user_id, session_id = await session_in_room(client, rows, room)
    path = f"/api/internal/sessions/{session_id}/transcript"
    first = [{"role": "user", "content": "Hello?", "turnOrder": 1}]
    await client.post(path, json={"turns": first}, headers=internal())
    await webhook(client, event("room_finished", room))
    evaluate = f"/api/sessions/{session_id}/evaluation"
    stale = await client.post(evaluate, headers=as_user(user_id))
    assert stale.status_code == 200, stale.text
    assert stale.json()["cutShort"] is True

    rest = [*first, {"role": "assistant", "content": "Hi. I just needed to talk.", "turnOrder": 2}]
    stored = await client.post(path, json={"turns": rest, "final": True}, headers=internal())
    assert stored.json() == {"received": 2, "stored": 1}
    session = (await client.get(f"/api/sessions/{session_id}", headers=as_user(user_id))).json()
    assert session["status"] == "completed"
    assert "cutShort" not in session  # omitted at its default: the attempt is whole
    fresh = await client.post(evaluate, headers=as_user(user_id))
    assert fresh.status_code == 200, fresh.text
    assert "cutShort" not in fresh.json()
    assert fresh.json()["createdAt"] != stale.json()["createdAt"]
    evaluations = await rows.value(
        "SELECT count(*) FROM attempt_evaluations WHERE session_id = %s", session_id
    )
    assert evaluations == 1


async def test_an_evaluation_of_fewer_turns_than_stored_is_not_saved(
    client: Client, rows: Rows
) -> None:
    from token_service.evaluation import repository as evaluations
    from token_service.evaluation.evaluator import Feedback

    room = room_name()
    _, session_id = await session_in_room(client, rows, room)
    turns = [{"role": "user", "content": "One.", "turnOrder": 1}]
    await client.post(
        f"/api/internal/sessions/{session_id}/transcript", json={"turns": turns}, headers=internal()
    )
    feedback = Feedback(overall_score=50, summary="s", strengths=[], improvements=[])
    await evaluations.save(rows.conn, session_id, 1, turns=0, feedback=feedback, model="m")
    assert (
        await rows.value(
            "SELECT count(*) FROM attempt_evaluations WHERE session_id = %s", session_id
        )
        == 0
    )
    await evaluations.save(rows.conn, session_id, 1, turns=1, feedback=feedback, model="m")
    assert (
        await rows.value(
            "SELECT count(*) FROM attempt_evaluations WHERE session_id = %s", session_id
        )
        == 1
    )


async def test_due_rooms_are_claimed_by_one_sweeper_each_then_given_up(
    fresh_database_url: str,
) -> None:
    rooms = {room_name() for _ in range(6)}
    async with (
        await connect(fresh_database_url, VOICE_SCHEMA) as a,
        await connect(fresh_database_url, VOICE_SCHEMA) as b,
    ):
        for room in rooms:
            await repository.trainee_joined(a, room, "PA_t", 0.0)

        both_claimed = asyncio.Barrier(2)

        async def claim(conn: psycopg.AsyncConnection[Any]) -> set[str]:
            async with conn.transaction():
                due = await repository.claim_due(
                    conn, tries=2, backoff_s=0.0, backoff_max_s=0.0, limit=4
                )
                # the row locks are held until the other process has claimed too
                async with asyncio.timeout(10):
                    await both_claimed.wait()
            return {d.room for d in due}

        first, second = await asyncio.gather(claim(a), claim(b))
        assert not first & second
        assert first | second == rooms
        again = await repository.claim_due(a, tries=2, backoff_s=0.0, backoff_max_s=0.0)
        assert {d.room for d in again} == rooms
        assert {d.dispatches for d in again} == {2}
        assert await repository.claim_due(a, tries=2, backoff_s=0.0, backoff_max_s=0.0) == []
        assert set(await repository.claim_given_up(a, tries=2)) == rooms
        assert await repository.claim_given_up(a, tries=2) == []


async def test_the_next_try_backs_off_doubling_up_to_the_maximum(fresh_database_url: str) -> None:
    room = room_name()
    async with await connect(fresh_database_url, VOICE_SCHEMA) as conn:
        await repository.trainee_joined(conn, room, "PA_t", 0.0)
        waits = []
        for _ in range(3):
            await conn.execute(
                "UPDATE call_rooms SET next_dispatch_at = now() WHERE room_name = %s", (room,)
            )
            await repository.claim_due(conn, tries=5, backoff_s=4.0, backoff_max_s=10.0)
            cur = await conn.execute(
                "SELECT extract(epoch FROM next_dispatch_at - now()) FROM call_rooms"
                " WHERE room_name = %s",
                (room,),
            )
            row = await cur.fetchone()
            assert row is not None
            waits.append(round(float(row[0])))
    assert waits == [4, 8, 10]


async def test_a_caller_that_published_an_error_is_not_replaced(client: Client, rows: Rows) -> None:
    room = room_name()
    await webhook(client, event("participant_joined", room, "PA_t"))
    await webhook(client, event("participant_joined", room, "PA_a", AGENT))
    refused = {ATTR_ERROR: "invalid_metadata"}
    response = await webhook(client, event("participant_left", room, "PA_a", AGENT, refused))
    assert response.status_code == 204, response.text
    left = await room_row(rows, room)
    assert left["agent"] is None
    assert left["trainee"] == "PA_t"
    assert not left["due"]

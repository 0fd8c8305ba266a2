"""Recordings through the HTTP API: which attempts are recorded, the agent's idempotent upload,
the owner's playback with Range, failures, and the OpenAPI document."""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from litestar.testing import AsyncTestClient
from token_test_helpers import Client, Rows, as_user, assert_error, internal, make_settings

from token_service.app import create_app
from token_service.recordings.ogg import opus_stream
from token_service.settings import Settings
from training_contracts import (
    INTERNAL_RECORDING_FAILURE_PATH,
    INTERNAL_RECORDING_PATH,
    INTERNAL_SESSIONS_PATH,
    MAX_RECORDING_BYTES,
    MAX_RECORDING_FAILURE_CHARS,
    RECORDING_MEDIA_TYPE,
    RECORDING_PATH,
    fill,
)

OGG = opus_stream([bytes(range(256))] * 40)
"""Not decodable audio, but what the service checks of it: an Ogg/Opus stream's pages."""


@pytest.fixture
def recordings_dir(tmp_path: Path) -> Path:
    return tmp_path / "recordings"


@pytest.fixture
def settings(database_url: str, recordings_dir: Path) -> Settings:
    return make_settings(database_url, recordings_dir=str(recordings_dir))


@pytest.fixture
async def recording_free_practice(database_url: str, recordings_dir: Path) -> AsyncIterator[Client]:
    settings = make_settings(
        database_url, recordings_dir=str(recordings_dir), record_free_practice="true"
    )
    async with AsyncTestClient(app=create_app(settings)) as test_client:
        yield test_client


async def create(client: Client, body: dict[str, str]) -> dict[str, Any]:
    response = await client.post(INTERNAL_SESSIONS_PATH, json=body, headers=internal())
    assert response.status_code == 200, response.text
    created: dict[str, Any] = response.json()
    return created


async def recorded_session(client: Client, rows: Rows) -> tuple[UUID, UUID, int]:
    """(owner, session, attempt) of a new attempt of an assignment that requires recording."""
    user_id = await rows.user()
    assignment_id = await rows.assignment(user_id)
    await rows.conn.execute(
        "UPDATE assignments SET require_recording = true WHERE id = %s", (assignment_id,)
    )
    created = await create(
        client, {"type": "assignment", "userId": str(user_id), "assignmentId": str(assignment_id)}
    )
    assert created["record"] is True
    return user_id, UUID(created["sessionId"]), created["attempt"]


async def upload(
    client: Client,
    session_id: UUID,
    attempt: int,
    body: bytes = OGG,
    *,
    content_type: str = RECORDING_MEDIA_TYPE,
    headers: dict[str, str] | None = None,
) -> Any:
    return await client.put(
        fill(INTERNAL_RECORDING_PATH, session_id=session_id),
        params={"attempt": attempt},
        content=body,
        headers={**internal(), "Content-Type": content_type, **(headers or {})},
    )


async def play(
    client: Client, user_id: UUID, session_id: UUID, attempt: int | None, range_: str = ""
) -> Any:
    headers = as_user(user_id) | ({"Range": range_} if range_ else {})
    params = {} if attempt is None else {"attempt": attempt}
    return await client.get(
        fill(RECORDING_PATH, session_id=session_id), params=params, headers=headers
    )


async def test_only_attempts_that_require_it_are_recorded(
    client: Client, rows: Rows, recording_free_practice: Client
) -> None:
    user_id = await rows.user()
    plain = await create(
        client,
        {
            "type": "assignment",
            "userId": str(user_id),
            "assignmentId": str(await rows.assignment(user_id)),
        },
    )
    assert "record" not in plain  # false is the default, left off the wire
    free = await create(client, {"type": "free_practice", "userId": str(user_id)})
    assert "record" not in free
    recorded_free = await create(
        recording_free_practice, {"type": "free_practice", "userId": str(user_id)}
    )
    assert recorded_free["record"] is True
    pending = await play(recording_free_practice, user_id, UUID(recorded_free["sessionId"]), None)
    assert_error(pending, 409, "recording_pending")
    none = await play(client, user_id, UUID(plain["sessionId"]), None)
    assert_error(none, 404, "not_found")


async def test_every_attempt_of_a_recorded_assignment_is_recorded(
    client: Client, rows: Rows
) -> None:
    user_id, session_id, first = await recorded_session(client, rows)
    assignment_id = await rows.value("SELECT assignment_id FROM sessions WHERE id = %s", session_id)
    again = await create(
        client, {"type": "assignment", "userId": str(user_id), "assignmentId": str(assignment_id)}
    )
    assert (again["attempt"], again["record"]) == (first + 1, True)
    assert (await upload(client, session_id, first)).status_code == 200
    assert_error(await play(client, user_id, session_id, None), 409, "recording_pending")
    assert (await play(client, user_id, session_id, first)).status_code == 200


async def test_upload_is_stored_once_and_played_back_with_ranges(
    client: Client, rows: Rows, recordings_dir: Path
) -> None:
    user_id, session_id, attempt = await recorded_session(client, rows)
    assert_error(await play(client, user_id, session_id, attempt), 409, "recording_pending")

    first = await upload(client, session_id, attempt)
    assert first.status_code == 200, first.text
    assert first.json() == {"stored": True, "sizeBytes": len(OGG)}
    again = await upload(client, session_id, attempt, OGG + b"a different body")
    assert again.json() == {"stored": False, "sizeBytes": len(OGG)}
    assert (recordings_dir / str(session_id) / f"{attempt}.ogg").read_bytes() == OGG
    assert list((recordings_dir / ".incoming").iterdir()) == []

    whole = await play(client, user_id, session_id, attempt)
    assert whole.status_code == 200
    assert whole.headers["content-type"] == RECORDING_MEDIA_TYPE
    assert whole.headers["accept-ranges"] == "bytes"
    assert whole.content == OGG
    assert (await play(client, user_id, session_id, None)).content == OGG  # current attempt

    part = await play(client, user_id, session_id, attempt, "bytes=10-19")
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 10-19/{len(OGG)}"
    assert part.content == OGG[10:20]
    tail = await play(client, user_id, session_id, attempt, "bytes=-7")
    assert tail.content == OGG[-7:]
    beyond = await play(client, user_id, session_id, attempt, f"bytes={len(OGG)}-")
    assert_error(beyond, 416, "range_not_satisfiable")
    assert beyond.headers["content-range"] == f"bytes */{len(OGG)}"


async def test_owner_only(client: Client, rows: Rows) -> None:
    _, session_id, attempt = await recorded_session(client, rows)
    await upload(client, session_id, attempt)
    stranger = await rows.user()
    assert_error(await play(client, stranger, session_id, attempt), 403, "forbidden")
    assert_error(await play(client, stranger, uuid4(), attempt), 404, "not_found")
    refused = await client.get(fill(RECORDING_PATH, session_id=session_id))
    assert_error(refused, 401, "unauthorized")


async def test_bad_uploads_are_refused_and_leave_nothing(
    client: Client, rows: Rows, recordings_dir: Path
) -> None:
    user_id, session_id, attempt = await recorded_session(client, rows)
    assert_error(await upload(client, session_id, attempt + 1), 404, "not_found")
    assert_error(await upload(client, uuid4(), 1), 404, "not_found")
    wrong_type = await upload(client, session_id, attempt, content_type="audio/wav")
    assert_error(wrong_type, 400, "bad_request")
    corrupted = bytearray(OGG)
    corrupted[-10] ^= 0x01
    for garbage in (
        b"RIFF....WAVE",
        b"OggS" + bytes(range(256)) * 40,  # the capture pattern, then no page
        bytes(corrupted),  # a flipped bit in the last page: its CRC fails
        OGG[:-1],  # cut short inside the last page
        OGG + b"trailing",
        b"",
    ):
        refused = assert_error(
            await upload(client, session_id, attempt, garbage), 400, "bad_request"
        )
        assert "not an Ogg/Opus recording" in refused["message"]
    too_large = await upload(
        client, session_id, attempt, headers={"Content-Length": str(MAX_RECORDING_BYTES + 1)}
    )
    assert_error(too_large, 413, "payload_too_large")
    no_key = await client.put(
        fill(INTERNAL_RECORDING_PATH, session_id=session_id),
        params={"attempt": attempt},
        content=OGG,
        headers={"Content-Type": RECORDING_MEDIA_TYPE},
    )
    assert_error(no_key, 401, "unauthorized")
    assert not (recordings_dir / str(session_id)).exists()
    assert list((recordings_dir / ".incoming").iterdir()) == []
    assert_error(await play(client, user_id, session_id, attempt), 409, "recording_pending")


async def test_a_reported_failure_ends_the_wait(client: Client, rows: Rows) -> None:
    user_id, session_id, attempt = await recorded_session(client, rows)
    for reason in ("a NUL \x00 Postgres cannot store", "x" * (MAX_RECORDING_FAILURE_CHARS + 1)):
        unstorable = await client.post(
            fill(INTERNAL_RECORDING_FAILURE_PATH, session_id=session_id),
            params={"attempt": attempt},
            json={"reason": reason},
            headers=internal(),
        )
        assert_error(unstorable, 400, "bad_request")
    reported = await client.post(
        fill(INTERNAL_RECORDING_FAILURE_PATH, session_id=session_id),
        params={"attempt": attempt},
        json={"reason": "the recorder wrote no file"},
        headers=internal(),
    )
    assert reported.status_code == 204, reported.text
    gone = assert_error(await play(client, user_id, session_id, attempt), 404, "not_found")
    assert "the recorder wrote no file" in gone["message"]
    unknown = await client.post(
        fill(INTERNAL_RECORDING_FAILURE_PATH, session_id=uuid4()),
        params={"attempt": 1},
        json={"reason": "x"},
        headers=internal(),
    )
    assert_error(unknown, 404, "not_found")


async def test_the_openapi_document_describes_recordings(client: Client) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    playback = document["paths"]["/api/sessions/{session_id}/recording"]["get"]
    assert playback["operationId"] == "getRecording"
    responses = playback["responses"]
    assert {"200", "206", "403", "404", "409", "416"} <= set(responses)
    for status in ("200", "206"):
        assert set(responses[status]["content"]) == {RECORDING_MEDIA_TYPE}
        assert responses[status]["headers"]["Accept-Ranges"]["required"] is True
    assert responses["206"]["headers"]["Content-Range"]["required"] is True
    assert responses["416"]["headers"]["Content-Range"]["schema"]["pattern"] == r"^bytes \*/\d+$"
    assert {p["name"] for p in playback["parameters"]} == {"session_id", "attempt", "Range"}
    store = document["paths"]["/api/internal/sessions/{session_id}/recording"]["put"]
    assert set(store["requestBody"]["content"]) == {RECORDING_MEDIA_TYPE}
    assert store["requestBody"]["required"] is True
    assert "/api/internal/sessions/{session_id}/recording/failure" in document["paths"]

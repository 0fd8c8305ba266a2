"""Recordings from the agent's side, against a real token service: the redelivery pass sends a
spooled recording once the service is back, a second upload stores nothing, a recording the
service does not expect is kept under dead/, and a missing one is reported."""

import uuid
from pathlib import Path

import httpx

from agent_service.api_client import InternalApiClient
from agent_service.recording import RecordingSpool
from agent_service.redelivery import redeliver_recordings
from agent_service.retry_policy import RetryPolicy
from devstack.ports import free_port
from devstack.token_service import TokenService
from token_service.recordings.ogg import opus_stream
from training_contracts import (
    ATTEMPT_QUERY,
    RECORDING_PATH,
    USER_ID_HEADER,
    AssignmentSessionRequest,
    CreateSessionResponse,
    fill,
)

FAST = RetryPolicy(retries=1, backoff=0.05, timeout=5.0)
OGG = opus_stream([bytes(range(256))] * 64)


def recorded_user(token_service: TokenService) -> dict[str, str]:
    return next(u for u in token_service.demo["users"] if u["requireRecording"])


async def recorded_attempt(
    client: InternalApiClient, token_service: TokenService
) -> CreateSessionResponse:
    user = recorded_user(token_service)
    request = AssignmentSessionRequest(
        user_id=uuid.UUID(user["userId"]),
        assignment_id=uuid.UUID(user["assignmentId"]),
    )
    created = await client.create_session(request, FAST)
    assert created.record is True
    return created


def spool_file(spool: RecordingSpool, tmp_path: Path, created: CreateSessionResponse) -> Path:
    job_file = tmp_path / "audio.ogg"
    job_file.write_bytes(OGG)
    return spool.adopt(job_file, created.session_id, created.attempt).path


async def play(token_service: TokenService, created: CreateSessionResponse) -> httpx.Response:
    user_id = recorded_user(token_service)["userId"]
    async with httpx.AsyncClient(trust_env=False) as http:
        return await http.get(
            token_service.url + fill(RECORDING_PATH, session_id=created.session_id),
            params={ATTEMPT_QUERY: created.attempt},
            headers={USER_ID_HEADER: user_id},
        )


async def test_a_spooled_recording_is_delivered_once_the_service_is_back(
    token_service: TokenService, tmp_path: Path
) -> None:
    client = InternalApiClient(token_service.url, token_service.internal_key)
    down = InternalApiClient(f"http://127.0.0.1:{free_port()}", token_service.internal_key)
    spool = RecordingSpool(tmp_path / "recordings")
    try:
        created = await recorded_attempt(client, token_service)
        spooled = spool_file(spool, tmp_path, created)
        assert (await play(token_service, created)).status_code == 409

        report = await redeliver_recordings(spool, down, policy=FAST)
        assert (report.delivered, report.failed, report.buried) == (0, 1, 0)
        assert spooled.read_bytes() == OGG  # put back for the next pass

        report = await redeliver_recordings(spool, client, policy=FAST)
        assert (report.delivered, report.failed, report.buried) == (1, 0, 0)
        assert not list(spool.directory.glob("*.ogg*"))
        played = await play(token_service, created)
        assert played.status_code == 200
        assert played.content == OGG

        # A redelivery whose answer was lost sends the file again: nothing is stored twice.
        resent = tmp_path / "resent.ogg"
        resent.write_bytes(OGG)
        ack = await client.put_recording(created.session_id, created.attempt, resent, FAST)
        assert (ack.stored, ack.size_bytes) == (False, len(OGG))
    finally:
        await client.aclose()
        await down.aclose()


async def test_an_unexpected_recording_is_kept_under_dead(
    token_service: TokenService, tmp_path: Path
) -> None:
    client = InternalApiClient(token_service.url, token_service.internal_key)
    spool = RecordingSpool(tmp_path / "recordings")
    try:
        created = await recorded_attempt(client, token_service)
        unexpected = CreateSessionResponse(
            session_id=created.session_id, attempt=created.attempt + 5
        )
        spool_file(spool, tmp_path, unexpected)
        report = await redeliver_recordings(spool, client, policy=FAST)
    finally:
        await client.aclose()
    assert (report.delivered, report.buried) == (0, 1)
    assert [p.name for p in spool.dead_directory.iterdir()] == [
        f"{created.session_id}_{created.attempt + 5}.ogg"
    ]


async def test_a_missing_recording_is_reported(token_service: TokenService) -> None:
    client = InternalApiClient(token_service.url, token_service.internal_key)
    try:
        created = await recorded_attempt(client, token_service)
        await client.report_recording_failure(
            created.session_id, created.attempt, "the recorder wrote no file", FAST
        )
    finally:
        await client.aclose()
    played = await play(token_service, created)
    assert played.status_code == 404
    assert "the recorder wrote no file" in played.json()["error"]["message"]

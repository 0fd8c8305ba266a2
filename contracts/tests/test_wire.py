"""Exact bytes on the wire: a change here is a contract change and needs a version decision."""

from datetime import UTC, datetime
from uuid import UUID

import msgspec
import pytest

from training_contracts import (
    AgentDispatchMetadata,
    AssignmentList,
    AssignmentSessionRequest,
    AssignmentView,
    CallerStatus,
    CreateSessionRequest,
    CreateSessionResponse,
    ErrorBody,
    ErrorDetail,
    FreePracticeSessionRequest,
    IceServer,
    PageConfig,
    RecordingAck,
    RecordingFailure,
    Role,
    RoomNotice,
    SessionType,
    TokenRequest,
    TokenResponse,
    TranscriptAck,
    TranscriptBatch,
    TranscriptTurn,
    encode_dispatch,
)

USER = UUID("4a1f0d3e-0000-4000-8000-000000000001")
ASSIGNMENT = UUID("9c0e7b21-0000-4000-8000-000000000002")
SCENARIO = UUID("77d2c0aa-0000-4000-8000-000000000003")
SESSION = UUID("1b9e55f0-0000-4000-8000-000000000004")


def test_dispatch_metadata_free_practice_bytes() -> None:
    assert encode_dispatch(AgentDispatchMetadata(user_id=USER)) == (
        '{"version":1,"userId":"4a1f0d3e-0000-4000-8000-000000000001"}'
    )


def test_dispatch_metadata_assignment_bytes() -> None:
    metadata = AgentDispatchMetadata(user_id=USER, assignment_id=ASSIGNMENT, scenario_id=SCENARIO)
    assert encode_dispatch(metadata) == (
        '{"version":1,"userId":"4a1f0d3e-0000-4000-8000-000000000001",'
        '"assignmentId":"9c0e7b21-0000-4000-8000-000000000002",'
        '"scenarioId":"77d2c0aa-0000-4000-8000-000000000003"}'
    )


def test_token_bodies_bytes() -> None:
    assert msgspec.json.encode(TokenRequest()) == b"{}"
    assert msgspec.json.encode(TokenRequest(assignment_id=ASSIGNMENT)) == (
        b'{"assignmentId":"9c0e7b21-0000-4000-8000-000000000002"}'
    )
    response = TokenResponse(
        token="t", server_url="ws://127.0.0.1:7880", room_name="training-0a1b2c3d"
    )
    assert msgspec.json.encode(response) == (
        b'{"token":"t","serverUrl":"ws://127.0.0.1:7880","roomName":"training-0a1b2c3d"}'
    )


def test_token_request_reads_a_null_id_as_left_out() -> None:
    """A page may send `{"assignmentId": null}` for no assignment: the same request as `{}`."""
    decoded = msgspec.json.decode(b'{"assignmentId":null,"scenarioId":null}', type=TokenRequest)
    assert decoded == TokenRequest()
    assert msgspec.json.encode(decoded) == b"{}"


def test_internal_session_bodies_bytes() -> None:
    request = AssignmentSessionRequest(user_id=USER, assignment_id=ASSIGNMENT)
    assert msgspec.json.encode(request) == (
        b'{"type":"assignment","userId":"4a1f0d3e-0000-4000-8000-000000000001",'
        b'"assignmentId":"9c0e7b21-0000-4000-8000-000000000002"}'
    )
    practice = FreePracticeSessionRequest(user_id=USER, scenario_id=SCENARIO)
    assert msgspec.json.encode(practice) == (
        b'{"type":"free_practice","userId":"4a1f0d3e-0000-4000-8000-000000000001",'
        b'"scenarioId":"77d2c0aa-0000-4000-8000-000000000003"}'
    )
    response = CreateSessionResponse(session_id=SESSION, attempt=2)
    assert msgspec.json.encode(response) == (
        b'{"sessionId":"1b9e55f0-0000-4000-8000-000000000004","attempt":2}'
    )


def test_transcript_bodies_bytes() -> None:
    batch = TranscriptBatch(
        turns=[
            TranscriptTurn(role=Role.ASSISTANT, content="Hello?", turn_order=1, attempt_number=1),
            TranscriptTurn(role=Role.USER, content="Hi, I'm here.", turn_order=2, interrupted=True),
        ],
        final=True,
    )
    assert msgspec.json.encode(batch) == (
        b'{"turns":[{"role":"assistant","content":"Hello?","turnOrder":1,"attemptNumber":1},'
        b'{"role":"user","content":"Hi, I\'m here.","turnOrder":2,"interrupted":true}],"final":true}'
    )
    assert msgspec.json.encode(TranscriptBatch(turns=[])) == b'{"turns":[]}'
    assert msgspec.json.encode(TranscriptAck(received=2, stored=1)) == b'{"received":2,"stored":1}'


def test_error_body_bytes() -> None:
    body = ErrorBody(error=ErrorDetail(code="transcript_pending", message="not yet"))
    assert (
        msgspec.json.encode(body) == b'{"error":{"code":"transcript_pending","message":"not yet"}}'
    )


def test_the_frontends_shapes_still_decode() -> None:
    """Bodies exactly as the Next.js application's zod schemas describe them keep decoding."""
    turn = msgspec.json.decode(
        b'{"role":"user","content":"hi","turnOrder":3,"attemptNumber":2}', type=TranscriptTurn
    )
    assert turn == TranscriptTurn(role=Role.USER, content="hi", turn_order=3, attempt_number=2)


@pytest.mark.parametrize(
    "raw",
    [
        b'{"role":"user","content":"hi","turnOrder":0}',
        b'{"role":"system","content":"hi","turnOrder":1}',
        b'{"role":"user","content":"hi","turnOrder":1,"attemptNumber":0}',
        b'{"role":"user","turnOrder":1}',
    ],
)
def test_transcript_turn_rejects_bad_input(raw: bytes) -> None:
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(raw, type=TranscriptTurn)


def test_datetimes_are_rfc3339() -> None:
    stamp = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
    assert msgspec.json.encode(stamp) == b'"2026-11-22T09:00:00Z"'


def test_assignment_list_bytes() -> None:
    listed = AssignmentList(
        assignments=[
            AssignmentView(
                id=ASSIGNMENT,
                scenario_id=SCENARIO,
                scenario_title="Exam pressure",
                status="assigned",
                attempts=0,
                created_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
            )
        ]
    )
    assert msgspec.json.encode(listed) == (
        b'{"assignments":[{"id":"9c0e7b21-0000-4000-8000-000000000002",'
        b'"scenarioId":"77d2c0aa-0000-4000-8000-000000000003","scenarioTitle":"Exam pressure",'
        b'"status":"assigned","attempts":0,"createdAt":"2026-01-02T03:04:05Z"}]}'
    )


def test_page_config_bytes() -> None:
    config = PageConfig(
        token_service_url="http://127.0.0.1:8000",
        no_caller_timeout_ms=20000,
        demo_user_ids=[USER],
    )
    # No iceServers: the page uses the LiveKit server's; an empty list means none at all.
    assert msgspec.json.encode(config) == (
        b'{"tokenServiceUrl":"http://127.0.0.1:8000","noCallerTimeoutMs":20000,'
        b'"demoUserIds":["4a1f0d3e-0000-4000-8000-000000000001"]}'
    )
    offline = msgspec.structs.replace(config, ice_servers=[])
    assert msgspec.json.encode(offline).endswith(b',"iceServers":[]}')
    stun = IceServer(urls=["stun:127.0.0.1:3478"])
    assert msgspec.json.encode(stun) == b'{"urls":["stun:127.0.0.1:3478"]}'


_decode_session_request = msgspec.json.Decoder(CreateSessionRequest).decode


def test_each_session_request_names_its_type() -> None:
    """`.type` reads as it did on the one struct, and is the tag the wire carries."""
    for request in (
        AssignmentSessionRequest(user_id=USER, assignment_id=ASSIGNMENT),
        FreePracticeSessionRequest(user_id=USER),
    ):
        assert msgspec.json.decode(msgspec.json.encode(request))["type"] == request.type.value
    assert AssignmentSessionRequest.type is SessionType.ASSIGNMENT
    assert FreePracticeSessionRequest.type is SessionType.FREE_PRACTICE


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            b'{"type":"assignment","userId":"4a1f0d3e-0000-4000-8000-000000000001",'
            b'"assignmentId":"9c0e7b21-0000-4000-8000-000000000002"}',
            AssignmentSessionRequest(user_id=USER, assignment_id=ASSIGNMENT),
        ),
        (
            b'{"type":"free_practice","userId":"4a1f0d3e-0000-4000-8000-000000000001",'
            b'"assignmentId":null,"scenarioId":null}',
            FreePracticeSessionRequest(user_id=USER),
        ),
    ],
)
def test_session_request_union_reads_what_the_struct_read(
    body: bytes, expected: CreateSessionRequest
) -> None:
    assert _decode_session_request(body) == expected


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        (b'{"type":"assignment","userId":"4a1f0d3e-0000-4000-8000-000000000001"}', "assignmentId"),
        (
            b'{"type":"free_practice","userId":"4a1f0d3e-0000-4000-8000-000000000001",'
            b'"assignmentId":"9c0e7b21-0000-4000-8000-000000000002"}',
            "assignmentId",
        ),
        (b'{"type":"group","userId":"4a1f0d3e-0000-4000-8000-000000000001"}', "type"),
    ],
)
def test_session_request_union_refuses_what_the_service_refused(
    body: bytes, complaint: str
) -> None:
    """Splitting the request into tagged variants moved no body from refused to accepted."""
    with pytest.raises(msgspec.ValidationError, match=complaint):
        _decode_session_request(body)


def test_recorded_session_bytes() -> None:
    """`record` is appended with a default: an unrecorded session's body is unchanged."""
    assert msgspec.json.encode(CreateSessionResponse(session_id=SESSION, attempt=1)) == (
        b'{"sessionId":"1b9e55f0-0000-4000-8000-000000000004","attempt":1}'
    )
    recorded = CreateSessionResponse(session_id=SESSION, attempt=2, record=True)
    assert msgspec.json.encode(recorded) == (
        b'{"sessionId":"1b9e55f0-0000-4000-8000-000000000004","attempt":2,"record":true}'
    )
    old_reader = msgspec.json.decode(msgspec.json.encode(recorded), type=CreateSessionResponse)
    assert old_reader.record is True


def test_recording_bodies_bytes() -> None:
    assert msgspec.json.encode(RecordingAck(stored=True, size_bytes=4096)) == (
        b'{"stored":true,"sizeBytes":4096}'
    )
    assert msgspec.json.encode(RecordingFailure(reason="encoder failed")) == (
        b'{"reason":"encoder failed"}'
    )


def test_the_room_travels_with_the_session_and_is_optional() -> None:
    request = FreePracticeSessionRequest(user_id=USER, room_name="training-0a1b2c3d")
    assert msgspec.json.encode(request) == (
        b'{"type":"free_practice","userId":"4a1f0d3e-0000-4000-8000-000000000001",'
        b'"roomName":"training-0a1b2c3d"}'
    )
    older = b'{"type":"free_practice","userId":"4a1f0d3e-0000-4000-8000-000000000001"}'
    assert _decode_session_request(older).room_name is None


def test_room_notice_bytes() -> None:
    assert msgspec.json.encode(RoomNotice(caller=CallerStatus.REDIALING)) == (
        b'{"caller":"redialing"}'
    )
    decoded = msgspec.json.decode(b'{"caller":"unavailable"}', type=RoomNotice)
    assert decoded.caller is CallerStatus.UNAVAILABLE

"""Bodies of the internal API the agent calls (authenticated by `X-Internal-Service-Key`)."""

from enum import StrEnum
from typing import Annotated, ClassVar, Final, TypeAlias
from uuid import UUID

import msgspec

from .wire import WireStruct

INTERNAL_KEY_HEADER: Final = "X-Internal-Service-Key"

MAX_TURNS_PER_BATCH: Final = 5000
"""More turns than this in one transcript request is refused with 413."""

MAX_TURN_CONTENT_CHARS: Final = 20_000
"""A longer turn is refused with 400; the agent splits nothing, so it must stay under this."""

RECORDING_MEDIA_TYPE: Final = "audio/ogg"
"""A call's recording: Ogg/Opus, stereo, the trainee on the left channel, the caller on the right."""

MAX_RECORDING_BYTES: Final = 256 * 1024 * 1024
"""A larger recording upload is refused with 413 (hours of Opus audio)."""

MAX_RECORDING_FAILURE_CHARS: Final = 2000
"""A longer reason for a missing recording is refused with 400: the agent cuts it to this."""


class SessionType(StrEnum):
    ASSIGNMENT = "assignment"
    FREE_PRACTICE = "free_practice"


class Role(StrEnum):
    USER = "user"
    ASSISTANT = "assistant"


MAX_TURN_NUMBER: Final = 2**31 - 1
"""Turn orders and attempt numbers are stored as Postgres integers: a larger one is refused with 400."""

PositiveInt = Annotated[int, msgspec.Meta(ge=1, le=MAX_TURN_NUMBER)]
# Postgres text holds no NUL character: a text with one is refused with 400.
_NO_NUL = r"^[^\x00]*$"
TurnContent = Annotated[str, msgspec.Meta(max_length=MAX_TURN_CONTENT_CHARS, pattern=_NO_NUL)]
FailureReason = Annotated[
    str, msgspec.Meta(max_length=MAX_RECORDING_FAILURE_CHARS, pattern=_NO_NUL)
]

MAX_IDEMPOTENCY_KEY_CHARS: Final = 200
"""A longer idempotency key is refused with 400 (a LiveKit job id is a few dozen characters)."""

IdempotencyKey = Annotated[
    str, msgspec.Meta(min_length=1, max_length=MAX_IDEMPOTENCY_KEY_CHARS, pattern=_NO_NUL)
]


class AssignmentSessionRequest(
    WireStruct, frozen=True, kw_only=True, tag_field="type", tag=SessionType.ASSIGNMENT.value
):
    """The next attempt of the assignment's session; a scenarioId must be the assignment's own."""

    type: ClassVar[SessionType] = SessionType.ASSIGNMENT
    user_id: UUID
    assignment_id: UUID
    scenario_id: UUID | None = None
    room_name: str | None = None
    """The LiveKit room the call runs in: the token service maps the room's webhooks (the caller
    or the trainee leaving, the room finishing) to this session attempt. Absent: no mapping, and
    an attempt whose worker dies is only closed by the abandonment timeout."""
    idempotency_key: IdempotencyKey | None = None
    """What names this call's attempt (the agent sends its LiveKit job id): a request with a key
    seen before returns that session and attempt again instead of starting another, so a retry
    whose first answer was lost counts once. Absent: each request starts its own."""


class FreePracticeSessionRequest(
    WireStruct, frozen=True, kw_only=True, tag_field="type", tag=SessionType.FREE_PRACTICE.value
):
    """A new session of scenarioId or of the default caller; no assignment (assignmentId null)."""

    type: ClassVar[SessionType] = SessionType.FREE_PRACTICE
    user_id: UUID
    assignment_id: None = None
    scenario_id: UUID | None = None
    room_name: str | None = None
    """As AssignmentSessionRequest.room_name."""
    idempotency_key: IdempotencyKey | None = None
    """As AssignmentSessionRequest.idempotency_key."""


CreateSessionRequest: TypeAlias = AssignmentSessionRequest | FreePracticeSessionRequest
"""POST /api/internal/sessions, told apart by `type`::

    {"type":"assignment","userId":"…","assignmentId":"…"}
    {"type":"free_practice","userId":"…","scenarioId":"…"}
"""


class CreateSessionResponse(WireStruct, frozen=True, kw_only=True):
    """A repeated call for the same assignment returns the same session with `attempt` + 1.

    A request with an idempotency key seen before gets that request's session and attempt."""

    session_id: UUID
    attempt: int
    record: bool = False
    """Record this call: its assignment requires it, or the service records free practice."""


class TranscriptTurn(WireStruct, frozen=True, kw_only=True):
    """One final turn. (session, attemptNumber, turnOrder) identifies it; re-sending it is a no-op."""

    role: Role
    content: TurnContent
    turn_order: PositiveInt
    attempt_number: PositiveInt | None = None
    interrupted: bool = False


MAX_TOKEN_COUNT: Final = 2**53 - 1
"""A larger token count is refused with 400: stored as a Postgres bigint, and the largest integer
a JSON number carries exactly (a schema's bound in JSON, JavaScript's Number.MAX_SAFE_INTEGER)."""

TokenCount = Annotated[int, msgspec.Meta(ge=0, le=MAX_TOKEN_COUNT)]


class ModelUsage(WireStruct, frozen=True, kw_only=True):
    """Tokens one model spent on one attempt, summed over its responses (OpenAI's `usage`).

    `inputCachedTokens` is part of the input figures (billed at the cached rate), not added to them.
    """

    model: str
    input_text_tokens: TokenCount = 0
    input_audio_tokens: TokenCount = 0
    input_cached_tokens: TokenCount = 0
    output_text_tokens: TokenCount = 0
    output_audio_tokens: TokenCount = 0


class TranscriptBatch(WireStruct, frozen=True, kw_only=True):
    """POST /api/internal/sessions/{id}/transcript. A missing attemptNumber means the current attempt.

    The agent sends batches as the call goes and one with `final: true` when the call has ended;
    that one marks the attempt complete, which is what evaluation waits for.
    """

    turns: list[TranscriptTurn]
    final: bool = False
    usage: ModelUsage | None = None
    """The Realtime model's usage of the attempt so far (running totals, not a delta): every batch
    carries it, so a call whose worker dies keeps the usage of its last delivered batch. The
    service keeps the largest figures it has seen, so batches may arrive in any order."""


class TranscriptAck(WireStruct, frozen=True, kw_only=True):
    """`stored` counts the turns that were new; a fully re-sent batch answers `stored: 0`."""

    received: int
    stored: int


class ScenarioResponse(WireStruct, frozen=True, kw_only=True):
    """GET /api/internal/scenarios/{id}"""

    id: UUID
    title: str
    prompt: str


class RecordingAck(WireStruct, frozen=True, kw_only=True):
    """PUT /api/internal/sessions/{id}/recording?attempt=N (body: the Ogg file).

    `stored: false` means the attempt's recording was already stored; the upload was discarded.
    """

    stored: bool
    size_bytes: int


class RecordingFailure(WireStruct, frozen=True, kw_only=True):
    """POST /api/internal/sessions/{id}/recording/failure?attempt=N: no recording will come."""

    reason: FailureReason

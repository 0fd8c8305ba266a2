"""Bodies of the API the Next.js frontend calls (authenticated by the `x-user-id` header)."""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Final, Literal
from uuid import UUID

import msgspec

from .internal_api import ModelUsage, Role, SessionType
from .wire import WireStruct

USER_ID_HEADER: Final = "x-user-id"
ROOM_NAME_PREFIX: Final = "training-"


class TokenRequest(WireStruct, frozen=True, kw_only=True):
    """POST /api/livekit/token; `{}` asks for free practice, and an id sent as `null` is one left out.

    (The frontend sends this body, so its TypeScript interface allows `null`: export.FRONTEND_SENDS.)
    """

    assignment_id: UUID | None = None
    scenario_id: UUID | None = None


class TokenResponse(WireStruct, frozen=True, kw_only=True):
    token: str
    server_url: str
    room_name: str


class TurnView(WireStruct, frozen=True, kw_only=True):
    role: Role
    content: str
    turn_order: int
    attempt_number: int
    interrupted: bool


class AttemptUsage(WireStruct, frozen=True, kw_only=True):
    """The tokens one attempt spent: the call's Realtime model and the evaluation's chat model."""

    attempt: int
    realtime: ModelUsage | None = None
    evaluation: ModelUsage | None = None


class SessionView(WireStruct, frozen=True, kw_only=True):
    """GET /api/sessions/{id}: turns of every attempt, ordered by attempt then turn order."""

    id: UUID
    type: SessionType
    status: str
    attempt: int
    created_at: datetime
    updated_at: datetime
    turns: list[TurnView]
    assignment_id: UUID | None = None
    scenario_id: UUID | None = None
    usage: list[AttemptUsage] = msgspec.field(default_factory=list)
    """What each attempt cost in model tokens, by attempt; attempts with no usage recorded are
    left out."""
    cut_short: bool = False
    """The current attempt was closed without its caller's final transcript (the caller's worker
    was lost mid-call): `turns` are those stored before. A final transcript arriving later clears
    it."""


Score = Annotated[int, msgspec.Meta(ge=0, le=100)]


class Observation(WireStruct, frozen=True, kw_only=True):
    """One strength or improvement, tied to the transcript turns it is about."""

    point: str
    turn_orders: list[int]


class Evaluation(WireStruct, frozen=True, kw_only=True):
    """POST /api/sessions/{id}/evaluation: feedback on an attempt (`?attempt=N`; default the
    session's current one)."""

    session_id: UUID
    attempt: int
    overall_score: Score
    summary: str
    strengths: list[Observation]
    improvements: list[Observation]
    model: str
    created_at: datetime
    cut_short: bool = False
    """The attempt ended when its caller was lost (see SessionView.cut_short); the feedback covers
    the turns stored until then."""


class AssignmentView(WireStruct, frozen=True, kw_only=True):
    """One of the caller's assignments; `attempts` counts the calls started on it so far."""

    id: UUID
    scenario_id: UUID
    scenario_title: str
    status: str
    attempts: int
    created_at: datetime


class AssignmentList(WireStruct, frozen=True, kw_only=True):
    """GET /api/assignments: the caller's assignments, newest first."""

    assignments: list[AssignmentView]


class ErrorDetail(WireStruct, frozen=True, kw_only=True):
    code: str
    message: str


class ErrorBody(WireStruct, frozen=True, kw_only=True):
    """Every non-2xx answer of both services' HTTP APIs: `{"error":{"code":"…","message":"…"}}`."""

    error: ErrorDetail


class ApiErrorCode(StrEnum):
    """`error.code` values of the HTTP APIs; the HTTP status carries the class of failure."""

    BAD_REQUEST = "bad_request"
    UNAUTHORIZED = "unauthorized"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    TRANSCRIPT_PENDING = "transcript_pending"
    TRANSCRIPT_EMPTY = "transcript_empty"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    EVALUATION_UNAVAILABLE = "evaluation_unavailable"
    NOT_READY = "not_ready"
    INTERNAL_ERROR = "internal_error"
    USER_NOT_FOUND = "user_not_found"
    """The internal API knows no user of this id (the agent's `user_or_assignment_not_found`)."""
    ASSIGNMENT_NOT_FOUND = "assignment_not_found"
    """The internal API knows no assignment of this id (the agent's `user_or_assignment_not_found`)."""
    CONFLICT = "conflict"
    """A well-formed request that contradicts what the service holds (409; the message says what)."""
    RECORDING_PENDING = "recording_pending"
    RANGE_NOT_SATISFIABLE = "range_not_satisfiable"
    REQUEST_TIMEOUT = "request_timeout"


class HealthStatus(WireStruct, frozen=True, kw_only=True):
    """GET /healthz and GET /readyz when they answer 200: `{"status":"ok"}`."""

    status: Literal["ok"]

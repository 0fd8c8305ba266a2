"""The wire contract of the voice training backend, version 1.

Everything that crosses a process boundary is named here once: the agent name used for explicit
dispatch, the dispatch metadata, the agent's participant attributes and error codes, and the bodies
of the token service's public and internal HTTP APIs. Both services import it; the Next.js frontend
reads the generated `export/training-contracts.ts`.

Dispatch metadata (the token's room configuration -> `ctx.job.metadata`)::

    {"version":1,"userId":"4a1f…","assignmentId":"9c0e…","scenarioId":"77d2…"}

Agent participant attributes::

    {"session.id": "1b9e…", "session.recording": "true"}   or   {"error": "session_create_failed"}

Room metadata, written by the token service when the caller is missing (rooms.py says what the
page shows)::

    {"caller": "redialing"}          or          {"caller": "unavailable"}

Evolution rule: a field is added by appending it with a default, so older readers ignore it and
older writers still decode; a field's type never changes and a field is never removed or renamed.
Anything else is a breaking change: it gets a new `version` tag (DISPATCH_VERSION) and the package's
major version, and readers refuse versions they do not know with `unsupported_version`.
A closed set of codes (AgentErrorCode, ApiErrorCode) grows by appending a member; readers show a
generic message for a code they do not know.

Writing into the schema what the reader already enforced is not a breaking change, because the
wire does not move: every body the reader accepted still decodes to the same meaning and every
body it refused is still refused. So a body whose valid shapes depend on one field becomes a
tagged union on that field, one struct per shape (CreateSessionRequest: `type` "assignment" needs
`assignmentId`, "free_practice" has none), and a bound the database imposed becomes the field's
constraint (MAX_TURN_NUMBER, no NUL in a turn).
"""

from .attributes import (
    ATTR_ERROR,
    ATTR_RECORDING,
    ATTR_SESSION_ID,
    RECORDING_OFF,
    RECORDING_ON,
    AgentErrorCode,
)
from .dispatch import (
    AGENT_NAME,
    DISPATCH_VERSION,
    AgentDispatchMetadata,
    decode_dispatch,
    encode_dispatch,
)
from .errors import ContractError
from .internal_api import (
    INTERNAL_KEY_HEADER,
    MAX_IDEMPOTENCY_KEY_CHARS,
    MAX_RECORDING_BYTES,
    MAX_RECORDING_FAILURE_CHARS,
    MAX_TURN_CONTENT_CHARS,
    MAX_TURN_NUMBER,
    MAX_TURNS_PER_BATCH,
    RECORDING_MEDIA_TYPE,
    AssignmentSessionRequest,
    CreateSessionRequest,
    CreateSessionResponse,
    FreePracticeSessionRequest,
    ModelUsage,
    RecordingAck,
    RecordingFailure,
    Role,
    ScenarioResponse,
    SessionType,
    TranscriptAck,
    TranscriptBatch,
    TranscriptTurn,
)
from .paths import (
    ASSIGNMENTS_PATH,
    ATTEMPT_QUERY,
    EVALUATION_PATH,
    HEALTH_PATH,
    INTERNAL_RECORDING_FAILURE_PATH,
    INTERNAL_RECORDING_PATH,
    INTERNAL_SCENARIO_PATH,
    INTERNAL_SESSIONS_PATH,
    INTERNAL_TRANSCRIPT_PATH,
    LIVEKIT_WEBHOOK_PATH,
    OPENAPI_PATH,
    READY_PATH,
    RECORDING_PATH,
    SESSION_PATH,
    TOKEN_PATH,
    fill,
)
from .public_api import (
    ROOM_NAME_PREFIX,
    USER_ID_HEADER,
    ApiErrorCode,
    AssignmentList,
    AssignmentView,
    AttemptUsage,
    ErrorBody,
    ErrorDetail,
    Evaluation,
    HealthStatus,
    Observation,
    SessionView,
    TokenRequest,
    TokenResponse,
    TurnView,
)
from .rooms import CALLER_JOIN_BOUND_S, CallerStatus, RoomNotice
from .settings_report import (
    EXIT_BAD_SETTINGS,
    SettingsError,
    read_settings,
    required_settings,
    settings_error,
    settings_help,
    settings_help_for,
    validation_settings_error,
)
from .web_page import PAGE_CONFIG_PATH, IceServer, PageConfig

__version__ = "1.0.0"

__all__ = [
    "AGENT_NAME",
    "ASSIGNMENTS_PATH",
    "ATTEMPT_QUERY",
    "ATTR_ERROR",
    "ATTR_RECORDING",
    "ATTR_SESSION_ID",
    "CALLER_JOIN_BOUND_S",
    "DISPATCH_VERSION",
    "EVALUATION_PATH",
    "EXIT_BAD_SETTINGS",
    "HEALTH_PATH",
    "INTERNAL_KEY_HEADER",
    "INTERNAL_RECORDING_FAILURE_PATH",
    "INTERNAL_RECORDING_PATH",
    "INTERNAL_SCENARIO_PATH",
    "INTERNAL_SESSIONS_PATH",
    "INTERNAL_TRANSCRIPT_PATH",
    "LIVEKIT_WEBHOOK_PATH",
    "MAX_IDEMPOTENCY_KEY_CHARS",
    "MAX_RECORDING_BYTES",
    "MAX_RECORDING_FAILURE_CHARS",
    "MAX_TURNS_PER_BATCH",
    "MAX_TURN_CONTENT_CHARS",
    "MAX_TURN_NUMBER",
    "OPENAPI_PATH",
    "PAGE_CONFIG_PATH",
    "READY_PATH",
    "RECORDING_MEDIA_TYPE",
    "RECORDING_OFF",
    "RECORDING_ON",
    "RECORDING_PATH",
    "ROOM_NAME_PREFIX",
    "SESSION_PATH",
    "TOKEN_PATH",
    "USER_ID_HEADER",
    "AgentDispatchMetadata",
    "AgentErrorCode",
    "ApiErrorCode",
    "AssignmentList",
    "AssignmentSessionRequest",
    "AssignmentView",
    "AttemptUsage",
    "CallerStatus",
    "ContractError",
    "CreateSessionRequest",
    "CreateSessionResponse",
    "ErrorBody",
    "ErrorDetail",
    "Evaluation",
    "FreePracticeSessionRequest",
    "HealthStatus",
    "IceServer",
    "ModelUsage",
    "Observation",
    "PageConfig",
    "RecordingAck",
    "RecordingFailure",
    "Role",
    "RoomNotice",
    "ScenarioResponse",
    "SessionType",
    "SessionView",
    "SettingsError",
    "TokenRequest",
    "TokenResponse",
    "TranscriptAck",
    "TranscriptBatch",
    "TranscriptTurn",
    "TurnView",
    "decode_dispatch",
    "encode_dispatch",
    "fill",
    "read_settings",
    "required_settings",
    "settings_error",
    "settings_help",
    "settings_help_for",
    "validation_settings_error",
]

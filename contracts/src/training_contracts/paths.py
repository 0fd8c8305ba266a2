"""The token service's REST paths, spelled once for the service and for every client of it.

Path parameters are written `{name}`; `fill` puts values in. Every parameter is a UUID.
"""

from typing import Final
from uuid import UUID

TOKEN_PATH: Final = "/api/livekit/token"  # noqa: S105 - a path, not a secret
SESSION_PATH: Final = "/api/sessions/{session_id}"
EVALUATION_PATH: Final = "/api/sessions/{session_id}/evaluation"
"""`?attempt=N` (default: the current attempt)."""
ASSIGNMENTS_PATH: Final = "/api/assignments"
RECORDING_PATH: Final = "/api/sessions/{session_id}/recording"
"""`?attempt=N` (default: the current attempt); answers audio/ogg, and 206 to a Range request."""

LIVEKIT_WEBHOOK_PATH: Final = "/api/livekit/webhook"
"""livekit-server posts its webhooks here, signed with the API key (no user, no internal key)."""

INTERNAL_SESSIONS_PATH: Final = "/api/internal/sessions"
INTERNAL_TRANSCRIPT_PATH: Final = "/api/internal/sessions/{session_id}/transcript"
INTERNAL_SCENARIO_PATH: Final = "/api/internal/scenarios/{scenario_id}"
INTERNAL_RECORDING_PATH: Final = "/api/internal/sessions/{session_id}/recording"
INTERNAL_RECORDING_FAILURE_PATH: Final = "/api/internal/sessions/{session_id}/recording/failure"
ATTEMPT_QUERY: Final = "attempt"
"""The query parameter naming the attempt on the evaluation and recording paths."""

HEALTH_PATH: Final = "/healthz"
READY_PATH: Final = "/readyz"
OPENAPI_PATH: Final = "/schema/openapi.json"


def fill(path: str, **params: UUID | str) -> str:
    """`fill(SESSION_PATH, session_id=sid)` -> `/api/sessions/1b9e…`."""
    return path.format(**{name: str(value) for name, value in params.items()})

"""Participant attributes the agent publishes on its own participant, read by the frontend."""

from enum import StrEnum
from typing import Final

ATTR_SESSION_ID: Final = "session.id"
"""The training session's id (a UUID string), set once the session exists in the database."""

ATTR_ERROR: Final = "error"
"""One of AgentErrorCode, set instead of `session.id` when the call cannot go ahead."""

ATTR_RECORDING: Final = "session.recording"
"""`"true"` when the call is recorded, `"false"` when not; published with `session.id`, before the
conversation starts, so the frontend can tell the trainee."""

RECORDING_ON: Final = "true"
RECORDING_OFF: Final = "false"


class AgentErrorCode(StrEnum):
    """The closed set of values the agent may publish under `error`.

    Adding a code is a contract change: frontends show a generic message for codes they do not know.
    """

    INVALID_METADATA = "invalid_metadata"
    UNSUPPORTED_VERSION = "unsupported_version"
    SCENARIO_NOT_FOUND = "scenario_not_found"
    SCENARIO_UNAVAILABLE = "scenario_unavailable"
    SESSION_CREATE_FAILED = "session_create_failed"
    AGENT_FAILED = "agent_failed"
    USER_OR_ASSIGNMENT_NOT_FOUND = "user_or_assignment_not_found"
    """The token service knows no such user or assignment: nothing to retry, unlike
    `session_create_failed` (the service could not be reached or failed)."""

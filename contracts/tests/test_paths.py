from uuid import UUID

from training_contracts import (
    INTERNAL_RECORDING_PATH,
    INTERNAL_TRANSCRIPT_PATH,
    RECORDING_PATH,
    SESSION_PATH,
    fill,
)

SESSION = UUID("1b9e0000-0000-4000-8000-000000000001")


def test_fill_puts_the_ids_in() -> None:
    assert fill(SESSION_PATH, session_id=SESSION) == f"/api/sessions/{SESSION}"
    assert fill(INTERNAL_TRANSCRIPT_PATH, session_id=SESSION) == (
        f"/api/internal/sessions/{SESSION}/transcript"
    )
    assert fill(RECORDING_PATH, session_id=SESSION) == f"/api/sessions/{SESSION}/recording"
    assert fill(INTERNAL_RECORDING_PATH, session_id=SESSION) == (
        f"/api/internal/sessions/{SESSION}/recording"
    )

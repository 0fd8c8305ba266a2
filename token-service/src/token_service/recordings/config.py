"""What the recording handlers share, built once from the settings and kept in the app's state."""

from dataclasses import dataclass

from litestar.datastructures import State

from .storage import RecordingStore


@dataclass(frozen=True)
class Recordings:
    store: RecordingStore
    upload_timeout_s: float
    """The longest one upload's body may take to arrive."""
    record_free_practice: bool
    """Free practice calls are recorded too (assignments say so themselves)."""


def provide_recordings(state: State) -> Recordings:
    recordings: Recordings = state.recordings
    return recordings

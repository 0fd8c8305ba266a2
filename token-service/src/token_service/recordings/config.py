"""What the recording handlers share, built once from the settings (services.py)."""

from dataclasses import dataclass

from .storage import RecordingStore


@dataclass(frozen=True)
class Recordings:
    store: RecordingStore
    upload_timeout_s: float
    """The longest one upload's body may take to arrive."""
    record_free_practice: bool
    """Free practice calls are recorded too (assignments say so themselves)."""

"""A durable local spool for transcripts the token service could not take yet.

One JSON file per session attempt, `<session id>_<attempt>.json`, always holding the attempt's
complete transcript as far as it is known (turn orders never change, so a newer file is a superset
of an older one and replaces it). It is a spool_folder.SpoolFolder: whoever redelivers first
claims a file, a job that spools a newer version meanwhile writes the unclaimed name, which the
next round picks up, and files the service refuses for good (unknown session, invalid body) or
that cannot be read move to `dead/`: nothing is dropped silently.
"""

from pathlib import Path
from uuid import UUID

import msgspec

from training_contracts import ModelUsage, TranscriptTurn

from . import metrics
from .spool_folder import Claim, Claimed, SpoolFolder, Unreadable

__all__ = ["ClaimedEntry", "Spool", "SpoolEntry"]


class SpoolEntry(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """The spool file's content (a local format, not part of the wire contract)."""

    session_id: UUID
    attempt: int
    turns: list[TranscriptTurn]
    final: bool
    spooled_at: float
    reason: str = ""
    usage: ModelUsage | None = None
    """The Realtime model's usage when the entry was written, sent with its batches."""


_decoder = msgspec.json.Decoder(SpoolEntry)

ClaimedEntry = Claimed[SpoolEntry]


class Spool(SpoolFolder[SpoolEntry]):
    """Transcripts waiting for the token service, one file per session attempt."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory, ".json")

    def path_for(self, session_id: UUID, attempt: int) -> Path:
        return self.directory / f"{session_id}_{attempt}.json"

    def write(self, entry: SpoolEntry) -> Path:
        """Atomically (re)place the attempt's file; returns its path."""
        name = self.path_for(entry.session_id, entry.attempt).name
        return self.put(name, msgspec.json.encode(entry))

    def remove(self, session_id: UUID, attempt: int) -> None:
        self.discard(self.path_for(session_id, attempt).name)

    def read(self, claim: Claim) -> SpoolEntry:
        try:
            return _decoder.decode(claim.path.read_bytes())
        except msgspec.DecodeError as exc:
            raise Unreadable(str(exc)) from exc

    def buried(self, claimed_path: Path) -> None:
        metrics.count_batch(metrics.BatchOutcome.DEAD_LETTERED)

"""A durable local spool for transcripts the token service could not take yet.

One JSON file per session attempt, `<session id>_<attempt>.json`, always holding the attempt's
complete transcript as far as it is known (turn orders never change, so a newer file is a superset
of an older one and replaces it). Writing, claiming, putting back and burying are claims.py's:
whoever redelivers first claims a file, a job that spools a newer version meanwhile writes the
unclaimed name, which the next round picks up, and files the service refuses for good (unknown
session, invalid body) or that cannot be read move to `dead/`: nothing is dropped silently.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import msgspec

from training_contracts import ModelUsage, TranscriptTurn

from . import metrics
from .claims import STALE_CLAIM_SECONDS, Claim, ClaimFolder

__all__ = ["STALE_CLAIM_SECONDS", "ClaimedEntry", "Spool", "SpoolEntry"]


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


@dataclass(frozen=True)
class ClaimedEntry:
    claim: Claim
    entry: SpoolEntry

    @property
    def path(self) -> Path:
        """The claimed file, `<name>.claimed-<pid>`."""
        return self.claim.path

    @property
    def original(self) -> Path:
        return self.claim.original


class Spool:
    def __init__(self, directory: Path) -> None:
        self._folder = ClaimFolder(directory, ".json")
        self.directory = directory
        self.dead_directory = self._folder.dead_directory

    def path_for(self, session_id: UUID, attempt: int) -> Path:
        return self.directory / f"{session_id}_{attempt}.json"

    def write(self, entry: SpoolEntry) -> Path:
        """Atomically (re)place the attempt's file; returns its path."""
        name = self.path_for(entry.session_id, entry.attempt).name
        return self._folder.write(name, msgspec.json.encode(entry))

    def remove(self, session_id: UUID, attempt: int) -> None:
        self._folder.remove(self.path_for(session_id, attempt).name)

    def pending(self) -> list[Path]:
        """Unclaimed spool files, oldest first."""
        return self._folder.pending()

    def claim_all(self) -> Iterator[ClaimedEntry]:
        """Claim every unclaimed or abandoned file, one at a time (a pass that stops early
        leaves the rest unclaimed); unreadable ones go to dead/."""
        for claim in self._folder.claim_all():
            try:
                entry = _decoder.decode(claim.path.read_bytes())
            except (OSError, msgspec.DecodeError) as exc:
                self._folder.bury(claim, f"unreadable: {exc}")
                metrics.count_batch(metrics.BatchOutcome.DEAD_LETTERED)
                continue
            yield ClaimedEntry(claim=claim, entry=entry)

    def release(self, claimed: ClaimedEntry) -> None:
        """Delivery failed for now: put the file back, unless a newer version was written."""
        self._folder.release(claimed.claim)

    def done(self, claimed: ClaimedEntry) -> None:
        self._folder.done(claimed.claim)

    def bury(self, claimed: ClaimedEntry, reason: str) -> Path:
        """Refused for good: keep the file under dead/ for a person to look at."""
        metrics.count_batch(metrics.BatchOutcome.DEAD_LETTERED)
        return self._folder.bury(claimed.claim, reason)

"""A durable local spool for transcripts the token service could not take yet.

One JSON file per session attempt, `<session id>_<attempt>.json`, always holding the attempt's
complete transcript as far as it is known (turn orders never change, so a newer file is a superset
of an older one and replaces it). Files are written atomically: a temporary file in the same
folder, fsync, rename, fsync of the folder.

Whoever redelivers first *claims* a file by renaming it to `<name>.claimed-<pid>`: a rename is
atomic, so two redelivering processes (two workers sharing a spool folder) never send the same
file at once, and a job process that writes a newer version meanwhile writes the unclaimed name,
which the next round picks up. Claims of a process that no longer runs, or older than
STALE_CLAIM_SECONDS, are taken over. Files the service refuses for good (unknown session, invalid
body) move to `dead/` and are logged as errors: nothing is ever dropped silently.
"""

import contextlib
import logging
import math
import os
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import msgspec

from training_contracts import ModelUsage, TranscriptTurn

from . import metrics

logger = logging.getLogger(__name__)

STALE_CLAIM_SECONDS = 15 * 60
_CLAIM_MARK = ".claimed-"


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
    path: Path
    """The claimed file, `<name>.claimed-<pid>`."""
    original: Path
    entry: SpoolEntry


class Spool:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.dead_directory = directory / "dead"

    def path_for(self, session_id: UUID, attempt: int) -> Path:
        return self.directory / f"{session_id}_{attempt}.json"

    def write(self, entry: SpoolEntry) -> Path:
        """Atomically (re)place the attempt's file; returns its path."""
        self.directory.mkdir(parents=True, exist_ok=True)
        target = self.path_for(entry.session_id, entry.attempt)
        data = msgspec.json.encode(entry)
        fd, tmp_name = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp_name, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_name)
            raise
        self._fsync_directory()
        return target

    def remove(self, session_id: UUID, attempt: int) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path_for(session_id, attempt).unlink()

    def pending(self) -> list[Path]:
        """Unclaimed spool files, oldest first."""
        if not self.directory.is_dir():
            return []
        files = [p for p in self.directory.glob("*.json") if not p.name.startswith(".")]
        return sorted(files, key=_mtime)

    def claim_all(self) -> Iterator[ClaimedEntry]:
        """Claim every unclaimed or abandoned file, one at a time."""
        for path in self._abandoned_claims() + self.pending():
            claimed = self._claim(path)
            if claimed is not None:
                yield claimed

    def release(self, claimed: ClaimedEntry) -> None:
        """Delivery failed for now: put the file back, unless a newer version was written."""
        try:
            os.link(claimed.path, claimed.original)
        except FileExistsError:
            pass  # the job wrote a newer, complete version meanwhile; it supersedes this one
        except FileNotFoundError:
            return
        with contextlib.suppress(FileNotFoundError):
            claimed.path.unlink()
        self._fsync_directory()

    def done(self, claimed: ClaimedEntry) -> None:
        with contextlib.suppress(FileNotFoundError):
            claimed.path.unlink()
        self._fsync_directory()

    def bury(self, claimed: ClaimedEntry, reason: str) -> Path:
        """Refused for good: keep the file under dead/ for a person to look at."""
        metrics.count_batch(metrics.BatchOutcome.DEAD_LETTERED)
        self.dead_directory.mkdir(parents=True, exist_ok=True)
        target = self.dead_directory / claimed.original.name
        os.replace(claimed.path, target)
        self._fsync_directory()
        logger.error(
            "spooled transcript refused by the token service; kept for manual recovery",
            extra={"path": str(target), "reason": reason},
        )
        return target

    def _claim(self, path: Path) -> ClaimedEntry | None:
        original = _original_name(path)
        claimed_path = path.with_name(f"{original.name}{_CLAIM_MARK}{os.getpid()}")
        try:
            os.rename(path, claimed_path)
        except FileNotFoundError:
            return None  # someone else claimed or removed it first
        try:
            entry = _decoder.decode(claimed_path.read_bytes())
        except (OSError, msgspec.DecodeError) as exc:
            self.dead_directory.mkdir(parents=True, exist_ok=True)
            os.replace(claimed_path, self.dead_directory / original.name)
            metrics.count_batch(metrics.BatchOutcome.DEAD_LETTERED)
            logger.error(
                "unreadable spool file moved aside",
                extra={"path": str(self.dead_directory / original.name), "error": str(exc)},
            )
            return None
        return ClaimedEntry(path=claimed_path, original=original, entry=entry)

    def _abandoned_claims(self) -> list[Path]:
        if not self.directory.is_dir():
            return []
        abandoned = []
        for path in self.directory.glob(f"*.json{_CLAIM_MARK}*"):
            pid_text = path.name.rsplit(_CLAIM_MARK, 1)[1]
            pid = int(pid_text) if pid_text.isdigit() else -1
            try:
                age = time.time() - path.stat().st_mtime
            except FileNotFoundError:
                continue
            if pid == os.getpid():
                continue
            if not _process_alive(pid) or age > STALE_CLAIM_SECONDS:
                abandoned.append(path)
        return abandoned

    def _fsync_directory(self) -> None:
        fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _original_name(path: Path) -> Path:
    if _CLAIM_MARK in path.name:
        return path.with_name(path.name.split(_CLAIM_MARK, 1)[0])
    return path


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return math.inf


def _process_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True

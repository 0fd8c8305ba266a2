"""A folder of files waiting to be sent, which several processes may empty at once.

Files are put in atomically (a temporary file in the same folder, fsync, rename, fsync of the
folder), so a reader never sees half of one. Whoever sends a file first *claims* it by renaming it
to `<name>.claimed-<pid>`: a rename is atomic, so two redelivering processes (two workers sharing
a spool folder) never send the same file at once, and a process that puts a newer version in
meanwhile writes the unclaimed name, which the next round picks up. Claims of a process that no
longer runs, or older than STALE_CLAIM_SECONDS, are taken over. Files the receiver refuses for
good move to `dead/` and are logged as errors: nothing is ever dropped silently.
"""

import contextlib
import logging
import math
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

logger = logging.getLogger(__name__)

STALE_CLAIM_SECONDS = 15 * 60
_CLAIM_MARK = ".claimed-"


@dataclass(frozen=True)
class Claim:
    path: Path
    """The claimed file, `<name>.claimed-<pid>`."""
    original: Path


class ClaimFolder:
    def __init__(self, directory: Path, suffix: str) -> None:
        self.directory = directory
        self.dead_directory = directory / "dead"
        self._suffix = suffix

    def write(self, name: str, data: bytes) -> Path:
        """Atomically (re)place `name` with `data`; returns its path."""
        return self._put(name, lambda handle: handle.write(data))

    def move_in(self, source: Path, name: str) -> Path:
        """Atomically place the file `source` (from anywhere) under `name`; `source` is gone."""
        self.directory.mkdir(parents=True, exist_ok=True)
        try:
            # Same filesystem: a rename, no copy. The fsync makes it durable before it counts.
            staged = self.directory / f".tmp-{os.getpid()}-{name}"
            os.rename(source, staged)
        except OSError:
            return self._put(name, lambda handle: _copy_file(source, handle), then_remove=source)
        with open(staged, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(staged, self.directory / name)
        self.fsync()
        return self.directory / name

    def remove(self, name: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            (self.directory / name).unlink()

    def pending(self) -> list[Path]:
        """Unclaimed files, oldest first."""
        if not self.directory.is_dir():
            return []
        files = [p for p in self.directory.glob(f"*{self._suffix}") if not p.name.startswith(".")]
        return sorted(files, key=_mtime)

    def claim_all(self) -> Iterator[Claim]:
        """Claim every unclaimed or abandoned file, one at a time."""
        for path in self._abandoned_claims() + self.pending():
            claim = self.claim(path)
            if claim is not None:
                yield claim

    def claim(self, path: Path) -> Claim | None:
        """Claim one file; None when someone else claimed or removed it first."""
        original = _original_name(path)
        claimed = path.with_name(f"{original.name}{_CLAIM_MARK}{os.getpid()}")
        try:
            os.rename(path, claimed)
        except FileNotFoundError:
            return None
        return Claim(path=claimed, original=original)

    def release(self, claim: Claim) -> None:
        """Sending failed for now: put the file back, unless a newer version was written."""
        try:
            os.link(claim.path, claim.original)
        except FileExistsError:
            pass  # a newer, complete version was put in meanwhile; it supersedes this one
        except FileNotFoundError:
            return
        with contextlib.suppress(FileNotFoundError):
            claim.path.unlink()
        self.fsync()

    def done(self, claim: Claim) -> None:
        with contextlib.suppress(FileNotFoundError):
            claim.path.unlink()
        self.fsync()

    def bury(self, claim: Claim, reason: str) -> Path:
        """Refused for good (or unreadable): keep the file under dead/ for a person to look at."""
        self.dead_directory.mkdir(parents=True, exist_ok=True)
        target = self.dead_directory / claim.original.name
        os.replace(claim.path, target)
        self.fsync()
        logger.error(
            "spooled file refused or unreadable; kept for manual recovery",
            extra={"path": str(target), "reason": reason},
        )
        return target

    def fsync(self) -> None:
        fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def _put(
        self,
        name: str,
        fill: Callable[[BinaryIO], object],
        *,
        then_remove: Path | None = None,
    ) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        target = self.directory / name
        fd, tmp_name = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=self._suffix)
        try:
            with os.fdopen(fd, "wb") as handle:
                fill(handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp_name, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_name)
            raise
        self.fsync()
        if then_remove is not None:
            with contextlib.suppress(FileNotFoundError):
                then_remove.unlink()
        return target

    def _abandoned_claims(self) -> list[Path]:
        if not self.directory.is_dir():
            return []
        abandoned = []
        for path in self.directory.glob(f"*{self._suffix}{_CLAIM_MARK}*"):
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


def _copy_file(source: Path, handle: BinaryIO) -> None:
    with open(source, "rb") as src:
        shutil.copyfileobj(src, handle)


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

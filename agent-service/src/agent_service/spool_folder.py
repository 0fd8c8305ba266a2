"""A folder of files waiting to be sent, which several processes may empty at once.

Files are put in atomically (a temporary file in the same folder, fsync, rename, fsync of the
folder), so a reader never sees half of one. Whoever sends a file first *claims* it: it takes an
exclusive `flock` on the file and renames it to `<name>.claimed-<pid>-<instance>`, `<instance>`
being random and drawn once per process. The rename keeps a second sender from picking the file
up as pending, and a process that puts a newer version in meanwhile writes the unclaimed name,
which the next round picks up. The lock says whether the claimant still runs: the kernel drops it
when the process ends, however it ends (SIGKILL included), so a claim whose lock can be taken was
left by a process that is gone, and is taken over at once. A process ID cannot say that: in a
container the worker is PID 1 after every restart, and its predecessor's claims on the spool
volume carry PID 1 too (the instance in the name tells the two apart for a person reading the
folder). Files the receiver refuses for good, or that cannot be read, move to `dead/` and are
logged as errors: nothing is ever dropped silently.

Each spool (spool.py's transcripts, recording.py's recordings) is a SpoolFolder that knows how
to read its files; spool_sending.py sends what they hold.
"""

import contextlib
import fcntl
import logging
import math
import os
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Generic, TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")
_CLAIM_MARK = ".claimed-"
_INSTANCES: dict[int, str] = {}


def claimant() -> str:
    """What this process writes into its claims: its PID and an instance drawn once per process
    (keyed by PID, so a forked child draws its own)."""
    pid = os.getpid()
    if pid not in _INSTANCES:
        _INSTANCES[pid] = secrets.token_hex(6)
    return f"{pid}-{_INSTANCES[pid]}"


@dataclass(frozen=True)
class Claim:
    path: Path
    """The claimed file, `<name>.claimed-<pid>-<instance>`."""
    original: Path
    fd: int
    """An open descriptor of the file holding its flock; closed when the claim is settled."""


@dataclass(frozen=True)
class Claimed(Generic[T]):
    """A claimed file and what its spool read from it."""

    claim: Claim
    item: T

    @property
    def path(self) -> Path:
        return self.claim.path

    @property
    def original(self) -> Path:
        return self.claim.original


class Unreadable(Exception):
    """A file in a spool folder that is not one of its items."""


class SpoolFolder(Generic[T]):
    """The files of one spool; subclasses say how a file becomes an item (`read`)."""

    def __init__(self, directory: Path, suffix: str) -> None:
        self.directory = directory
        self.dead_directory = directory / "dead"
        self._suffix = suffix

    def read(self, claim: Claim) -> T:
        """The item in a claimed file; Unreadable (or OSError) when it is not one."""
        raise NotImplementedError

    def buried(self, claimed_path: Path) -> None:
        """Called for every file moved to dead/ (a subclass counts it)."""

    # -- putting files in ------------------------------------------------------------------------

    def put(self, name: str, data: bytes) -> Path:
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

    def discard(self, name: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            (self.directory / name).unlink()

    def pending(self) -> list[Path]:
        """Unclaimed files, oldest first."""
        if not self.directory.is_dir():
            return []
        files = [p for p in self.directory.glob(f"*{self._suffix}") if not p.name.startswith(".")]
        return sorted(files, key=_mtime)

    # -- claiming and settling -------------------------------------------------------------------

    def claim_all(self) -> Iterator[Claimed[T]]:
        """Claim every unclaimed file and every claim left by a process that is gone, one at a
        time (a pass that stops early leaves the rest as they were); unreadable ones go to dead/."""
        for path in self._left_claims() + self.pending():
            claimed = self.claim(path)
            if claimed is not None:
                yield claimed

    def claim(self, path: Path) -> Claimed[T] | None:
        """Claim one file; None when a live process holds it, it is gone, or it was unreadable
        (then it is buried)."""
        claim = _take(path)
        if claim is None:
            return None
        try:
            item = self.read(claim)
        except (Unreadable, OSError) as exc:
            self._bury(claim, f"unreadable: {exc}")
            return None
        return Claimed(claim=claim, item=item)

    def release(self, claimed: Claimed[T]) -> None:
        """Sending failed for now: put the file back, unless a newer version was written."""
        claim = claimed.claim
        try:
            os.link(claim.path, claim.original)
        except FileExistsError:
            pass  # a newer, complete version was put in meanwhile; it supersedes this one
        except FileNotFoundError:
            os.close(claim.fd)
            return
        with contextlib.suppress(FileNotFoundError):
            claim.path.unlink()
        self.fsync()
        os.close(claim.fd)

    def done(self, claimed: Claimed[T]) -> None:
        with contextlib.suppress(FileNotFoundError):
            claimed.claim.path.unlink()
        self.fsync()
        os.close(claimed.claim.fd)

    def bury(self, claimed: Claimed[T], reason: str) -> Path:
        """Refused for good: keep the file under dead/ for a person to look at."""
        return self._bury(claimed.claim, reason)

    def fsync(self) -> None:
        fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    # -- inside ----------------------------------------------------------------------------------

    def _bury(self, claim: Claim, reason: str) -> Path:
        self.dead_directory.mkdir(parents=True, exist_ok=True)
        target = self.dead_directory / claim.original.name
        try:
            os.replace(claim.path, target)
            self.fsync()
        finally:
            os.close(claim.fd)
        self.buried(target)
        logger.error(
            "spooled file refused or unreadable; kept for manual recovery",
            extra={"path": str(target), "reason": reason},
        )
        return target

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

    def _left_claims(self) -> list[Path]:
        """Claimed files, whoever claimed them; `_take` tells which are left by the gone."""
        if not self.directory.is_dir():
            return []
        return sorted(self.directory.glob(f"*{self._suffix}{_CLAIM_MARK}*"), key=_mtime)


def _take(path: Path) -> Claim | None:
    """Lock `path` and rename it to our claim; None when it is gone or a live process holds it."""
    original = _original_name(path)
    claimed = original.with_name(f"{original.name}{_CLAIM_MARK}{claimant()}")
    for _ in range(3):
        fd = _locked(path)
        if fd is None:
            return None
        try:
            os.rename(path, claimed)
        except FileNotFoundError:
            os.close(fd)
            return None
        if os.path.samestat(os.fstat(fd), os.stat(claimed)):
            return Claim(path=claimed, original=original, fd=fd)
        # A newer version replaced `path` between our open and our rename: the file we renamed
        # is not the one we locked. Lock it under its new name and check again.
        os.close(fd)
        path = claimed
    return None


def _locked(path: Path) -> int | None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    except BaseException:
        os.close(fd)
        raise
    return fd


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

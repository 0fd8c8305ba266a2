"""Where recordings' bytes live: a small interface, and the filesystem store behind it.

An upload is *staged* first (written in full somewhere no reader looks) and then *committed* under
its key or *discarded*; readers only ever see complete files. That is the shape of an object
store's multipart upload too (complete / abort), so one can replace the filesystem store without
touching the callers.
"""

import contextlib
import os
import secrets
from collections.abc import AsyncIterable, AsyncIterator
from pathlib import Path
from typing import Protocol

import anyio
import anyio.to_thread

READ_CHUNK_BYTES = 64 * 1024


class TooLarge(Exception):
    """The upload went past the limit it was staged with; nothing was kept."""


class Staged(Protocol):
    size: int

    async def commit(self, key: str) -> None:
        """Make the upload readable under `key`, replacing what was there (atomically)."""

    async def discard(self) -> None:
        """Drop the upload; safe to call after commit (then it does nothing)."""


class StoredObject(Protocol):
    size: int

    def read(self, start: int, end: int) -> AsyncIterator[bytes]:
        """The bytes in [start, end), in chunks."""


class RecordingStore(Protocol):
    async def stage(self, chunks: AsyncIterable[bytes], *, max_bytes: int) -> Staged:
        """Write the whole upload; TooLarge past `max_bytes` (and nothing is left behind)."""

    async def open(self, key: str) -> StoredObject | None:
        """The object under `key`, or None when there is none."""

    async def delete(self, key: str) -> bool:
        """Remove the object; False when there was none."""


def recording_key(session_id: object, attempt: int) -> str:
    return f"{session_id}/{attempt}.ogg"


class _FileStaged:
    def __init__(self, store: "FilesystemStore", temp: Path, size: int) -> None:
        self._store = store
        self._temp = temp
        self.size = size

    async def commit(self, key: str) -> None:
        target = self._store.path_for(key)

        def move() -> None:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(self._temp, target)
            _fsync_directory(target.parent)

        await anyio.to_thread.run_sync(move)

    async def discard(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            await anyio.Path(self._temp).unlink()


class _FileObject:
    def __init__(self, path: Path, size: int) -> None:
        self._path = path
        self.size = size

    async def read(self, start: int, end: int) -> AsyncIterator[bytes]:
        async with await anyio.open_file(self._path, "rb") as handle:
            await handle.seek(start)
            left = end - start
            while left > 0:
                chunk = await handle.read(min(READ_CHUNK_BYTES, left))
                if not chunk:
                    return  # truncated under us (purged meanwhile): end the body short
                left -= len(chunk)
                yield chunk


class FilesystemStore:
    """Recordings as files under `root`: `<session id>/<attempt>.ogg`, uploads staged in
    `root/.incoming/` (same filesystem, so a commit is a rename)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._incoming = root / ".incoming"

    def path_for(self, key: str) -> Path:
        root = self.root.resolve()
        path = (root / key).resolve()
        if not path.is_relative_to(root) or any(
            part.startswith(".") for part in path.relative_to(root).parts
        ):
            raise ValueError(f"not a recording key: {key!r}")
        return path

    async def stage(self, chunks: AsyncIterable[bytes], *, max_bytes: int) -> Staged:
        await anyio.Path(self._incoming).mkdir(parents=True, exist_ok=True)
        temp = self._incoming / f"{secrets.token_hex(8)}.part"
        size = 0
        try:
            async with await anyio.open_file(temp, "xb") as handle:
                async for chunk in chunks:
                    size += len(chunk)
                    if size > max_bytes:
                        raise TooLarge(f"more than {max_bytes} bytes")
                    await handle.write(chunk)
                await handle.flush()
                await anyio.to_thread.run_sync(os.fsync, handle.wrapped.fileno())
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()
            raise
        return _FileStaged(self, temp, size)

    async def open(self, key: str) -> StoredObject | None:
        path = self.path_for(key)
        try:
            stat = await anyio.Path(path).stat()
        except FileNotFoundError:
            return None
        return _FileObject(path, stat.st_size)

    async def delete(self, key: str) -> bool:
        path = self.path_for(key)
        try:
            await anyio.Path(path).unlink()
        except FileNotFoundError:
            return False
        with contextlib.suppress(OSError):
            await anyio.Path(path.parent).rmdir()  # the session's folder, once it is empty
        return True


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

"""The recording store and Range parsing, without HTTP: staged uploads, limits, byte ranges."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from token_service.recordings.ranges import ByteRange, Unsatisfiable, parse_range
from token_service.recordings.storage import FilesystemStore, TooLarge, recording_key


async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("bytes=0-99", ByteRange(0, 100)),
        ("bytes=100-", ByteRange(100, 1000)),
        ("bytes=-200", ByteRange(800, 1000)),
        ("bytes=-5000", ByteRange(0, 1000)),
        ("bytes=990-5000", ByteRange(990, 1000)),
        ("Bytes = 5-9", ByteRange(5, 10)),
        ("bytes=0-1,5-6", None),  # several ranges: the whole object, as the RFC allows
        ("bytes=9-5", None),  # invalid: ignored
        ("items=0-5", None),
        ("bytes=abc", None),
    ],
)
def test_range_parsing(header: str | None, expected: ByteRange | None) -> None:
    assert parse_range(header, 1000) == expected


@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=5000-6000", "bytes=-0"])
def test_ranges_past_the_end_are_unsatisfiable(header: str) -> None:
    with pytest.raises(Unsatisfiable):
        parse_range(header, 1000)


def test_content_range_names_the_last_byte() -> None:
    assert ByteRange(100, 200).content_range(1000) == "bytes 100-199/1000"


async def test_staged_upload_is_readable_only_after_commit(tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path)
    key = recording_key("1b9e", 2)
    staged = await store.stage(chunks(b"OggS", b"-rest-of-it"), max_bytes=1000)
    assert staged.size == 15
    assert await store.open(key) is None
    await staged.commit(key)
    await staged.discard()  # after a commit: nothing to drop
    stored = await store.open(key)
    assert stored is not None
    assert stored.size == 15
    assert b"".join([c async for c in stored.read(4, 9)]) == b"-rest"
    assert (tmp_path / "1b9e" / "2.ogg").read_bytes() == b"OggS-rest-of-it"
    assert list((tmp_path / ".incoming").iterdir()) == []
    assert await store.delete(key) is True
    assert await store.delete(key) is False
    assert not (tmp_path / "1b9e").exists()


async def test_an_upload_past_the_limit_leaves_nothing(tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path)
    with pytest.raises(TooLarge):
        await store.stage(chunks(b"x" * 600, b"y" * 600), max_bytes=1000)
    assert list((tmp_path / ".incoming").iterdir()) == []


async def test_discarded_upload_leaves_nothing(tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path)
    staged = await store.stage(chunks(b"OggS"), max_bytes=10)
    await staged.discard()
    assert list((tmp_path / ".incoming").iterdir()) == []


def test_keys_stay_inside_the_store(tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path / "recordings")
    for bad in ("../x.ogg", ".incoming/a.part", "/etc/passwd"):
        with pytest.raises(ValueError, match="not a recording key"):
            store.path_for(bad)

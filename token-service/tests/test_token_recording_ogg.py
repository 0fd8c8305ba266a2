"""The Ogg/Opus check an upload passes page by page, whatever its chunks."""

import pytest

from token_service.recordings.ogg import NotOgg, OggCheck, opus_stream

STREAM = opus_stream([bytes(range(200)), b"\x00" * 600, b"x"])
HEAD_PAGE = 27 + 1 + 19
"""The first page's size: its header, one lacing value, the OpusHead packet."""


def check(*chunks: bytes) -> None:
    ogg = OggCheck()
    for chunk in chunks:
        ogg.feed(chunk)
    ogg.finish()


def test_a_stream_passes_in_chunks_of_any_size() -> None:
    for size in (1, 7, 27, 28, 4096):
        check(*(STREAM[i : i + size] for i in range(0, len(STREAM), size)))


def test_a_second_stream_chained_after_the_first_passes() -> None:
    check(STREAM + opus_stream([b"y"], serial=2))


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"", "empty"),
        (STREAM[1:], "no Ogg page at byte 0"),
        (STREAM[:-1], "ends inside a page"),
        (STREAM + b"OggS", "ends inside a page"),
        (STREAM + b"ID3", "no Ogg page at byte"),
        (STREAM[:4] + b"\x01" + STREAM[5:], "version 1"),
        (STREAM[:40] + bytes([STREAM[40] ^ 0x80]) + STREAM[41:], "fails its CRC"),
        (STREAM[HEAD_PAGE:], "does not begin an Ogg/Opus stream"),  # OpusTags first
    ],
)
def test_anything_else_is_refused(body: bytes, why: str) -> None:
    with pytest.raises(NotOgg, match=why):
        check(body)

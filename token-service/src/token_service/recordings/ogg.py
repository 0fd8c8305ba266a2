"""Ogg pages (RFC 3533): an upload is checked page by page as it streams, and pages are built.

A recording is stored only when it is an Ogg/Opus stream through to its last byte: every page
starts with the capture pattern, is version 0 and carries its own CRC; the first page begins the
stream (BOS) with the `OpusHead` packet (RFC 7845); the body ends where a page ends. The CRC is
what makes a body that merely starts like Ogg (or a truncated file) fail: bytes that were not
written as Ogg pages do not checksum. `opus_stream` builds a well-formed stream the same way,
for whoever needs one without an encoder (tests, the contract tests' generator).
"""

import struct
import zlib
from collections.abc import Iterable
from typing import Final

CAPTURE: Final = b"OggS"
OPUS_HEAD: Final = b"OpusHead"
BOS: Final = 0x02
EOS: Final = 0x04

_HEADER = struct.Struct("<4sBBqIIIB")
_CRC_FIELD = slice(22, 26)
_MAX_SEGMENT = 255
_MAX_SEGMENTS = 255
_REVERSED_BITS: Final = bytes(int(f"{byte:08b}"[::-1], 2) for byte in range(256))
_OPUS_HEAD = struct.Struct("<8sBBHIhB")
_SAMPLES_PER_PACKET = 960
"""20 ms at Opus' 48 kHz granule rate."""


class NotOgg(ValueError):
    """The body is not an Ogg/Opus stream; the message says where it stopped being one."""


def crc(page: bytes) -> int:
    """Ogg's CRC-32 (polynomial 0x04C11DB7, not reflected, initial value and final XOR 0).

    zlib's CRC-32 is the reflected form of the same polynomial: fed bit-reversed bytes, started
    from 0 (zlib inverts its `value` on the way in and its result on the way out) and bit-reversed
    at the end, it gives Ogg's, at C speed.
    """
    reflected = zlib.crc32(page.translate(_REVERSED_BITS), 0xFFFFFFFF) ^ 0xFFFFFFFF
    return int(f"{reflected:032b}"[::-1], 2)


def _page(packet: bytes, *, serial: int, sequence: int, granule: int, flags: int) -> bytes:
    """One page holding exactly one whole packet (at most 255 * 255 - 1 bytes)."""
    full, rest = divmod(len(packet), _MAX_SEGMENT)
    if full >= _MAX_SEGMENTS:
        raise ValueError(f"a packet of {len(packet)} bytes does not fit in one page")
    lacing = bytes([_MAX_SEGMENT] * full + [rest])
    header = _HEADER.pack(CAPTURE, 0, flags, granule, serial, sequence, 0, len(lacing))
    unsigned = bytearray(header + lacing + packet)
    unsigned[_CRC_FIELD] = crc(bytes(unsigned)).to_bytes(4, "little")
    return bytes(unsigned)


def opus_stream(packets: Iterable[bytes], *, serial: int = 1) -> bytes:
    """A stereo Ogg/Opus stream of `packets` (taken as 20 ms each, not decoded here): the
    OpusHead and OpusTags pages, then one page per packet, the last one ending the stream."""
    head = _OPUS_HEAD.pack(OPUS_HEAD, 1, 2, 312, 48_000, 0, 0)
    vendor = b"token_service.recordings.ogg"
    tags = b"OpusTags" + struct.pack("<I", len(vendor)) + vendor + struct.pack("<I", 0)
    pages = [
        _page(head, serial=serial, sequence=0, granule=0, flags=BOS),
        _page(tags, serial=serial, sequence=1, granule=0, flags=0),
    ]
    audio = list(packets) or [b""]
    for number, packet in enumerate(audio, start=1):
        pages.append(
            _page(
                packet,
                serial=serial,
                sequence=number + 1,
                granule=number * _SAMPLES_PER_PACKET,
                flags=EOS if number == len(audio) else 0,
            )
        )
    return b"".join(pages)


class OggCheck:
    """Feed the body's chunks as they arrive, then `finish`; NotOgg at the first bad page.

    It holds at most one page (under 64 KiB) of the body at a time.
    """

    def __init__(self) -> None:
        self._pending = bytearray()
        self._offset = 0
        self._pages = 0

    def feed(self, chunk: bytes) -> None:
        self._pending += chunk
        while (size := self._next_page_size()) is not None:
            self._check(bytes(self._pending[:size]))
            del self._pending[:size]
            self._offset += size
            self._pages += 1

    def finish(self) -> None:
        if self._pending:
            raise NotOgg(f"the body ends inside a page (at byte {self._offset})")
        if self._pages == 0:
            raise NotOgg("the body is empty")

    def _next_page_size(self) -> int | None:
        pending = self._pending
        if pending[: len(CAPTURE)] != CAPTURE[: len(pending)]:
            raise NotOgg(f"no Ogg page at byte {self._offset}")
        if len(pending) < _HEADER.size:
            return None
        header_size = _HEADER.size + pending[_HEADER.size - 1]
        if len(pending) < header_size:
            return None
        size = header_size + sum(pending[_HEADER.size : header_size])
        return size if len(pending) >= size else None

    def _check(self, data: bytes) -> None:
        _, version, flags, *_, checksum, segments = _HEADER.unpack_from(data)
        where = f"the page at byte {self._offset}"
        if version != 0:
            raise NotOgg(f"{where} is of Ogg version {version}")
        unsigned = bytearray(data)
        unsigned[_CRC_FIELD] = bytes(4)
        if crc(bytes(unsigned)) != checksum:
            raise NotOgg(f"{where} fails its CRC")
        if self._pages == 0:
            packet = data[_HEADER.size + segments :]
            if not flags & BOS or not packet.startswith(OPUS_HEAD):
                raise NotOgg("the body does not begin an Ogg/Opus stream (BOS page, OpusHead)")

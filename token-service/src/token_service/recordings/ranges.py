"""HTTP Range requests (RFC 9110 §14) over one object of known size: one range, in bytes.

A player seeks with `Range: bytes=<start>-` (or `<start>-<end>`, or `-<suffix length>`). What this
module does not serve it may ignore, as the RFC allows: a malformed header or several ranges get
the whole object (200). A well-formed range that starts past the end is unsatisfiable (416).
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int
    """Exclusive."""

    @property
    def length(self) -> int:
        return self.end - self.start

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.end - 1}/{size}"


class Unsatisfiable(Exception):
    pass


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The one range to serve, or None for the whole object; Unsatisfiable for a 416."""
    if header is None:
        return None
    unit, _, spec = header.strip().partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first, dash, last = spec.strip().partition("-")
    first, last = first.strip(), last.strip()
    if not dash or not (first.isdigit() or first == "") or not (last.isdigit() or last == ""):
        return None
    if first == "":
        if last == "":
            return None
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise Unsatisfiable
        return ByteRange(max(0, size - suffix), size)
    start = int(first)
    end = size if last == "" else min(int(last) + 1, size)
    if last != "" and int(last) < start:
        return None  # invalid: ignored, like any other header this module cannot read
    if start >= size:
        raise Unsatisfiable
    return ByteRange(start, end)

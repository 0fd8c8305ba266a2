"""`make bench`'s table: a section that failed has a FAILED row with the reason and no figure."""

from bench.__main__ import SECTIONS, machine
from bench.load import LoadResult
from bench.report import table
from bench.token_endpoint import TokenResult


def test_a_failed_section_prints_why_and_no_figure() -> None:
    load = LoadResult(requests_per_s=1000.0, p50_ms=1.0, p99_ms=2.0, non_2xx=0, errors=0)
    token = TokenResult(load, load, load, 1.0, 1.0, connections=32, seconds=10)
    text = table(
        machine(),
        [(SECTIONS["token"], token)],
        {"servers": "LoadFailed: POST http://x/token: 12342 non-2xx answers"},
    )
    rows = [line for line in text.splitlines() if "servers" in line]
    assert len(rows) == 1
    assert "FAILED" in rows[0]
    assert "12342 non-2xx" in rows[0]
    assert "req/s" not in rows[0]
    assert "1,000 req/s" in text  # the sections that ran still report

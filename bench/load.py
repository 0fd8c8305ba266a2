"""Closed-loop HTTP load with wrk, the server and the load generator each confined to one core.

A run that saw a non-2xx answer or a socket error raises LoadFailed: its rate would be the rate
of the failure path, not of the endpoint measured."""

import re
import subprocess
import tempfile
from pathlib import Path

import msgspec

SERVER_CPU = 0
LOAD_CPU = 1


class LoadFailed(RuntimeError):
    """wrk saw answers other than 2xx, or socket errors; the message has wrk's figures."""


class LoadResult(msgspec.Struct, frozen=True):
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    errors: int


def _lua(body: str, headers: dict[str, str]) -> str:
    lines = ['wrk.method = "POST"', f"wrk.body = [[{body}]]"]
    lines += [f'wrk.headers["{name}"] = "{value}"' for name, value in headers.items()]
    return "\n".join(lines) + "\n"


def _millis(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def parse_wrk(output: str) -> LoadResult:
    def grab(pattern: str) -> str:
        match = re.search(pattern, output)
        if not match:
            raise RuntimeError(f"unexpected wrk output (no {pattern!r}):\n{output}")
        return match.group(1)

    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return LoadResult(
        requests_per_s=float(grab(r"Requests/sec:\s+([\d.]+)")),
        p50_ms=_millis(grab(r"\s50%\s+([\d.]+\w+)")),
        p99_ms=_millis(grab(r"\s99%\s+([\d.]+\w+)")),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        errors=sum(int(n) for n in errors.groups()) if errors else 0,
    )


def post_load(
    url: str,
    body: str,
    headers: dict[str, str],
    *,
    connections: int = 32,
    seconds: int = 10,
    warmup_seconds: int = 2,
) -> LoadResult:
    """POST `body` to `url` with wrk on LOAD_CPU; the first `warmup_seconds` are discarded.
    Raises LoadFailed when any request of the measured run failed."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_lua(body, {"Content-Type": "application/json", **headers}))
    try:
        base = ["taskset", "-c", str(LOAD_CPU), "wrk", "-t1", f"-c{connections}", "--latency"]
        base += ["-s", script.name]
        if warmup_seconds:
            subprocess.run([*base, f"-d{warmup_seconds}s", url], check=True, capture_output=True)
        run = subprocess.run(
            [*base, f"-d{seconds}s", url], check=True, capture_output=True, text=True
        )
    finally:
        Path(script.name).unlink()
    result = parse_wrk(run.stdout)
    if result.non_2xx or result.errors:
        raise LoadFailed(
            f"POST {url}: {result.non_2xx} non-2xx answers and {result.errors} socket errors "
            f"in {seconds} s ({result.requests_per_s:,.0f} req/s): no figure from this run"
        )
    return result


def pin(pid: int, cpu: int) -> None:
    """Confine a running process, every thread of it, to one CPU (its later children inherit it)."""
    subprocess.run(
        ["taskset", "-a", "-p", "-c", str(cpu), str(pid)], check=True, capture_output=True
    )

"""Managed subprocesses: start with an environment, log to a file, wait until ready, stop cleanly.

Every server of the local stack is one of these. Readiness waits are bounded and fail with the tail
of the process's log, so a broken start says why instead of hanging. Each process runs in its own
process group: stopping it sends SIGTERM to the process, then SIGKILL to the whole group (job
processes forked by the agent worker included) when it does not exit in time.
"""

# A deadline is these waits' contract (the error says what never came), not an outer cancel.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import httpx

__all__ = ["ManagedProcess", "ProcessError", "managed_process"]

_POLL_S = 0.05


class ProcessError(RuntimeError):
    """A managed process died or did not become ready in time; the message ends with its log tail."""


class ManagedProcess:
    """One child process whose stdout and stderr go to `log_path`."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        log_path: Path,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        inherit_env: bool = True,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        full_env = dict(os.environ) if inherit_env else {}
        full_env.update(env or {})
        full_env.setdefault("PYTHONUNBUFFERED", "1")
        self.env = full_env
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = log_path.open("ab", buffering=0)
        self._log.write(f"--- {name}: {' '.join(self.argv)}\n".encode())
        self._offset_at_start = self._log.tell()
        try:
            self.popen = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                env=full_env,
                cwd=cwd,
                start_new_session=True,
            )
        except OSError as exc:
            self._log.close()
            raise ProcessError(f"{name}: cannot start {self.argv[0]}: {exc}") from exc
        self.started_at = time.monotonic()
        self._stopped = False

    # -- state -----------------------------------------------------------------------------------

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def running(self) -> bool:
        return self.popen.poll() is None

    def log_text(self) -> str:
        """Everything this process wrote since it started."""
        with self.log_path.open("rb") as fh:
            fh.seek(self._offset_at_start)
            return fh.read().decode("utf-8", errors="replace")

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def _fail(self, what: str) -> ProcessError:
        return ProcessError(
            f"{self.name} (pid {self.pid}) {what}; log {self.log_path}, last lines:\n"
            f"{self.log_tail()}"
        )

    def _check_alive(self, what: str) -> None:
        code = self.popen.poll()
        if code is not None:
            raise self._fail(f"exited with code {code} while {what}")

    # -- readiness -------------------------------------------------------------------------------

    def _line_or_none(
        self, regex: re.Pattern[str], start: int, deadline: float, timeout: float
    ) -> re.Match[str] | None:
        """One look at the log: the match, None to look again, or ProcessError."""
        match = regex.search(self.log_text(), start)
        if match:
            return match
        self._check_alive(f"waiting for {regex.pattern!r}")
        if time.monotonic() > deadline:
            raise self._fail(f"did not log {regex.pattern!r} within {timeout:.0f} s")
        return None

    def wait_for_line(
        self, pattern: str | re.Pattern[str], timeout: float, *, start: int = 0
    ) -> re.Match[str]:
        """Wait until the log (from character `start`) matches `pattern`; return the match."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while (match := self._line_or_none(regex, start, deadline, timeout)) is None:
            time.sleep(_POLL_S)
        return match

    async def await_line(
        self, pattern: str | re.Pattern[str], timeout: float, *, start: int = 0
    ) -> re.Match[str]:
        """`wait_for_line` for coroutines: polls without blocking the event loop."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        # A log file has no event to wait on: polling is the mechanism.
        while (match := self._line_or_none(regex, start, deadline, timeout)) is None:  # noqa: ASYNC110
            await asyncio.sleep(_POLL_S)
        return match

    def wait_for_http(self, url: str, timeout: float, *, accept_status: int = 500) -> int:
        """Wait until `url` answers with a status below `accept_status`; return the status."""
        deadline = time.monotonic() + timeout
        last_error = "no answer yet"
        with httpx.Client(timeout=2.0, trust_env=False) as client:
            while True:
                self._check_alive(f"waiting for {url}")
                try:
                    status = client.get(url).status_code
                except httpx.HTTPError as exc:
                    last_error = f"{type(exc).__name__}: {exc}"
                else:
                    if status < accept_status:
                        return status
                    last_error = f"HTTP {status}"
                if time.monotonic() > deadline:
                    raise self._fail(f"did not answer {url} within {timeout:.0f} s ({last_error})")
                time.sleep(_POLL_S * 2)

    # -- stopping --------------------------------------------------------------------------------

    def _signal_group(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, sig)

    def _exited_unreaped(self, timeout: float) -> bool:
        """Wait up to `timeout` for an exit without reaping, so the group id cannot be reused."""
        deadline = time.monotonic() + timeout
        while True:
            if self.popen.returncode is not None:
                return True
            try:
                info = os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            except ChildProcessError:
                return True
            if info is not None:
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(_POLL_S)

    def terminate(self, timeout: float = 10.0) -> int:
        """SIGTERM, wait up to `timeout`, then SIGKILL the process group. Returns the exit code;
        a process already stopped is left alone."""
        if self._stopped:
            return self.popen.wait()
        if self.popen.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGTERM)
            if not self._exited_unreaped(timeout):
                self._note(f"no exit {timeout:.0f} s after SIGTERM, SIGKILL")
        # Children left behind (job processes, forkservers) go with the group.
        self._signal_group(signal.SIGKILL)
        code = self.popen.wait()
        self._close_log()
        return code

    def kill(self) -> int:
        """SIGKILL the process group at once (a crash, a closed tab)."""
        if self._stopped:
            return self.popen.wait()
        self._signal_group(signal.SIGKILL)
        code = self.popen.wait()
        self._close_log()
        return code

    def _note(self, text: str) -> None:
        if not self._log.closed:
            self._log.write(f"--- {self.name}: {text}\n".encode())

    def _close_log(self) -> None:
        self._stopped = True
        if not self._log.closed:
            self._log.close()


@contextlib.contextmanager
def managed_process(
    name: str,
    argv: Sequence[str],
    *,
    log_path: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    stop_timeout: float = 10.0,
) -> Iterator[ManagedProcess]:
    """Run `argv` for the duration of the block; stop it (SIGTERM, then SIGKILL) afterwards."""
    proc = ManagedProcess(name, argv, log_path=log_path, env=env, cwd=cwd)
    try:
        yield proc
    finally:
        proc.terminate(stop_timeout)

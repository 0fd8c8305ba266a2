"""What the agent worker's processes use: the process tree (job processes come and go), its CPU
time and its memory, and pinning it to a core."""

import contextlib
import subprocess

import psutil

from .load import pin


def process_tree(pid: int) -> list[psutil.Process]:
    root = psutil.Process(pid)
    return [root, *root.children(recursive=True)]


class CpuMeter:
    """CPU seconds a process tree spends, job processes that come and go included: each process is
    sampled while it lives and keeps its last reading after it exits."""

    def __init__(self, root_pid: int) -> None:
        self._root = root_pid
        self._first: dict[int, float] = {}
        self._last: dict[int, float] = {}
        self.sample(baseline=True)

    def sample(self, *, baseline: bool = False) -> None:
        for process in process_tree(self._root):
            with contextlib.suppress(psutil.NoSuchProcess):
                times = process.cpu_times()
                used = times.user + times.system
                self._first.setdefault(process.pid, used if baseline else 0.0)
                self._last[process.pid] = used

    @property
    def seconds(self) -> float:
        return sum(last - self._first[pid] for pid, last in self._last.items())


def pss_mb(processes: list[psutil.Process]) -> float:
    """Memory of the processes, pages shared between them counted once (PSS).

    Job processes are forked from one forkserver and share most of their pages with it and with
    each other: adding up their RSS would count those pages once per process."""
    total = 0
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            total += process.memory_full_info().pss
    return total / 2**20


def pin_tree(pid: int, cpu: int) -> None:
    for process in process_tree(pid):
        with contextlib.suppress(psutil.NoSuchProcess, subprocess.CalledProcessError):
            pin(process.pid, cpu)

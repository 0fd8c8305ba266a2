"""What the worker reports to livekit-server as its load: livekit-server dispatches no call to a
worker reporting LOAD_THRESHOLD (LiveKit's 0.7) or more.

The larger of two measures counts:

- calls running / JOB_CAPACITY: the ceiling, where a worker of the measured machine kind stops
  whatever its CPU says (the memory of its calls, a bound that holds while the CPU average lags).
- with CPU_STOP set, the CPU in use, as livekit-agents measures it by default (the container's or the machine's CPU,
  averaged over 2.5 s), scaled so that CPU_STOP reads as LOAD_THRESHOLD. This is the measure that
  follows the machine: a slower one, or one busy with other work, spends more of its CPU per call
  and stops taking calls at fewer of them, which a fixed count cannot do.

The caller's reply is slowest when every trainee speaks at once, and a call speaking costs about
twice one listening; most of the time most callers listen, so the CPU a worker shows is mostly
listening calls. CPU_STOP is therefore well below a full machine: at it, the calls running still
fit the CPU when all of them speak at once (docs/operations.md, "Capacity", has the figures and
the bench command that measures the rule). A short CPU spike (a job process starting) is
smoothed by the 2.5 s average; one that lasts makes the worker refuse calls for its duration,
which the token service covers by dispatching the caller again to a waiting trainee.
"""

from collections.abc import Callable

from livekit.agents import AgentServer
from livekit.agents.worker import _DefaultLoadCalc

from . import metrics

LOAD_THRESHOLD = 0.7
"""livekit-agents' production load threshold, which `build_server` leaves as it is."""

CpuLoad = Callable[[AgentServer], float]


def livekit_cpu_load(server: AgentServer) -> float:
    """livekit-agents' default load: the CPU in use, 0 to 1, over the last 2.5 s (a thread of
    the main process samples it every half second once first asked)."""
    return _DefaultLoadCalc.get_load(server)


class WorkerLoad:
    """The worker's `load_fnc`: max(calls / capacity, CPU scaled to stop at `cpu_stop`), at most 1."""

    def __init__(
        self, capacity: int, cpu_stop: float | None, cpu_load: CpuLoad = livekit_cpu_load
    ) -> None:
        """`cpu_stop` None: the count alone."""
        self.capacity = capacity
        self.cpu_stop = cpu_stop
        self._cpu_load = cpu_load

    def __call__(self, server: AgentServer) -> float:
        running = len(server.active_jobs)
        metrics.set_calls_running(running)  # called every half second in the main process
        load = running / self.capacity
        if self.cpu_stop is not None:
            load = max(load, self._cpu_load(server) * LOAD_THRESHOLD / self.cpu_stop)
        return min(1.0, load)

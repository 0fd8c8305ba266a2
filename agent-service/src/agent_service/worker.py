"""The LiveKit worker: one training call per job (call.py), dispatched explicitly under AGENT_NAME.

`build_server` is built once in the main process from the settings. Everything the jobs share
(the options, the spool, the Realtime model's configuration, how to open an API client) is a
`Runtime`, built once there and handed to each job process by `prewarm`. Each job process runs
exactly one job (livekit-agents starts a process per job and ends it with the job), so the job's
`TrainingCall` is kept in the process's `userdata` for `on_session_end` to find.
"""

import functools
import logging
from typing import Any

from livekit.agents import AgentServer, JobContext, JobExecutorType, JobProcess
from livekit.agents.worker import ServerEnvOption

from training_contracts import AGENT_NAME

from . import speaking_rate, warmup
from .call import TrainingCall
from .load import WorkerLoad
from .redelivery import SpoolRedeliverer
from .runtime import Runtime

logger = logging.getLogger(__name__)

SESSION_END_TIMEOUT = 30.0
"""How long on_session_end may take; the final delivery gives up (and spools) well before."""


_RUNTIME_KEY = "agent_service.runtime"
_CALL_KEY = "agent_service.call"

# At import as well as in prewarm: this module is preloaded into the forkserver, so every job
# process forked from it starts with the vectorized speaking-rate estimate already in place.
speaking_rate.install()


def prewarm(runtime: Runtime, proc: JobProcess) -> None:
    """Runs in each job process before it takes a job: import-heavy work and configuration.

    The HTTP client is not opened here: prewarm runs before the process's event loop exists, and
    an aiohttp session belongs to one loop. Each process runs one job, so the client opened at
    the job's start is the process's only one.
    """
    warmup.warm_up()
    speaking_rate.install()
    proc.userdata[_RUNTIME_KEY] = runtime


def _runtime(proc: JobProcess) -> Runtime:
    runtime = proc.userdata.get(_RUNTIME_KEY)
    if not isinstance(runtime, Runtime):
        # Only a server built by build_server() runs these jobs, and its setup_fnc is prewarm.
        raise RuntimeError("the job process was not prewarmed: build the server with build_server")
    return runtime


async def entrypoint(ctx: JobContext) -> None:
    call = TrainingCall(ctx, _runtime(ctx.proc))
    ctx.proc.userdata[_CALL_KEY] = call
    await call.start()


async def on_session_end(ctx: JobContext) -> None:
    call = ctx.proc.userdata.get(_CALL_KEY)
    if isinstance(call, TrainingCall):
        await call.end()


def build_server(runtime: Runtime) -> AgentServer:
    settings = runtime.settings
    kwargs: dict[str, Any] = {}
    if settings.num_idle_processes is not None:
        kwargs["num_idle_processes"] = settings.num_idle_processes
    server = AgentServer(
        setup_fnc=functools.partial(prewarm, runtime),
        load_fnc=WorkerLoad(settings.job_capacity, settings.cpu_stop),
        # imported once in the forkserver, so a fresh job process starts warm
        preload_modules=[__name__, warmup.__name__],
        port=(
            settings.agent_health_port
            if settings.agent_health_port is not None
            else ServerEnvOption(dev_default=0, prod_default=8081)
        ),
        session_end_timeout=SESSION_END_TIMEOUT,
        # livekit-agents' /metrics server, on the same host as its health server (metrics.py)
        prometheus_port=settings.metrics_port,
        drain_timeout=settings.drain_timeout,
        job_executor_type=JobExecutorType(settings.job_executor),
        **kwargs,
    )
    server.rtc_session(entrypoint, agent_name=AGENT_NAME, on_session_end=on_session_end)

    redeliverer = SpoolRedeliverer(
        runtime.spool,
        runtime.recordings,
        runtime.new_client,
        interval=settings.spool_retry_interval,
    )

    @server.on("worker_started")
    def _redeliver_spooled_transcripts() -> None:
        # The main process, once per worker start: transcripts and recordings spooled by earlier
        # jobs (or an earlier run of the worker) are sent now, and whatever jobs spool from now
        # on (looked for every spool_retry_interval seconds).
        logger.info("spool redelivery started", extra={"spool_dir": str(runtime.spool.directory)})
        redeliverer.start()

    return server

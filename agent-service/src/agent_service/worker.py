"""The LiveKit worker: one training call per job, dispatched explicitly under AGENT_NAME.

A job, start to end:

1. Decode the dispatch metadata. Invalid: connect, publish `error`, end the job.
2. Concurrently: connect to the room, and (fetch the scenario's prompt if the dispatch names one,
   then create the session through the internal API). The two HTTP calls stay in sequence so a
   scenario that does not exist never leaves a session row behind; both usually finish while the
   room connection is still being set up, so they add no latency of their own.
3. Publish `session.id` (and clear `error`) before the conversation starts, or publish the error
   code and end the job.
4. Run an AgentSession with the CallerAgent on the OpenAI Realtime model, recording final turns
   and delivering settled ones while the call goes (transcript.py, delivery.py).
5. The call ends when the trainee leaves: RoomIO closes the session on a client-initiated leave,
   and a watcher ends the job when the trainee's participant is gone for any other reason (tab
   closed, connection lost) and does not come back within a short grace period. Either way the
   session's close handler calls `ctx.shutdown()`, so the job ends at once instead of lingering
   until the server closes the empty room. `on_session_end` (room still connected) sends the
   final transcript within a bounded time or spools it; a shutdown callback spools whatever is
   still undelivered if that never happened, and closes the HTTP client.

Who speaks first: the caller waits for the trainee (a counselor answers the phone) and speaks
first only after `caller_opens_after` seconds of silence; see caller.QuietLineOpener.

Attributes are published from the job, not at `JobRequest.accept` time: the session id only
exists after the internal API answered, and accepting earlier than that would only move the same
round trip in front of the room connection instead of beside it.
"""

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

from livekit import rtc
from livekit.agents import (
    AgentServer,
    AgentSession,
    AutoSubscribe,
    CloseEvent,
    CloseReason,
    JobContext,
    JobProcess,
    room_io,
)
from livekit.agents.worker import ServerEnvOption

from training_contracts import (
    AGENT_NAME,
    ATTR_ERROR,
    ATTR_SESSION_ID,
    AgentDispatchMetadata,
    AgentErrorCode,
    ContractError,
    CreateSessionRequest,
    CreateSessionResponse,
    SessionType,
    TranscriptTurn,
    decode_dispatch,
)

from . import warmup
from .api_client import (
    SCENARIO_POLICY,
    SESSION_CREATE_POLICY,
    TRANSCRIPT_POLICY,
    ApiError,
    InternalApiClient,
    NotFound,
    RetryPolicy,
)
from .caller import CallerAgent, QuietLineOpener, RealtimeConfig, caller_session
from .delivery import SPOOL_RETRY_INTERVAL, SpoolRedeliverer, TranscriptDelivery
from .settings import Settings, load_settings
from .spool import Spool
from .transcript import TranscriptRecorder

logger = logging.getLogger(__name__)

T = TypeVar("T")

SESSION_END_TIMEOUT = 30.0
"""How long on_session_end may take; the final delivery gives up (and spools) well before."""


def call_room_options() -> room_io.RoomOptions:
    """How the caller hears and speaks in the room.

    No gain control on the trainee's audio: the browser already applies it (getUserMedia's
    autoGainControl, on in livekit-client by default), and the Realtime model does its own turn
    detection on what it receives. A second pass in the worker cost about 0.5% of a core per
    call: a round trip into the native library for every 50 ms frame.
    """
    return room_io.RoomOptions(
        close_on_disconnect=True,
        audio_input=room_io.AudioInputOptions(auto_gain_control=False),
    )


@dataclass(frozen=True)
class CallOptions:
    """Timings of one call. The defaults are production's; tests shorten them."""

    session_create_policy: RetryPolicy = SESSION_CREATE_POLICY
    scenario_policy: RetryPolicy = SCENARIO_POLICY
    transcript_policy: RetryPolicy = TRANSCRIPT_POLICY
    caller_opens_after: float = 4.0
    """Seconds of silence after which the caller speaks first."""
    final_delivery_timeout: float = 8.0
    batch_size: int = 4
    batch_interval: float = 10.0
    trainee_rejoin_grace: float = 3.0
    """After the trainee's connection drops in a way a client recovers from by rejoining, wait
    this long for the rejoin before ending the call."""


@dataclass(frozen=True)
class Runtime:
    """What every job of a worker shares; built once, handed to job processes at prewarm."""

    settings: Settings
    options: CallOptions = field(default_factory=CallOptions)

    @property
    def realtime(self) -> RealtimeConfig:
        return RealtimeConfig.from_settings(self.settings)

    @property
    def spool(self) -> Spool:
        return Spool(self.settings.spool_dir)

    def api_client(self) -> InternalApiClient:
        return InternalApiClient(
            self.settings.token_service_url, self.settings.internal_service_key
        )


_RUNTIME_KEY = "agent_service.runtime"

_MAY_REJOIN = frozenset(
    {
        rtc.DisconnectReason.UNKNOWN_REASON,
        rtc.DisconnectReason.SIGNAL_CLOSE,
        rtc.DisconnectReason.MIGRATION,
        rtc.DisconnectReason.STATE_MISMATCH,
        rtc.DisconnectReason.MEDIA_FAILURE,
    }
)
"""Disconnect reasons after which the trainee's client may rejoin as a new participant."""
_calls: dict[str, "TrainingCall"] = {}


def prewarm(runtime: Runtime, proc: JobProcess) -> None:
    """Runs in each job process before it takes a job: import-heavy work and configuration.

    The HTTP client is not opened here: prewarm runs before the process's event loop exists, and
    an aiohttp session belongs to one loop. Each process runs one job, so the client opened at
    the job's start is the process's only one.
    """
    warmup.warm_up()
    proc.userdata[_RUNTIME_KEY] = runtime


def _runtime(proc: JobProcess) -> Runtime:
    runtime = proc.userdata.get(_RUNTIME_KEY)
    if isinstance(runtime, Runtime):
        return runtime
    return Runtime(settings=load_settings())


async def entrypoint(ctx: JobContext) -> None:
    call = TrainingCall(ctx, _runtime(ctx.proc))
    _calls[ctx.job.id] = call
    await call.start()


async def on_session_end(ctx: JobContext) -> None:
    call = _calls.get(ctx.job.id)
    if call is not None:
        await call.end()


def job_load(capacity: int, server: AgentServer) -> float:
    """The worker's load as the share of its call capacity in use.

    LiveKit's default is the machine's CPU use, and livekit-server dispatches nothing to a worker
    reporting 0.7 or more: a CPU spike (job processes starting, another worker importing) then
    leaves trainees without a caller. A call is mostly I/O (audio relayed to the Realtime model),
    so the number of running calls is the steadier measure. LiveKit Cloud ignores a custom load
    function and uses its own.
    """
    return min(1.0, len(server.active_jobs) / capacity)


def build_server(runtime: Runtime) -> AgentServer:
    settings = runtime.settings
    kwargs: dict[str, Any] = {}
    if settings.num_idle_processes is not None:
        kwargs["num_idle_processes"] = settings.num_idle_processes
    server = AgentServer(
        setup_fnc=functools.partial(prewarm, runtime),
        load_fnc=functools.partial(job_load, settings.job_capacity),
        # imported once in the forkserver, so a fresh job process starts warm
        preload_modules=[__name__, warmup.__name__],
        port=(
            settings.agent_health_port
            if settings.agent_health_port is not None
            else ServerEnvOption(dev_default=0, prod_default=8081)
        ),
        session_end_timeout=SESSION_END_TIMEOUT,
        **kwargs,
    )
    server.rtc_session(entrypoint, agent_name=AGENT_NAME, on_session_end=on_session_end)

    redeliverer = SpoolRedeliverer(
        runtime.spool, runtime.api_client(), interval=SPOOL_RETRY_INTERVAL
    )

    @server.on("worker_started")
    def _redeliver_spooled_transcripts() -> None:
        # The main process, once per worker start: transcripts spooled by earlier jobs (or an
        # earlier run of the worker) are sent now and every SPOOL_RETRY_INTERVAL seconds after.
        logger.info("spool redelivery started", extra={"spool_dir": str(runtime.spool.directory)})
        redeliverer.start()

    return server


async def _timed(awaitable: Awaitable[T]) -> tuple[T, int]:
    started = time.perf_counter()
    result = await awaitable
    return result, round((time.perf_counter() - started) * 1000)


class CallSetupError(Exception):
    def __init__(self, code: AgentErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code


async def prepare_call(
    client: InternalApiClient, metadata: AgentDispatchMetadata, options: CallOptions
) -> tuple[str | None, CreateSessionResponse]:
    """The scenario's prompt (None: the default caller) and the new session, or CallSetupError.

    The scenario is fetched first so that a dispatch naming an unknown scenario creates no
    session (and, for an assignment, spends no attempt).
    """
    scenario_prompt: str | None = None
    if metadata.scenario_id is not None:
        try:
            scenario = await client.get_scenario(metadata.scenario_id, options.scenario_policy)
        except NotFound as exc:
            raise CallSetupError(AgentErrorCode.SCENARIO_NOT_FOUND, str(exc)) from exc
        except ApiError as exc:
            raise CallSetupError(
                AgentErrorCode.SCENARIO_UNAVAILABLE, f"{exc} (after {exc.attempts} attempts)"
            ) from exc
        scenario_prompt = scenario.prompt

    request = CreateSessionRequest(
        type=SessionType.ASSIGNMENT if metadata.assignment_id else SessionType.FREE_PRACTICE,
        user_id=metadata.user_id,
        assignment_id=metadata.assignment_id,
        scenario_id=metadata.scenario_id,
    )
    try:
        created = await client.create_session(request, options.session_create_policy)
    except ApiError as exc:
        raise CallSetupError(
            AgentErrorCode.SESSION_CREATE_FAILED, f"{exc} (after {exc.attempts} attempts)"
        ) from exc
    return scenario_prompt, created


class TrainingCall:
    """One job: the session lifecycle around one conversation with the caller."""

    def __init__(self, ctx: JobContext, runtime: Runtime) -> None:
        self.ctx = ctx
        self.runtime = runtime
        self.options = runtime.options
        self.client = runtime.api_client()
        self.session: AgentSession[None] | None = None
        self.recorder: TranscriptRecorder | None = None
        self.delivery: TranscriptDelivery | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._trainee_gone: asyncio.TimerHandle | None = None
        self._reporting: asyncio.Task[None] | None = None

    # -- start -----------------------------------------------------------------------------------

    async def start(self) -> None:
        ctx = self.ctx
        ctx.log_context_fields.update({"room": ctx.job.room.name, "job_id": ctx.job.id})
        ctx.add_shutdown_callback(self._on_shutdown)

        try:
            metadata = decode_dispatch(ctx.job.metadata)
        except ContractError as exc:
            await self._refuse(exc.code, exc.message)
            return
        ctx.log_context_fields["user_id"] = str(metadata.user_id)

        started = time.perf_counter()
        connected, prepared = await asyncio.gather(
            _timed(ctx.connect(auto_subscribe=AutoSubscribe.AUDIO_ONLY)),
            _timed(prepare_call(self.client, metadata, self.options)),
            return_exceptions=True,
        )
        if isinstance(connected, BaseException):
            raise connected
        if isinstance(prepared, CallSetupError):
            await self._refuse(prepared.code, str(prepared))
            return
        if isinstance(prepared, BaseException):
            logger.error("call setup failed", exc_info=prepared)
            await self._refuse(
                AgentErrorCode.AGENT_FAILED, f"{type(prepared).__name__}: {prepared}"
            )
            return
        (scenario_prompt, created), prepare_ms = prepared
        _, connect_ms = connected

        ctx.log_context_fields["session_id"] = str(created.session_id)
        await ctx.room.local_participant.set_attributes(
            {ATTR_SESSION_ID: str(created.session_id), ATTR_ERROR: ""}
        )
        logger.info(
            "session published",
            extra={
                "attempt": created.attempt,
                "scenario_id": str(metadata.scenario_id) if metadata.scenario_id else None,
                "assignment_id": str(metadata.assignment_id) if metadata.assignment_id else None,
                "connect_ms": connect_ms,
                "prepare_ms": prepare_ms,
                "setup_ms": round((time.perf_counter() - started) * 1000),
            },
        )
        self._watch_trainee()
        await self._converse(scenario_prompt, created)

    async def _refuse(self, code: AgentErrorCode, message: str) -> None:
        """Tell the trainee's client why the call cannot go ahead, then end the job."""
        logger.error("call refused", extra={"error_code": code.value, "reason": message})
        if not self.ctx.room.isconnected():
            await self.ctx.connect(auto_subscribe=AutoSubscribe.SUBSCRIBE_NONE)
        await self.ctx.room.local_participant.set_attributes({ATTR_ERROR: code.value})
        self.ctx.shutdown(reason=f"call refused: {code.value}")

    async def _converse(self, scenario_prompt: str | None, created: CreateSessionResponse) -> None:
        options = self.options
        delivery = TranscriptDelivery(
            self.client,
            self.runtime.spool,
            created.session_id,
            created.attempt,
            policy=options.transcript_policy,
            batch_size=options.batch_size,
            interval=options.batch_interval,
        )
        recorder = TranscriptRecorder(created.attempt)
        recorder.on_settled = lambda: delivery.notify_settled(recorder.settled_count)
        self.delivery, self.recorder = delivery, recorder

        session = caller_session()
        self.session = session
        recorder.attach(session)
        opener = QuietLineOpener(session, after=options.caller_opens_after)
        session.on("close", self._on_session_close)

        try:
            await session.start(
                CallerAgent(scenario_prompt=scenario_prompt, realtime=self.runtime.realtime),
                room=self.ctx.room,
                room_options=call_room_options(),
            )
        except Exception:
            logger.exception("the caller could not start")
            await self._report_failure("the caller could not start")
            return
        self._spawn(delivery.run(recorder.settled_turns), "transcript_delivery")
        self._spawn(opener.run(), "caller_opens_if_quiet")

    # -- during the call -------------------------------------------------------------------------

    def _watch_trainee(self) -> None:
        room = self.ctx.room
        room.on("participant_connected", self._on_participant_connected)
        room.on("participant_disconnected", self._on_participant_disconnected)
        if not self._trainee_present():
            self._schedule_trainee_gone()

    def _trainee_present(self) -> bool:
        return any(
            p.kind == rtc.ParticipantKind.PARTICIPANT_KIND_STANDARD
            for p in self.ctx.room.remote_participants.values()
        )

    def _on_participant_connected(self, participant: rtc.RemoteParticipant) -> None:
        if self._trainee_gone is not None and self._trainee_present():
            self._trainee_gone.cancel()
            self._trainee_gone = None
            logger.info("trainee rejoined", extra={"participant": participant.identity})

    def _on_participant_disconnected(self, participant: rtc.RemoteParticipant) -> None:
        if participant.kind != rtc.ParticipantKind.PARTICIPANT_KIND_STANDARD:
            return
        reason = participant.disconnect_reason or rtc.DisconnectReason.UNKNOWN_REASON
        logger.info(
            "trainee left",
            extra={
                "participant": participant.identity,
                "reason": rtc.DisconnectReason.Name(reason),
            },
        )
        if not self._trainee_present():
            # A leave, a removal or a connection the server already timed out will not come
            # back; a dropped signal connection may, as a fresh participant, within seconds.
            self._schedule_trainee_gone(
                self.options.trainee_rejoin_grace if reason in _MAY_REJOIN else 0.0
            )

    def _schedule_trainee_gone(self, grace: float | None = None) -> None:
        if self._trainee_gone is not None:
            return

        def end_call() -> None:
            self._trainee_gone = None
            if not self._trainee_present():
                self.ctx.shutdown(reason="trainee left")

        if grace is None:
            grace = self.options.trainee_rejoin_grace
        self._trainee_gone = asyncio.get_running_loop().call_later(grace, end_call)

    def _on_session_close(self, event: CloseEvent) -> None:
        reason = f"session closed: {event.reason.value}"
        if event.reason is not CloseReason.ERROR:
            logger.info("agent session closed", extra={"reason": event.reason.value})
            self.ctx.shutdown(reason=reason)
            return
        logger.error("agent session failed", extra={"error": str(event.error)})
        self._reporting = asyncio.create_task(
            self._report_failure(reason), name="report_agent_failed"
        )

    async def _report_failure(self, reason: str) -> None:
        """The caller broke down (the model failed for good): tell the trainee's client, which
        keeps `session.id` for the transcript recorded so far, then end the job."""
        try:
            async with asyncio.timeout(2.0):
                await self.ctx.room.local_participant.set_attributes(
                    {ATTR_ERROR: AgentErrorCode.AGENT_FAILED.value}
                )
        except Exception:
            logger.exception("could not publish the error attribute")
        finally:
            self.ctx.shutdown(reason=reason)

    def _spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _stop_tasks(self) -> None:
        if self._trainee_gone is not None:
            self._trainee_gone.cancel()
            self._trainee_gone = None
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # -- end -------------------------------------------------------------------------------------

    def _final_turns(self) -> list[TranscriptTurn]:
        assert self.recorder is not None
        if self.session is not None:
            self.recorder.reconcile(self.session.history)
        return self.recorder.finalize()

    async def end(self) -> None:
        """on_session_end: the room is still connected; deliver the final transcript or spool it."""
        if self.delivery is None or self.delivery.finished:
            return
        await self._stop_tasks()
        await self.delivery.finish(self._final_turns(), within=self.options.final_delivery_timeout)

    async def _on_shutdown(self, reason: str) -> None:
        """Last shutdown step (room gone): spool what was never delivered, close the client."""
        try:
            await self._stop_tasks()
            if self.delivery is not None and not self.delivery.finished:
                self.delivery.spool_final(self._final_turns(), reason=f"job shutdown: {reason}")
        finally:
            await self.client.aclose()
            _calls.pop(self.ctx.job.id, None)
            logger.info("job finished", extra={"reason": reason})

"""One training call, start to end: set up, converse, end.

1. Decode the dispatch metadata. Invalid: connect, publish `error`, end the job.
2. Side by side: connect to the room, and (fetch the scenario's prompt if the dispatch names one,
   then create the session through the internal API; call_setup.py). The two HTTP calls stay in
   sequence so a scenario that does not exist never leaves a session row behind; both usually
   finish while the room connection is still being set up, so they add no latency of their own.
3. Publish `session.id` and `session.recording` (and clear `error`) before the conversation
   starts, or publish the error code and end the job (call_attributes.py).
4. Run an AgentSession with the CallerAgent on the OpenAI Realtime model, recording final turns
   and delivering settled ones while the call goes (transcript.py, delivery.py).
5. The call ends when the trainee leaves: RoomIO closes the session on a client-initiated leave,
   and presence.py ends the job when the trainee is gone for any other reason. Either way
   `ctx.shutdown()` ends the job at once instead of lingering until the server closes the empty
   room. `end()` (on_session_end, room still connected) sends the final transcript within a
   bounded time or spools it, then a recorded call's recording (recording_delivery.py); the
   shutdown callback spools whatever is still undelivered if that never happened, and closes the
   HTTP client.

Who speaks first: the caller waits for the trainee (a counselor answers the phone) and speaks
first only after `caller_opens_after` seconds of silence; see caller.QuietLineOpener.

Attributes are published from the job, not at `JobRequest.accept` time: the session id only
exists after the internal API answered, and accepting earlier than that would only move the same
round trip in front of the room connection instead of beside it.
"""

import asyncio
import logging
import time
from collections.abc import Coroutine
from typing import Any

from livekit.agents import AgentSession, AutoSubscribe, CloseEvent, CloseReason, JobContext

from training_contracts import (
    AgentDispatchMetadata,
    AgentErrorCode,
    ContractError,
    ModelUsage,
    TranscriptTurn,
    decode_dispatch,
)

from . import metrics
from .call_attributes import publish_session, refuse, report_failure
from .call_setup import CallSetupError, PreparedCall, prepare_call
from .caller import CallerAgent, QuietLineOpener, call_room_options, caller_session
from .delivery import TranscriptDelivery
from .presence import TraineePresence
from .recording import recording_options
from .recording_delivery import RecordingDelivery, RecordingTarget
from .runtime import Runtime
from .transcript import TranscriptRecorder
from .usage import realtime_usage

logger = logging.getLogger(__name__)


def _ms_since(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)


class TrainingCall:
    """One job: the session lifecycle around one conversation with the caller."""

    def __init__(self, ctx: JobContext, runtime: Runtime) -> None:
        self.ctx = ctx
        self.runtime = runtime
        self.options = runtime.options
        self.client = runtime.new_client()
        self.session: AgentSession[None] | None = None
        self.recorder: TranscriptRecorder | None = None
        self.delivery: TranscriptDelivery | None = None
        self.recording: RecordingDelivery | None = None
        self._presence: TraineePresence | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._failure_report: asyncio.Task[None] | None = None
        """Tells the trainee's client the caller broke down, then ends the job. Held here (the
        loop keeps only a weak reference to a task) and not among `_tasks`, which the job's
        end cancels: this one must finish first."""

    # -- set up ----------------------------------------------------------------------------------

    async def start(self) -> None:
        job_started = time.perf_counter()
        ctx = self.ctx
        ctx.log_context_fields.update({"room": ctx.job.room.name, "job_id": ctx.job.id})
        ctx.add_shutdown_callback(self._on_shutdown)
        try:
            metadata = decode_dispatch(ctx.job.metadata)
        except ContractError as exc:
            await refuse(ctx, exc.code, exc.message)
            return
        ctx.log_context_fields["user_id"] = str(metadata.user_id)

        started = time.perf_counter()
        connecting = asyncio.create_task(self._connect(), name="room_connect")
        preparing = asyncio.create_task(self._prepare(metadata), name="call_prepare")
        try:
            await asyncio.wait((connecting, preparing))
        finally:
            connecting.cancel()  # no-ops once done; only a cancelled start leaves them running
            preparing.cancel()
        connect_ms = connecting.result()  # a room that cannot be joined fails the job
        try:
            prepared, prepare_ms = preparing.result()
        except CallSetupError as exc:
            await refuse(ctx, exc.code, str(exc))
            return
        await self._publish_session(
            metadata, prepared, connect_ms=connect_ms, prepare_ms=prepare_ms, started=started
        )
        metrics.SESSION_PUBLISHED.observe(time.perf_counter() - job_started)
        self._presence = TraineePresence(
            ctx.room,
            rejoin_grace=self.options.trainee_rejoin_grace,
            on_gone=lambda: ctx.shutdown(reason="trainee left"),
        )
        self._presence.watch()
        await self._converse(prepared)

    async def _connect(self) -> int:
        """Join the room; returns how long it took, in milliseconds."""
        started = time.perf_counter()
        await self.ctx.connect(auto_subscribe=AutoSubscribe.AUDIO_ONLY)
        return _ms_since(started)

    async def _prepare(self, metadata: AgentDispatchMetadata) -> tuple[PreparedCall, int]:
        """The prompt and session with how long they took (ms); any failure is a CallSetupError."""
        started = time.perf_counter()
        try:
            prepared = await prepare_call(
                self.client,
                metadata,
                self.options,
                room_name=self.ctx.job.room.name,
                job_id=self.ctx.job.id,
            )
        except CallSetupError:
            raise
        except Exception as exc:
            logger.error("call setup failed", exc_info=exc)
            raise CallSetupError(
                AgentErrorCode.AGENT_FAILED, f"{type(exc).__name__}: {exc}"
            ) from exc
        return prepared, _ms_since(started)

    async def _publish_session(
        self,
        metadata: AgentDispatchMetadata,
        prepared: PreparedCall,
        *,
        connect_ms: int,
        prepare_ms: int,
        started: float,
    ) -> None:
        created = prepared.created
        await publish_session(self.ctx, created)
        logger.info(
            "session published",
            extra={
                "attempt": created.attempt,
                "recorded": created.record,
                "scenario_id": str(metadata.scenario_id) if metadata.scenario_id else None,
                "assignment_id": str(metadata.assignment_id) if metadata.assignment_id else None,
                "connect_ms": connect_ms,
                "prepare_ms": prepare_ms,
                "setup_ms": _ms_since(started),
            },
        )

    # -- converse --------------------------------------------------------------------------------

    async def _converse(self, prepared: PreparedCall) -> None:
        created = prepared.created
        self.delivery = TranscriptDelivery(
            self.client,
            self.runtime.spool,
            created.session_id,
            created.attempt,
            self.options.delivery,
            usage=self.model_usage,
        )
        self.recorder = TranscriptRecorder(created.attempt)
        if created.record:
            self.recording = RecordingDelivery(
                self.client,
                self.runtime.recordings,
                RecordingTarget(session_id=created.session_id, attempt=created.attempt),
            )
        session = self.session = caller_session()
        self.recorder.attach(session)
        opener = QuietLineOpener(session, after=self.options.caller_opens_after)
        session.on("close", self._on_session_close)
        try:
            await session.start(
                CallerAgent(
                    scenario_prompt=prepared.scenario_prompt, realtime=self.runtime.realtime
                ),
                room=self.ctx.room,
                room_options=call_room_options(),
                record=recording_options(self.ctx, record=created.record),
            )
        except Exception:
            logger.exception("the caller could not start")
            await report_failure(self.ctx, "the caller could not start")
            return
        self._spawn(self.delivery.run(self.recorder), "transcript_delivery")
        self._spawn(opener.run(), "caller_opens_if_quiet")

    def _on_session_close(self, event: CloseEvent) -> None:
        reason = f"session closed: {event.reason.value}"
        if event.reason is not CloseReason.ERROR:
            logger.info("agent session closed", extra={"reason": event.reason.value})
            self.ctx.shutdown(reason=reason)
            return
        logger.error("agent session failed", extra={"error": str(event.error)})
        self._failure_report = asyncio.create_task(
            report_failure(self.ctx, reason), name="report_agent_failed"
        )

    def _spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- end -------------------------------------------------------------------------------------

    async def _stop_conversation(self) -> None:
        if self._presence is not None:
            self._presence.close()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _final_turns(self) -> list[TranscriptTurn]:
        assert self.recorder is not None
        if self.session is not None:
            self.recorder.reconcile(self.session.history)
        return self.recorder.finalize()

    async def end(self) -> None:
        """on_session_end: the room is still connected (and the session closed, its recording
        finished); deliver the final transcript, then the recording, or spool them."""
        if self.delivery is not None and not self.delivery.finished:
            await self._stop_conversation()
            await self.delivery.finish(
                self._final_turns(), within=self.options.final_delivery_timeout
            )
        if self.recording is not None:
            await self.recording.finish(
                self.ctx, self.session, within=self.options.recording_delivery_timeout
            )

    def model_usage(self) -> ModelUsage | None:
        """The Realtime model's usage of this call so far."""
        if self.session is None:
            return None
        return realtime_usage(self.session.usage, self.runtime.realtime.model)

    async def _on_shutdown(self, reason: str) -> None:
        """Last shutdown step (room gone): spool what was never delivered, count the model's
        usage, close the client."""
        try:
            await self._stop_conversation()
            if self.delivery is not None and not self.delivery.finished:
                self.delivery.spool_final(self._final_turns(), reason=f"job shutdown: {reason}")
            if (usage := self.model_usage()) is not None:
                metrics.count_usage(usage)
            if self.recording is not None and not self.recording.taken:
                await self.recording.spool_only(self.ctx, self.session)
        finally:
            await self.client.aclose()
            logger.info("job finished", extra={"reason": reason})

"""What a training call tells the trainee's client through the agent participant's attributes
(training_contracts.attributes): `session.id` and `session.recording` once the session exists,
or `error` with the contract's code when the call cannot go ahead or the caller broke down.
Each refusal or failure ends the job after it is told.
"""

import asyncio
import logging

from livekit.agents import AutoSubscribe, JobContext

from training_contracts import (
    ATTR_ERROR,
    ATTR_RECORDING,
    ATTR_SESSION_ID,
    RECORDING_OFF,
    RECORDING_ON,
    AgentErrorCode,
    CreateSessionResponse,
)

from . import metrics

logger = logging.getLogger(__name__)

FAILURE_PUBLISH_TIMEOUT_S = 2.0
"""A room that cannot take the error attribute in this long does not hold up the job's end."""


async def publish_session(ctx: JobContext, created: CreateSessionResponse) -> None:
    """The call goes ahead: its session (and whether it is recorded); a stale error cleared."""
    ctx.log_context_fields["session_id"] = str(created.session_id)
    await ctx.room.local_participant.set_attributes(
        {
            ATTR_SESSION_ID: str(created.session_id),
            ATTR_RECORDING: RECORDING_ON if created.record else RECORDING_OFF,
            ATTR_ERROR: "",
        }
    )


async def refuse(ctx: JobContext, code: AgentErrorCode, message: str) -> None:
    """Tell the trainee's client why the call cannot go ahead, then end the job."""
    logger.error("call refused", extra={"error_code": code.value, "reason": message})
    metrics.count_setup_failure(code)
    if not ctx.room.isconnected():
        await ctx.connect(auto_subscribe=AutoSubscribe.SUBSCRIBE_NONE)
    await ctx.room.local_participant.set_attributes({ATTR_ERROR: code.value})
    ctx.shutdown(reason=f"call refused: {code.value}")


async def report_failure(ctx: JobContext, reason: str) -> None:
    """The caller broke down (the model failed for good): tell the trainee's client, which
    keeps `session.id` for the transcript recorded so far, then end the job."""
    try:
        async with asyncio.timeout(FAILURE_PUBLISH_TIMEOUT_S):
            await ctx.room.local_participant.set_attributes(
                {ATTR_ERROR: AgentErrorCode.AGENT_FAILED.value}
            )
    except Exception:
        logger.exception("could not publish the error attribute")
    finally:
        ctx.shutdown(reason=reason)

"""Sending what a spool holds: claim a file, send it, settle the claim. Written once, for
transcripts and recordings alike, at a call's end and in the worker's redelivery passes.

Settling: sent, the file goes; refused for good (api_client.Refused: an unknown session, a body
the service rejects), it moves to dead/ with an error log; anything else (the service
unavailable, a timeout, a cancelled send) puts it back for a later pass. Both endpoints store a
thing once, so sending a file again after a lost answer is safe.
"""

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar
from uuid import UUID

from .api_client import Refused, Unavailable
from .spool_folder import Claimed, SpoolFolder

logger = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


async def send_claimed(
    spool: SpoolFolder[T], claimed: Claimed[T], send: Callable[[T], Awaitable[R]]
) -> R | None:
    """Send one claimed file: its answer once sent; None when refused for good (buried); put back
    and re-raised when it cannot be sent now, or the send is cancelled."""
    try:
        answer = await send(claimed.item)
    except Refused as exc:
        spool.bury(claimed, str(exc))
        return None
    except BaseException:
        spool.release(claimed)
        raise
    spool.done(claimed)
    return answer


@dataclass
class SpoolPass:
    """What one pass over a spool did."""

    delivered: int = 0
    failed: int = 0
    buried: int = 0


Logged = dict[str, object]
"""What a delivered file's log line says about it."""


async def send_spooled(
    spool: SpoolFolder[T],
    send: Callable[[T], Awaitable[R]],
    *,
    what: str,
    session_of: Callable[[T], UUID],
    logged: Callable[[T, R], Logged],
) -> SpoolPass:
    """One pass: send the spool's files one after the other, and stop at the first the token
    service cannot take now (Unavailable). Files are claimed one at a time, so what the pass
    did not reach stays as it was."""
    report = SpoolPass()
    for claimed in spool.claim_all():
        session_id = str(session_of(claimed.item))
        try:
            answer = await send_claimed(spool, claimed, send)
        except Unavailable as exc:
            report.failed += 1
            logger.warning(
                f"token service still unavailable, spooled {what}s kept",
                extra={"session_id": session_id, "error": str(exc)},
            )
            break
        if answer is None:
            report.buried += 1
            continue
        report.delivered += 1
        logger.info(
            f"spooled {what} delivered",
            extra={"session_id": session_id, **logged(claimed.item, answer)},
        )
    return report

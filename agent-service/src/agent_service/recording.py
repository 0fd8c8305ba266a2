"""Recording a call: livekit-agents' own recorder captures it; this module switches it on and takes
the file out of the job's folder into the recording spool, from where it is delivered.

What livekit-agents 1.8.9 does (voice/recorder_io, voice/agent_session.py, job.py, voice/report.py):
- `AgentSession.start(record=...)` with `audio` on wraps the session's audio input and output in
  a `RecorderIO`, when the session runs in a job and has both (RoomIO gives both). Left unset,
  `record` follows the LiveKit Cloud project's setting (`job.enable_recording`; false on a
  self-hosted server), so it is always given here: the trainee is told whether the call is
  recorded, and that must be true.
- The file is `ctx.session_directory / "audio.ogg"`, the job's temporary folder: Ogg/Opus
  (libopus through PyAV), 48 kHz, stereo. Left (channel 0) is the trainee as the agent received
  them, right (channel 1) the caller as it was played out; both sit on one wall-clock timeline
  starting when the session started, silent where nobody spoke. A thread encodes it, flushing
  every few seconds.
- It is finalized when the session closes (`AgentSession.aclose` closes the recorder, which
  writes the rest and closes the container). The job's shutdown closes the session before
  `on_session_end`, so the file is complete there; `ctx.make_session_report(session)` names it
  (`audio_recording_path`, `audio_recording_started_at`, `duration`) and refuses while the
  recorder still runs.
- The job's folder is deleted in the job's cleanup, after the shutdown callbacks. Before that,
  the SDK's session-end step uploads the report with its audio to LiveKit Cloud when the server
  is LiveKit Cloud (or LIVEKIT_OBSERVABILITY_URL is set) and recording is on. The file is *moved*
  out in on_session_end, which runs first: call audio goes to the token service only.
"""

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

from livekit.agents import AgentSession, JobContext, RecordingOptions

from .spool_folder import Claim, Claimed, SpoolFolder, Unreadable

logger = logging.getLogger(__name__)

RECORDING_SUFFIX = ".ogg"
_NAME = re.compile(r"^(?P<session>[0-9a-f-]{36})_(?P<attempt>[0-9]+)\.ogg$")


def recording_options(ctx: JobContext, *, record: bool) -> RecordingOptions:
    """Audio as the call requires (the trainee was told); what LiveKit Cloud observes (traces,
    logs, transcript) as the project's own setting says, which is what livekit-agents does when
    `record` is left unset. A project with redaction on refuses audio without the transcript."""
    cloud = ctx.job.enable_recording
    return RecordingOptions(
        audio=record,
        traces=cloud,
        logs=cloud,
        transcript=cloud or (record and ctx.job.enable_redaction),
    )


class RecordingMissing(Exception):
    """The call was to be recorded but there is no file to deliver; the message says why."""


@dataclass(frozen=True)
class SpooledRecording:
    session_id: UUID
    attempt: int
    path: Path


ClaimedRecording = Claimed[SpooledRecording]


class RecordingSpool(SpoolFolder[SpooledRecording]):
    """Recordings waiting for the token service, `<session id>_<attempt>.ogg` in their folder
    (the spool folder's `recordings/`); claimed and buried as spool_folder.py describes."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory, RECORDING_SUFFIX)

    @staticmethod
    def name_for(session_id: UUID, attempt: int) -> str:
        return f"{session_id}_{attempt}{RECORDING_SUFFIX}"

    def adopt(self, source: Path, session_id: UUID, attempt: int) -> SpooledRecording:
        path = self.move_in(source, self.name_for(session_id, attempt))
        return SpooledRecording(session_id=session_id, attempt=attempt, path=path)

    def read(self, claim: Claim) -> SpooledRecording:
        match = _NAME.match(claim.original.name)
        if match is None:
            raise Unreadable("not a recording's name")
        return SpooledRecording(
            session_id=UUID(match["session"]), attempt=int(match["attempt"]), path=claim.path
        )


def take_recording(
    ctx: JobContext,
    session: AgentSession[None],
    spool: RecordingSpool,
    *,
    session_id: UUID,
    attempt: int,
) -> SpooledRecording:
    """Move the finished recording into the spool, or RecordingMissing saying why there is none."""
    try:
        report = ctx.make_session_report(session)
    except RuntimeError as exc:
        raise RecordingMissing(f"the recorder was still running: {exc}") from exc
    path = report.audio_recording_path
    if path is None:
        raise RecordingMissing("the session ran without a recorder")
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise RecordingMissing(f"the recorder wrote no file ({path.name})") from None
    if size == 0:
        raise RecordingMissing("the recorder wrote an empty file")
    spooled = spool.adopt(path, session_id, attempt)
    logger.info(
        "recording spooled",
        extra={
            "bytes": size,
            "recording_s": round(report.duration, 2) if report.duration is not None else None,
            "spool_file": str(spooled.path),
        },
    )
    return spooled

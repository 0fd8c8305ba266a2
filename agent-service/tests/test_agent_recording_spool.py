"""The recording spool: files moved in whole, claimed once, put back or buried, never lost."""

import os
import uuid
from pathlib import Path

from agent_service.recording import RecordingSpool


def job_file(tmp_path: Path, data: bytes = b"OggS recording") -> Path:
    job_dir = tmp_path / "job"
    job_dir.mkdir(exist_ok=True)
    path = job_dir / "audio.ogg"
    path.write_bytes(data)
    return path


def test_a_recording_is_moved_out_of_the_job_folder(tmp_path: Path) -> None:
    spool = RecordingSpool(tmp_path / "spool" / "recordings")
    sid = uuid.uuid4()
    source = job_file(tmp_path)
    spooled = spool.adopt(source, sid, 3)
    assert not source.exists()
    assert spooled.path == tmp_path / "spool" / "recordings" / f"{sid}_3.ogg"
    assert spooled.path.read_bytes() == b"OggS recording"
    assert [p.name for p in spool.directory.iterdir()] == [f"{sid}_3.ogg"]


def test_claimed_recordings_name_their_attempt_and_are_sent_once(tmp_path: Path) -> None:
    spool = RecordingSpool(tmp_path)
    sid = uuid.uuid4()
    spool.adopt(job_file(tmp_path), sid, 2)
    (claimed,) = spool.claim_all()
    assert (claimed.item.session_id, claimed.item.attempt) == (sid, 2)
    assert claimed.item.path.read_bytes() == b"OggS recording"
    assert list(spool.claim_all()) == []  # claimed: nobody else sends it meanwhile
    spool.release(claimed)
    (again,) = spool.claim_all()
    spool.done(again)
    assert list(spool.claim_all()) == []
    assert list(tmp_path.glob("*.ogg*")) == []


def test_a_stranger_file_is_buried_not_sent(tmp_path: Path) -> None:
    spool = RecordingSpool(tmp_path)
    (tmp_path / "notes.ogg").write_bytes(b"?")
    assert list(spool.claim_all()) == []
    assert [p.name for p in spool.dead_directory.iterdir()] == ["notes.ogg"]


def test_a_dead_workers_claim_is_taken_over(tmp_path: Path) -> None:
    spool = RecordingSpool(tmp_path)
    sid = uuid.uuid4()
    spooled = spool.adopt(job_file(tmp_path), sid, 1)
    os.rename(spooled.path, spooled.path.with_name(spooled.path.name + f".claimed-{os.getpid()}"))
    (claimed,) = spool.claim_all()
    assert claimed.item.session_id == sid


def test_moving_across_filesystems_copies_then_removes(tmp_path: Path) -> None:
    # /dev/shm is another filesystem on Linux; where it is missing, the rename path is tested.
    shm = Path("/dev/shm")  # noqa: S108 - only its filesystem matters, the name is unique
    source_dir = shm if shm.is_dir() and os.access(shm, os.W_OK) else tmp_path
    source = source_dir / f"recording-test-{uuid.uuid4().hex}.ogg"
    source.write_bytes(b"OggS" + b"\x01" * 100_000)
    spool = RecordingSpool(tmp_path / "spool")
    spooled = spool.adopt(source, uuid.uuid4(), 1)
    assert not source.exists()
    assert spooled.path.read_bytes() == b"OggS" + b"\x01" * 100_000
    assert [p.name for p in spool.directory.iterdir()] == [spooled.path.name]

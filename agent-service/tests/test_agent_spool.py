"""The local spool: atomic files, claims that keep concurrent redeliveries apart and that a
successor takes over from a process that is gone (whatever its PID), nothing lost."""

import fcntl
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import msgspec
import pytest

from agent_service.spool import Spool, SpoolEntry
from agent_service.spool_folder import claimant
from training_contracts import Role, TranscriptTurn


def entry(
    session_id: uuid.UUID, turns: int, *, final: bool = False, attempt: int = 1
) -> SpoolEntry:
    return SpoolEntry(
        session_id=session_id,
        attempt=attempt,
        turns=[
            TranscriptTurn(
                role=Role.USER if n % 2 else Role.ASSISTANT,
                content=f"turn {n}",
                turn_order=n,
                attempt_number=attempt,
            )
            for n in range(1, turns + 1)
        ],
        final=final,
        spooled_at=time.time(),
        reason="test",
    )


def test_write_is_atomic_and_replaces_the_attempts_file(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    sid = uuid.uuid4()
    first = spool.write(entry(sid, 2))
    second = spool.write(entry(sid, 3, final=True))
    assert first == second == tmp_path / "spool" / f"{sid}_1.json"
    assert sorted(p.name for p in (tmp_path / "spool").iterdir()) == [f"{sid}_1.json"]
    stored = msgspec.json.decode(second.read_bytes(), type=SpoolEntry)
    assert stored.final is True
    assert [t.turn_order for t in stored.turns] == [1, 2, 3]
    assert spool.pending() == [second]


def test_a_claimed_file_is_invisible_to_a_second_claimer(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.write(entry(uuid.uuid4(), 1))
    claims = list(spool.claim_all())
    assert len(claims) == 1
    assert list(Spool(tmp_path).claim_all()) == []  # our own live claim: its lock is held
    spool.done(claims[0])
    assert list(tmp_path.iterdir()) == []


def test_release_puts_the_file_back_unless_a_newer_one_was_written(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    sid = uuid.uuid4()
    spool.write(entry(sid, 2))
    (claimed,) = spool.claim_all()
    spool.release(claimed)
    assert spool.pending() == [spool.path_for(sid, 1)]

    (claimed,) = spool.claim_all()
    spool.write(entry(sid, 5, final=True))  # the job spooled a newer, complete version meanwhile
    spool.release(claimed)
    (again,) = spool.claim_all()
    assert len(again.item.turns) == 5
    assert again.item.final is True


def plant_claim(spool: Spool, claimant_name: str) -> SpoolEntry:
    """A file claimed by someone else and left so: what a killed worker leaves behind."""
    left = entry(uuid.uuid4(), 1)
    path = spool.write(left)
    os.rename(path, path.with_name(f"{path.name}.claimed-{claimant_name}"))
    return left


def test_a_claim_left_by_another_process_with_our_pid_is_taken_over(tmp_path: Path) -> None:
    """In a container the worker is PID 1 after every restart: the claim its killed predecessor
    left on the spool volume carries our PID, and must not be taken for our own."""
    spool = Spool(tmp_path)
    left = plant_claim(spool, f"{os.getpid()}-0123456789ab")
    older_format = plant_claim(spool, str(os.getpid()))  # claims named by PID alone
    assert claimant() != f"{os.getpid()}-0123456789ab"
    taken = list(spool.claim_all())
    assert {c.item.session_id for c in taken} == {left.session_id, older_format.session_id}
    assert all(c.path.name.endswith(f".claimed-{claimant()}") for c in taken)
    for claimed in taken:
        spool.done(claimed)
    assert list(tmp_path.iterdir()) == []


def test_claims_of_processes_that_are_gone_are_taken_over_at_once(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    left = plant_claim(spool, "999999999-feedfacecafe")
    (claimed,) = spool.claim_all()
    assert claimed.item.session_id == left.session_id


def test_a_claim_held_by_a_live_process_is_left_alone(tmp_path: Path) -> None:
    """Whatever the claim's name says, a process that holds it (its lock) keeps it; when that
    process dies, SIGKILL included, the claim is taken over on the next pass."""
    spool = Spool(tmp_path)
    held = plant_claim(spool, f"{os.getpid()}-0123456789ab")
    [path] = tmp_path.glob("*.claimed-*")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, os, sys, time\n"
            "fd = os.open(sys.argv[1], os.O_RDONLY)\n"
            "fcntl.flock(fd, fcntl.LOCK_EX)\n"
            "print('held', flush=True)\n"
            "time.sleep(60)\n",
            str(path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "held\n"
        assert list(spool.claim_all()) == []
    finally:
        holder.kill()
        holder.wait()
        assert holder.stdout is not None
        holder.stdout.close()
    (claimed,) = spool.claim_all()
    assert claimed.item.session_id == held.session_id
    with open(claimed.path, "rb") as other, pytest.raises(BlockingIOError):
        fcntl.flock(other.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)  # locked while we send it
    spool.done(claimed)


def test_unreadable_and_refused_files_are_kept_under_dead(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    (tmp_path / f"{uuid.uuid4()}_1.json").write_text("{not json")
    good = entry(uuid.uuid4(), 1)
    spool.write(good)
    (claimed,) = spool.claim_all()
    assert claimed.item.session_id == good.session_id
    spool.bury(claimed, "404 unknown session")
    assert sorted(p.suffix for p in spool.dead_directory.iterdir()) == [".json", ".json"]
    assert spool.pending() == []


def test_an_empty_or_missing_spool_has_nothing_pending(tmp_path: Path) -> None:
    assert Spool(tmp_path / "nowhere").pending() == []
    assert list(Spool(tmp_path / "nowhere").claim_all()) == []

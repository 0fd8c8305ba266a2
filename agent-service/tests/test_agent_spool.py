"""The local spool: atomic files, claims that keep concurrent redeliveries apart, nothing lost."""

import os
import time
import uuid
from pathlib import Path

import msgspec

from agent_service.spool import STALE_CLAIM_SECONDS, Spool, SpoolEntry
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
    assert list(Spool(tmp_path).claim_all()) == []  # same pid: our own live claim is skipped
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
    assert len(again.entry.turns) == 5
    assert again.entry.final is True


def test_claims_of_dead_processes_and_stale_claims_are_taken_over(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    dead = entry(uuid.uuid4(), 1)
    spool.write(dead)
    path = spool.path_for(dead.session_id, 1)
    os.rename(path, path.with_name(path.name + ".claimed-999999999"))

    stale = entry(uuid.uuid4(), 1)
    spool.write(stale)
    stale_path = spool.path_for(stale.session_id, 1)
    claimed_by_us = stale_path.with_name(stale_path.name + f".claimed-{os.getppid()}")
    os.rename(stale_path, claimed_by_us)
    old = time.time() - STALE_CLAIM_SECONDS - 60
    os.utime(claimed_by_us, (old, old))

    taken = {c.entry.session_id for c in spool.claim_all()}
    assert taken == {dead.session_id, stale.session_id}


def test_unreadable_and_refused_files_are_kept_under_dead(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    (tmp_path / f"{uuid.uuid4()}_1.json").write_text("{not json")
    good = entry(uuid.uuid4(), 1)
    spool.write(good)
    (claimed,) = spool.claim_all()
    assert claimed.entry.session_id == good.session_id
    spool.bury(claimed, "404 unknown session")
    assert sorted(p.suffix for p in spool.dead_directory.iterdir()) == [".json", ".json"]
    assert spool.pending() == []


def test_an_empty_or_missing_spool_has_nothing_pending(tmp_path: Path) -> None:
    assert Spool(tmp_path / "nowhere").pending() == []
    assert list(Spool(tmp_path / "nowhere").claim_all()) == []

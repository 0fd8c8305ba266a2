"""devstack.runs: a suite's run folder is new and empty, and only the newest runs are kept."""

from pathlib import Path

from devstack.runs import new_run_dir


def test_a_new_run_keeps_the_newest_runs_with_it(tmp_path: Path) -> None:
    for name in ("20260101-000000-1", "20260102-000000-1", "20260103-000000-1"):
        (tmp_path / name).mkdir()
    (tmp_path / "20260102-000000-1" / "agent.log").write_text("old")
    run = new_run_dir(tmp_path, keep=2)
    assert run.is_dir()
    assert not list(run.iterdir())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["20260103-000000-1", run.name]


def test_the_root_is_made_when_missing(tmp_path: Path) -> None:
    run = new_run_dir(tmp_path / "logs", keep=5)
    assert run.parent == tmp_path / "logs"

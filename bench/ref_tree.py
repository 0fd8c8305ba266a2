"""A git ref as a tree of its own to benchmark: its files under .bench/refs/<commit>, built by its
own Makefile (`make install crowd livekit-server`: its own .venv and load generator).

The files are exported with `git archive` rather than checked out with `git worktree add`: the
repository's list of worktrees stays as it is, nothing can be committed there by mistake, and it
works the same from any clone that has the commit. A tree is kept between runs and only built
again where its Makefile finds something out of date; the packages come from the uv cache.
"""

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REFS_DIR = ROOT / ".bench" / "refs"
BUILD_TARGETS = ("install", "crowd", "livekit-server")


class RefTreeError(RuntimeError):
    """The ref is unknown or its tree does not build; says which and why."""


def _git(*args: str) -> str:
    result = subprocess.run(
        ["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RefTreeError(f"git {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout.strip()


def resolve(ref: str) -> str:
    """The full commit id `ref` names."""
    return _git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")


def _export(commit: str, tree: Path) -> None:
    partial = tree.with_name(f".{commit}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    archive = subprocess.Popen(
        ["git", "-C", str(ROOT), "archive", "--format=tar", commit], stdout=subprocess.PIPE
    )
    assert archive.stdout is not None
    untar = subprocess.run(
        ["tar", "-x", "-C", str(partial)], stdin=archive.stdout, capture_output=True, check=False
    )
    archive.stdout.close()
    if archive.wait() != 0 or untar.returncode != 0:
        raise RefTreeError(f"exporting {commit} failed: {untar.stderr.decode().strip()}")
    partial.rename(tree)


def build(ref: str) -> Path:
    """The tree of `ref`, exported if it is not there yet and built by its own Makefile."""
    commit = resolve(ref)
    tree = REFS_DIR / commit
    if not (tree / "Makefile").exists():
        _export(commit, tree)
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "MAKEFLAGS", "MFLAGS")}
    result = subprocess.run(
        ["make", "-C", str(tree), *BUILD_TARGETS],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RefTreeError(
            f"`make {' '.join(BUILD_TARGETS)}` failed in {tree}:\n{result.stdout[-2000:]}"
            f"{result.stderr[-2000:]}"
        )
    return tree

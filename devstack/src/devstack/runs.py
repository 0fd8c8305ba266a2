"""A suite's folder for one run, `<root>/<date>-<time>-<pid>/`, with only the newest runs kept:
livekit-server's debug log alone is megabytes a run."""

import os
import shutil
import time
from pathlib import Path


def new_run_dir(root: Path, keep: int) -> Path:
    """A new, empty run folder under `root`; older runs beyond the newest `keep` (this one
    included) are deleted."""
    root.mkdir(parents=True, exist_ok=True)
    runs = sorted(p for p in root.iterdir() if p.is_dir())
    for old in runs[: max(len(runs) - (keep - 1), 0)]:
        shutil.rmtree(old, ignore_errors=True)
    run = root / f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
    run.mkdir()
    return run

"""README.md is the page a newcomer starts from: it fits on a screen, its folder table names every
top-level folder the repository has, and every page of docs/ and every link it gives is there."""

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
MAX_LINES = 150


def _readme() -> str:
    return README.read_text()


def _tracked_top_level_folders() -> set[str]:
    listing = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files"], capture_output=True, text=True, check=True
    ).stdout
    return {path.split("/", 1)[0] for path in listing.splitlines() if "/" in path}


def _table_folders(text: str) -> set[str]:
    return set(re.findall(r"^\| `([^`/]+)/` \|", text, flags=re.MULTILINE))


def test_readme_fits_on_a_screen() -> None:
    lines = _readme().splitlines()
    assert len(lines) < MAX_LINES, f"README.md has {len(lines)} lines; docs/ is for the rest"


def test_every_top_level_folder_is_in_the_table() -> None:
    folders, table = _tracked_top_level_folders(), _table_folders(_readme())
    assert folders - table == set(), "folders README's table does not name"
    assert table - folders == set(), "README's table names folders the repository lacks"


def test_every_docs_page_is_linked_and_every_link_resolves() -> None:
    links = set(re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", _readme()))
    local = {link for link in links if "://" not in link}
    assert {link for link in local if not (ROOT / link).exists()} == set()
    pages = {f"docs/{page.name}" for page in (ROOT / "docs").glob("*.md")}
    assert pages - local == set(), "docs pages README does not link"

"""What the running compose project's Python images hold, checked against the repository.

`python containers/check_images.py PROJECT` (podman on PATH) checks, in each running container
of the services below: it runs as a non-root user, and every Python distribution installed is
either one of the repository's own packages, the base image's installer (pip, setuptools,
wheel), or pinned in constraints.txt at exactly the installed version. Prints each image's size.
Exit status 1 on any miss.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ("token-service", "agent-service", "openai-stub", "web")
INSTALLER = {"pip", "setuptools", "wheel"}


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(text: str) -> dict[str, str]:
    """`name==version` lines as {normalized name: version}."""
    found = {}
    for line in text.splitlines():
        name, sep, version = line.strip().partition("==")
        if sep:
            found[normalized(name)] = version
    return found


def own_packages() -> set[str]:
    return {
        normalized(tomllib.loads(path.read_text())["project"]["name"])
        for path in ROOT.glob("*/pyproject.toml")
    }


def podman(*argv: str) -> str:
    return subprocess.run(["podman", *argv], capture_output=True, text=True, check=True).stdout


def container_of(project: str, service: str) -> str:
    ids = podman(
        "ps",
        "-q",
        "--filter",
        f"label=com.docker.compose.project={project}",
        "--filter",
        f"label=com.docker.compose.service={service}",
    ).split()
    if len(ids) != 1:
        raise SystemExit(f"{service}: expected one running container, found {ids}")
    return ids[0]


def problems(
    uid: str, installed: dict[str, str], constraints: dict[str, str], own: set[str]
) -> list[str]:
    found = []
    if uid == "0":
        found.append("runs as root")
    for name, version in sorted(installed.items()):
        if name in own or name in INSTALLER:
            continue
        if name not in constraints:
            found.append(f"{name}=={version} is not in constraints.txt")
        elif constraints[name] != version:
            found.append(f"{name}=={version}, constraints.txt pins {constraints[name]}")
    return found


def main() -> int:
    if len(sys.argv) != 2:
        print(f"usage: {sys.argv[0]} COMPOSE_PROJECT", file=sys.stderr)
        return 2
    project = sys.argv[1]
    constraints = pins((ROOT / "constraints.txt").read_text())
    own = own_packages()
    failed = False
    print(f"{'service':<15} {'image size':>10}  user  packages  image")
    for service in SERVICES:
        container = container_of(project, service)
        image = podman("inspect", "--format", "{{.ImageName}}", container).strip()
        size = int(podman("image", "inspect", "--format", "{{.Size}}", image).strip())
        uid = podman("exec", container, "id", "-u").strip()
        installed = pins(
            podman("exec", container, "python", "-m", "pip", "list", "--format=freeze")
        )
        print(f"{service:<15} {size / 1e6:>7.0f} MB  {uid:>5}  {len(installed):>8}  {image}")
        for problem in problems(uid, installed, constraints, own):
            print(f"  {service}: {problem}", file=sys.stderr)
            failed = True
    if failed:
        print("images FAILED their checks", file=sys.stderr)
        return 1
    print("images: non-root, every installed distribution pinned by constraints.txt")
    return 0


if __name__ == "__main__":
    sys.exit(main())

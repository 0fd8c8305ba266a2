#!/usr/bin/env bash
# Stages the build context `lk agent deploy` uploads: it builds the folder it is given with the
# Dockerfile at that folder's top, while agent-service/Dockerfile needs the repository root
# (contracts/ and constraints.txt beside agent-service/). The stage is that root cut down to what
# the agent's image needs, with the Dockerfile and livekit.toml at its top.
# usage: containers/stage-agent.sh DIR   (DIR is emptied first)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
stage=${1:?usage: $0 DIR}

rm -rf "$stage"
mkdir -p "$stage"
tar -C "$root" -c --exclude=__pycache__ --exclude='*.egg-info' --exclude=tests \
  --exclude=.pytest_cache --exclude=.mypy_cache --exclude=.ruff_cache \
  .dockerignore constraints.txt contracts agent-service | tar -C "$stage" -x
cp "$root"/agent-service/{Dockerfile,livekit.toml,pyproject.toml} "$stage"/
echo "staged $stage: $(find "$stage" -type f | wc -l) files"

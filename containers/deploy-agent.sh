#!/usr/bin/env bash
# `make deploy-agent`: stage agent-service for LiveKit Cloud and run `lk agent deploy` on it.
# Needs the LiveKit CLI (lk) logged in to the project, and agent-service/livekit.toml filled in
# (`lk agent create` does both; see agent-service/README.md, "Deploying to LiveKit Cloud").
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

command -v lk >/dev/null || {
  echo "deploy-agent: lk (the LiveKit CLI) is not on PATH; see agent-service/README.md" >&2
  exit 1
}
if grep -qE 'your-project-subdomain|CA_your-agent-id' "$root/agent-service/livekit.toml"; then
  echo "deploy-agent: agent-service/livekit.toml still holds the placeholders;" \
    "run \`lk agent create\` in agent-service/ or fill in the subdomain and agent id" >&2
  exit 1
fi
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
"$root/containers/stage-agent.sh" "$stage"
lk agent deploy "$stage"

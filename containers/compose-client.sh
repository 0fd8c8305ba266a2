#!/usr/bin/env bash
# Docker Compose v2, the client compose-test drives podman with, built from the Go module proxy
# into DEST (skipped when DEST is already that version). Compose v2 is what `docker compose` is
# on Docker hosts, so the test runs compose.yaml as users do; Debian has only Compose v1.
# Not `go install ...@version`: the module's go.mod has exclude directives, which go install
# refuses, so it is built inside the downloaded module.
# usage: containers/compose-client.sh DEST
set -euo pipefail
VERSION=v2.40.3
MODULE=github.com/docker/compose/v2
dest=$(realpath -m "${1:?usage: $0 DEST}")
mkdir -p "$(dirname "$dest")"
# One build at a time: `make test` starts one early in the background, and compose-test's own
# call then waits for it here and finds the client built (or builds it again, loudly, if it failed).
exec 9>"$dest.lock"
flock 9

if [ -x "$dest" ] && "$dest" version --short 2>/dev/null | grep -qx "${VERSION#v}"; then
  exit 0
fi
echo "building Docker Compose $VERSION from the Go module proxy"
dir=$(go mod download -json "$MODULE@$VERSION" | grep '"Dir"' | cut -d'"' -f4)
(cd "$dir" && go build -trimpath -ldflags "-s -w -X $MODULE/internal.Version=$VERSION" -o "$dest" ./cmd)

#!/bin/sh
# The web image's command: writes the page's /config.json (the contract's PageConfig, from the
# environment compose.yaml sets) and serves it with the built page. The page is static and asks
# for its configuration with `cache: "no-store"`, so a static file server is all it needs.
#   TOKEN_SERVICE_URL      the token service as browsers reach it (required)
#   NO_CALLER_TIMEOUT_MS   how long the page waits for the caller (default 20000)
#   ICE_SERVERS            a JSON list of RTCIceServer; unset or empty: the LiveKit server's own
#   DEMO_USER_IDS          comma-separated user ids the page offers (`token-service seed-demo`'s)
#   PORT                   default 3003
set -eu
config=/tmp/page-config.json  # /srv/page/config.json links here: the page's files stay read-only
set -- --token-service-url "${TOKEN_SERVICE_URL:?TOKEN_SERVICE_URL is required}" \
  --no-caller-timeout-ms "${NO_CALLER_TIMEOUT_MS:-20000}" --demo-user-ids "${DEMO_USER_IDS:-}"
[ -z "${ICE_SERVERS:-}" ] || set -- "$@" --ice-servers "$ICE_SERVERS"
training-contracts page-config "$@" >"$config"
# As PID 1 Python would ignore SIGTERM (no handler of its own): the shell forwards it.
python -m http.server --bind 0.0.0.0 --directory /srv/page "${PORT:-3003}" &
server=$!
trap 'kill -TERM "$server"' TERM INT
wait "$server" || wait "$server"

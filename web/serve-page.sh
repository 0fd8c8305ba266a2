#!/bin/sh
# The web image's command: writes the page's /config.json (the contract's PageConfig) and serves it
# with the built page. The page's settings (TOKEN_SERVICE_URL, NO_CALLER_TIMEOUT_MS, ICE_SERVERS,
# DEMO_USER_IDS, PORT) are read from the environment by training_contracts.page_settings, the one
# place they are defined (docs/configuration.md lists them); a missing or bad one stops the
# container here with one line naming it. The page is static and asks for its configuration with
# `cache: "no-store"`, so a static file server is all it needs.
set -eu
config=/tmp/page-config.json  # /srv/page/config.json links here: the page's files stay read-only
training-contracts page-config >"$config"
port=$(training-contracts page-config --port)
# As PID 1 Python would ignore SIGTERM (no handler of its own): the shell forwards it.
python -m http.server --bind 0.0.0.0 --directory /srv/page "$port" &
server=$!
trap 'kill -TERM "$server"' TERM INT
wait "$server" || wait "$server"

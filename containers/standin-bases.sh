#!/usr/bin/env bash
# Stand-ins for the official base images, for machines that reach no container registry.
#
# Why they exist: our CI machines reach Debian's archive and PyPI but no container registry, so
# `python:3.11.14-slim-bookworm`, `postgres:15.18-bookworm` and `livekit/livekit-server:v1.13.5`
# cannot be pulled there. The Dockerfiles and compose.yaml keep those pinned official names (they
# are what every other machine pulls); this script builds local images that do the same job from
# Debian packages and tags them with exactly those names, so the repository's own files build and
# run unchanged. What a stand-in is built from:
#   debian minbase  `debootstrap --variant=minbase bookworm`, imported with `podman import`
#   python          Debian's python3.11 + pip, `python` on PATH, pip allowed to install into the
#                   system Python (as the official image's pip does), and this machine's CA bundle
#                   (its egress presents its own CA to pip)
#   postgres        Debian's postgresql-15 and an entrypoint honouring POSTGRES_USER/PASSWORD/DB
#                   and PGDATA, serving as the postgres user
#   livekit-server  the binary `make livekit-server` builds, on the debian minbase with wget (the
#                   official image is Alpine, whose busybox wget compose.yaml's healthcheck uses)
# They are not the official images (Debian's patch releases of Python and Postgres differ): see
# README, "Containers". An image of one of these names that this script did not build (a pulled
# official image) is left alone. A stand-in is rebuilt when this script changes (its hash is a
# label) or when STANDIN_REBUILD=1.
#
# usage: containers/standin-bases.sh LIVEKIT_SERVER_BINARY
set -euo pipefail

PYTHON_IMAGE=docker.io/library/python:3.11.14-slim-bookworm
POSTGRES_IMAGE=docker.io/library/postgres:15.18-bookworm
LIVEKIT_IMAGE=docker.io/livekit/livekit-server:v1.13.5
DEBIAN_IMAGE=localhost/voice-training-standin/debian:bookworm-minbase
LABEL=voice-training.standin

livekit_binary=${1:?usage: $0 LIVEKIT_SERVER_BINARY}
livekit_version=${LIVEKIT_IMAGE##*:}
"$livekit_binary" --version | grep -qF "${livekit_version#v}" \
  || { echo "$livekit_binary is not livekit-server $livekit_version" >&2; exit 1; }
recipe=$(sha256sum "$0" | cut -c1-16)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# "ours" (our recipe), "foreign" (not built here: keep it), "stale" or "missing".
state() {
  local label
  label=$(podman image inspect --format "{{index .Labels \"$LABEL\"}}" "$1" 2>/dev/null) \
    || { echo missing; return; }
  if [ "$label" = "$recipe" ] && [ "${STANDIN_REBUILD:-0}" != 1 ]; then echo ours
  elif [ -z "$label" ] || [ "$label" = "<no value>" ]; then echo foreign
  else echo stale; fi
}

needed() {
  case $(state "$1") in
    ours) echo "stand-in $1: up to date"; return 1 ;;
    foreign) echo "$1: present and not a stand-in, kept"; return 1 ;;
    *) echo "stand-in $1: building"; return 0 ;;
  esac
}

build() {  # build IMAGE from the Containerfile and files in $work/ctx
  podman build -q --format docker --label "$LABEL=$recipe" -t "$1" "$work/ctx" >/dev/null
}

if needed "$DEBIAN_IMAGE"; then
  debootstrap --variant=minbase bookworm "$work/rootfs" http://deb.debian.org/debian >"$work/debootstrap.log" 2>&1 \
    || { tail -20 "$work/debootstrap.log" >&2; exit 1; }
  rm -rf "$work/rootfs"/var/cache/apt/* "$work/rootfs"/var/lib/apt/lists/*  # derived images update
  tar -C "$work/rootfs" -c . | podman import -q \
    --change "LABEL $LABEL=$recipe" --change 'CMD ["bash"]' - "$DEBIAN_IMAGE" >/dev/null
  rm -rf "$work/rootfs"
fi

if needed "$PYTHON_IMAGE"; then
  rm -rf "$work/ctx" && mkdir "$work/ctx"
  cp /etc/ssl/certs/ca-certificates.crt "$work/ctx/"
  cat >"$work/ctx/Containerfile" <<EOF
FROM $DEBIAN_IMAGE
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive DEBCONF_NOWARNINGS=yes apt-get install -y -qq --no-install-recommends \
      python3.11 python3-pip python-is-python3 ca-certificates >/dev/null \
    && rm -rf /var/lib/apt/lists/* /usr/lib/python3.11/EXTERNALLY-MANAGED
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
ENV LANG=C.UTF-8
CMD ["python3"]
EOF
  build "$PYTHON_IMAGE"
fi

if needed "$POSTGRES_IMAGE"; then
  rm -rf "$work/ctx" && mkdir "$work/ctx"
  cat >"$work/ctx/entrypoint.sh" <<'EOF'
#!/bin/sh
# The official image's contract, in short: first start initialises PGDATA with POSTGRES_USER,
# POSTGRES_PASSWORD and POSTGRES_DB; the server runs as the postgres user.
set -eu
: "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD is required}"
user=${POSTGRES_USER:-postgres}
db=${POSTGRES_DB:-$user}
if [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA" /var/run/postgresql
  chown -R postgres:postgres "$PGDATA" /var/run/postgresql
  chmod 700 "$PGDATA"
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  printf '%s\n' "$POSTGRES_PASSWORD" >/tmp/pwfile
  initdb -D "$PGDATA" -U "$user" --pwfile=/tmp/pwfile --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  rm -f /tmp/pwfile
  echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
  echo "listen_addresses = '*'" >>"$PGDATA/postgresql.conf"
  if [ "$db" != postgres ]; then
    echo "CREATE DATABASE \"$db\";" | postgres --single -D "$PGDATA" postgres >/dev/null
  fi
fi
exec "$@"
EOF
  chmod 755 "$work/ctx/entrypoint.sh"
  cat >"$work/ctx/Containerfile" <<EOF
FROM $DEBIAN_IMAGE
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive DEBCONF_NOWARNINGS=yes apt-get install -y -qq --no-install-recommends \
      postgresql-15 >/dev/null && rm -rf /var/lib/apt/lists/*
COPY entrypoint.sh /usr/local/bin/docker-entrypoint.sh
ENV PATH=/usr/lib/postgresql/15/bin:\$PATH PGDATA=/var/lib/postgresql/data LANG=C.UTF-8
VOLUME /var/lib/postgresql/data
EXPOSE 5432
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["postgres"]
EOF
  build "$POSTGRES_IMAGE"
fi

if needed "$LIVEKIT_IMAGE"; then
  rm -rf "$work/ctx" && mkdir "$work/ctx"
  cp "$livekit_binary" "$work/ctx/livekit-server"
  cat >"$work/ctx/Containerfile" <<EOF
FROM $DEBIAN_IMAGE
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive DEBCONF_NOWARNINGS=yes apt-get install -y -qq --no-install-recommends \
      wget >/dev/null && rm -rf /var/lib/apt/lists/*
COPY livekit-server /livekit-server
ENTRYPOINT ["/livekit-server"]
EOF
  build "$LIVEKIT_IMAGE"
fi

# Stand-ins a rebuild replaced.
podman image prune -f --filter "label=$LABEL" >/dev/null

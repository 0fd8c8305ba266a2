#!/usr/bin/env bash
# Stand-ins for the official base images, for machines that reach no container registry.
#
# Why they exist: our CI machines reach Debian's archive, PyPI and npm but no container registry,
# so `python:3.11.14-slim-bookworm`, `postgres:15.18-bookworm`, `livekit/livekit-server:v1.13.5`,
# `node:20.20.2-bookworm-slim` and `redis:7.0.15-bookworm` cannot be pulled there. The Dockerfiles
# and the compose files keep those pinned official names (they are what every other machine
# pulls); this script builds local images that do the same job from Debian packages and this
# machine's own binaries, and tags them with exactly those names, so the repository's own files
# build and run unchanged. What a stand-in is built from:
#   debian minbase  `debootstrap --variant=minbase bookworm`, imported with `podman import`
#   python          Debian's python3.11 + pip, `python` on PATH, pip allowed to install into the
#                   system Python (as the official image's pip does), and this machine's CA bundle
#                   (its egress presents its own CA to pip)
#   postgres        Debian's postgresql-15 and an entrypoint honouring POSTGRES_USER/PASSWORD/DB
#                   and PGDATA, serving as the postgres user
#   livekit-server  the binary `make livekit-server` builds, on the debian minbase with wget (the
#                   official image is Alpine, whose busybox wget compose.yaml's healthcheck uses)
#   node            this machine's node binary (it must be the pinned version) and its npm in
#                   /usr/local as the official image has them, with the CA bundle for npm. Not
#                   Debian's nodejs: bookworm's 18.20 is below what Vite 8 needs (^20.19 || >=22.12)
#   redis           Debian's redis-server (the pinned version) with the official image's defaults:
#                   protected mode off (it serves its compose network), runs as the redis user in
#                   /data
# They are not the official images (Debian's patch releases of Python and Postgres, and the npm
# beside node, differ): see docs/containers.md. An image of one of these names that this script
# did not build (a pulled official image) is left alone. Each stand-in carries the hash of its own
# recipe (its build files, and the debian minbase it is built on) as a label and is rebuilt only
# when that changes, or for all of them when STANDIN_REBUILD=1. The stand-ins over the minbase are
# built in parallel.
#
# usage: containers/standin-bases.sh LIVEKIT_SERVER_BINARY
set -euo pipefail

PYTHON_IMAGE=docker.io/library/python:3.11.14-slim-bookworm
POSTGRES_IMAGE=docker.io/library/postgres:15.18-bookworm
LIVEKIT_IMAGE=docker.io/livekit/livekit-server:v1.13.5
NODE_IMAGE=docker.io/library/node:20.20.2-bookworm-slim
REDIS_IMAGE=docker.io/library/redis:7.0.15-bookworm
DEBIAN_IMAGE=localhost/voice-training-standin/debian:bookworm-minbase
DEBOOTSTRAP=(debootstrap --variant=minbase bookworm)
# The Debian mirror this host's apt already uses (deb822 sources or a one-line sources.list), so
# the stand-in is built from the same place the host's packages come from.
host_debian_mirror() {
  { awk '$1 == "URIs:" {for (i = 2; i <= NF; i++) if ($i ~ /\/debian\/?$/) print $i}' \
      /etc/apt/sources.list.d/*.sources 2>/dev/null || true
    awk '$1 == "deb" && $2 ~ /\/debian\/?$/ {print $2}' /etc/apt/sources.list 2>/dev/null || true
  } | head -n1
}
DEBIAN_MIRROR=${DEBIAN_MIRROR:-$(host_debian_mirror)}
[ -n "$DEBIAN_MIRROR" ] \
  || { echo "no Debian mirror in /etc/apt/sources*: set DEBIAN_MIRROR to one" >&2; exit 1; }
LABEL=voice-training.standin
APT_INSTALL="apt-get update -qq && DEBIAN_FRONTEND=noninteractive DEBCONF_NOWARNINGS=yes \
apt-get install -y -qq --no-install-recommends"

livekit_binary=${1:?usage: $0 LIVEKIT_SERVER_BINARY}
version_of() { echo "${1##*:}" | cut -d- -f1; }  # node:20.20.2-bookworm-slim -> 20.20.2
"$livekit_binary" --version | grep -qF "$(version_of "$LIVEKIT_IMAGE" | tr -d v)" \
  || { echo "$livekit_binary is not livekit-server $(version_of "$LIVEKIT_IMAGE")" >&2; exit 1; }
node_binary=$(command -v node) || { echo "no node on PATH (the node stand-in copies it)" >&2; exit 1; }
[ "$(node --version)" = "v$(version_of "$NODE_IMAGE")" ] || {
  echo "node on PATH is $(node --version), the stand-in for $NODE_IMAGE needs v$(version_of "$NODE_IMAGE")" >&2
  exit 1
}
npm_dir=$(dirname "$(dirname "$(realpath "$(command -v npm)")")")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# "ours" (this recipe), "foreign" (not built here: keep it), "stale" or "missing".
state() {  # IMAGE RECIPE_HASH
  local label
  label=$(podman image inspect --format "{{index .Labels \"$LABEL\"}}" "$1" 2>/dev/null) \
    || { echo missing; return; }
  if [ "$label" = "$2" ] && [ "${STANDIN_REBUILD:-0}" != 1 ]; then echo ours
  elif [ -z "$label" ] || [ "$label" = "<no value>" ]; then echo foreign
  else echo stale; fi
}

needed() {  # IMAGE RECIPE_HASH
  case $(state "$1" "$2") in
    ours) echo "stand-in $1: up to date"; return 1 ;;
    foreign) echo "$1: present and not a stand-in, kept"; return 1 ;;
    *) echo "stand-in $1: building"; return 0 ;;
  esac
}

debian_recipe=$(printf '%s\n' "${DEBOOTSTRAP[*]} $DEBIAN_MIRROR" | sha256sum | cut -c1-16)
if needed "$DEBIAN_IMAGE" "$debian_recipe"; then
  "${DEBOOTSTRAP[@]}" "$work/rootfs" "$DEBIAN_MIRROR" >"$work/debootstrap.log" 2>&1 \
    || { tail -20 "$work/debootstrap.log" >&2; exit 1; }
  rm -rf "$work/rootfs"/var/cache/apt/* "$work/rootfs"/var/lib/apt/lists/*  # derived images update
  tar -C "$work/rootfs" -c . | podman import -q \
    --change "LABEL $LABEL=$debian_recipe" --change 'CMD ["bash"]' - "$DEBIAN_IMAGE" >/dev/null
  rm -rf "$work/rootfs"
fi
debian_id=$(podman image inspect --format '{{.Id}}' "$DEBIAN_IMAGE")

context() {  # NAME: a fresh build folder for one stand-in; its Containerfile is written into it
  rm -rf "${work:?}/$1" && mkdir "$work/$1" && echo "$work/$1"
}

# -- the build folders ---------------------------------------------------------------------------
ctx=$(context python)
cp /etc/ssl/certs/ca-certificates.crt "$ctx/"
cat >"$ctx/Containerfile" <<EOF
FROM $DEBIAN_IMAGE
RUN $APT_INSTALL python3.11 python3-pip python-is-python3 ca-certificates >/dev/null \
    && rm -rf /var/lib/apt/lists/* /usr/lib/python3.11/EXTERNALLY-MANAGED
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
ENV LANG=C.UTF-8
CMD ["python3"]
EOF

ctx=$(context postgres)
cat >"$ctx/entrypoint.sh" <<'EOF'
#!/bin/sh
# The official image's contract, in short: first start initialises PGDATA with POSTGRES_USER,
# POSTGRES_PASSWORD and POSTGRES_DB, then runs /docker-entrypoint-initdb.d/*.sql in that
# database (compose mounts the stand-in for the application's tables there); the server runs as
# the postgres user.
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
  if ls /docker-entrypoint-initdb.d/*.sql >/dev/null 2>&1; then
    pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
    for script in /docker-entrypoint-initdb.d/*.sql; do
      psql -v ON_ERROR_STOP=1 -q -U "$user" -d "$db" -f "$script"
    done
    pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
  fi
fi
exec "$@"
EOF
chmod 755 "$ctx/entrypoint.sh"
cat >"$ctx/Containerfile" <<EOF
FROM $DEBIAN_IMAGE
RUN $APT_INSTALL postgresql-15 >/dev/null && rm -rf /var/lib/apt/lists/*
COPY entrypoint.sh /usr/local/bin/docker-entrypoint.sh
ENV PATH=/usr/lib/postgresql/15/bin:\$PATH PGDATA=/var/lib/postgresql/data LANG=C.UTF-8
VOLUME /var/lib/postgresql/data
EXPOSE 5432
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["postgres"]
EOF

ctx=$(context livekit)
cp "$livekit_binary" "$ctx/livekit-server"
cat >"$ctx/Containerfile" <<EOF
FROM $DEBIAN_IMAGE
RUN $APT_INSTALL wget >/dev/null && rm -rf /var/lib/apt/lists/*
COPY livekit-server /livekit-server
ENTRYPOINT ["/livekit-server"]
EOF

ctx=$(context node)
cp "$node_binary" "$ctx/node"
cp -r "$npm_dir" "$ctx/npm"
cp /etc/ssl/certs/ca-certificates.crt "$ctx/"
cat >"$ctx/Containerfile" <<EOF
FROM $DEBIAN_IMAGE
COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
    && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
    && node --version >/dev/null && npm --version >/dev/null
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
CMD ["node"]
EOF

ctx=$(context redis)
cat >"$ctx/entrypoint.sh" <<'EOF'
#!/bin/sh
# The official image's defaults: protected mode off (it serves its network; the official build
# turns it off), the server runs as the redis user in /data.
set -eu
if [ "${1:-}" = redis-server ]; then
  shift
  set -- redis-server "$@" --protected-mode no
  if [ "$(id -u)" = 0 ]; then
    chown redis:redis /data
    exec setpriv --reuid=redis --regid=redis --init-groups "$@"
  fi
fi
exec "$@"
EOF
chmod 755 "$ctx/entrypoint.sh"
cat >"$ctx/Containerfile" <<EOF
FROM $DEBIAN_IMAGE
RUN $APT_INSTALL redis-server >/dev/null && rm -rf /var/lib/apt/lists/* \
    && redis-server --version | grep -qF "v=$(version_of "$REDIS_IMAGE") " \
    && mkdir /data && chown redis:redis /data
COPY entrypoint.sh /usr/local/bin/docker-entrypoint.sh
WORKDIR /data
EXPOSE 6379
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["redis-server"]
EOF

# -- the builds, in parallel ---------------------------------------------------------------------
recipe() {  # NAME: the hash of its build folder and of the minbase under it
  { echo "$debian_id"; tar -C "$work/$1" --sort=name --mtime=@0 --owner=0 --group=0 -c .; } \
    | sha256sum | cut -c1-16
}

declare -A building=()
for pair in python:"$PYTHON_IMAGE" postgres:"$POSTGRES_IMAGE" livekit:"$LIVEKIT_IMAGE" \
  node:"$NODE_IMAGE" redis:"$REDIS_IMAGE"; do
  name=${pair%%:*} image=${pair#*:}
  hash=$(recipe "$name")
  needed "$image" "$hash" || continue
  podman build -q --format docker --label "$LABEL=$hash" -t "$image" "$work/$name" \
    >"$work/$name.log" 2>&1 &
  building[$name]=$!
done
failed=0
for name in "${!building[@]}"; do
  wait "${building[$name]}" || { echo "stand-in $name failed:" >&2; tail -20 "$work/$name.log" >&2; failed=1; }
done
[ "$failed" = 0 ]

# Stand-ins a rebuild replaced.
podman image prune -f --filter "label=$LABEL" >/dev/null

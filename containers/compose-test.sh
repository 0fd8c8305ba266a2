#!/usr/bin/env bash
# `make compose-test`: compose.yaml, compose.cluster.yaml and the four Dockerfiles, run for real on
# podman.
#
# Prepares the host (containers/podman-host.sh), the compose client (containers/compose-client.sh,
# built while the stand-in bases are: containers/standin-bases.sh, and the images' layers), builds
# the images through Docker Compose v2 against podman's Docker API, builds the context `make
# deploy-agent` would upload (in the background, with the cluster's images), brings compose.yaml
# up with the offline profile, waits for every service to be healthy, makes one whole call from
# this host (containers/whole_call.py), checks the trainee page it serves
# (containers/check_page.py), breaks three calls for real (containers/faulted_calls.py: the agent
# container SIGKILLed while the token service container is stopped, the Postgres container
# restarted, the token service container recreated as a deploy does, each checked against what
# the stub heard and said), checks what the images hold (containers/check_images.py), and takes
# it down. Then the same for the cluster shape (compose.cluster.yaml: Redis, two livekit-server nodes,
# two workers, two token services): up, healthy, both workers registered, one whole call, down. On
# any exit both projects' containers, networks and volumes are removed, and their absence is
# checked.
#
# usage: containers/compose-test.sh LIVEKIT_SERVER_BINARY COMPOSE_CLIENT
# (COMPOSE_CLIENT: where the Compose client is built, the path `make compose-client-early` builds
# it at, so this run finds that build and waits for it instead of starting another)
set -euo pipefail
cd "$(dirname "$0")/.."
livekit_bin=${1:?usage: $0 LIVEKIT_SERVER_BINARY COMPOSE_CLIENT}
compose_bin=$(realpath -m "${2:?usage: $0 LIVEKIT_SERVER_BINARY COMPOSE_CLIENT}")

PROJECT=voice-training-compose-test
CLUSTER=$PROJECT-cluster
HOST_PORTS=(3003 5432 7880 7881 7980 7981 8000 8001 8090)  # both files publish these (TCP)
HEALTHY_TIMEOUT_S=180
REGISTERED_TIMEOUT_S=60
started=$SECONDS
step() { printf '== [%4ds] %s\n' $((SECONDS - started)) "$*"; }

step "host: podman, runc, iptables, debootstrap"
containers/podman-host.sh
podman --version

run=$(mktemp -d)
socket=$run/podman.sock
service_pid="" healthchecks_pid="" client_pid="" background_build_pid=""
compose() { "$compose_bin" --project-name "$PROJECT" --env-file offline.env "$@"; }
cluster() {
  "$compose_bin" --project-name "$CLUSTER" --file compose.cluster.yaml --env-file offline.env "$@"
}

project_leftovers() {
  local project filter
  for project in "$PROJECT" "$CLUSTER"; do
    filter=label=com.docker.compose.project=$project
    podman ps -aq --filter "$filter"
    podman network ls -q --filter "$filter"
    podman volume ls -q --filter "$filter"
  done
}

# A project's state and last logs, then down: containers, network and volumes.
down() {  # compose|cluster [show]
  if [ "${2:-}" = show ]; then
    "$1" ps -a || true
    "$1" logs --no-color --tail 30 2>&1 | cut -c1-400 || true
  fi
  "$1" down --volumes --remove-orphans --timeout 5 >/dev/null 2>&1 || true
}

finish() {
  local status=$?
  trap - EXIT
  if [ -n "$service_pid" ]; then
    [ "$status" = 0 ] || step "FAILED: the stacks' state and last logs"
    step "down: containers, networks and volumes"
    down compose "$([ "$status" = 0 ] || echo show)"
    down cluster "$([ "$status" = 0 ] || echo show)"
  fi
  [ -z "$client_pid" ] || kill "$client_pid" 2>/dev/null || true
  [ -z "$background_build_pid" ] || kill "$background_build_pid" 2>/dev/null || true
  [ -z "$healthchecks_pid" ] || kill "$healthchecks_pid" 2>/dev/null || true
  [ -z "$service_pid" ] || kill "$service_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$run"
  local left
  left=$(project_leftovers)
  if [ -n "$left" ]; then
    echo "compose-test: left behind: $left" >&2
    status=1
  fi
  step "compose-test $([ "$status" = 0 ] && echo passed || echo FAILED)"
  exit "$status"
}
trap finish EXIT

step "compose client, built beside the stand-in bases"
containers/compose-client.sh "$compose_bin" >"$run/compose-client.log" 2>&1 &
client_pid=$!

step "stand-in bases (no registry here)"
containers/standin-bases.sh "$livekit_bin"

if kill -0 "$client_pid" 2>/dev/null; then
  # A new machine: the compose client is still building. Meanwhile podman builds compose.yaml's
  # images from the same Dockerfiles and contexts, so Compose's build below finds every layer in
  # the cache (the Dockerfiles make each image's layers its own: see their LABEL).
  step "layer cache: compose.yaml's images, built by podman while the compose client builds"
  warm=()
  while read -r context dockerfile; do
    podman build -q --format docker -f "$context/$dockerfile" "$context" >"$run/warm-${dockerfile%%/*}.log" 2>&1 &
    warm+=($!)
  done < <(.venv/bin/python -c '
import yaml
for service in yaml.safe_load(open("compose.yaml"))["services"].values():
    if "build" in service:
        print(service["build"]["context"], service["build"]["dockerfile"])')
  for pid in "${warm[@]}"; do wait "$pid" || true; done  # a failure shows again in Compose's build
fi
wait "$client_pid" || { cat "$run/compose-client.log" >&2; exit 1; }
client_pid=""

# A private Docker API socket for this run; podman is daemonless, so stopping it stops nothing else.
podman system service --time=0 "unix://$socket" >"$run/service.log" 2>&1 &
service_pid=$!
for _ in $(seq 50); do [ -S "$socket" ] && break; sleep 0.1; done
[ -S "$socket" ] || { cat "$run/service.log" >&2; exit 1; }
export DOCKER_HOST=unix://$socket
# Compose v2 builds through BuildKit by default, which podman's API does not offer.
export DOCKER_BUILDKIT=0 COMPOSE_BAKE=false
"$compose_bin" version

step "leftovers of an earlier run"
down compose
down cluster
for port in "${HOST_PORTS[@]}"; do
  if ss -Hltn "sport = :$port" | grep -q .; then
    echo "compose-test: port $port on this host is taken (make up running?); compose.yaml publishes it" >&2
    exit 1
  fi
done

# Every service's image, each by its own `build` so that none waits for another (Compose builds in
# dependency order: the agent, the longest, would wait for the token service).
build() {  # compose|cluster: exit status 1 with the failed builds' logs
  local service failed=0
  local -A pids=()
  for service in $("$1" config --format json | .venv/bin/python -c '
import json, sys
print(" ".join(name for name, service in json.load(sys.stdin)["services"].items() if "build" in service))'); do
    "$1" build "$service" >"$run/build-$1-$service.log" 2>&1 &
    pids[$service]=$!
  done
  for service in "${!pids[@]}"; do
    wait "${pids[$service]}" || { echo "build of $service failed:" >&2; tail -40 "$run/build-$1-$service.log" >&2; failed=1; }
  done
  return "$failed"
}

step "build: the four images from the repository's Dockerfiles"
build compose

# From the same Dockerfiles, so from the layer cache now; built while compose.yaml's stack starts.
step "build, in the background: the context make deploy-agent uploads, compose.cluster.yaml's images"
{
  containers/stage-agent.sh "$run/agent-deploy" \
    && podman build -q --format docker -t "localhost/$PROJECT/agent-deploy:latest" "$run/agent-deploy" \
    && build cluster
} >"$run/background-build.log" 2>&1 &
background_build_pid=$!

# The address livekit-server advertises for media: this host's own (default-route) address, so
# the trainee here reaches it through the published ports and the agent through the host, as
# browsers do with LIVEKIT_NODE_IP set (docs/containers.md).
default_dev=$(ip -4 route show default | awk '{print $5; exit}')
LIVEKIT_NODE_IP=$(ip -4 -o addr show dev "$default_dev" | awk '{split($4, a, "/"); print a[1]; exit}')
export LIVEKIT_NODE_IP

# Without systemd podman runs a container's healthcheck only when asked to.
(while true; do
  for project in "$PROJECT" "$CLUSTER"; do
    for health in starting unhealthy; do
      for id in $(podman ps -q --filter "label=com.docker.compose.project=$project" --filter "health=$health"); do
        podman healthcheck run "$id" >/dev/null 2>&1 || true
      done
    done
  done
  sleep 1
done) &
healthchecks_pid=$!

registered() {  # compose|cluster SERVICE...: each worker has registered with its livekit-server
  local deadline=$((SECONDS + REGISTERED_TIMEOUT_S)) service
  for service in "${@:2}"; do
    until "$1" logs --no-color "$service" 2>&1 | grep -q 'registered worker'; do
      [ "$SECONDS" -lt "$deadline" ] || { echo "$service not registered in ${REGISTERED_TIMEOUT_S} s" >&2; exit 1; }
      sleep 1
    done
  done
}

# netavark before 1.9 (Debian 12's is 1.4) leaves a bridge's MAC address to the kernel, which gives
# it the lowest MAC among its ports: replacing or restarting a container can change it, and then
# every container loses the host (published ports, so the trainee's media, included) until its ARP
# entry for the gateway is refreshed, which can take a minute or more. netavark 1.9 pins the MAC
# itself; pinned here the same way, before faulted_calls.py replaces containers under a call.
pin_bridge_mac() {  # compose|cluster
  local network bridge
  network=$("$1" config --format json | .venv/bin/python -c 'import json, sys; print(json.load(sys.stdin)["networks"]["default"]["name"])')
  bridge=$(podman network inspect "$network" --format '{{.NetworkInterface}}')
  ip link set dev "$bridge" address "$(cat "/sys/class/net/$bridge/address")"
}

seed_demo() {  # compose|cluster SERVICE: the demo data's JSON, seeded in that token service's container
  local try
  # Retried: a name lookup inside podman's network has been seen to fail once on a loaded machine.
  for try in 1 2 3 4 5; do
    "$1" exec -T "$2" token-service seed-demo && return
    [ "$try" -lt 5 ] || return 1
    sleep 2
  done
}

demo_user_ids() {  # DEMO_JSON: the users' ids, one a line
  .venv/bin/python -c 'import json, sys; print("\n".join(u["userId"] for u in json.loads(sys.argv[1])["users"]))' "$1"
}

step "up: offline profile, livekit node IP $LIVEKIT_NODE_IP"
compose up --detach --wait --wait-timeout "$HEALTHY_TIMEOUT_S" --quiet-pull
compose ps --format 'table {{.Service}}\t{{.Status}}'
pin_bridge_mac compose

step "agent registered with livekit-server"
registered compose agent-service

step "demo data: token-service seed-demo, in its container"
demo=$(seed_demo compose token-service)
mapfile -t users < <(demo_user_ids "$demo")

# Finished before the call, which then does not share the machine with builds (in a run where
# they overlapped on a loaded machine, the token service's lookup of the stub failed).
step "background builds: the deploy context and the cluster's images"
wait "$background_build_pid" || { cat "$run/background-build.log" >&2; exit 1; }
background_build_pid=""
podman image prune -f --filter label=com.docker.compose.image.builder >/dev/null  # replaced builds

step "whole call: trainee -> token -> dispatch -> session.id -> reply -> transcript -> evaluation"
.venv/bin/python containers/whole_call.py --token-service http://127.0.0.1:8000 --user-id "${users[0]}"

step "trainee page: GET / and /config.json on port 3003"
.venv/bin/python containers/check_page.py --page http://127.0.0.1:3003 \
  --token-service http://localhost:8000 "${users[@]/#/--demo-user-id=}"

step "faulted calls: agent killed with the token service down, Postgres restarted, token service recreated"
.venv/bin/python containers/faulted_calls.py --token-service http://127.0.0.1:8000 \
  --stub http://127.0.0.1:8090 "${users[@]/#/--user-id=}" \
  -- "$compose_bin" --project-name "$PROJECT" --env-file offline.env

step "images: non-root, pinned, sizes"
.venv/bin/python containers/check_images.py "$PROJECT"

step "down: compose.yaml's containers, network and volumes"
down compose

step "cluster up: Redis, two livekit-server nodes, two workers, two token services"
cluster up --detach --wait --wait-timeout "$HEALTHY_TIMEOUT_S" --quiet-pull
cluster ps --format 'table {{.Service}}\t{{.Status}}'

step "cluster: both workers registered"
registered cluster agent-service-1 agent-service-2

step "cluster: demo data through token-service-2, whole call through token-service-1"
demo=$(seed_demo cluster token-service-2)
mapfile -t users < <(demo_user_ids "$demo")
.venv/bin/python containers/whole_call.py --token-service http://127.0.0.1:8000 --user-id "${users[0]}" \
  --join-attempts 3  # LiveKit refuses joins while the nodes' load reports are late (whole_call.py)

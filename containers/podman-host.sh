#!/usr/bin/env bash
# Makes this Debian machine a container host for compose-test: Debian's podman with what it needs
# here (iptables for its bridge networks, debootstrap for the stand-in bases), runc as the runtime
# and ulimits within the machine's hard limits. Idempotent: installs only missing packages, and
# sets in its own drop-in file only what no containers.conf on the machine sets already.
set -euo pipefail

PACKAGES=(podman runc iptables debootstrap)
DROP_IN=/etc/containers/containers.conf.d/50-voice-training.conf

missing=()
for package in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'ok installed' || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "missing: ${missing[*]} (Debian: sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
  echo "installing ${missing[*]}"
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${missing[@]}" >/dev/null
fi

configured() {  # is KEY set in any containers.conf other than our drop-in?
  local files=(/etc/containers/containers.conf /etc/containers/containers.conf.d/*.conf)
  local file
  for file in "${files[@]}"; do
    [ -f "$file" ] && [ "$file" != "$DROP_IN" ] && grep -qE "^[[:space:]]*$1[[:space:]]*=" "$file" && return 0
  done
  return 1
}

settings=""
if ! configured default_ulimits; then
  # podman's defaults exceed what this VM allows a process; the machine's own hard limits do not.
  nofile=$(ulimit -Hn)
  nproc=$(ulimit -Hu)
  [ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ] && nproc=32768
  [ "$nofile" = unlimited ] && nofile=1048576
  settings+="default_ulimits = [\"nofile=$nofile:$nofile\", \"nproc=$nproc:$nproc\"]"$'\n'
fi
engine=""
if ! configured runtime; then
  # crun refuses hybrid cgroup hierarchies ("cgroups in hybrid mode not supported"); runc runs.
  engine="runtime = \"runc\""$'\n'
fi
wanted="# Written by containers/podman-host.sh (voice-training compose-test).
[containers]
${settings}[engine]
${engine}"
if ! printf '%s' "$wanted" | cmp -s - "$DROP_IN"; then
  mkdir -p "$(dirname "$DROP_IN")"
  printf '%s' "$wanted" >"$DROP_IN"
  echo "wrote $DROP_IN"
fi

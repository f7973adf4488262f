#!/usr/bin/env bash
# Starts (or finds running) the Docker Engine of one test-matrix cell and
# prints its DOCKER_HOST. Usage:
#
#     DOCKER_HOST=$(scripts/engine.sh CELL)     # start if needed, print the host
#     scripts/engine.sh stop CELL               # stop its dockerd and containerd
#
# CELL is one of:
#   default               the machine's engine: prints nothing, starts nothing
#   docker29-containerd   Docker 29 with the containerd image store (the default of new installs)
#   docker29-overlay2     Docker 29 with the overlay2 graph driver (upgraded installs)
#
# A cell's engine is a dockerd of its own with a containerd of its own, built
# by scripts/tool-path.sh: private sockets, data, exec and state dirs under
# $IMAGEBUILD_MATRIX_STATE/CELL (default /tmp/imagebuild-matrix), its own
# config file (the machine's /etc/docker/daemon.json sets data-root), its own
# bridge and no iptables rules, so the machine's engine (/var/run/docker.sock)
# is never touched. The daemons are started with setsid+nohup so that they
# outlive make; a later call finds them answering and returns at once.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
say() { echo "engine: $*" >&2; }
die() { echo "engine: ERROR: $*" >&2; exit 1; }
sudo=
[ "$(id -u)" = 0 ] || sudo=sudo

stop=
if [ "${1:-}" = stop ]; then stop=1; shift; fi
cell=${1:-}
case "$cell" in
  default) exit 0 ;;
  # Bridge names are at most 15 characters. The subnets are private ones
  # that nothing here routes (the machine's engine has 172.17.0.0/16 and
  # allocates networks from 172.18-31 and 192.168).
  docker29-containerd) bridge=ibm-d29c subnet=10.231.1.1/24 pool=10.232.0.0/16 feature=true ;;
  docker29-overlay2) bridge=ibm-d29o subnet=10.231.2.1/24 pool=10.233.0.0/16 feature=false ;;
  *) die "unknown cell '$cell' (default, docker29-containerd, docker29-overlay2)" ;;
esac

state="${IMAGEBUILD_MATRIX_STATE:-/tmp/imagebuild-matrix}/$cell"
sock="$state/docker.sock"
host="unix://$sock"
csock="$state/containerd.sock"

answers() { DOCKER_HOST=$host docker version >/dev/null 2>&1; }
# alive PIDFILE MARKER: the process in PIDFILE runs and its command line holds MARKER.
alive() {
  local pid
  pid=$(cat "$1" 2>/dev/null) && [ -n "$pid" ] &&
    tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF -- "$2"
}
# stop_pid PIDFILE MARKER: SIGTERM, then SIGKILL after 20 s.
stop_pid() {
  local pid i
  alive "$1" "$2" || return 0
  pid=$(cat "$1")
  $sudo kill "$pid"
  for i in $(seq 200); do alive "$1" "$2" || return 0; sleep 0.1; done
  $sudo kill -9 "$pid" || true
}

if [ -n "$stop" ]; then
  stop_pid "$state/docker.pid" "$sock"
  stop_pid "$state/containerd.pid" "$state/containerd.toml"
  $sudo ip link del "$bridge" 2>/dev/null || true
  say "$cell stopped"
  exit 0
fi

if answers; then
  say "$cell: $(DOCKER_HOST=$host docker version -f '{{.Server.Version}} (API {{.Server.APIVersion}})') answering at $host"
  echo "$host"
  exit 0
fi

command -v docker >/dev/null || die "the docker CLI is not installed (Debian: apt-get install docker.io)"
dockerd=$("$here/tool-path.sh" dockerd-29)
containerd=$("$here/tool-path.sh" containerd-2)
runc=$("$here/tool-path.sh" runc-1.5.3)
# runc 1.5.3 and the shim first: containerd finds the shim, and the shim
# finds runc, on PATH.
path="${runc%/*}:${containerd%/*}:${dockerd%/*}:$PATH"
mkdir -p "$state"

# containerd 2, private: its own root, state, sockets and opt dir. CRI is not
# needed; NRI would bind /var/run/nri/nri.sock, shared by all containerds.
start_containerd() {
  cat >"$state/containerd.toml" <<EOF
version = 3
root = "$state/containerd/root"
state = "$state/containerd/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.cri.v1.images", "io.containerd.cri.v1.runtime",
  "io.containerd.podsandbox.controller.v1.podsandbox", "io.containerd.nri.v1.nri"]

[grpc]
  address = "$csock"

[ttrpc]
  address = "$csock.ttrpc"

[plugins."io.containerd.internal.v1.opt"]
  path = "$state/containerd/opt"
EOF
  # A socket left by a containerd that died would pass for this one's: a
  # dockerd that dials it before containerd listens gives up at once
  # ("failed to get containerd plugins: ... connection refused"; CI, 2026-12-03).
  $sudo rm -f "$csock" "$csock.ttrpc"
  local from i
  from=$(($(stat -c %s "$state/containerd.log" 2>/dev/null || echo 0) + 1))
  say "$cell: starting containerd (log: $state/containerd.log)"
  $sudo env PATH="$path" setsid nohup "$containerd" --config "$state/containerd.toml" \
    >>"$state/containerd.log" 2>&1 </dev/null &
  echo $! >"$state/containerd.pid"
  # Ready once it logs that it booted, which it does once it serves.
  for i in $(seq 300); do
    tail -c "+$from" "$state/containerd.log" | grep -q 'containerd successfully booted' && [ -S "$csock" ] && return 0
    alive "$state/containerd.pid" "$state/containerd.toml" || break
    sleep 0.1
  done
  tail -n 20 "$state/containerd.log" >&2
  die "containerd did not start serving $csock within 30 s (log: $state/containerd.log)"
}

start_dockerd() {
  say "$cell: starting dockerd (log: $state/dockerd.log)"
  $sudo env PATH="$path" setsid nohup "$dockerd" "${args[@]}" >>"$state/dockerd.log" 2>&1 </dev/null &
  local i
  for i in $(seq 300); do answers && return 0; sleep 0.2; done
  return 1
}

if ! alive "$state/containerd.pid" "$state/containerd.toml" || [ ! -S "$csock" ]; then
  stop_pid "$state/containerd.pid" "$state/containerd.toml"
  start_containerd
fi

# A bridge of our own: dockerd with --bridge=none would delete docker0, the
# machine's engine's bridge.
if ! ip link show "$bridge" >/dev/null 2>&1; then
  $sudo ip link add "$bridge" type bridge
  $sudo ip addr add "$subnet" dev "$bridge"
  $sudo ip link set "$bridge" up
fi

# Its own (empty) config file: without --config-file dockerd reads
# /etc/docker/daemon.json, whose data-root is the machine engine's.
echo '{}' >"$state/daemon.json"
args=(
  --config-file "$state/daemon.json"
  --host "$host"
  --data-root "$state/data"
  --exec-root "$state/exec"
  --pidfile "$state/docker.pid"
  --containerd "$csock"
  --bridge "$bridge"
  # No --default-address-pool: with one, a dockerd that restarts on an
  # existing data root deletes docker0 (moby v2 daemon_unix.go, "Clear stale
  # bridge network" -> removeDefaultBridgeInterface), the machine engine's
  # bridge. Seen here on 2026-12-01: docker0 vanished at the cells' restart.
  --iptables=false --ip6tables=false --ip-masq=false --ip-forward=false --userland-proxy=false
  --feature "containerd-snapshotter=$feature"
)
[ "$feature" = true ] || args+=(--storage-driver overlay2)
if ! start_dockerd; then
  # Once more from containerd up: a dockerd that found containerd gone
  # exits, and one retry costs seconds where a failed cell costs a CI run.
  tail -n 30 "$state/dockerd.log" >&2
  say "$cell: dockerd did not answer; restarting containerd and dockerd once"
  stop_pid "$state/docker.pid" "$sock"
  stop_pid "$state/containerd.pid" "$state/containerd.toml"
  start_containerd
  start_dockerd || { tail -n 30 "$state/dockerd.log" >&2; tail -n 20 "$state/containerd.log" >&2; die "dockerd did not answer on $host within 60 s (log: $state/dockerd.log)"; }
fi
say "$cell: $(DOCKER_HOST=$host docker version -f '{{.Server.Version}} (API {{.Server.APIVersion}})') started at $host"
echo "$host"

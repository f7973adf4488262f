#!/usr/bin/env bash
# BuildKit daemons for the acceptance tests of the provider's builders.
#
#     scripts/buildkitd.sh path              # prints the dir holding buildkitd and buildctl
#     scripts/buildkitd.sh start STATE REG.. # starts the test daemons, prints their exports
#
# `path` builds buildkitd and buildctl of github.com/moby/buildkit@v0.34.2
# the first time (about a minute): `go install` refuses that module's go.mod
# (an exclude directive), so they are built inside a writable copy of its
# module download, then cached in
# ${XDG_CACHE_HOME:-~/.cache}/terraform-provider-imagebuild/buildkit-v0.34.2/
# with an atomic rename, so an interrupted build leaves nothing to trust.
#
# `start` runs three daemons on loopback, each with its own root under
# STATE/buildkitd-NAME, the OCI worker with runc 1.5.3 (scripts/tool-path.sh),
# and plain HTTP for the loopback registries REG (host:port); a daemon cannot
# see the engine's images, so base images come from those registries:
#   IMAGEBUILD_TEST_BUILDKIT_A         tcp://127.0.0.1:PORT     plain TCP
#   IMAGEBUILD_TEST_BUILDKIT_B         tcp://127.0.0.1:PORT+1   plain TCP
#   IMAGEBUILD_TEST_BUILDKIT_TLS       tcp://127.0.0.1:PORT+2   mutual TLS
#   IMAGEBUILD_TEST_BUILDKIT_CERTS     ca.pem, cert.pem, key.pem for it (as buildctl's TLS flags)
#   IMAGEBUILD_TEST_BUILDKIT_BIN       the dir with buildkitd and buildctl
#   IMAGEBUILD_TEST_BUILDKIT_CONFIG    a config for further daemons (tests start their own to kill)
# PORT is IMAGEBUILD_TEST_BUILDKIT_PORT, default 5071. A daemon that answers
# `buildctl debug workers` is kept. Progress goes to stderr.
set -euo pipefail

VERSION=v0.34.2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
say() { echo "buildkitd: $*" >&2; }
die() { echo "buildkitd: ERROR: $*" >&2; exit 1; }

bin_dir() {
  local dir="${XDG_CACHE_HOME:-$HOME/.cache}/terraform-provider-imagebuild/buildkit-$VERSION" src tmp work start=$SECONDS
  if [ ! -x "$dir/buildkitd" ] || [ ! -x "$dir/buildctl" ]; then
    command -v go >/dev/null || die "go is not on PATH; it is needed to build buildkitd"
    say "building buildkitd and buildctl $VERSION from source into $dir (about a minute, once)"
    rm -rf "$dir" && mkdir -p "$(dirname "$dir")"
    tmp=$(mktemp -d "$dir.tmp.XXXXXX") && chmod 755 "$tmp"
    work=$(mktemp -d "$dir.work.XXXXXX")
    trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$tmp" "$work"' EXIT
    # Outside the repo, so this module's go.mod and GOFLAGS do not interfere.
    src=$(cd "$work" && GOFLAGS=-mod=mod go mod download -json "github.com/moby/buildkit@$VERSION" |
      sed -n 's/^[[:space:]]*"Dir": *"\(.*\)",*$/\1/p')
    [ -n "$src" ] && [ -d "$src" ] || die "go mod download github.com/moby/buildkit@$VERSION gave no source directory"
    cp -r "$src" "$work/src" && chmod -R u+w "$work/src"
    (cd "$work/src" && GOFLAGS=-buildvcs=false CGO_ENABLED=0 go build \
       -ldflags "-X github.com/moby/buildkit/version.Version=$VERSION" \
       -o "$tmp/" ./cmd/buildkitd ./cmd/buildctl) >&2 || die "building buildkitd failed (output above)"
    # -T: fails instead of nesting if a concurrent run got there first.
    mv -T "$tmp" "$dir" 2>/dev/null || [ -x "$dir/buildkitd" ]
    chmod -R u+w "$work" && rm -rf "$work"
    trap - EXIT
    say "built buildkitd $VERSION in $((SECONDS - start)) s"
  fi
  echo "$dir"
}

# certs DIR: a CA, a server certificate for 127.0.0.1 and a client
# certificate, made once (renewed when a day from expiry).
certs() {
  local d=$1
  mkdir -p "$d" && chmod 700 "$d"
  if [ -s "$d/ca.pem" ] && openssl verify -CAfile "$d/ca.pem" "$d/server.pem" "$d/cert.pem" >/dev/null 2>&1 &&
     openssl x509 -checkend 86400 -noout -in "$d/server.pem" >/dev/null 2>&1; then
    return
  fi
  cat >"$d/openssl.cnf" <<'EOF'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = imagebuild-buildkitd
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
authorityKeyIdentifier = keyid
[client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
authorityKeyIdentifier = keyid
EOF
  local ossl=(openssl req -config "$d/openssl.cnf" -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
  { "${ossl[@]}" -x509 -days 3650 -extensions ca -subj "/CN=imagebuild-buildkitd CA" -keyout "$d/ca.key" -out "$d/ca.pem" &&
    "${ossl[@]}" -subj "/CN=localhost" -keyout "$d/server.key" -out "$d/server.csr" &&
    openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
      -days 825 -extfile "$d/openssl.cnf" -extensions server -out "$d/server.pem" &&
    "${ossl[@]}" -subj "/CN=imagebuild-client" -keyout "$d/key.pem" -out "$d/client.csr" &&
    openssl x509 -req -in "$d/client.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
      -days 825 -extfile "$d/openssl.cnf" -extensions client -out "$d/cert.pem"; } >"$d/openssl.log" 2>&1 ||
    { cat "$d/openssl.log" >&2; die "openssl could not make the daemon's certificates"; }
  chmod 600 "$d"/*.key "$d/key.pem"
  rm -f "$d"/*.csr "$d"/*.srl
}

# config FILE RUNC REG..: the daemons' common configuration (the address
# is given on the command line).
config() {
  local file=$1 runc=$2 reg
  shift 2
  {
    printf '[worker.oci]\n  enabled = true\n  binary = "%s"\n  gc = true\n  gckeepstorage = "4GB"\n' "$runc"
    printf '[worker.containerd]\n  enabled = false\n'
    for reg in "$@"; do printf '[registry."%s"]\n  http = true\n' "$reg"; done
  } >"$file"
}

# answers ADDR [TLS ARGS..]: the daemon at ADDR lists its workers.
answers() {
  local addr=$1
  shift
  timeout 5 "$bin/buildctl" --addr "$addr" "$@" debug workers >/dev/null 2>&1
}

# daemon NAME PORT [TLS DIR]: starts one daemon unless it answers.
daemon() {
  local name=$1 port=$2 tlsdir=${3:-} addr="tcp://127.0.0.1:$2" root="$state/buildkitd-$1" pid i
  local cli=() args=(--config "$cfg" --root "$root" --addr "$addr")
  if [ -n "$tlsdir" ]; then
    cli=(--tlscacert "$tlsdir/ca.pem" --tlscert "$tlsdir/cert.pem" --tlskey "$tlsdir/key.pem" --tlsservername localhost)
    args+=(--tlscacert "$tlsdir/ca.pem" --tlscert "$tlsdir/server.pem" --tlskey "$tlsdir/server.key")
  fi
  if answers "$addr" "${cli[@]}"; then
    say "$name: $addr answering"
    return
  fi
  # A stale daemon of ours on this root (say, with an older config) goes first.
  pid=$(cat "$root.pid" 2>/dev/null || true)
  if [ -n "$pid" ] && tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF -- "--root $root "; then
    kill "$pid"
    for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  mkdir -p "$root"
  setsid nohup "$bin/buildkitd" "${args[@]}" >>"$root.log" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$root.pid"
  for i in $(seq 100); do  # up to 20 s; stop early if it died (e.g. port taken)
    { answers "$addr" "${cli[@]}" || ! kill -0 "$pid" 2>/dev/null; } && break
    sleep 0.2
  done
  answers "$addr" "${cli[@]}" || { tail -n 20 "$root.log" >&2; die "$name did not answer on $addr (log: $root.log)"; }
  say "$name: started on $addr (pid $pid, log: $root.log)"
}

case "${1:-}" in
  path) bin_dir ;;
  start)
    [ $# -ge 2 ] || die "usage: $0 start STATE REGISTRY..."
    state=$2
    shift 2
    bin=$(bin_dir)
    runc=$("$here/tool-path.sh" runc-1.5.3) || die "no runc 1.5.3 (see scripts/tool-path.sh)"
    port=${IMAGEBUILD_TEST_BUILDKIT_PORT:-5071}
    mkdir -p "$state"
    cfg="$state/buildkitd.toml"
    config "$cfg" "$runc" "$@"
    certs "$state/buildkitd-tls"
    daemon a "$port"
    daemon b "$((port + 1))"
    daemon tls "$((port + 2))" "$state/buildkitd-tls"
    printf 'export %s=%q\n' \
      IMAGEBUILD_TEST_BUILDKIT_A "tcp://127.0.0.1:$port" \
      IMAGEBUILD_TEST_BUILDKIT_B "tcp://127.0.0.1:$((port + 1))" \
      IMAGEBUILD_TEST_BUILDKIT_TLS "tcp://127.0.0.1:$((port + 2))" \
      IMAGEBUILD_TEST_BUILDKIT_CERTS "$state/buildkitd-tls" \
      IMAGEBUILD_TEST_BUILDKIT_BIN "$bin" \
      IMAGEBUILD_TEST_BUILDKIT_CONFIG "$cfg"
    ;;
  *) die "usage: $0 path | start STATE REGISTRY..." ;;
esac

# shellcheck shell=bash
# Test environment for the acceptance tests. Source it from bash:
#
#     . scripts/testenv.sh || exit 1
#
# It makes sure that a Docker Engine answers, the Debian packages the tests use
# are installed, a local base image and a local registry exist, and a Terraform
# CLI is available, then exports:
#
#   IMAGEBUILD_TEST_BASE_IMAGE           base image in the engine (never pulled)
#   IMAGEBUILD_TEST_REGISTRY             host:port of a plain-HTTP registry on 127.0.0.1
#   IMAGEBUILD_TEST_REGISTRY_BASE_IMAGE  the base image, pushed to that registry
#   TF_ACC_TERRAFORM_PATH, PATH          the Terraform CLI (its dir first on PATH)
#
# Every step is idempotent and cheap when already done. Settings:
#   IMAGEBUILD_TEST_STATE          state dir (logs, registry data); default /tmp/imagebuild-testenv
#   IMAGEBUILD_TEST_REGISTRY_PORT  registry port; default 5055
#
# The work runs in a child bash with `set -euo pipefail`, which prints the
# exports for the sourcing shell to eval. A function body would not do: errexit
# is silently off inside anything called from `if`, `&&` or `||`, which is how
# callers check the result; and it must not change the caller's shell options.

_testenv_setup() {
  set -euo pipefail
  local state="${IMAGEBUILD_TEST_STATE:-/tmp/imagebuild-testenv}"
  local port="${IMAGEBUILD_TEST_REGISTRY_PORT:-5055}"
  local base=imagebuild-test/busybox:latest
  local here i st sudo=
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  mkdir -p "$state"
  say() { echo "testenv: $*" >&2; }
  die() { echo "testenv: ERROR: $*" >&2; exit 1; }
  [ "$(id -u)" = 0 ] || sudo=sudo

  # Debian packages. Try without `apt-get update` first: it is slow and other
  # configured repositories may be unreachable (so its failure is tolerated).
  local pkgs=(busybox-static docker-registry apache2-utils openssh-client) missing=()
  for i in "${pkgs[@]}"; do
    st=$(dpkg-query -W -f='${Status}' "$i" 2>/dev/null || true)
    [[ $st == *" ok installed" ]] || missing+=("$i")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    say "packages: installing ${missing[*]}"
    local apt=(env DEBIAN_FRONTEND=noninteractive apt-get -q)
    [ -z "$sudo" ] || apt=(sudo "${apt[@]}")
    "${apt[@]}" install -y "${missing[@]}" >"$state/apt.log" 2>&1 ||
      { "${apt[@]}" update >>"$state/apt.log" 2>&1 || true
        "${apt[@]}" install -y "${missing[@]}" >>"$state/apt.log" 2>&1; } ||
      { tail -n 20 "$state/apt.log" >&2; die "could not install ${missing[*]} (log: $state/apt.log)"; }
  else
    say "packages: ${pkgs[*]} installed"
  fi

  # Docker Engine: use a running one, else start the installed dockerd.
  command -v docker >/dev/null || die "the docker CLI is not installed (Debian: apt-get install docker.io)"
  if ! docker info >/dev/null 2>&1; then
    [ -z "${DOCKER_HOST:-}" ] || die "DOCKER_HOST=$DOCKER_HOST does not answer 'docker info'"
    command -v dockerd >/dev/null ||
      die "no Docker Engine answers 'docker info' and dockerd is not installed (Debian: apt-get install docker.io)"
    say "docker: starting dockerd (log: $state/dockerd.log)"
    # setsid+nohup: the daemon must outlive this script and make's shell.
    $sudo setsid nohup dockerd >>"$state/dockerd.log" 2>&1 </dev/null &
    for i in $(seq 30); do docker info >/dev/null 2>&1 && break; sleep 1; done
    docker info >/dev/null 2>&1 ||
      { tail -n 20 "$state/dockerd.log" >&2; die "dockerd did not answer within 30 s (log: $state/dockerd.log)"; }
  fi
  say "docker: engine $(docker version -f '{{.Server.Version}} (API {{.Server.APIVersion}})') at ${DOCKER_HOST:-the local socket}"

  # Base image, made from busybox-static because nothing can be pulled.
  if docker image inspect "$base" >/dev/null 2>&1; then
    say "base image: $base present"
  else
    local rootfs
    rootfs=$(mktemp -d "$state/rootfs.XXXXXX")
    mkdir -p "$rootfs/bin" "$rootfs/etc" "$rootfs/root" "$rootfs/tmp"
    chmod 1777 "$rootfs/tmp"
    cp /bin/busybox "$rootfs/bin/busybox"
    for i in $("$rootfs/bin/busybox" --list); do
      [ "$i" = busybox ] || ln -s busybox "$rootfs/bin/$i"
    done
    echo 'root:x:0:0:root:/root:/bin/sh' >"$rootfs/etc/passwd"
    echo 'root:x:0:' >"$rootfs/etc/group"
    tar --numeric-owner --owner=0 --group=0 -C "$rootfs" -c . |
      docker import -c 'ENV PATH=/bin' -c 'CMD ["sh"]' - "$base" >/dev/null
    rm -rf "$rootfs"
    say "base image: $base imported from /bin/busybox"
  fi

  # Registry: Debian's docker-registry on loopback, which Docker treats as
  # insecure (plain HTTP) by default, so the daemon needs no configuration.
  local reg="127.0.0.1:$port"
  if curl -fsS -o /dev/null "http://$reg/v2/" 2>/dev/null; then
    say "registry: $reg answering"
  else
    mkdir -p "$state/registry-data"
    cat >"$state/registry.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $state/registry-data
  delete:
    enabled: true
http:
  addr: $reg
  secret: imagebuild-testenv  # silences a warning; one instance only
EOF
    setsid nohup docker-registry serve "$state/registry.yml" >>"$state/registry.log" 2>&1 </dev/null &
    local pid=$!
    echo "$pid" >"$state/registry.pid"
    for i in $(seq 50); do  # up to 10 s; stop early if it died (e.g. port taken)
      { curl -fsS -o /dev/null "http://$reg/v2/" 2>/dev/null || ! kill -0 "$pid" 2>/dev/null; } && break
      sleep 0.2
    done
    curl -fsS -o /dev/null "http://$reg/v2/" ||
      { tail -n 20 "$state/registry.log" >&2; die "registry did not answer on $reg (log: $state/registry.log)"; }
    say "registry: started on $reg (pid $pid, log: $state/registry.log)"
  fi

  # Proves the engine can push to the registry; cheap when the blobs exist.
  local pushed="$reg/$base"
  docker tag "$base" "$pushed"
  docker push -q "$pushed" >"$state/push.log" 2>&1 ||
    { cat "$state/push.log" >&2; die "could not push $pushed: is $reg reachable from the engine, and an insecure registry?"; }
  say "registry: pushed $pushed"

  # Terraform CLI (from PATH, or built once and cached).
  local tf
  tf=$("$here/terraform-path.sh") || die "no Terraform CLI (see scripts/terraform-path.sh)"
  say "terraform: $tf ($("$tf" version -json 2>/dev/null | sed -n 's/.*"terraform_version": *"\([^"]*\)".*/\1/p'))"

  # Put its dir first on PATH unless it already is the terraform PATH finds
  # (no reordering of other tools then).
  local path="$PATH"
  [ "$(command -v terraform || true)" = "$tf" ] || path="${tf%/*}:$PATH"
  printf 'export %s=%q\n' \
    IMAGEBUILD_TEST_STATE "$state" \
    IMAGEBUILD_TEST_BASE_IMAGE "$base" \
    IMAGEBUILD_TEST_REGISTRY "$reg" \
    IMAGEBUILD_TEST_REGISTRY_BASE_IMAGE "$pushed" \
    TF_ACC_TERRAFORM_PATH "$tf" \
    PATH "$path"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  # Executed rather than sourced: set up and print the exports, for `eval "$(scripts/testenv.sh)"`.
  _testenv_setup
  exit
fi

imagebuild_testenv() {
  local out
  out=$(bash "${BASH_SOURCE[0]}") ||
    { echo "testenv: FAILED, the test environment is not ready (see above)" >&2; return 1; }
  eval "$out"
}
imagebuild_testenv

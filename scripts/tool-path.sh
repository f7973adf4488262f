#!/usr/bin/env bash
# Prints the absolute path of a pinned tool for the test matrix, building it
# from source through the Go module proxy the first time (nothing can be
# downloaded from release pages on CI machines). Usage:
#
#     scripts/tool-path.sh TOOL
#
# TOOL is one of:
#   terraform-1.5.7   Terraform 1.5.7, the oldest Terraform we support
#   tofu-1.12.6       OpenTofu 1.12.6
#   dockerd-29        Docker Engine 29 (moby v2.0.0-beta.24, API 1.56)
#   containerd-2      containerd 2.4.2 (containerd-shim-runc-v2 beside it), for dockerd-29
#   runc-1.5.3        runc 1.5.3 with seccomp (Debian's 1.1.5 fails under containerd 2:
#                     "namespace time does not exist")
#
# Each tool goes into its own directory under
# ${XDG_CACHE_HOME:-~/.cache}/terraform-provider-imagebuild/, named after tool
# and version. A build runs in a scratch directory that is renamed into place
# only when complete, so an interrupted build never leaves a binary that later
# runs would trust. Progress goes to stderr, so `$(scripts/tool-path.sh X)`
# gets only the path.
set -euo pipefail

cache="${XDG_CACHE_HOME:-$HOME/.cache}/terraform-provider-imagebuild"
say() { echo "tool-path: $*" >&2; }
die() { echo "tool-path: ERROR: $*" >&2; exit 1; }

# install DIR BIN BUILD...: unless DIR/BIN exists, runs BUILD (a shell
# function) with $tmp as its output dir and $work as a scratch dir outside
# the repo (so this module's go.mod and GOFLAGS=-mod=... do not interfere).
install() {
  local dir="$cache/$1" bin=$2 build=$3 start=$SECONDS
  if [ ! -x "$dir/$bin" ]; then
    command -v go >/dev/null || die "go is not on PATH; it is needed to build $1"
    say "building $1 from source into $dir (minutes, once)"
    rm -rf "$dir" && mkdir -p "$cache"
    tmp=$(mktemp -d "$dir.tmp.XXXXXX") && chmod 755 "$tmp"
    work=$(mktemp -d "$cache/work.XXXXXX")
    # The module cache is read-only: the scratch copy of a module must be
    # made writable before it can be removed.
    trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$tmp" "$work"' EXIT
    (cd "$work" && export GOFLAGS=-buildvcs=false GOBIN="$tmp" && "$build") >&2 ||
      die "building $1 failed (output above)"
    # -T: fails instead of nesting if a concurrent run got there first.
    mv -T "$tmp" "$dir" 2>/dev/null || [ -x "$dir/$bin" ]
    chmod -R u+w "$work" && rm -rf "$work"
    trap - EXIT
    say "built $1 in $((SECONDS - start)) s"
  fi
  echo "$dir/$bin"
}

# mod_dir MODULE@VERSION: a writable copy of the module's source in $work/src,
# for modules whose go.mod has replace or exclude directives (which
# `go install module@version` refuses).
mod_dir() {
  local dir
  dir=$(GOFLAGS=-mod=mod go mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": *"\(.*\)",*$/\1/p')
  [ -n "$dir" ] && [ -d "$dir" ] || die "go mod download $1 gave no source directory"
  cp -r "$dir" "$work/src" && chmod -R u+w "$work/src"
}

build_terraform() { CGO_ENABLED=0 go install github.com/hashicorp/terraform@v1.5.7; }
build_tofu() {
  mod_dir github.com/opentofu/opentofu@v1.12.6
  # dev=no, as OpenTofu's release builds set it: else it says "1.12.6-dev".
  (cd "$work/src" && CGO_ENABLED=0 go build -ldflags "-X github.com/opentofu/opentofu/version.dev=no" -o "$tmp/tofu" ./cmd/tofu)
}
# The version string is set at link time, as moby's release builds do; else
# the engine reports "library-import".
build_dockerd() {
  go install -ldflags "-X github.com/moby/moby/v2/dockerversion.Version=v2.0.0-beta.24" \
    github.com/moby/moby/v2/cmd/dockerd@v2.0.0-beta.24
}
build_containerd() {
  CGO_ENABLED=0 go install github.com/containerd/containerd/v2/cmd/containerd@v2.4.2 \
    github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2@v2.4.2
}
build_runc() {
  # cgo for libseccomp: without seccomp, Docker's default profile cannot apply.
  if ! pkg-config --exists libseccomp 2>/dev/null; then
    local sudo=
    [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get -q install -y libseccomp-dev ||
      { $sudo apt-get -q update || true; $sudo env DEBIAN_FRONTEND=noninteractive apt-get -q install -y libseccomp-dev; }
  fi
  CGO_ENABLED=1 go install -tags seccomp github.com/opencontainers/runc@v1.5.3
}

case "${1:-}" in
  terraform-1.5.7) install terraform-1.5.7 terraform build_terraform ;;
  tofu-1.12.6) install tofu-1.12.6 tofu build_tofu ;;
  dockerd-29) install dockerd-v2.0.0-beta.24 dockerd build_dockerd ;;
  containerd-2) install containerd-v2.4.2 containerd build_containerd ;;
  runc-1.5.3) install runc-v1.5.3 runc build_runc ;;
  *) die "usage: $0 terraform-1.5.7|tofu-1.12.6|dockerd-29|containerd-2|runc-1.5.3" ;;
esac

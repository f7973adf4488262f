#!/usr/bin/env bash
# Prints the absolute path of a Terraform CLI to use for acceptance tests and
# tfplugindocs. Uses `terraform` from PATH when there is one; otherwise builds
# a pinned release from source through the Go module proxy (no download from
# releases.hashicorp.com is possible on CI machines) and caches it.
# Progress goes to stderr so that `$(scripts/terraform-path.sh)` gets only the path.
set -euo pipefail

TERRAFORM_VERSION=1.5.7

if tf=$(command -v terraform 2>/dev/null) && [ -x "$tf" ]; then
  # Resolve to an absolute path (PATH may hold relative entries).
  cd "$(dirname "$tf")" && echo "$PWD/$(basename "$tf")"
  exit 0
fi

dir="${XDG_CACHE_HOME:-$HOME/.cache}/terraform-provider-imagebuild/terraform-$TERRAFORM_VERSION"
if [ ! -x "$dir/terraform" ]; then
  command -v go >/dev/null || { echo "terraform-path: neither terraform nor go is on PATH" >&2; exit 1; }
  echo "terraform-path: building terraform v$TERRAFORM_VERSION from source into $dir (takes minutes, once)" >&2
  # Install into a scratch dir and rename, so an interrupted build never leaves
  # a half-written binary that later runs would trust. Run outside the repo
  # so this module's go.mod and any GOFLAGS=-mod=... do not interfere.
  rm -rf "$dir" && mkdir -p "$(dirname "$dir")"
  tmp=$(mktemp -d "$dir.tmp.XXXXXX") && chmod 755 "$tmp"
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && GOFLAGS=-buildvcs=false CGO_ENABLED=0 GOBIN="$tmp" \
     go install "github.com/hashicorp/terraform@v$TERRAFORM_VERSION") >&2
  # -T: fails instead of nesting if a concurrent run got there first.
  mv -T "$tmp" "$dir" 2>/dev/null || [ -x "$dir/terraform" ]
fi
echo "$dir/terraform"

#!/usr/bin/env bash
# Prints the absolute path of a Terraform CLI to use for acceptance tests and
# tfplugindocs. Uses `terraform` from PATH when there is one; otherwise (or
# when asked for 1.5.7 explicitly: `scripts/terraform-path.sh 1.5.7`) the
# pinned release that scripts/tool-path.sh builds from source through the Go
# module proxy (no download from releases.hashicorp.com is possible on CI
# machines) and caches.
# Progress goes to stderr so that `$(scripts/terraform-path.sh)` gets only the path.
set -euo pipefail

case "${1:-}" in
  "") ;;
  1.5.7) exec "$(dirname "$0")/tool-path.sh" terraform-1.5.7 ;;
  *) echo "terraform-path: only 1.5.7 can be asked for by version, not '$1'" >&2; exit 1 ;;
esac

if tf=$(command -v terraform 2>/dev/null) && [ -x "$tf" ]; then
  # Resolve to an absolute path (PATH may hold relative entries).
  cd "$(dirname "$tf")" && echo "$PWD/$(basename "$tf")"
  exit 0
fi
exec "$(dirname "$0")/tool-path.sh" terraform-1.5.7

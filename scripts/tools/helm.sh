#!/usr/bin/env bash
# Helm for the chart checks (tests/infra/test_helm.py), built from the Go module proxy into .local/tools/bin
# when that binary is missing or another version; prints the binary's path.
#
#   scripts/tools/helm.sh        # -> /path/to/repo/.local/tools/bin/helm
#
# Env: HELM_VERSION (v3.22.0), GOMODCACHE/GOCACHE as usual (a cold cache takes a few minutes on 2 cores).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HELM_VERSION="${HELM_VERSION:-v3.22.0}"
BIN_DIR="$ROOT/.local/tools/bin"
HELM="$BIN_DIR/helm"

installed() { [ -x "$HELM" ] && [ "$("$HELM" version --template '{{.Version}}' 2>/dev/null)" = "$HELM_VERSION" ]; }

if ! installed; then
  command -v go >/dev/null || { echo "helm.sh: Go is needed to build helm $HELM_VERSION" >&2; exit 1; }
  mkdir -p "$BIN_DIR"
  # Two test runs at once build it once.
  exec 9>"$BIN_DIR/.helm.lock"
  flock 9
  if ! installed; then
    echo "helm.sh: building helm $HELM_VERSION from the Go module proxy into $BIN_DIR" >&2
    # As helm's own Makefile: static, version stamped (so `helm version` and the check above see it).
    # GOTOOLCHAIN=local: build with this machine's Go, never fetch another.
    CGO_ENABLED=0 GOTOOLCHAIN=local GOBIN="$BIN_DIR" go install -trimpath \
      -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" \
      "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >&2
  fi
fi
echo "$HELM"

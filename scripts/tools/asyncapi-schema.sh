#!/usr/bin/env bash
# The AsyncAPI 3.0.0 JSON Schema that docs/asyncapi.yaml is validated against (tests/infra/test_api_docs.py), from
# the npm package @asyncapi/specs, fetched into .local/tools when missing; prints the schema file's path.
#
#   scripts/tools/asyncapi-schema.sh   # -> /path/to/repo/.local/tools/asyncapi-specs-6.11.1/asyncapi-3.0.0.json
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VERSION=6.11.1
# sha512 of the package's tarball: a version republished with other content is refused.
TARBALL_SHA512=0375812ea00a1a8276fba15616da63065090d6814272ce06c45ef3b081af36aa7f9251941e3940dda01c67d5cc3292c613cccf7980f3db1f4598ee834ae2ab69
DIR="$ROOT/.local/tools/asyncapi-specs-$VERSION"
SCHEMA="$DIR/asyncapi-3.0.0.json"
# The package's variant without $id: every $ref is local, so jsonschema resolves them with no registry of its own.
MEMBER='package/schemas/3.0.0-without-$id.json'

if [ ! -f "$SCHEMA" ]; then
  command -v npm >/dev/null || { echo "asyncapi-schema.sh: npm is needed to fetch @asyncapi/specs" >&2; exit 1; }
  mkdir -p "$DIR"
  # Two test runs at once fetch it once.
  exec 9>"$DIR/.lock"
  flock 9
  if [ ! -f "$SCHEMA" ]; then
    echo "asyncapi-schema.sh: fetching @asyncapi/specs@$VERSION from the npm registry into $DIR" >&2
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' EXIT
    tarball="$work/$(cd "$work" && npm pack --silent "@asyncapi/specs@$VERSION")"
    if [ "$(sha512sum "$tarball" | cut -d' ' -f1)" != "$TARBALL_SHA512" ]; then
      echo "asyncapi-schema.sh: @asyncapi/specs@$VERSION is not the tarball pinned here" >&2
      exit 1
    fi
    tar -xzf "$tarball" -C "$work" "$MEMBER"
    mv "$work/$MEMBER" "$SCHEMA"
  fi
fi
echo "$SCHEMA"

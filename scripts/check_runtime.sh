#!/usr/bin/env bash
# The runtime-dependency check (`make lint`): installs the project as the Dockerfile does, without the dev group
# and not editable, into .local/runtime-venv, then starts every entry point in it (tools/check_runtime.py).
set -euo pipefail
cd "$(dirname "$0")/.."
export UV_PROJECT_ENVIRONMENT=.local/runtime-venv UV_PYTHON_DOWNLOADS=never
stamp="$UV_PROJECT_ENVIRONMENT.synced"
# uv rebuilds a non-editable workspace member only when its pyproject.toml changes: reinstall the members whose
# sources changed since the last sync, or the check would run stale code.
reinstall=()
for member in libs/*/ services/*/; do
  if [ ! -e "$stamp" ] || [ -n "$(find "$member/src" -name __pycache__ -prune -o -newer "$stamp" -print -quit)" ]; then
    reinstall+=(--reinstall-package "$(sed -n 's/^name = "\(.*\)"$/\1/p' "$member/pyproject.toml" | head -1)")
  fi
done
touch "$stamp.next"
# The lock serialises uv with any other uv run changing the lock file or the cache at the same time.
flock /tmp/ecomops-uv.lock .local/bootstrap/bin/uv sync --quiet --frozen --no-dev --no-editable --compile-bytecode \
  --python python3 "${reinstall[@]}"
mv "$stamp.next" "$stamp"
exec "$UV_PROJECT_ENVIRONMENT/bin/python" tools/check_runtime.py

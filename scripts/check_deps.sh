#!/usr/bin/env bash
# deptry on every workspace member (`make lint`): each one declares exactly what its own code imports, so a
# missing dependency (DEP001), one only installed through another package (DEP003, e.g. finance importing httpx
# that only the dev group brought in) or an unused one (DEP002) fails. Reports every member before failing.
set -uo pipefail
cd "$(dirname "$0")/.."
deptry="$PWD/.venv/bin/deptry"
rc=0
for member in libs/common services/*/; do
  (cd "$member" && "$deptry" --no-ansi src) || rc=1
done
# libs/common's runtime code alone: its testing extra (for ecomops_common.testing, the pytest plugin) is not
# installed at run time, so there it counts as dev-only and importing it fails (DEP004).
(cd libs/common && "$deptry" --no-ansi src --extend-exclude src/ecomops_common/testing \
  --optional-dependencies-dev-groups testing) || rc=1
exit $rc

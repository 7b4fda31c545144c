#!/usr/bin/env bash
# CI step for the notebooks: install the tools (idempotent), test the checker itself on its
# fixture notebooks, check that the committed notebooks' prose quotes only figures their committed
# outputs show (what a reader sees on GitHub), then execute and check every notebooks/*.ipynb headless.
# Extra arguments go to check.py (e.g. --timeout 300, or notebook paths to check only those).
# Ends with check.py's "N passed, N failed" line; exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

.ci/install-tools.sh
# shellcheck source=env.sh
. .ci/env.sh

echo "notebooks: testing the checker (notebooks/check_test.py)"
/usr/bin/python3 -m unittest discover -s notebooks -p 'check_test.py'

echo "notebooks: figures in the prose of the committed notebooks (check.py --prose-only)"
committed_ok=0
/usr/bin/python3 notebooks/check.py --prose-only || committed_ok=1

echo "notebooks: executing notebooks"
status=0
/usr/bin/python3 notebooks/check.py "$@" || status=$?
if [ "${committed_ok}" -ne 0 ]; then
  echo "notebooks: FAIL: the committed notebooks quote figures their own outputs do not show (above); rerun them with check.py --write"
  exit 1
fi
exit "${status}"

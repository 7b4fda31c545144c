#!/usr/bin/env bash
# CI step for the notebooks: install the tools (idempotent), test the checker itself on its
# fixture notebooks, then execute and check every notebooks/*.ipynb headless.
# Extra arguments go to check.py (e.g. --timeout 300, or notebook paths to check only those).
# Ends with check.py's "N passed, N failed" line; exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

.ci/install-tools.sh
# shellcheck source=env.sh
. .ci/env.sh

echo "notebooks: testing the checker (notebooks/check_test.py)"
/usr/bin/python3 -m unittest discover -s notebooks -p 'check_test.py'

echo "notebooks: executing notebooks"
/usr/bin/python3 notebooks/check.py "$@"

#!/usr/bin/env bash
# Set up what the tests need (quick when installed), then lint and run the test suite.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
setup_all
cd "$KOBENCH_ROOT"
"$PY" -m ruff check kobench tests bench
"$PY" -m pytest -q "$@"

#!/usr/bin/env bash
# Fresh machine to leaderboard: set up, then run the built-in demo (no network needed).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
setup_all
cd "$KOBENCH_ROOT"
"$PY" -m kobench demo "$@"

#!/usr/bin/env bash
# Regenerate the committed demo results (results/demo/<model>/), the leaderboard between the README's
# kobench:demo markers and the chart; then check the README's numbers against them. The only writer of
# results/demo/: the demo replaces what is there, so this works on any machine. Answers already in the
# cache are reused; see README "Demo results".
set -euo pipefail
source "$(dirname "$0")/lib.sh"
setup_all
cd "$KOBENCH_ROOT"
"$PY" -m kobench demo --output results/demo "$@"
"$PY" -m kobench readme README.md results/demo/*/results.json --marker demo
"$PY" -m kobench plot results/demo/*/results.json --out results/demo/scores.png --title "kobench demo (built-in benchmarks, baselines)"
"$PY" scripts/check_demo.py results/demo

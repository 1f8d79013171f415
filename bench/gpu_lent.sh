#!/usr/bin/env bash
# kobench's GPU checks as one command for a lent GPU machine (the device tool), which reaches no package
# index: run scripts/gpu_wheels.sh here first, then
#
#     device run   command: bash bench/gpu_lent.sh   carry: [".whl"]   timeout_s: 540
#
# It installs the carried wheels beside the image's own packages (CPython 3.12 only), prints the machine and
# pip's check of the two together, then runs bench/families_gpu.py (every fixture through hf: in bfloat16,
# a batch against one request at a time) and bench/gpu_smoke.py (hf: against vllm: on the same rows; where
# the image has no vLLM the vllm: half says so and the hf: half still prints). Each log is kept in $OUT.
# DEVICE=cpu ROWS=4 bash bench/gpu_lent.sh tries it on this machine's own packages.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-$(mktemp -d)}
DEVICE=${DEVICE:-cuda}
ROWS=${ROWS:-20}
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false

if [ -d .whl ] && python3 -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))'; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \
    .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site
else
  echo "[gpu lent] no CPython 3.12 with .whl/: this Python's own packages"
fi
{
  nvidia-smi -L 2>/dev/null || echo "no nvidia-smi"
  python3 -c 'import sys, torch, transformers; print(sys.version.split()[0], "torch", torch.__version__,
"cuda", torch.cuda.is_available(), "transformers", transformers.__version__)'
  python3 -m pip check || echo "[gpu lent] pip check found the conflicts above; running on"
} 2>&1 | tee "$OUT/machine.log"

status=0
timeout "${FAMILIES_S:-240}" python3 bench/families_gpu.py --device "$DEVICE" --rows "$ROWS" 2>&1 \
  | tee "$OUT/families_gpu.log" || status=1
timeout "${SMOKE_S:-240}" python3 bench/gpu_smoke.py --device "$DEVICE" --limit "$ROWS" "$@" 2>&1 \
  | tee "$OUT/gpu_smoke.log" || status=1
exit $status

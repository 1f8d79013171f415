#!/usr/bin/env bash
# Fills .whl/ (git-ignored) with the wheels a lent GPU machine needs to run kobench's GPU checks
# (bench/gpu_lent.sh). That machine reaches no package index; its image has Python 3.12, CUDA's torch,
# numpy, pandas, pyarrow, pillow, accelerate and more (/work/.library/device/KINDS.md), but transformers
# 5.17 and huggingface_hub 1.33, older than kobench needs, and no pydantic, datasets, openai or rapidfuzz.
# So this downloads, for CPython 3.12 on x86-64 Linux, kobench's dependencies with their own (the versions
# installed here, which the suite passed on, for transformers, its tokenizers and the Hub client) and keeps
# all but the large packages the image has. The carry limit is 64 MiB with the working tree: it says so
# when the wheels would not fit.
#
#     bash scripts/gpu_wheels.sh        # then: device run, carry [".whl"], command "bash bench/gpu_lent.sh"
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
ALL=${KOBENCH_GPU_WHEEL_CACHE:-$HOME/.cache/kobench/gpu-wheels-cp312}
WHEELS=${KOBENCH_GPU_WHEELS:-.whl}  # elsewhere only for the test that checks the set is complete
# The image's own, too large to carry; its versions are checked on the machine (bench/gpu_lent.sh's pip check).
SKIP='^(torch|triton|nvidia_.*|cuda_.*|numpy|pandas|pyarrow|pillow|sympy|mpmath|networkx|accelerate|python_dateutil|six|tzdata)$'

version() { python3 -c "from importlib.metadata import version; print(version('$1'))"; }
mapfile -t requirements < <(python3 - <<'EOF'
import tomllib

project = tomllib.load(open("pyproject.toml", "rb"))["project"]
for requirement in project["dependencies"] + project["optional-dependencies"]["hf"]:
    if not requirement.startswith(("transformers", "tokenizers", "accelerate", "huggingface_hub")):
        print(requirement)
EOF
)
pins=("transformers==$(version transformers)" "tokenizers==$(version tokenizers)"
      "huggingface_hub==$(version huggingface_hub)")
platforms=()
for n in 17 24 27 28 31 34 35; do platforms+=(--platform "manylinux_2_${n}_x86_64"); done
platforms+=(--platform manylinux2014_x86_64 --platform manylinux1_x86_64)

mkdir -p "$ALL"
echo "[gpu wheels] resolving ${pins[*]} and kobench's dependencies for CPython 3.12 into $ALL" >&2
python3 -m pip download -q --only-binary=:all: --python-version 3.12 --implementation cp "${platforms[@]}" \
  -d "$ALL" "${pins[@]}" "${requirements[@]}" 2> >(grep -v "is ignored: it is neither" >&2)

rm -rf "$WHEELS" && mkdir -p "$WHEELS"
# pip download keeps every version it ever fetched into $ALL; copy the newest of each that the image lacks.
python3 - "$ALL" "$SKIP" "$WHEELS" <<'EOF'
import re
import shutil
import sys
from pathlib import Path

from packaging.utils import parse_wheel_filename

folder, skip, target = Path(sys.argv[1]), re.compile(sys.argv[2]), sys.argv[3]
newest = {}
for wheel in folder.glob("*.whl"):
    name, version, _, _ = parse_wheel_filename(wheel.name)
    key = name.replace("-", "_")
    if not skip.match(key) and (key not in newest or version > newest[key][0]):
        newest[key] = (version, wheel)
for _, wheel in newest.values():
    shutil.copy2(wheel, target)
EOF
size=$(du -sb "$WHEELS" | cut -f1)
tree=$(git ls-files -z | du -cb --files0-from=- 2>/dev/null | tail -1 | cut -f1)
echo "[gpu wheels] $(ls "$WHEELS" | wc -l) wheels, $((size / 1048576)) MiB; with the working tree $(((size + tree) / 1048576)) MiB of 64" >&2
if (((size + tree) > 64 * 1048576)); then
  echo "[gpu wheels] too large to carry: drop what the image already has from $WHEELS" >&2
  exit 1
fi

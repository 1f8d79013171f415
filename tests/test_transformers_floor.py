"""The oldest transformers pyproject.toml allows, not only the one installed: the hf adapter's suites (the
model families, their settings, the adapter itself) run again in a virtualenv that sees this one's packages
but has that transformers. Extended suite (a pip install from the index, then about a minute of tests)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

pytestmark = pytest.mark.extended

ROOT = Path(__file__).resolve().parents[1]
SUITES = ["tests/test_model_families.py", "tests/test_family_settings.py", "tests/test_hf_adapter.py"]


def transformers_floor() -> str:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "optional-dependencies"
    ]
    pin = next(p for p in extras["hf"] if p.startswith("transformers"))
    found = re.fullmatch(r"transformers>=([\d.]+)", pin)
    assert found, f"the hf extra pins transformers as {pin!r}; this test reads only a >= floor"
    return found.group(1)


def test_the_hf_suites_pass_on_the_oldest_transformers_allowed(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    floor = transformers_floor()
    cache = (
        Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
        / "kobench"
        / f"transformers-{floor}-venv"
    )
    python = cache / "bin" / "python"
    if not python.is_file():
        subprocess.run(
            [sys.executable, "-m", "venv", "--system-site-packages", str(cache)], check=True, timeout=300
        )
    installed = subprocess.run(
        [str(python), "-c", "import transformers; print(transformers.__version__)"],
        capture_output=True,
        text=True,
    )
    if installed.stdout.strip() != floor:
        pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps"]
        done = subprocess.run([*pip, f"transformers=={floor}"], capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stdout + done.stderr
    env = {k: v for k, v in os.environ.items() if k != "KOBENCH_EXTENDED"}
    command = [
        str(python),
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "--basetemp",
        str(tmp_path_factory.mktemp("floor")),
        *SUITES,
    ]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
    assert re.search(r"\d+ passed", done.stdout), done.stdout[-2000:]

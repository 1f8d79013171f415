"""What results record about where they came from: package versions, kobench's git commit, and paths
in a form that names no machine.

Paths as results record them: the kobench cache as `<kobench-cache>` and the home folder as `~`. A
results file is a public artifact (committed, attached to model cards): it should not name the machine
that made it, and the same run on two machines should record the same strings. Paths are kept exact at
run time (error messages name the real file); only what is written into results is made portable.
"""

from __future__ import annotations

import re
import subprocess
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

# kobench's own version (the package root re-exports it as kobench.__version__; pyproject.toml repeats it).
VERSION = "0.1.0"

_PACKAGES = (
    "kobench",
    "torch",
    "torchvision",
    "transformers",
    "tokenizers",
    "datasets",
    "pillow",
    "numpy",
    "accelerate",
    "vllm",
    "openai",
)


@lru_cache(maxsize=1)
def package_versions() -> dict[str, str]:
    versions = {}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


@lru_cache(maxsize=1)
def git_commit() -> str | None:
    """The commit of the kobench checkout in use, if it is one (with '+dirty' for local changes)."""
    root = Path(__file__).resolve().parents[1]
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return sha + ("+dirty" if dirty else "") if sha else None


CACHE_SYMBOL = "<kobench-cache>"
HOME_SYMBOL = "~"


def portable(text: str, cache_dir: Path) -> str:
    """`text` with every occurrence of the cache folder, then the home folder, written symbolically."""
    for folder, symbol in ((cache_dir, CACHE_SYMBOL), (Path.home(), HOME_SYMBOL)):
        for form in _spellings(folder):
            # Only whole path prefixes: /root/.cache/kobench2 is not inside /root/.cache/kobench.
            text = re.sub(re.escape(form) + r"(?=/|\\|$|[\s)\"',;])", lambda _m, s=symbol: s, text)
    return text


def _spellings(folder: Path) -> list[str]:
    forms = {str(folder.expanduser().absolute()), str(folder.expanduser().resolve())}
    # The root folder is no prefix worth rewriting; longer spellings first (a symlink's target may nest).
    return sorted((f.rstrip("/\\") for f in forms if len(Path(f).parts) > 1), key=len, reverse=True)


def portable_arguments(arguments: Any, cache_dir: Path) -> Any:
    """A run's recorded arguments (nested lists and dicts of strings) with every string made portable."""
    if isinstance(arguments, str):
        return portable(arguments, cache_dir)
    if isinstance(arguments, dict):
        return {k: portable_arguments(v, cache_dir) for k, v in arguments.items()}
    if isinstance(arguments, list | tuple):
        return [portable_arguments(v, cache_dir) for v in arguments]
    return arguments

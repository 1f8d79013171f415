"""`kobench demo`: the whole pipeline with no network: generated data and a tiny random model."""

from __future__ import annotations

from pathlib import Path

from kobench.config import default_cache_dir
from kobench.results import RunResult


def run_demo(output: Path, cache_dir: Path | None = None) -> tuple[RunResult, str]:
    from kobench.api import evaluate
    from kobench.testing.tiny_models import TINY_MODEL_NOTE, build_tiny_llava

    cache = cache_dir or default_cache_dir()
    model_dir = build_tiny_llava(cache / "models" / "tiny-llava-ko")
    result = evaluate(
        f"hf:{model_dir}",
        ["kobench-demo"],
        output=output,
        cache_dir=cache,
        progress=True,
        max_failed_share=0.05,
    )
    return result, TINY_MODEL_NOTE

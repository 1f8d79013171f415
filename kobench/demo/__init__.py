"""`kobench demo`: the whole pipeline with no network. Generated benchmarks (multiple choice, OCR,
grounding, documents, charts, captions) against real baselines (Tesseract, OCR-and-match, chance, a
blind constant caption) and a tiny
random-weight transformers model, then one leaderboard."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from kobench.config import default_cache_dir
from kobench.families import FAMILIES, load_tasks
from kobench.models.registry import adapters
from kobench.results import RunResult

DEMO_TASKS = (
    "kobench-demo",
    "ko-ocr-synth",
    "ko-ocr-grounding-synth",
    "kobizdoc-synth",
    "ko-chart-synth-mc",
    "ko-chart-synth",
    "ko-caption-synth",
)
# Each baseline on what it is for: ocr-match reads text exactly as tesseract does, so it is not run
# on the reading tasks again; OCR baselines have nothing to read in the shapes of kobench-demo.
# Captioning's blind baseline: one caption that fits every generated scene in general and none in particular.
BLIND_CAPTION = "여러 가지 색깔의 물체가 그려져 있는 그림이다."
# The offline embedder that ships with kobench: the default KR-SBERT needs the Hub.
DEMO_EMBEDDER = "builtin:use-multilingual-v3"
DEMO_RUNS = (
    ("chance", tuple(t for t in DEMO_TASKS if t != "ko-caption-synth")),  # an empty caption scores 0
    (f"constant:{BLIND_CAPTION}", ("ko-caption-synth",)),
    ("tesseract", ("ko-ocr-synth", "ko-ocr-grounding-synth")),
    ("ocr-match", ("kobizdoc-synth", "ko-chart-synth-mc", "ko-chart-synth")),
)
NOTES = (
    "chance: a uniformly random option (empty text, a random box) — the floor every model must beat.",
    "tesseract: Tesseract 5 (kor+eng) reading text and finding it; it answers no questions.",
    "ocr-match: OCR, then the option or line that best matches — the classic text-VQA baseline.",
    f"constant: the same caption for every image ({BLIND_CAPTION}) — what a caption scores without looking; "
    "embedding cosine by the offline multilingual USE model (builtin:use-multilingual-v3), not KR-SBERT.",
    "tiny-llava-ko: random weights, no training (it shows the transformers path; its scores are at chance "
    "or below).",
)


TINY_MODEL_NAME = "tiny-llava-ko"


def demo_model_names() -> list[str]:
    """The models of the demo as its leaderboard names them."""
    return [spec.partition(":")[0] for spec, _tasks in DEMO_RUNS] + [TINY_MODEL_NAME]


def answerable(model: str, task_names: tuple[str, ...]) -> list[str]:
    kinds = adapters()[model.partition(":")[0]].kinds
    registry = load_tasks()
    return [
        n
        for n in task_names
        if kinds is None or (registry[n].kind or FAMILIES[registry[n].family].default_kind) in kinds
    ]


def demo_output(cache_dir: Path | None = None) -> Path:
    """Where `kobench demo` writes by default: a folder of the cache, never the checkout (whose
    results/demo/ holds the committed results that only scripts/results.sh regenerates)."""
    return (cache_dir or default_cache_dir()) / "demo"


def run_demo(
    output: Path | None = None, cache_dir: Path | None = None, say: Callable[[str], None] = print
) -> tuple[list[RunResult], str]:
    """Run every demo model into `output` (default: demo_output()), replacing what an earlier demo
    left there: the response cache answers whatever was asked before, so a re-run costs seconds and
    never stops on settings an older kobench recorded."""
    from kobench.api import evaluate
    from kobench.testing.tiny_models import build_tiny_llava

    cache = cache_dir or default_cache_dir()
    output = output or demo_output(cache)
    runs: list[tuple[str, list[str]]] = [(name, answerable(name, tasks)) for name, tasks in DEMO_RUNS]
    model_dir = build_tiny_llava(cache / "models" / TINY_MODEL_NAME)
    runs.append((f"hf:{model_dir}", ["kobench-demo"]))  # a random model reading 256 tokens per line is slow
    results = []
    for model, tasks in runs:
        say(f"\n== {model.split('/')[-1]}: {', '.join(tasks)}")
        folder = output / (TINY_MODEL_NAME if model.startswith("hf:") else model.split(":")[0])
        results.append(
            evaluate(
                model,
                tasks,
                output=folder,
                cache_dir=cache,
                progress=True,
                max_failed_share=0.05,
                embedder=DEMO_EMBEDDER,
                overwrite=True,
            )
        )
    return results, "\n".join(NOTES)

"""Generators by name. `kobench data synth` and first use of a generated task both call `generate`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from kobench.errors import BadInputError

# name -> (hub id it writes, version, function(root, hub_id, seed))
Generator = tuple[str, str, Callable[..., Path]]


def generators() -> dict[str, Generator]:
    from kobench.data import demo

    def demo_mc(root: Path, hub_id: str, seed: int = 0) -> Path:
        return demo.write_demo_dataset(root, hub_id, "test", seed)

    found: dict[str, Generator] = {"demo-mc": ("kobench/demo-ko-mc", demo.DEMO_GENERATOR_VERSION, demo_mc)}
    from kobench.synth import captions, charts, documents, grounding, ocr

    found["ko-ocr-synth"] = ("kobench/ko-ocr-synth", ocr.OCR_GENERATOR_VERSION, ocr.generate_ko_ocr)
    found["ko-ocr-grounding-synth"] = (
        "kobench/ko-ocr-grounding-synth",
        grounding.GROUNDING_GENERATOR_VERSION,
        grounding.generate_ko_ocr_grounding,
    )
    found["kobizdoc-synth"] = (
        "kobench/kobizdoc-synth",
        documents.DOCUMENT_GENERATOR_VERSION,
        documents.generate_kobizdoc,
    )
    found["ko-chart-synth"] = (
        "kobench/ko-chart-synth",
        charts.CHART_GENERATOR_VERSION,
        charts.generate_ko_chart,
    )
    found["ko-caption-synth"] = (
        "kobench/ko-caption-synth",
        captions.CAPTION_GENERATOR_VERSION,
        captions.generate_ko_caption,
    )
    return found


def generate(name: str, root: Path, seed: int = 0) -> Path:
    known = generators()
    if name not in known:
        raise BadInputError(f"unknown data generator {name!r} (known: {', '.join(sorted(known))})")
    hub_id, _, function = known[name]
    return function(root, hub_id, seed=seed)


def synth_all(out: Path, seed: int = 0, names: list[str] | None = None) -> dict[str, Path]:
    """Run the named generators (all by default) into OUT, the layout `--data-dir` reads."""
    known = generators()
    unknown = [n for n in names or [] if n not in known]
    if unknown:
        raise BadInputError(
            f"unknown data generator(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})"
        )
    return {name: generate(name, Path(out), seed) for name in names or known}


def cached_root(cache_dir: Path, name: str) -> Path:
    """Where a generator's default data lives in kobench's cache: versioned, so a new generator
    version never reads data an older one wrote."""
    known = generators()
    if name not in known:
        raise BadInputError(f"unknown data generator {name!r} (known: {', '.join(sorted(known))})")
    return cache_dir / "data" / f"{name}@{known[name][1]}"

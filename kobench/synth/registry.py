"""Generators by name. `kobench data synth` and first use of a generated task both call `generate`."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable
from pathlib import Path

from kobench.errors import BadInputError
from kobench.files.temporaries import alive

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
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BadInputError(f"--out {out}: cannot make the folder ({exc.strerror or exc})") from None
    return {name: _generate_in_place(name, out, seed) for name in names or known}


def _generate_in_place(name: str, out: Path, seed: int) -> Path:
    """Generate into a folder of its own beside OUT's, then swap it in for OUT/<hub_id>: a generation cut
    off (Ctrl-C, a kill, a full disk) leaves the data that was there before, or none, never half of it."""
    hub_id = generators()[name][0]
    _clear_stale(out, f".{name}.partial-*")
    partial = out / f".{name}.partial-{os.getpid()}"
    target = out / hub_id
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    _clear_stale(target.parent, f".{target.name}.old-*")  # a killed swap's old copy: the new one replaces it
    shutil.rmtree(partial, ignore_errors=True)
    try:
        made = generate(name, partial, seed)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            target.rename(old)
        made.rename(target)
    finally:
        if old.exists() and not target.exists():  # stopped between the two renames: the old data back
            old.rename(target)
        shutil.rmtree(partial, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
    return target


def cached_root(cache_dir: Path, name: str) -> Path:
    """Where a generator's default data lives in kobench's cache: versioned, so a new generator
    version never reads data an older one wrote."""
    known = generators()
    if name not in known:
        raise BadInputError(f"unknown data generator {name!r} (known: {', '.join(sorted(known))})")
    return cache_dir / "data" / f"{name}@{known[name][1]}"


COMPLETE = ".complete"  # written into a generated folder once every file is in it


def cached_data(cache_dir: Path, name: str) -> Path:
    """A generator's default data in kobench's cache (cached_root), generated on first use. Generated in a
    folder of its own and renamed into place once complete, so a generation cut off (Ctrl-C on a first
    run, a kill) leaves nothing a later run would read as the data: that run generates it again. A folder
    without the mark (an older kobench's, perhaps cut off) is generated again once."""
    root = cached_root(cache_dir, name)
    if (root / COMPLETE).exists():
        return root
    root.parent.mkdir(parents=True, exist_ok=True)
    _clear_stale(root.parent, f".{root.name}.partial-*")
    partial = root.with_name(f".{root.name}.partial-{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    generate(name, partial)
    (partial / COMPLETE).touch()
    if not (root / COMPLETE).exists():  # else another process finished first: its copy is the same data
        shutil.rmtree(root, ignore_errors=True)
        with contextlib.suppress(OSError):  # another process renamed its copy into place meanwhile
            partial.rename(root)
    shutil.rmtree(partial, ignore_errors=True)
    return root


def _clear_stale(folder: Path, pattern: str) -> None:
    """Remove the partial copies matching `pattern` (named ...-PID) left by processes that are gone."""
    for stale in folder.glob(pattern):
        if not alive(stale.name.rsplit("-", 1)[-1]):
            shutil.rmtree(stale, ignore_errors=True)

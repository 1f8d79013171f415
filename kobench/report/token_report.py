"""`kobench tokens` end to end: each model's tokenizer on each corpus (kobench.report.token_efficiency), each
vision model's visual tokens per image size (kobench.models.visual_tokens), the tables of both, and the
measurements as efficiency results (kobench.report.token_results), written where an output folder is given.
Tokenizers, configs and processors load; weights never do.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tabulate import tabulate

from kobench.efficiency import EfficiencyResult
from kobench.errors import BadInputError
from kobench.models.visual_tokens import DEFAULT_IMAGE_SIZES, VisualTokens, visual_tokens
from kobench.report.tiktoken_tokenizer import is_tiktoken_spec
from kobench.report.token_efficiency import Corpus, TokenCount, load_tokenizer, measure, table
from kobench.report.token_results import token_results, write_token_results


@dataclass
class TokenReport:
    text: str  # the tables, as `kobench tokens` prints them
    counts: list[TokenCount]
    visual: dict[str, list[VisualTokens]]  # by model display name; tiktoken encodings have none
    results: list[EfficiencyResult]
    paths: list[Path] = field(default_factory=list)  # the tokens.json files written


def token_report(
    models: Sequence[str],
    corpora: Sequence[Corpus],
    *,
    image_sizes: Sequence[tuple[int, int]] = DEFAULT_IMAGE_SIZES,
    reference: str | None = None,
    trust_remote_code: bool = False,
    fmt: str = "github",
    output: Path | None = None,
) -> TokenReport:
    """Measure `models` (hf:PATH_OR_ID, tiktoken:[NAME=]PATH) on `corpora` and, for each model that is not a
    tiktoken encoding, at `image_sizes` (none: no visual tokens); write OUTPUT/<model>/tokens.json where
    `output` is given."""
    if not models:
        raise BadInputError("--model: give at least one hf:PATH_OR_ID or tiktoken:[NAME=]PATH")
    if not corpora and not image_sizes:
        raise BadInputError("nothing to measure: give a corpus (or keep the built-in one) or image sizes")
    if reference is not None and not corpora:
        raise BadInputError(f"--reference {reference}: no corpus to compare the tokens on")
    specs: dict[str, str] = {}
    tokenizers: dict[str, Any] = {}
    for spec in models:
        name, tokenizer = load_tokenizer(spec, trust_remote_code)
        if name in specs:
            raise BadInputError(
                f"--model: {specs[name]} and {spec} have the same name {name!r}; give each once"
            )
        specs[name], tokenizers[name] = spec, tokenizer
    counts = measure(tokenizers, corpora) if corpora else []
    visual = {
        name: visual_tokens(spec, image_sizes, trust_remote_code)
        for name, spec in specs.items()
        if image_sizes and _reads_images(spec)
    }
    parts = [table(counts, reference, fmt)] if counts else []
    if visual:
        parts.append(
            "Visual tokens per image (the model's own resolution settings):\n"
            + visual_tokens_table(visual, fmt)
        )
    results = token_results(specs, tokenizers, counts, corpora, visual)
    paths = write_token_results(results, output) if output is not None else []
    return TokenReport("\n\n".join(parts), counts, visual, results, paths)


def _reads_images(spec: str) -> bool:
    """A vision model's tokenizer (its config names a vision tower or its processor an image processor);
    not a tiktoken encoding, a tokenizer-only folder or a text model."""
    from kobench.models.modalities import config_model_type, hf_accepts

    if is_tiktoken_spec(spec):
        return False
    target = spec.removeprefix("hf:")
    return config_model_type(target) is not None and "image" in hf_accepts(target)


def visual_tokens_table(measured: Mapping[str, Sequence[VisualTokens]], fmt: str = "github") -> str:
    """One row per model, one column per image size: its visual tokens per image ("?" where unknown, the
    reason below the table)."""
    sizes = list(dict.fromkeys(v.size for values in measured.values() for v in values))
    rows: list[list[str]] = []
    notes: dict[str, list[str]] = {}  # note -> the models it is about
    for model, values in measured.items():
        by_size = {v.size: v for v in values}
        row = [model]
        for size in sizes:
            value = by_size.get(size)
            if value is None:
                row.append("")
            elif value.tokens is None:
                row.append("?")
                about = notes.setdefault(value.note or "unknown", [])
                if model not in about:
                    about.append(model)
            else:
                row.append(str(value.tokens))
        rows.append(row)
    text = tabulate(rows, headers=["model", *sizes], tablefmt=fmt, disable_numparse=True)
    for note, models in notes.items():
        text += f"\n? {', '.join(models)}: {note}"
    return text

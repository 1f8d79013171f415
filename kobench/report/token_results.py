"""`kobench tokens`' measurements as efficiency results (kobench.efficiency, kind "tokens"): one per model,
written to OUTPUT/<model>/tokens.json, which `kobench table` and `kobench plot` read beside the runs.

Per corpus: tokens per 1,000 characters and per 1,000 morphemes ("Tokens / 1k chars (constitution)"), over
the corpus's texts; per image size: visual tokens per image ("Visual tokens (448×448)"), None with the note
where the count is unknown. Fewer is better for all of them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from kobench.efficiency import EfficiencyResult, EfficiencyValue, model_folder, save_efficiency
from kobench.errors import BadInputError
from kobench.models.visual_tokens import VisualTokens
from kobench.report.token_efficiency import Corpus, TokenCount


def per_1k_characters_label(corpus: str) -> str:
    return f"Tokens / 1k chars ({corpus})"


def per_1k_morphemes_label(corpus: str) -> str:
    return f"Tokens / 1k morphemes ({corpus})"


def visual_tokens_label(width: int, height: int) -> str:
    return f"Visual tokens ({width}×{height})"


def token_results(
    specs: Mapping[str, str],
    tokenizers: Mapping[str, Any],
    counts: Sequence[TokenCount],
    corpora: Sequence[Corpus],
    visual: Mapping[str, Sequence[VisualTokens]] | None = None,
    *,
    created_at: str | None = None,
) -> list[EfficiencyResult]:
    """One EfficiencyResult per model of `specs` (display name -> its --model argument), in that order:
    its token counts on each corpus and its visual tokens per image size (`visual`, by display name)."""
    from kobench.provenance import VERSION

    texts = {corpus.name: len(corpus.texts) for corpus in corpora}
    visual = visual or {}
    when = created_at or datetime.now(UTC).isoformat(timespec="seconds")
    results = []
    for model, spec in specs.items():
        values: list[EfficiencyValue] = []
        for count in (c for c in counts if c.model == model):
            conditions = {
                "corpus": count.corpus,
                "characters": count.characters,
                "morphemes": count.morphemes,
            }
            for metric, label, value in (
                ("tokens_per_1k_characters", per_1k_characters_label(count.corpus), count.per_1k_characters),
                ("tokens_per_1k_morphemes", per_1k_morphemes_label(count.corpus), count.per_1k_morphemes),
            ):
                known = not math.isnan(value)
                values.append(
                    EfficiencyValue(
                        metric=metric,
                        benchmark=label,
                        value=value if known else None,
                        unit="tokens",
                        direction="lower",
                        n=texts.get(count.corpus, 0),
                        conditions=conditions,
                        note=None if known else "unknown: the corpus has none to count per",
                    )
                )
        for image in visual.get(model, ()):
            values.append(
                EfficiencyValue(
                    metric="visual_tokens_per_image",
                    benchmark=visual_tokens_label(image.width, image.height),
                    value=image.tokens,
                    unit="tokens",
                    direction="lower",
                    n=1,
                    conditions={"width": image.width, "height": image.height},
                    note=image.note,
                )
            )
        results.append(
            EfficiencyResult(
                kind="tokens",
                model=model,
                spec=spec,
                kobench_version=VERSION,
                created_at=when,
                environment=environment(tokenizers.get(model)),
                values=values,
            )
        )
    return results


def environment(tokenizer: Any) -> dict[str, Any]:
    """What makes the numbers comparable: the tokenizer's class, and for a tiktoken encoding its name and
    ranks file digest (and whether that is OpenAI's published file); the packages' versions."""
    from kobench.report.tiktoken_tokenizer import TiktokenTokenizer

    found: dict[str, Any] = {}
    if isinstance(tokenizer, TiktokenTokenizer):
        found["tokenizer"] = "tiktoken.Encoding"
        found["encoding"] = tokenizer.name
        found["ranks_sha256"] = tokenizer.sha256
        found["published_ranks"] = tokenizer.published
    elif tokenizer is not None:
        found["tokenizer"] = type(tokenizer).__name__
    found["transformers"] = _version("transformers")
    found["tokenizers"] = _version("tokenizers")
    found["tiktoken"] = _version("tiktoken")
    return found


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def folder_name(model: str) -> str:
    return model_folder(Path(), model).name


def write_token_results(results: Sequence[EfficiencyResult], output_dir: Path) -> list[Path]:
    """Each result to output_dir/<model's folder name>/tokens.json; the files written."""
    folders: dict[str, str] = {}
    for result in results:
        folder = folder_name(result.model)
        if folders.setdefault(folder, result.model) != result.model:
            raise BadInputError(
                f"--output: models {folders[folder]!r} and {result.model!r} would share the folder {folder}"
            )
    paths = []
    for result in results:
        folder = Path(output_dir) / folder_name(result.model)
        folder.mkdir(parents=True, exist_ok=True)
        paths.append(save_efficiency(result, folder))
    return paths

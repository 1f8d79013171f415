"""Image captioning: one image, several reference captions. Scored on the whole set at once:
CIDEr-D, BLEU-1..4, ROUGE-L and METEOR on Korean morphemes (kiwipiepy) through pycocoevalcap's scorers
and METEOR's jar, and embedding cosine (max over references, mean over images).

CIDEr-D, ROUGE-L and the cosine are means of per-image scores (CIDEr's IDF comes from the scored set),
so their intervals resample images; corpus BLEU and METEOR are computed from counts summed over images,
so their intervals resample images and recompute the statistic from the resampled sums.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from kobench.errors import BadInputError
from kobench.extract.caption import CAPTION_CLEANER_VERSION, clean_caption, protocol_caption
from kobench.families.base import AnswerScore, MetricDef, ScoringSettings
from kobench.families.common import PerRow, Row, images_of
from kobench.families.items import Item
from kobench.metrics.bootstrap import percentile_interval, resampled_sums
from kobench.tasks.spec import TaskSpec

CAPTION_METRICS_VERSION = "1"
BLEU = ("bleu_1", "bleu_2", "bleu_3", "bleu_4")
CONFIDENCE = 0.95


def _references(value: Any) -> list[str] | None:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple):
        return None
    refs = [r for r in value if isinstance(r, str) and r.strip()]
    return refs or None


class Captioning(PerRow):
    name = "caption"
    roles = ("references",)
    metrics = (
        MetricDef("cider_d", "cider_d", "higher", CAPTION_METRICS_VERSION),
        MetricDef("bleu_4", "bleu_4", "higher", CAPTION_METRICS_VERSION),
        MetricDef("bleu_1", "bleu_1", "higher", CAPTION_METRICS_VERSION),
        MetricDef("bleu_2", "bleu_2", "higher", CAPTION_METRICS_VERSION),
        MetricDef("bleu_3", "bleu_3", "higher", CAPTION_METRICS_VERSION),
        MetricDef("rouge_l", "rouge_l", "higher", CAPTION_METRICS_VERSION),
        MetricDef("meteor", "meteor", "higher", CAPTION_METRICS_VERSION),
        MetricDef("embedding_cosine", "embedding_cosine", "higher", CAPTION_METRICS_VERSION),
    )
    default_kind = "caption"

    def __init__(self) -> None:
        # Both pipelines often read the same captions: score each distinct set once per process.
        self._memo: dict[tuple, tuple[dict[str, list[float]], dict[str, tuple[float, float, float]]]] = {}

    def item(self, row: Row) -> Item:
        cols = row.cols
        refs = _references(row.get(cols.references))
        if refs is None:
            return row.failed("missing reference captions")
        images = images_of(row.get(cols.image))
        if isinstance(images, str):
            return row.failed(images, refs)
        request = row.request(images[0], "caption")
        return row.asked(request, refs)

    def score_answer(
        self, task: TaskSpec, item: Item, text: str, settings: ScoringSettings
    ) -> dict[str, AnswerScore]:
        # Row scores need the whole set (CIDEr's IDF): score_corpus fills them in.
        protocol, cleaned = protocol_caption(text), clean_caption(text)
        return {
            "protocol": {"parsed": protocol or None, "caption": protocol},
            "kobench": {"parsed": cleaned or None, "caption": cleaned},
        }

    def parser_names(self, task: TaskSpec) -> dict[str, str]:
        return {"protocol": "nfc-whitespace@1", "kobench": f"clean-caption@{CAPTION_CLEANER_VERSION}"}

    def signature_extra(self, task: TaskSpec, settings: ScoringSettings) -> Sequence[str]:
        from kobench.metrics.embedding import load_embedder
        from kobench.metrics.meteor import meteor_signature
        from kobench.metrics.morphemes import default_tokenizer

        embedder = load_embedder(self._embedder(settings))
        return (
            f"tok:{default_tokenizer().signature()}",
            f"meteor:{meteor_signature()}",
            f"embedder:{embedder.name}",
        )

    def check_ready(self, task: TaskSpec, settings: ScoringSettings) -> None:
        """Java for METEOR and a loadable embedder, checked before any model is asked."""
        from kobench.metrics.embedding import EmbedderError, load_embedder

        if shutil.which("java") is None:
            raise BadInputError(
                f"task {task.name!r} scores METEOR, which needs a Java runtime (java not found on PATH): "
                "install one, e.g. `apt-get install default-jre-headless` (scripts/setup.sh does this)"
            )
        try:
            load_embedder(self._embedder(settings))
        except EmbedderError as exc:
            raise BadInputError(f"task {task.name!r}: {exc}") from exc
        from kobench.metrics.morphemes import default_tokenizer

        default_tokenizer().warm_up()  # Kiwi loads (1-2 s) while the model writes captions

    @staticmethod
    def _embedder(settings: ScoringSettings) -> str:
        from kobench.metrics.embedding import DEFAULT_EMBEDDER

        return settings.embedder or DEFAULT_EMBEDDER

    def score_corpus(
        self,
        task: TaskSpec,
        scored: list[tuple[Item, Mapping[str, Any]]],
        pipeline: str,
        settings: ScoringSettings,
    ) -> tuple[dict[str, list[float]], dict[str, tuple[float, float, float]]]:
        if not scored:
            return {}, {}
        refs = [list(item.target) for item, _ in scored]
        preds = [verdict["caption"] for _, verdict in scored]
        embedder = self._embedder(settings)
        key = (embedder, tuple(map(tuple, refs)), tuple(preds))
        if key not in self._memo:
            self._memo.clear()  # one set at a time: a large set's scores are not kept around
            self._memo[key] = score_captions(refs, preds, embedder)
        return self._memo[key]


def score_captions(
    refs: list[list[str]], preds: list[str], embedder_spec: str
) -> tuple[dict[str, list[float]], dict[str, tuple[float, float, float]]]:
    """Per-image scores of every metric, and (value, CI low, CI high) of the corpus-level ones."""
    from kobench.metrics.captioning import bleu_from_parts, bleu_parts, ngram_scores
    from kobench.metrics.embedding import embedding_cosine, load_embedder
    from kobench.metrics.meteor import Meteor, MeteorError
    from kobench.metrics.morphemes import default_tokenizer

    tokenizer = default_tokenizer()
    flat = tokenizer.tokenize([r for rs in refs for r in rs] + preds)
    tok_refs, at = [], 0
    for rs in refs:
        tok_refs.append(flat[at : at + len(rs)])
        at += len(rs)
    tok_preds = flat[at:]
    scores = ngram_scores(tok_refs, tok_preds)
    per_unit = {name: list(score.per_unit) for name, score in scores.items()}
    corpus: dict[str, tuple[float, float, float]] = {}
    parts = bleu_parts(tok_refs, tok_preds)
    bleu_stats = np.array([bleu_from_parts(row) for row in resampled_sums(parts)])
    for k, name in enumerate(BLEU):
        corpus[name] = (scores[name].value, *percentile_interval(bleu_stats[:, k], CONFIDENCE))
    try:
        with Meteor() as meteor:
            meteor_score, stats = meteor.score(tok_refs, tok_preds)
            resampled = np.asarray(meteor.aggregate_many(resampled_sums(stats)), dtype=float)
    except MeteorError as exc:
        raise BadInputError(f"METEOR failed: {exc}") from exc
    per_unit["meteor"] = list(meteor_score.per_unit)
    corpus["meteor"] = (meteor_score.value, *percentile_interval(resampled, CONFIDENCE))
    # The embedder reads the captions as written, not as morphemes: it has its own tokenizer.
    cosine = embedding_cosine(load_embedder(embedder_spec), refs, preds)
    per_unit["embedding_cosine"] = list(cosine.per_unit)
    return per_unit, corpus

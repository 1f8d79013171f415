"""The multiple-choice family: rows -> Items, a response -> per-pipeline verdicts (a letter, 0/1)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from kobench.extract.choice import EXTRACTOR_NAME, EXTRACTOR_VERSION, extract_choice
from kobench.extract.protocol import PROTOCOL_PARSER_VERSIONS, PROTOCOL_PARSERS
from kobench.families.base import AnswerScore, MetricDef, ScoringSettings
from kobench.families.columns import Columns
from kobench.families.common import PerRow, Row, images_of
from kobench.families.items import Item, circular_group
from kobench.metrics.accuracy import ACCURACY_VERSION
from kobench.metrics.classification import MACRO_F1_VERSION, macro_f1, macro_f1_ci
from kobench.tasks.fewshot import choices_of, context, gold_index, raw_target
from kobench.tasks.spec import TaskSpec
from kobench.types import Message, Request, TextPart

# The log-likelihood versions' reading of an answer: the likeliest choice, as lm-eval's process_results.
LOGLIKELIHOOD_PARSER = "lm-eval-loglikelihood"
LOGLIKELIHOOD_VERSION = "1"
ACCURACY_NORM = MetricDef("accuracy_norm", "score_norm", "higher", ACCURACY_VERSION)
# lm-eval's f1 of KoBEST (utils.macro_f1_score): a corpus statistic over (gold, likeliest choice) pairs. Its
# rows carry their accuracy ("score"): the units counted; the value comes from score_corpus.
MACRO_F1 = MetricDef("macro_f1", "score", "higher", MACRO_F1_VERSION)

Pairs = list[tuple[str, str]]


def _missing(value: Any) -> bool:
    """None or NaN: the `pd.isna` of the published code, for the values a dataset row holds."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def _shown(rule: str, value: Any) -> bool:
    """Whether the prompt offers an option with this value, as the task's published code does."""
    if rule == "mmbench":  # create_options_prompt: `if row[c]`, then `pd.notna(item) and item != "nan"`
        return bool(value) and not _missing(value) and value != "nan"
    if rule == "every-column":  # seed/dtcbench doc_to_text format each column as it is
        return not _missing(value)
    return not _missing(value) and value not in ("", "nan")


def _options(task: TaskSpec, row: dict[str, Any], cols: Columns) -> tuple[Pairs, Pairs] | str:
    """The options the prompt shows and the kobench pipeline reads, and the options the protocol parser
    gets (MMBench's text matcher also sees the "" and "nan" options the prompt leaves out), as
    (letter, text); or a failure reason.

    Where kobench differs from the published code: a row with fewer shown options than the task needs
    (all four for K-SEED; two for K-MMBench) and a row whose option is missing (None/NaN, which K-SEED's
    prompt would print as "None"/"nan") are not asked; both pipelines count them as failed rows."""
    if cols.options is not None:
        pairs = [
            (letter, row.get(c) if c else None) for letter, c in zip(task.letters, cols.options, strict=True)
        ]
    elif cols.options_list is not None:
        values = row.get(cols.options_list)
        if not isinstance(values, list):
            return f"field {cols.options_list!r} is not a list of options"
        if len(values) > len(task.letters):
            return f"{len(values)} options but the task has only letters {''.join(task.letters)}"
        pairs = list(zip(task.letters, values, strict=False))  # fewer options than letters is fine
    else:  # options are part of the question (K-MMStar): only the letters are known
        letters_only = [(letter, "") for letter in task.letters]
        return letters_only, letters_only
    rule = task.option_values
    shown = [(letter, str(text)) for letter, text in pairs if _shown(rule, text)]
    if len(shown) < task.required_options:
        return f"only {len(shown)} options; the task needs {task.required_options}"
    if rule != "mmbench":
        return shown, shown
    return shown, [(letter, str(text)) for letter, text in pairs if not _missing(text)]


def _target(task: TaskSpec, raw: Any, options: list[tuple[str, str]]) -> str | None:
    letters = [letter for letter, _ in options]
    fmt = task.scoring.answer_format
    if fmt in ("index", "auto") and (
        isinstance(raw, int) or (isinstance(raw, str) and raw.strip().isdigit())
    ):
        i = int(raw)
        return task.letters[i] if 0 <= i < len(task.letters) and task.letters[i] in letters else None
    if fmt == "index":
        return None
    letter = str(raw).strip().upper() if raw is not None else ""
    return letter if letter in letters else None


class MultipleChoice(PerRow):
    name = "multiple_choice"
    roles = ("question", "answer")
    metrics = (MetricDef("accuracy", "score", "higher", ACCURACY_VERSION),)
    default_kind = "choice"

    def group(self, task: TaskSpec, row: dict[str, Any], cols: Columns, rid: str) -> str | None:
        if task.scoring.aggregate != "circular":
            return None
        return circular_group(row.get(cols.id), rid) if cols.id else rid

    def metrics_for(self, task: TaskSpec) -> tuple[MetricDef, ...]:
        """Accuracy; a log-likelihood version also reports what lm-eval reports beside acc where the task
        lists it: acc_norm (each choice's log-likelihood divided by its length in characters) and macro F1."""
        if task.running.method != "loglikelihood":
            return self.metrics
        extra = {"accuracy_norm": ACCURACY_NORM, "macro_f1": MACRO_F1}
        return (*self.metrics, *(extra[name] for name in task.scoring.metrics))

    def score_corpus(
        self,
        task: TaskSpec,
        scored: list[tuple[Item, Mapping[str, Any]]],
        pipeline: str,
        settings: ScoringSettings,
    ) -> tuple[dict[str, list[float]], dict[str, tuple[float, float, float]]]:
        """Macro F1 over the scored rows where the task reports it (no row scores change)."""
        if not scored or MACRO_F1 not in self.metrics_for(task):
            return {}, {}
        golds = [item.target for item, _ in scored]
        preds = [verdict["parsed"] for _, verdict in scored]
        return {}, {"macro_f1": (macro_f1(golds, preds), *macro_f1_ci(golds, preds))}

    def item(self, row: Row) -> Item:
        if row.task.prompt.versions[row.version].method == "loglikelihood":
            return _loglikelihood_item(row)
        task, cols = row.task, row.cols
        built = _options(task, row.values, cols)
        if isinstance(built, str):
            return row.failed(built)
        options, protocol_options = built
        # The answer must be one of the options the published code scores against (for MMBench, an
        # answer whose option the prompt leaves out is still scored there: the kobench pipeline,
        # which reads only the shown options, can then never credit it).
        target = _target(task, row.get(cols.answer), protocol_options)
        if target is None:
            return row.failed(
                f"answer {row.get(cols.answer)!r} is not one of the options", options=tuple(options)
            )
        images = images_of(row.get(cols.image)) if task.modality == "image" else ([], None)
        if isinstance(images, str):
            return row.failed(images, target, tuple(options))
        shown = options if cols.options or cols.options_list else []
        request = row.request(
            images[0],
            "choice",
            options=options,
            template_options=shown,
            question=str(row.get(cols.question)),
        )
        item = row.asked(request, target, tuple(options))
        if protocol_options != options:
            item = replace(item, protocol_options=tuple(protocol_options))
        return item

    def score_answer(
        self, task: TaskSpec, item: Item, text: str, settings: ScoringSettings
    ) -> dict[str, AnswerScore]:
        parser = PROTOCOL_PARSERS[task.scoring.protocol_parser or ""]
        verdicts = {}
        for pipeline, letter in (
            ("protocol", parser(text, item.protocol_view)),
            ("kobench", extract_choice(text, item.options)),
        ):
            verdicts[pipeline] = {
                "parsed": letter,
                "score": 1.0 if letter is not None and letter == item.target else 0.0,
            }
        return verdicts

    def score_loglikelihoods(
        self, task: TaskSpec, item: Item, scores: Sequence[float]
    ) -> dict[str, AnswerScore]:
        """lm-eval's process_results for multiple choice: the answer is the likeliest choice (acc) and the
        likeliest per character of the choice (acc_norm); both pipelines read the same numbers."""
        letters = [letter for letter, _ in item.options]
        lengths = [float(len(text)) for _, text in item.options]
        pick = letters[argmax(scores)]
        # numpy's ll / 0 of an empty choice: -inf for a negative log-likelihood
        per_char = [s / n if n else math.copysign(math.inf, s) for s, n in zip(scores, lengths, strict=True)]
        pick_norm = letters[argmax(per_char)]
        verdict = {
            "parsed": pick,
            "score": 1.0 if pick == item.target else 0.0,
            "parsed_norm": pick_norm,
            "score_norm": 1.0 if pick_norm == item.target else 0.0,
        }
        return {"protocol": dict(verdict), "kobench": dict(verdict)}

    def parser_names(self, task: TaskSpec) -> dict[str, str]:
        if task.running.method == "loglikelihood":
            name = f"{LOGLIKELIHOOD_PARSER}@{LOGLIKELIHOOD_VERSION}"
            return {"protocol": name, "kobench": name}
        parser = task.scoring.protocol_parser or ""  # the prompt version's, once prepare_task resolved it
        return {
            "protocol": f"{parser}@{PROTOCOL_PARSER_VERSIONS[parser]}",
            "kobench": f"{EXTRACTOR_NAME}@{EXTRACTOR_VERSION}",
        }


def argmax(values: Sequence[float]) -> int:
    """The first index of the largest value (numpy.argmax, which lm-eval uses, takes the first too)."""
    return max(range(len(values)), key=lambda i: (values[i], -i))


def _loglikelihood_item(row: Row) -> Item:
    """A row of a log-likelihood version: its context (few-shot examples and its text) and one continuation
    per choice, as lm-eval builds them (kobench.tasks.fewshot)."""
    task, version = row.task, row.task.prompt.versions[row.version]
    try:
        choices = choices_of(version, row.values)
        target = raw_target(version, row.values)
    except ValueError as exc:
        return row.failed(str(exc))
    if len(choices) > len(task.letters):
        return row.failed(f"{len(choices)} choices but the task has only letters {''.join(task.letters)}")
    options = tuple(zip(task.letters, choices, strict=False))
    gold = gold_index(target, choices)
    if gold is None:
        return row.failed(f"target {target!r} is not one of the choices", options=options)
    try:
        text = context(version, row.values, row.shots)
    except ValueError as exc:
        return row.failed(f"few-shot example: {exc}", task.letters[gold], options)
    request = Request(
        id=row.id,
        messages=(Message("user", (TextPart(text),)),),
        generation=row.generation,
        kind=task.kind or "choice",
        options=options,
        continuations=tuple(version.target_delimiter + choice for choice in choices),
    )
    return row.asked(request, task.letters[gold], options)

"""The multiple-choice family: rows -> Items, a response -> per-pipeline verdicts (a letter, 0/1)."""

from __future__ import annotations

from typing import Any

from kobench.extract.choice import EXTRACTOR_NAME, EXTRACTOR_VERSION, extract_choice
from kobench.extract.protocol import PROTOCOL_PARSER_VERSION, PROTOCOL_PARSERS
from kobench.families.base import AnswerScore, MetricDef, ScoringSettings
from kobench.families.columns import Columns
from kobench.families.common import PerRow, Row, images_of
from kobench.families.items import Item, circular_group
from kobench.metrics.accuracy import ACCURACY_VERSION
from kobench.tasks.spec import TaskSpec

MISSING_OPTION_VALUES = (None, "", "nan")  # as MMBench's create_options_prompt leaves them out


def _options(task: TaskSpec, row: dict[str, Any], cols: Columns) -> list[tuple[str, str]] | str:
    """Present options as (letter, text), or a failure reason."""
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
        return [(letter, "") for letter in task.letters]
    present = [(letter, str(text)) for letter, text in pairs if text not in MISSING_OPTION_VALUES]
    if len(present) < task.required_options:
        return f"only {len(present)} options; the task needs {task.required_options}"
    return present


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

    def item(self, row: Row) -> Item:
        task, cols = row.task, row.cols
        options = _options(task, row.values, cols)
        if isinstance(options, str):
            return row.failed(options)
        target = _target(task, row.get(cols.answer), options)
        if target is None:
            return row.failed(
                f"answer {row.get(cols.answer)!r} is not one of the options", options=tuple(options)
            )
        images = images_of(row.get(cols.image))
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
        return row.asked(request, target, tuple(options))

    def score_answer(
        self, task: TaskSpec, item: Item, text: str, settings: ScoringSettings
    ) -> dict[str, AnswerScore]:
        parser = PROTOCOL_PARSERS[task.scoring.protocol_parser or ""]
        verdicts = {}
        for pipeline, letter in (
            ("protocol", parser(text, item.options)),
            ("kobench", extract_choice(text, item.options)),
        ):
            verdicts[pipeline] = {
                "parsed": letter,
                "score": 1.0 if letter is not None and letter == item.target else 0.0,
            }
        return verdicts

    def parser_names(self, task: TaskSpec) -> dict[str, str]:
        return {
            "protocol": f"{task.scoring.protocol_parser}@{PROTOCOL_PARSER_VERSION}",
            "kobench": f"{EXTRACTOR_NAME}@{EXTRACTOR_VERSION}",
        }

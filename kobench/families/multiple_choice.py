"""The multiple-choice family: rows -> Items, a response -> per-pipeline verdicts."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kobench.errors import BadInputError
from kobench.extract.choice import EXTRACTOR_NAME, EXTRACTOR_VERSION, extract_choice
from kobench.extract.protocol import PROTOCOL_PARSER_VERSION, PROTOCOL_PARSERS
from kobench.families.items import Item, circular_group, id_text, unique_ids
from kobench.tasks.prompt import render
from kobench.tasks.spec import TaskSpec
from kobench.types import GenerationSettings, ImagePart, ImageRef, Message, Request, TextPart

MISSING_OPTION_VALUES = (None, "", "nan")  # as MMBench's create_options_prompt leaves them out


@dataclass(frozen=True)
class Columns:
    """The dataset's actual column names for each role (first present alternative)."""

    id: str | None
    image: str
    question: str
    answer: str
    options: list[str | None] | None
    options_list: str | None
    breakdown: list[str]


def resolve_columns(task: TaskSpec, present: Sequence[str], origin: str) -> Columns:
    """Stop before any work when a required column is missing, naming the data and the column."""
    have = set(present)

    def pick(role: str, alternatives: list[str] | None, required: bool = True) -> str | None:
        if not alternatives:
            return None
        for name in alternatives:
            if name in have:
                return name
        if required:
            raise BadInputError(
                f"{origin}: task {task.name!r} needs column {' or '.join(map(repr, alternatives))} "
                f"({role}); the data has: {', '.join(present)}"
            )
        return None

    cols = task.columns
    options = None
    if cols.options is not None:
        options = [c if c in have else None for c in cols.options]
        if sum(c is not None for c in options) < task.required_options:
            missing = [c for c in cols.options if c not in have]
            raise BadInputError(f"{origin}: task {task.name!r} needs option columns {missing}")
    missing_breakdown = [c for c in cols.breakdown if c not in have]
    if missing_breakdown:
        raise BadInputError(f"{origin}: task {task.name!r} needs breakdown column(s) {missing_breakdown}")
    return Columns(
        id=pick("row id", cols.id, required=False),
        image=pick("image", cols.image),  # type: ignore[arg-type]
        question=pick("question", cols.question),  # type: ignore[arg-type]
        answer=pick("answer", cols.answer),  # type: ignore[arg-type]
        options=options,
        options_list=pick("options", cols.options_list),
        breakdown=list(cols.breakdown),
    )


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


def _images(value: Any) -> list[ImageRef] | str:
    refs = value if isinstance(value, list) else [value]
    if not refs or any(not isinstance(r, ImageRef) for r in refs):
        return "no image"
    from PIL import Image

    for ref in refs:
        try:
            # Opening reads only the header: cheap, and it finds a missing or non-image file
            # before the model is asked, whichever adapter runs.
            with Image.open(io.BytesIO(ref.read_bytes())):
                pass
        except (OSError, ValueError) as exc:
            return f"unreadable image: {exc}"
    return refs


def prepare_items(
    task: TaskSpec, rows: list[dict[str, Any]], cols: Columns, version: str, generation: GenerationSettings
) -> list[Item]:
    template = task.prompt.versions[version]
    raw_ids = [id_text(r.get(cols.id)) if cols.id else str(i) for i, r in enumerate(rows)]
    items = []
    for index, (row, rid) in enumerate(zip(rows, unique_ids(raw_ids), strict=True)):
        fields = {c: row.get(c) for c in cols.breakdown}
        group = None
        if task.scoring.aggregate == "circular":
            group = circular_group(row.get(cols.id), rid) if cols.id else rid
        base = dict(id=rid, index=index, fields=fields, group=group)
        options = _options(task, row, cols)
        if isinstance(options, str):
            items.append(Item(request=None, target=None, options=(), failure=options, **base))
            continue
        target = _target(task, row.get(cols.answer), options)
        if target is None:
            reason = f"answer {row.get(cols.answer)!r} is not one of the options"
            items.append(Item(request=None, target=None, options=tuple(options), failure=reason, **base))
            continue
        images = _images(row.get(cols.image))
        if isinstance(images, str):
            items.append(Item(request=None, target=target, options=tuple(options), failure=images, **base))
            continue
        prompt = render(template.template, row, options if cols.options or cols.options_list else [])
        messages = []
        if template.system:
            messages.append(Message("system", (TextPart(template.system),)))
        messages.append(Message("user", (*(ImagePart(img) for img in images), TextPart(prompt))))
        request = Request(
            id=rid, messages=tuple(messages), generation=generation, kind="choice", options=tuple(options)
        )
        items.append(Item(request=request, target=target, options=tuple(options), **base))
    return items


def protocol_parser_name(task: TaskSpec) -> str:
    return f"{task.scoring.protocol_parser}@{PROTOCOL_PARSER_VERSION}"


def kobench_parser_name() -> str:
    return f"{EXTRACTOR_NAME}@{EXTRACTOR_VERSION}"


def judge(task: TaskSpec, item: Item, text: str) -> dict[str, dict[str, Any]]:
    """Both pipelines' verdicts on one response: the letter each extracted and the score."""
    parser = PROTOCOL_PARSERS[task.scoring.protocol_parser]
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

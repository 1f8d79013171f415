"""Prompt snapshots: every built-in task's every prompt version rendered for a few fixed synthetic rows,
with its generation settings and prompt hash, kept in tests/snapshots/prompts/<task>/<version>.json.

A version's snapshot is immutable: tests/test_prompt_snapshots.py renders every version again and fails
on any difference, so a changed prompt (template, system message, generation settings, or the family code
that renders them) has to be a new version. Write the snapshots of NEW versions with

    python tests/prompt_snapshots.py            # writes only missing snapshots; never overwrites one

which refuses (exit 1) when an existing snapshot no longer matches its version.

The rows are made here from each task's column mapping (no dataset: the Hub is unreachable in tests, and
no benchmark's rows are copied): a value per column role, the same for every task, and a text for every
other name a template uses (K-MMBench's `hint`, a judge's `caption`). They are part of every snapshot,
so this generator must keep producing the same rows; a new role gets a value without touching the others.
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

from kobench.families import FAMILIES, check_fits
from kobench.families.columns import resolve_columns
from kobench.families.items import Item
from kobench.run.prepare import generation_for
from kobench.tasks.prompt import prompt_hash, template_names
from kobench.tasks.registry import builtin_task_dir
from kobench.tasks.spec import COLUMN_ROLES, TaskSpec, load_task_file
from kobench.types import ImagePart, ImageRef, TextPart

SNAPSHOT_DIR = Path(__file__).with_name("snapshots") / "prompts"
N_ROWS = 4
IMAGE = "<image>"  # what an image part is written as

# Row n's value for each role. Row 1 leaves out what may be missing (a reading region, options beyond
# min_options); row 2 has surrounding spaces and a line break; row 3 ends with MMStar's yes/no suffix.
QUESTIONS = (
    "이 그림에서 가장 큰 물체는 무엇입니까?",
    "표에서 2023년 매출은 얼마입니까?",
    "  문서에 적힌 합계 금액은?\n단위를 함께 쓰세요.  ",
    "사진 속 장소는 실내입니까? Please answer yes or no.",
)
OPTION_TEXTS = ("사과", "배", "포도", "감", "귤", "복숭아")
ANSWERS = (["1,234,000원", "1234000"], ["서울"], ["3개", "세 개"], ["예"])
TEXTS = ("서울특별시 중구 세종대로 110", "합계 1,234,000원", "영수증", "주식회사 한빛")
REFERENCES = (["고양이가 소파 위에 앉아 있다.", "소파에 앉은 고양이 한 마리."], ["바닷가에서 노는 아이들."])
BOXES = ([0.1, 0.2, 0.5, 0.4], None, [0.0, 0.0, 1.0, 1.0], [0.25, 0.5, 0.75, 0.9])


def _png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 6), (200, 120, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


def _template_names(task: TaskSpec) -> set[str]:
    """Every name a prompt or judge template reads, but those the renderer itself provides."""
    sources = [v.template for v in task.prompt.versions.values()]
    if task.judge is not None:
        sources.append(task.judge.template)
    names: set[str] = set()
    for source in sources:
        names |= template_names(source)
    provided = {"options", "row", "prediction", "kobench", *(task.judge.variables if task.judge else {})}
    provided.add("prompt_version")  # the judged family gives the judge the version asked
    return names - provided


def _answer(task: TaskSpec, n: int, n_options: int) -> int | str:
    return n % n_options if task.scoring.answer_format == "index" else task.letters[n % n_options]


def synthetic_rows(task: TaskSpec) -> list[dict[str, Any]]:
    """N_ROWS rows with a value in the first column named for each role the task maps."""
    cols = task.columns
    first = {role: getattr(cols, role)[0] for role in COLUMN_ROLES if getattr(cols, role)}
    image = ImageRef(data=_png())
    choice = task.family == "multiple_choice"
    rows = []
    for n in range(N_ROWS):
        n_options = len(task.letters) - (1 if n == 1 and task.required_options < len(task.letters) else 0)
        texts = [f"{OPTION_TEXTS[i % len(OPTION_TEXTS)]} {n + 1}" for i in range(n_options)]
        row: dict[str, Any] = {}
        for name in sorted(_template_names(task)):
            row[name] = f"{name} {n + 1}"
        if cols.breakdown:
            row.update({column: f"분류{n % 2 + 1}" for column in cols.breakdown})
        values: dict[str, Any] = {
            "id": 1000 + n,
            "image": image,
            "question": QUESTIONS[n],
            "answer": (
                n % n_options if task.scoring.answer_format == "index" else task.letters[n % n_options]
            )
            if choice
            else ANSWERS[n][0],
            "answers": ANSWERS[n],
            "text": TEXTS[n],
            "references": REFERENCES[n % len(REFERENCES)],
            "box": BOXES[n] if task.family == "ocr_read" else BOXES[0],
            "width": 640,
            "height": 480,
            "options_list": texts,
            "instructions": ["punctuation:no_comma", "length_constraints:number_words"][: n % 2 + 1],
            "instruction_kwargs": [{}, {"num_words": 10, "relation": "less than"}][: n % 2 + 1],
            "turns": [QUESTIONS[n], TEXTS[n]],  # a conversation's user turns: one item each
        }
        for role, column in first.items():
            if role in values:
                row[column] = values[role]
        if cols.options is not None:
            for i, column in enumerate(cols.options):
                row[column] = texts[i] if i < n_options else None
        rows.append(row)
    return rows


def _jsonable(value: Any) -> Any:
    if isinstance(value, ImageRef):
        return IMAGE
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def _item_json(item: Item, row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"id": item.id, "row": {k: _jsonable(v) for k, v in row.items()}}
    request = item.request
    if request is None:
        out["failure"] = item.failure
        return out
    out["messages"] = [
        {
            "role": m.role,
            "content": [
                {"type": "text", "text": p.text}
                if isinstance(p, TextPart)
                else {"type": "image", "image": IMAGE}
                for p in m.content
                if isinstance(p, TextPart | ImagePart)
            ],
            **({"answer_of": m.answer_of} if m.answer_of else {}),
        }
        for m in request.messages
    ]
    out["kind"] = request.kind
    out["options"] = dict(request.options)
    out["region"] = list(request.region) if request.region is not None else None
    out["question"] = request.question
    return out


def render_snapshot(task: TaskSpec, version: str) -> dict[str, Any]:
    """What prompt version `version` of `task` sends for the synthetic rows, and its settings and hash."""
    family = FAMILIES[task.family]
    rows = synthetic_rows(task)
    cols = resolve_columns(
        task, list(dict.fromkeys(k for r in rows for k in r)), "synthetic rows", family.roles
    )
    generation, _ = generation_for(task, version, None)
    items = family.prepare(task, rows, cols, version, generation)
    return {
        "task": task.name,
        "version": version,
        "phash": prompt_hash(task.prompt.versions[version]),
        "system": task.prompt.versions[version].system,
        "generation": generation.as_dict(),
        "rows": [_item_json(item, rows[item.index]) for item in items],  # a conversation: an item a turn
    }


def dumps(snapshot: dict[str, Any]) -> str:
    return json.dumps(snapshot, ensure_ascii=False, indent=2) + "\n"


def builtin_tasks() -> list[TaskSpec]:
    return [check_fits(load_task_file(path)) for path in sorted(builtin_task_dir().glob("*.yaml"))]


def snapshot_path(task: str, version: str) -> Path:
    if "/" in version or "\\" in version or version.startswith("."):
        raise ValueError(f"prompt version {version!r} of {task} cannot name a snapshot file")
    return SNAPSHOT_DIR / task / f"{version}.json"


def write_new(tasks: list[TaskSpec]) -> tuple[list[Path], list[str]]:
    """Write the snapshot of every version that has none; (written, problems with existing ones)."""
    written, problems = [], []
    for task in tasks:
        for version in task.prompt.versions:
            path = snapshot_path(task.name, version)
            text = dumps(render_snapshot(task, version))
            if path.exists():
                if path.read_text(encoding="utf-8") != text:
                    problems.append(
                        f"{path}: {task.name} prompt version {version!r} no longer renders as its snapshot; "
                        "a snapshot is never overwritten: give the changed prompt a new version"
                    )
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return written, problems


def main() -> int:
    written, problems = write_new(builtin_tasks())
    for path in written:
        print(f"wrote {path}")
    for problem in problems:
        print(problem, file=sys.stderr)
    if not written and not problems:
        print("every prompt version has its snapshot")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

"""Row handling every family shares: ids, images, and building the request."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kobench.families.columns import Columns
from kobench.families.items import Item, unique_ids
from kobench.tasks.content import TEMPLATE_MARKS, content_parts
from kobench.tasks.prompt import TemplateFailed, render
from kobench.tasks.spec import TaskSpec
from kobench.types import GenerationSettings, ImageRef, Message, Request, RequestKind, TextPart


def row_ids(rows: list[dict[str, Any]], cols: Columns) -> list[str]:
    raw = [cols.row_id(r, i) for i, r in enumerate(rows)]
    return unique_ids(raw)


def images_of(value: Any) -> tuple[list[ImageRef], tuple[int, int] | None] | str:
    """The row's images and the first one's (width, height), or why the row cannot be asked."""
    refs = value if isinstance(value, list) else [value]
    if not refs or any(not isinstance(r, ImageRef) for r in refs):
        return "no image"
    size = None
    for ref in refs:
        try:
            # The header only: cheap, and it finds a missing, refused, empty or non-image file, or one over
            # the pixel limit, before the model is asked, whichever adapter runs (the reason is stable).
            width, height = ref.size()
        except (OSError, ValueError) as exc:
            return f"unreadable image: {exc}"
        size = size or (width, height)
        if width == 0 or height == 0:
            return "empty image (0 pixels)"
    return refs, size


def build_request(
    task: TaskSpec,
    rid: str,
    version: str,
    row: dict[str, Any],
    images: list[ImageRef],
    generation: GenerationSettings,
    kind: RequestKind,
    *,
    options: list[tuple[str, str]] = (),
    template_options: list[tuple[str, str]] = (),
    region: tuple[float, ...] | None = None,
    question: str | None = None,
    extra: dict[str, Any] | None = None,
) -> Request:
    template = task.prompt.versions[version]
    prompt = render(template.template, {**row, **(extra or {}), **TEMPLATE_MARKS}, list(template_options))
    messages = []
    if template.system:
        messages.append(Message("system", (TextPart(template.system),)))
    messages.append(Message("user", content_parts(prompt, images)))
    return Request(
        id=rid,
        messages=tuple(messages),
        generation=generation,
        kind=task.kind or kind,
        options=tuple(options),
        region=region,
        question=question,
    )


@dataclass(frozen=True)
class Row:
    """One dataset row as a family turns it into an Item: the task, the row's values and columns, the
    prompt version and generation settings, and what every Item of the row shares (id, position in the
    dataset, breakdown fields, scoring group). `failed` and `asked` build the two kinds of Item."""

    task: TaskSpec
    values: dict[str, Any]
    cols: Columns
    version: str
    generation: GenerationSettings
    id: str
    index: int
    fields: dict[str, Any]
    group: str | None = None
    shots: tuple[dict[str, Any], ...] = ()  # few-shot examples drawn for this row (log-likelihood versions)

    def get(self, column: str | None) -> Any:
        """The row's value in `column` (None for a column the task does not name)."""
        return self.values.get(column) if column else None

    def request(self, images: list[ImageRef], kind: RequestKind, **hints: Any) -> Request:
        """The request for this row: its prompt rendered from the row, its images, the hints."""
        return build_request(
            self.task, self.id, self.version, self.values, images, self.generation, kind, **hints
        )

    def failed(self, reason: str, target: Any = None, options: tuple = ()) -> Item:
        return Item(
            id=self.id,
            index=self.index,
            request=None,
            target=target,
            options=options,
            fields=self.fields,
            group=self.group,
            failure=reason,
        )

    def asked(self, request: Request, target: Any, options: tuple = ()) -> Item:
        return Item(
            id=self.id,
            index=self.index,
            request=request,
            target=target,
            options=options,
            fields=self.fields,
            group=self.group,
        )


class PerRow:
    """The prepare loop every family shares: unique ids, breakdown fields, one Item per Row."""

    def prepare(
        self,
        task: TaskSpec,
        rows: list[dict[str, Any]],
        cols: Columns,
        version: str,
        generation: GenerationSettings,
        shots: Sequence[Sequence[dict[str, Any]]] | None = None,
    ) -> list[Item]:
        items = []
        for index, (row, rid) in enumerate(zip(rows, row_ids(rows, cols), strict=True)):
            fields = {c: row.get(c) for c in cols.breakdown}
            shot = tuple(shots[index]) if shots else ()
            group = self.group(task, row, cols, rid)
            entry = Row(task, row, cols, version, generation, rid, index, fields, group, shot)
            try:  # every prompt of the run is rendered here, before any model is loaded
                items.append(self.item(entry))
            except TemplateFailed as exc:  # the task file's template failed on this row: bad input, exit 4
                raise exc.at(index + 1, rid) from exc
        return items

    def group(self, task: TaskSpec, row: dict[str, Any], cols: Columns, rid: str) -> str | None:
        return None

    def item(self, row: Row) -> Item:
        raise NotImplementedError

    def signature_extra(self, task: TaskSpec, settings: Any) -> tuple[str, ...]:
        return ()

    def check_ready(self, task: TaskSpec, settings: Any) -> None:
        return None

    def verdict_breakdown(self, task: TaskSpec) -> tuple[str, ...]:
        return ()

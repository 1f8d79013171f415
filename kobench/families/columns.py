"""Map a task's column roles to the dataset's actual columns, before any work starts.

Row ids pair a row's sample, a prediction for it (`kobench score`) and the gate's units. A task that names
its id column needs it in its own data (the Hub's, or a local copy of it): without it, stop before any
work rather than pair rows by position. On the user's own data (a `user_data` task, or `--data-path`) the
id column is optional: a row without one is named by a hash of its content (every column the task reads,
images by their bytes), so two copies of the same data pair row for row in any order. A task that names
no id column numbers its rows (its dataset's order is part of the data's identity).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kobench.data.loader import canonical_identity
from kobench.errors import BadInputError
from kobench.families.items import id_text
from kobench.tasks.spec import COLUMN_ROLES, TaskSpec

ROLES = COLUMN_ROLES


@dataclass(frozen=True)
class Columns:
    """The dataset's column for each role (first present alternative), or None."""

    names: dict[str, str | None]
    options: list[str | None] | None  # multiple choice: one column per letter (None where absent)
    breakdown: list[str]
    content_ids: bool = False  # no id column in the user's own data: rows are named by their content

    def __getattr__(self, role: str) -> str | None:
        try:
            return self.__dict__["names"][role]
        except KeyError:
            raise AttributeError(role) from None

    def used(self) -> list[str]:
        """Every column the task reads: what the dataset identity hashes."""
        return [c for c in (*self.names.values(), *(self.options or []), *self.breakdown) if c]

    def row_id(self, row: dict[str, Any], index: int) -> str:
        """The row's id (before duplicates are told apart): its id column's value, else a hash of its
        content where the id is optional, else its position (see the module's docstring)."""
        if self.names.get("id"):
            return id_text(row.get(self.names["id"]))
        if self.content_ids:
            return "sha256-" + canonical_identity([row], self.used()).removeprefix("sha256:")
        return str(index)


def resolve_columns(
    task: TaskSpec, present: Sequence[str], origin: str, required: Sequence[str], own_data: bool = False
) -> Columns:
    """Stop before any work when a needed column is missing, naming the data and the column. `own_data`:
    the rows are the user's own (--data-path), where an id column is optional."""
    have = set(present)
    names: dict[str, str | None] = {}
    optional_id = own_data or task.dataset.user_data
    for role in ROLES:
        alternatives = getattr(task.columns, role)
        names[role] = next((c for c in alternatives or [] if c in have), None)
        needed = role in required or role == "image" or (role == "id" and not optional_id)
        if alternatives and names[role] is None and needed:
            why = " (the row id that pairs samples, predictions and the gate's rows)" if role == "id" else ""
            raise BadInputError(
                f"{origin}: task {task.name!r} needs column {' or '.join(map(repr, alternatives))} "
                f"({role}){why}; the data has: {', '.join(present)}"
            )
    content_ids = bool(task.columns.id) and names["id"] is None
    options = None
    if task.columns.options is not None:
        options = [c if c in have else None for c in task.columns.options]
        if sum(c is not None for c in options) < task.required_options:
            missing = [c for c in task.columns.options if c not in have]
            raise BadInputError(f"{origin}: task {task.name!r} needs option columns {missing}")
    missing_breakdown = [c for c in task.columns.breakdown if c not in have]
    if missing_breakdown:
        raise BadInputError(f"{origin}: task {task.name!r} needs breakdown column(s) {missing_breakdown}")
    return Columns(
        names=names, options=options, breakdown=list(task.columns.breakdown), content_ids=content_ids
    )

"""Map a task's column roles to the dataset's actual columns, before any work starts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from kobench.errors import BadInputError
from kobench.tasks.spec import COLUMN_ROLES, TaskSpec

ROLES = COLUMN_ROLES


@dataclass(frozen=True)
class Columns:
    """The dataset's column for each role (first present alternative), or None."""

    names: dict[str, str | None]
    options: list[str | None] | None  # multiple choice: one column per letter (None where absent)
    breakdown: list[str]

    def __getattr__(self, role: str) -> str | None:
        try:
            return self.__dict__["names"][role]
        except KeyError:
            raise AttributeError(role) from None

    def used(self) -> list[str]:
        """Every column the task reads: what the dataset identity hashes."""
        return [c for c in (*self.names.values(), *(self.options or []), *self.breakdown) if c]


def resolve_columns(task: TaskSpec, present: Sequence[str], origin: str, required: Sequence[str]) -> Columns:
    """Stop before any work when a needed column is missing, naming the data and the column."""
    have = set(present)
    names: dict[str, str | None] = {}
    for role in ROLES:
        alternatives = getattr(task.columns, role)
        names[role] = next((c for c in alternatives or [] if c in have), None)
        if alternatives and names[role] is None and (role in required or role == "image"):
            raise BadInputError(
                f"{origin}: task {task.name!r} needs column {' or '.join(map(repr, alternatives))} "
                f"({role}); the data has: {', '.join(present)}"
            )
    options = None
    if task.columns.options is not None:
        options = [c if c in have else None for c in task.columns.options]
        if sum(c is not None for c in options) < task.required_options:
            missing = [c for c in task.columns.options if c not in have]
            raise BadInputError(f"{origin}: task {task.name!r} needs option columns {missing}")
    missing_breakdown = [c for c in task.columns.breakdown if c not in have]
    if missing_breakdown:
        raise BadInputError(f"{origin}: task {task.name!r} needs breakdown column(s) {missing_breakdown}")
    return Columns(names=names, options=options, breakdown=list(task.columns.breakdown))

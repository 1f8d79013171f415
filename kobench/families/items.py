"""An Item is one dataset row made ready to ask: its request, its target, and why it cannot be asked."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kobench.types import Request


@dataclass(frozen=True)
class Item:
    id: str
    index: int  # position in the dataset (file order)
    request: Request | None  # None when the row cannot be asked
    target: Any  # a letter, a text, a box or a list of accepted answers, by family
    options: tuple[tuple[str, str], ...]
    fields: dict[str, Any] = field(default_factory=dict)  # breakdown columns
    group: str | None = None  # scoring unit for circular evaluation
    failure: str | None = None  # why the row failed before reaching the model
    # Multiple choice: the options as the published parser sees them, where not `options` (MMBench's
    # text matcher also reads the "" and "nan" options its prompt leaves out).
    protocol_options: tuple[tuple[str, str], ...] | None = None

    @property
    def prompt(self) -> str:
        return self.request.prompt_text if self.request else ""

    @property
    def protocol_view(self) -> tuple[tuple[str, str], ...]:
        return self.options if self.protocol_options is None else self.protocol_options


def unique_ids(raw_ids: list[str]) -> list[str]:
    """Make ids unique deterministically: the second occurrence of `x` becomes `x#2`, and so on,
    in file order (K-Viscuit repeats ids; results must still join by id)."""
    seen: dict[str, int] = {}
    out = []
    taken = set(raw_ids)
    for rid in raw_ids:
        count = seen.get(rid, 0) + 1
        seen[rid] = count
        if count == 1:
            out.append(rid)
            continue
        candidate = f"{rid}#{count}"
        while candidate in taken:  # an id that already looks like "x#2" in the data
            count += 1
            candidate = f"{rid}#{count}"
        seen[rid] = count
        taken.add(candidate)
        out.append(candidate)
    return out


def id_text(value: Any) -> str:
    # 12.0 from a float column and 12 from an int column are the same id.
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def circular_main(value: Any) -> bool:
    """Whether a row is its question's main row (index below 1_000_000), from which MMBench's circular
    evaluation forms a group; a non-numeric id is its own group, and so its own main row."""
    try:
        return int(float(value)) < 1_000_000
    except (TypeError, ValueError):
        return True


def circular_group(value: Any, fallback: str) -> str:
    """MMBench's rotations of one question share `index % 1_000_000`; a non-numeric id is its own group."""
    try:
        return str(int(float(value)) % 1_000_000)
    except (TypeError, ValueError):
        return fallback

"""Task families by name: how rows become requests and responses become scores."""

from __future__ import annotations

from kobench.families.base import Family
from kobench.families.multiple_choice import MultipleChoice

FAMILIES: dict[str, Family] = {"multiple_choice": MultipleChoice()}

"""Task families by name: how rows become requests and responses become scores."""

from __future__ import annotations

from kobench.families.base import Family
from kobench.families.captioning import Captioning
from kobench.families.docvqa import DocVQA
from kobench.families.grounding import Grounding
from kobench.families.judged import Judged
from kobench.families.multiple_choice import MultipleChoice
from kobench.families.reading import Reading

FAMILIES: dict[str, Family] = {
    f.name: f for f in (MultipleChoice(), Reading(), Grounding(), DocVQA(), Captioning(), Judged())
}

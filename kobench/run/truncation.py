"""How a task's answers ended: the finish reasons of its rows, how many were cut off at max_new_tokens, and
how many end inside a reasoning block that never closed (a reasoning model that spent its whole budget
thinking has no answer, and is scored unparsed; counted apart so that it is seen)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from kobench.extract.thinking import strip_thinking
from kobench.results import Truncation
from kobench.run.records import SampleRecord

UNKNOWN = "unknown"  # answers from before kobench recorded why they ended (older samples, older caches)


def truncation(records: Iterable[SampleRecord | None]) -> Truncation:
    """The counts over a task's rows (None: a row not answered yet, left out)."""
    reasons: Counter[str] = Counter()
    unclosed = 0
    for record in records:
        if record is None:
            continue
        reasons[record.finish_reason or ("error" if not record.scored else UNKNOWN)] += 1
        if record.scored and isinstance(record.prediction, str) and strip_thinking(record.prediction) is None:
            unclosed += 1
    answered = sum(n for reason, n in reasons.items() if reason != "error")
    return Truncation(
        finish_reasons=dict(sorted(reasons.items())),
        n_truncated=reasons["length"],
        truncated_share=reasons["length"] / answered if answered else 0.0,
        n_unclosed_thinking=unclosed,
    )

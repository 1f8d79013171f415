"""The gate's efficiency check, only when asked (`kobench gate --max-efficiency-loss PCT`): each efficiency
value both runs measured (tokens.json, speed.json beside their results.json), compared relatively in its
own direction. Token counts are exact, speed is noisy: the tolerance is the user's, in percent.

Verdicts: "regression" (worse by more than the tolerance: exit 1), "worse within tolerance", "no change",
"better", "incompatible" (measured under other conditions: device, dtype, corpus, batch; exit 3), and
values one side lacks are noted, not compared.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kobench.efficiency import EfficiencyResult, EfficiencyValue, efficiency_files, load_efficiency

REGRESSION = "regression"
WITHIN_TOLERANCE = "worse within tolerance"
NO_CHANGE = "no change"
BETTER = "better"
INCOMPATIBLE = "incompatible"


@dataclass
class EfficiencyComparison:
    benchmark: str
    metric: str
    direction: str
    verdict: str
    baseline: float | None = None
    candidate: float | None = None
    change_pct: float | None = None  # in the good direction: +5 is 5% better, -5 is 5% worse
    differences: list[str] = field(default_factory=list)  # why incompatible


def load_folder(path: Path) -> list[EfficiencyResult]:
    """The efficiency files of a results folder (or beside a results.json)."""
    folder = Path(path) if Path(path).is_dir() else Path(path).parent
    return [load_efficiency(p) for p in efficiency_files(folder)]


def _newest(results: Sequence[EfficiencyResult]) -> dict[str, EfficiencyValue]:
    values: dict[str, EfficiencyValue] = {}
    for result in sorted(results, key=lambda r: r.created_at):
        values.update({v.benchmark: v for v in result.values})
    return values


def compare_efficiency(
    baseline: Sequence[EfficiencyResult], candidate: Sequence[EfficiencyResult], max_loss_pct: float
) -> tuple[list[EfficiencyComparison], list[str]]:
    """(a comparison per benchmark both sides measured, notes on those only one side has)."""
    base, cand = _newest(baseline), _newest(candidate)
    rows = []
    for benchmark in [b for b in base if b in cand]:
        before, after = base[benchmark], cand[benchmark]
        row = EfficiencyComparison(
            benchmark, before.metric, before.direction, NO_CHANGE, before.value, after.value
        )
        if before.conditions != after.conditions:
            row.verdict = INCOMPATIBLE
            keys = sorted(set(before.conditions) | set(after.conditions))
            row.differences = [
                f"{k}: {before.conditions.get(k)!r} vs {after.conditions.get(k)!r}"
                for k in keys
                if before.conditions.get(k) != after.conditions.get(k)
            ]
        elif before.direction != after.direction:
            row.verdict, row.differences = INCOMPATIBLE, ["direction"]
        elif before.value is None or after.value is None or before.value == 0:
            row.verdict, row.differences = INCOMPATIBLE, ["no value to compare"]
        else:
            change = 100.0 * (after.value - before.value) / abs(before.value)
            row.change_pct = -change if before.direction == "lower" else change
            if row.change_pct < -max_loss_pct:
                row.verdict = REGRESSION
            elif row.change_pct < 0:
                row.verdict = WITHIN_TOLERANCE
            elif row.change_pct > 0:
                row.verdict = BETTER
        rows.append(row)
    notes = [f"{b} measured for the baseline only" for b in base if b not in cand]
    notes += [f"{b} measured for the candidate only" for b in cand if b not in base]
    return rows, notes

"""The CI regression gate: paired bootstrap on matched units, direction-aware verdicts, exit codes.

Expected values are worked out by hand (or by enumerating every resample), never taken from the gate.
"""

from __future__ import annotations

import itertools
import json
import math
from collections import Counter
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from results_factory import run_result, task_result
from typer.testing import CliRunner

from kobench.cli import app
from kobench.errors import EXIT_NOT_COMPARABLE, EXIT_OK, EXIT_REGRESSION, EXIT_USAGE
from kobench.metrics.paired import paired_bootstrap, paired_statistic, resampled_statistics
from kobench.report.gate import (
    BETTER_NOT_SIGNIFICANT,
    IMPROVED,
    INCOMPATIBLE,
    NO_CHANGE,
    REGRESSION,
    WITHIN_TOLERANCE,
    WORSE_NOT_SIGNIFICANT,
    GateUsageError,
    compare,
    format_report,
)
from kobench.report.signatures import signature_differences
from kobench.results import (
    RunResult,
    TaskResult,
    save_results,
)

# --- builders -------------------------------------------------------------------------------------------


def sig(task: str, *, prompt: str = "2025-07", data: str = "sha256:aaa", metric: str = "accuracy@1") -> str:
    return (
        f"{task}|data:{data}|split:test|prompt:{prompt}|gen:max_new_tokens=16,temperature=0.0"
        f"|parser:first-char@1|metric:{metric}|agg:mean|unit:row"
    )


def task(
    name: str,
    scores: list[float],
    *,
    ids: list[str] | None = None,
    weights: list[float] | None = None,
    strata: list[str] | None = None,
    metric: str = "accuracy",
    direction: str = "higher",
    signature: str | None = None,
) -> TaskResult:
    # The reported value is only carried along by the gate; a plain mean is enough here.
    return task_result(
        name,
        metric=metric,
        direction=direction,
        value=100.0 * sum(scores) / len(scores) if scores else None,
        signature=signature or sig(name, metric=f"{metric}@1"),
        unit_scores=scores,
        ids=ids,
        weights=weights,
        strata=strata,
        prompt_version="2025-07",
    )


def run(*tasks: TaskResult, model: str = "m") -> RunResult:
    return run_result(model, tasks)


def right(n_right: int, n: int) -> list[float]:
    return [1.0] * n_right + [0.0] * (n - n_right)


def gate1(base: TaskResult, cand: TaskResult, **kwargs):
    report = compare(run(base, model="base"), run(cand, model="cand"), **kwargs)
    assert len(report.rows) == 1
    return report, report.rows[0]


# --- verdicts ------------------------------------------------------------------------------------------


def test_no_change_passes() -> None:
    scores = [float(i % 3 == 0) for i in range(60)]
    report, row = gate1(task("t", scores), task("t", list(scores)))
    assert row.verdict == NO_CHANGE and report.exit_code == EXIT_OK
    assert row.baseline == row.candidate == pytest.approx(100 * 20 / 60)
    assert row.delta == 0 and row.ci_low == 0 and row.ci_high == 0
    assert (row.n_common, row.n_baseline, row.n_candidate) == (60, 60, 60)


def test_clear_regression_fails_with_exit_1() -> None:
    # 200 units: baseline right on 180, the candidate loses 40 of them: 90% -> 70%.
    report, row = gate1(task("t", right(180, 200)), task("t", right(140, 200)))
    assert row.verdict == REGRESSION and report.exit_code == EXIT_REGRESSION
    assert (row.baseline, row.candidate, row.delta) == (
        pytest.approx(90),
        pytest.approx(70),
        pytest.approx(-20),
    )
    # Paired differences: -1 on 40 units, 0 on 160: sd 0.4, standard error 0.4 / sqrt(200) = 2.83 points,
    # so the 95% interval is about -20 +- 5.5 (normal approximation).
    se = 100 * math.sqrt(0.2 * 0.8 / 200)
    assert row.ci_low == pytest.approx(-20 - 1.96 * se, abs=1.2)
    assert row.ci_high == pytest.approx(-20 + 1.96 * se, abs=1.2)
    assert row.improvement_ci_high is not None and row.improvement_ci_high < 0


def test_drop_on_tiny_n_is_not_significant() -> None:
    # 4 units, the candidate loses one: delta -25 points. A resample that never draws the lost unit
    # (probability (3/4)^4 = 0.32) has delta 0, so the 97.5% quantile is 0; at least three draws of it
    # (probability 0.051 > 0.025, at most four: 0.004 < 0.025) give -75 points: the interval is [-75, 0].
    report, row = gate1(task("t", [1.0, 1.0, 1.0, 1.0]), task("t", [1.0, 1.0, 1.0, 0.0]))
    assert row.delta == pytest.approx(-25)
    assert (row.ci_low, row.ci_high) == (pytest.approx(-75), pytest.approx(0))
    assert row.verdict == WORSE_NOT_SIGNIFICANT and report.exit_code == EXIT_OK


def test_drop_within_tolerance_passes() -> None:
    report, row = gate1(task("t", right(180, 200)), task("t", right(179, 200)), max_drop=1.0)
    assert row.delta == pytest.approx(-0.5)
    assert row.verdict == WITHIN_TOLERANCE and report.exit_code == EXIT_OK
    # A tighter tolerance turns the same drop into "worse": one lost unit of 200 is not significant.
    _, strict = gate1(task("t", right(180, 200)), task("t", right(179, 200)), max_drop=0.1)
    assert strict.verdict == WORSE_NOT_SIGNIFICANT


def test_improvement() -> None:
    report, row = gate1(task("t", right(140, 200)), task("t", right(180, 200)))
    assert row.delta == pytest.approx(20) and row.ci_low is not None and row.ci_low > 0
    assert row.verdict == IMPROVED and report.exit_code == EXIT_OK
    _, small = gate1(task("t", [0.0] * 4), task("t", [1.0, 0.0, 0.0, 0.0]))
    assert small.verdict == BETTER_NOT_SIGNIFICANT and small.ci_low == pytest.approx(0)


# --- the task's own aggregate ----------------------------------------------------------------------------


def cer_task(edits: list[int], lengths: list[int], direction: str = "lower") -> TaskResult:
    return task(
        "ocr",
        [e / n for e, n in zip(edits, lengths, strict=True)],
        weights=[float(n) for n in lengths],
        metric="cer",
        direction=direction,
    )


def test_higher_cer_is_a_regression_and_corpus_cer_is_edits_over_length() -> None:
    lengths = [5 + 3 * (i % 7) for i in range(100)]
    base_edits = [i % 3 for i in range(100)]
    cand_edits = [e + (1 if i % 2 == 0 else 0) for i, e in enumerate(base_edits)]  # 50 more edits
    report, row = gate1(cer_task(base_edits, lengths), cer_task(cand_edits, lengths))
    assert row.baseline == pytest.approx(100 * sum(base_edits) / sum(lengths))
    assert row.candidate == pytest.approx(100 * sum(cand_edits) / sum(lengths))
    assert row.delta == pytest.approx(100 * 50 / sum(lengths))  # CER up 3.6 points: worse
    assert row.improvement == pytest.approx(-row.delta)
    assert row.verdict == REGRESSION and report.exit_code == EXIT_REGRESSION
    # The same numbers where higher is better are an improvement.
    _, up = gate1(cer_task(base_edits, lengths, "higher"), cer_task(cand_edits, lengths, "higher"))
    assert up.verdict == IMPROVED


def test_weighted_mean_is_not_the_mean_of_unit_scores() -> None:
    # Unit CERs 0.5 (2 characters) and 0.0 (8 characters): corpus CER 1/10, not (0.5 + 0) / 2.
    assert paired_statistic([0.5, 0.0], weights=[2.0, 8.0]) == pytest.approx(0.1)
    _, row = gate1(cer_task([1, 0], [2, 8]), cer_task([1, 4], [2, 8]))
    assert (row.baseline, row.candidate) == (pytest.approx(10.0), pytest.approx(50.0))


def test_each_run_uses_its_own_weights_ratio_of_means() -> None:
    # K-LLaVA-W: unit score model/reference weighted by that run's reference score = sum(model)/sum(ref).
    def llava(model: list[int], ref: list[int]) -> TaskResult:
        return task(
            "k-llava-w", [m / r for m, r in zip(model, ref, strict=True)], weights=[float(r) for r in ref]
        )

    _, row = gate1(llava([6, 9, 7], [8, 9, 7]), llava([8, 4, 8], [8, 8, 8]))
    assert row.baseline == pytest.approx(100 * 22 / 24)
    assert row.candidate == pytest.approx(100 * 20 / 24)


def test_strata_macro_mean_and_every_resample_keeps_every_stratum() -> None:
    strata = ["a"] * 4 + ["b"] * 2 + ["c"] * 6
    #       a: 3/4      b: 1/2  c: 1/6
    base = [1, 1, 0, 1, 0, 1, 1, 0, 0, 0, 0, 0]
    #       a: 4/4      b: 0/2  c: 2/6
    cand = [1, 1, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0]
    _, row = gate1(task("k-mmstar", base, strata=strata), task("k-mmstar", cand, strata=strata))
    assert row.baseline == pytest.approx(100 * (3 / 4 + 1 / 2 + 1 / 6) / 3)
    assert row.candidate == pytest.approx(100 * (4 / 4 + 0 / 2 + 2 / 6) / 3)
    # One stratum all right, one all wrong: the macro mean is 1/2 on every resample drawn within strata
    # (a resample over all units would often miss the single "a" unit).
    stats, _ = resampled_statistics(
        [1.0, 0.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0], strata=["a", "b", "b", "b"], n_resamples=500
    )
    assert np.all(stats == 0.5)


# --- matching, compatibility ----------------------------------------------------------------------------


def test_units_are_matched_by_id_order_independent() -> None:
    base_ids = [f"q{i}" for i in range(10)]
    # Fractional scores (ANLS-like), so that a different resampling order moves the interval.
    base_scores = [0.9, 0.2, 0.35, 0.6, 0.1, 0.8, 0.45, 0.7, 0.05, 1.0]
    cand_ids = [f"q{i}" for i in range(5, 15)]
    cand_scores = [0.3, 0.55, 0.1, 0.65, 0.4, 1.0, 1.0, 0.0, 0.2, 0.9]  # q5..q14
    base = task("t", base_scores, ids=base_ids)
    _, row = gate1(base, task("t", cand_scores, ids=cand_ids))
    # Common: q5..q9. Baseline on them: (0.8 + 0.45 + 0.7 + 0.05 + 1.0) / 5 = 60%;
    # candidate: (0.3 + 0.55 + 0.1 + 0.65 + 0.4) / 5 = 40%.
    assert (row.n_common, row.n_baseline, row.n_candidate) == (5, 10, 10)
    assert (row.baseline, row.candidate, row.delta) == (
        pytest.approx(60),
        pytest.approx(40),
        pytest.approx(-20),
    )
    order = [7, 2, 9, 0, 4, 1, 8, 3, 6, 5]
    shuffled = task("t", [cand_scores[i] for i in order], ids=[cand_ids[i] for i in order])

    def numbers(r):
        return (r.baseline, r.candidate, r.delta, r.ci_low, r.ci_high, r.n_common, r.verdict)

    _, again = gate1(base, shuffled)
    assert numbers(again) == numbers(row)  # same numbers, same interval
    base_order = [3, 9, 0, 6, 1, 8, 2, 5, 7, 4]
    base_shuffled = task("t", [base_scores[i] for i in base_order], ids=[base_ids[i] for i in base_order])
    _, both = gate1(base_shuffled, shuffled)
    assert numbers(both) == numbers(row)  # neither file's order changes the resamples


def test_different_prompt_is_incompatible_exit_3() -> None:
    base = task("t", right(8, 10))
    cand = task("t", right(8, 10), signature=sig("t", prompt="2025-06", data="sha256:bbb"))
    fine = task("u", right(5, 10))
    report = compare(run(base, fine), run(cand, fine))
    assert report.exit_code == EXIT_NOT_COMPARABLE
    row = report.rows[0]
    assert row.verdict == INCOMPATIBLE and row.delta is None
    assert row.differences == ["data: sha256:aaa -> sha256:bbb", "prompt: 2025-07 -> 2025-06"]
    assert row.verdict_text.startswith("incompatible: ") and "prompt: 2025-07 -> 2025-06" in row.verdict_text
    assert report.rows[1].verdict == NO_CHANGE  # the comparable task still has its verdict
    text = format_report(report)
    assert "prompt: 2025-07 -> 2025-06" in text and "exit 3" in text.splitlines()[-1]


def test_other_incompatibilities_and_usage_errors() -> None:
    _, metric = gate1(task("t", [1.0]), task("t", [1.0], metric="exact_match"))
    assert "primary metric: accuracy -> exact_match" in metric.differences
    _, disjoint = gate1(task("t", [1.0], ids=["a"]), task("t", [1.0], ids=["b"]))
    assert (
        disjoint.verdict == INCOMPATIBLE
        and "no common units (baseline 1, candidate 1)" in disjoint.differences
    )
    with pytest.raises(GateUsageError, match="nope"):
        compare(run(task("t", [1.0])), run(task("t", [1.0])), tasks=["t", "nope"])
    with pytest.raises(GateUsageError):
        compare(run(task("t", [1.0])), run(task("t", [1.0])), pipeline="other")


def test_signature_values_holding_a_bar_are_one_part() -> None:
    a = "t|data:x|gen:stop=<|im_end|>,temperature=0.0|prompt:1|unit:row"
    b = "t|data:x|gen:stop=<|endoftext|>,temperature=0.0|prompt:1|unit:row"
    assert signature_differences(a, b) == [
        "gen: stop=<|im_end|>,temperature=0.0 -> stop=<|endoftext|>,temperature=0.0"
    ]
    assert signature_differences(a, a) == []


# --- the bootstrap against exact enumeration ----------------------------------------------------------


def test_resamples_match_exact_enumeration_of_all_27_index_tuples() -> None:
    base, cand = [1.0, 1.0, 0.0], [0.0, 1.0, 1.0]
    n_resamples = 20_000
    b, c = resampled_statistics(base, cand, n_resamples=n_resamples, seed=0)
    # Exact: every (i, j, k) in {0,1,2}^3 equally likely, the SAME tuple for both runs (paired).
    exact: Counter = Counter()
    for idx in itertools.product(range(3), repeat=3):
        exact[(Fraction(sum(int(base[i]) for i in idx), 3), Fraction(sum(int(cand[i]) for i in idx), 3))] += 1
    seen = Counter((Fraction(round(x * 3), 3), Fraction(round(y * 3), 3)) for x, y in zip(b, c, strict=True))
    assert set(seen) <= set(exact)  # no (baseline, candidate) pair an unpaired draw would give
    for pair, count in exact.items():
        p = count / 27
        tolerance = 4.5 * math.sqrt(p * (1 - p) / n_resamples)
        assert abs(seen[pair] / n_resamples - p) < tolerance, pair
    exact_mean_delta = sum(float(cb - bb) * k for (bb, cb), k in exact.items()) / 27
    assert abs(float(np.mean(c - b)) - exact_mean_delta) < 0.02
    # Deltas are sums of three draws from {-1, 0, 1} / 3: P(-1) = P(+1) = 1/27 = 0.037 > 0.025, so the
    # exact 95% percentile interval is [-1, 1].
    point_b, point_c, delta, low, high = paired_bootstrap(base, cand, n_resamples=n_resamples)
    assert (point_b, point_c, delta) == (pytest.approx(2 / 3), pytest.approx(2 / 3), pytest.approx(0))
    assert (low, high) == (pytest.approx(-1), pytest.approx(1))


def test_weighted_resamples_match_exact_enumeration() -> None:
    base, wb = [0.5, 0.0, 1.0], [2.0, 8.0, 1.0]
    cand, wc = [1.0, 0.25, 0.0], [2.0, 4.0, 5.0]
    n_resamples = 20_000
    b, c = resampled_statistics(base, cand, base_weights=wb, cand_weights=wc, n_resamples=n_resamples, seed=3)
    deltas: Counter = Counter()
    for idx in itertools.product(range(3), repeat=3):
        sb = sum(base[i] * wb[i] for i in idx) / sum(wb[i] for i in idx)
        sc = sum(cand[i] * wc[i] for i in idx) / sum(wc[i] for i in idx)
        deltas[round(sc - sb, 9)] += 1
    seen = Counter(round(float(d), 9) for d in c - b)
    assert set(seen) <= set(deltas)
    for value, count in deltas.items():
        p = count / 27
        assert abs(seen[value] / n_resamples - p) < 4.5 * math.sqrt(p * (1 - p) / n_resamples), value


# --- command line --------------------------------------------------------------------------------------


def write(path: Path, result: RunResult) -> Path:
    save_results(result, path / "results.json")
    return path


def test_cli_exit_codes_table_and_json(tmp_path: Path) -> None:
    base = write(tmp_path / "base", run(task("k-seed", right(180, 200)), task("k-dtcbench", right(30, 40))))
    same = write(tmp_path / "same", run(task("k-seed", right(180, 200)), task("k-dtcbench", right(30, 40))))
    worse = write(tmp_path / "worse", run(task("k-seed", right(140, 200)), task("k-dtcbench", right(30, 40))))
    other = write(
        tmp_path / "other",
        run(
            task("k-seed", right(180, 200), signature=sig("k-seed", prompt="2025-06")),
            task("k-dtcbench", right(30, 40)),
        ),
    )
    runner = CliRunner()

    def gate(cand: Path, *extra: str):
        return runner.invoke(app, ["gate", "--baseline", str(base), "--candidate", str(cand), *extra])

    ok = gate(same / "results.json")  # a file works as well as a folder
    assert ok.exit_code == EXIT_OK, ok.output
    assert "k-seed" in ok.output and "k-dtcbench" in ok.output and "no change" in ok.output

    out = tmp_path / "report.json"
    bad = gate(worse, "--json", str(out))
    assert bad.exit_code == EXIT_REGRESSION, bad.output
    assert "regression" in bad.output
    report = json.loads(out.read_text(encoding="utf-8"))
    verdicts = {t["task"]: t["verdict"] for t in report["tasks"]}
    assert verdicts == {"k-seed": "regression", "k-dtcbench": "no change"}
    assert report["exit_code"] == 1 and report["n_resamples"] == 1000 and report["seed"] == 0
    assert report["tasks"][0]["delta"] == pytest.approx(-20)

    inc = gate(other, "--json", "-")
    assert inc.exit_code == EXIT_NOT_COMPARABLE
    parsed = json.loads(inc.stdout)  # stdout holds only the JSON; the table went to stderr
    row = next(t for t in parsed["tasks"] if t["task"] == "k-seed")
    assert row["verdict"] == "incompatible" and row["differences"] == ["prompt: 2025-07 -> 2025-06"]
    assert "prompt: 2025-07 -> 2025-06" in inc.stderr

    parent = gate(tmp_path)  # the folder holding the runs, not a run
    assert parent.exit_code == 4
    said = "no results.json in this folder; it holds runs below it (base, other, same, worse)"
    assert said in parent.output

    only = gate(worse, "--tasks", "k-dtcbench")
    assert only.exit_code == EXIT_OK and "k-seed" not in only.output
    missing = gate(worse, "--tasks", "k-seed,k-nope")
    assert missing.exit_code == EXIT_USAGE and "k-nope" in missing.output

"""Macro F1 (KoBEST's f1 in lm-evaluation-harness: scikit-learn's f1_score(average="macro")) against a
hand computation and an independent per-class precision/recall reading of its definition."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from kobench.metrics.classification import macro_f1, macro_f1_ci

MIRRORS = Path(__file__).parent / "fixtures" / "mirrors"


def independent_macro_f1(golds: list, preds: list) -> float:
    """scikit-learn's documented definition: labels = sorted union of y_true and y_pred; per label
    P = tp/(tp+fp), R = tp/(tp+fn) (0 where undefined), F1 = 2PR/(P+R) (0 where P+R = 0); unweighted mean."""
    labels = sorted(set(golds) | set(preds), key=str)
    f1s = []
    for label in labels:
        tp = sum(g == label and p == label for g, p in zip(golds, preds, strict=True))
        fp = sum(g != label and p == label for g, p in zip(golds, preds, strict=True))
        fn = sum(g == label and p != label for g, p in zip(golds, preds, strict=True))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1s.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    return sum(f1s) / len(f1s)


def test_hand_computed() -> None:
    # class 0: tp 1, fp 1, fn 1 -> 0.5; class 1: tp 2, fp 1, fn 0 -> 0.8; class 2: tp 0, fn 1 -> 0.
    assert macro_f1([0, 0, 1, 1, 2], [0, 1, 1, 1, 0]) == pytest.approx((0.5 + 0.8 + 0.0) / 3)
    assert macro_f1(["A", "B"], ["A", "B"]) == 1.0
    assert macro_f1(["A", "A"], ["B", "B"]) == 0.0  # both classes seen, neither right
    assert macro_f1(["A", "A", "A"], ["A", "A", "A"]) == 1.0  # one class only


def test_agrees_with_the_definition_on_random_labels() -> None:
    rng = random.Random(7)
    for _ in range(200):
        n = rng.randint(1, 40)
        classes = "ABCD"[: rng.randint(1, 4)]
        golds = [rng.choice(classes) for _ in range(n)]
        preds = [rng.choice(classes) for _ in range(n)]
        assert macro_f1(golds, preds) == pytest.approx(independent_macro_f1(golds, preds))


def test_interval_holds_the_value_and_is_deterministic() -> None:
    rng = random.Random(3)
    golds = [rng.choice("AB") for _ in range(200)]
    preds = [g if rng.random() < 0.7 else rng.choice("AB") for g in golds]
    low, high = macro_f1_ci(golds, preds)
    assert low < macro_f1(golds, preds) < high
    assert (low, high) == macro_f1_ci(golds, preds)
    with pytest.raises(ValueError, match="2 golds but 1 predictions"):
        macro_f1(["A", "B"], ["A"])


def test_kobest_run_reports_macro_f1_of_its_samples(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from kobench.cli import app
    from kobench.results import load_results
    from kobench.testing.tiny_models import build_tiny_text_lm

    folder = build_tiny_text_lm(tmp_path / "lm")
    out = tmp_path / "out"
    args = ["run", "--model", f"hf:{folder}", "--tasks", "kobest-boolq,kobest-hellaswag,kmmlu"]
    args += ["--data-dir", str(MIRRORS), "--output", str(out), "--no-cache", "--limit", "12"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    results = load_results(out / "results.json")
    assert "macro_f1" not in results.tasks["kmmlu"].pipelines["protocol"].metrics  # lm-eval reports none
    for name in ("kobest-boolq", "kobest-hellaswag"):
        lines = (out / "samples" / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
        samples = [json.loads(line) for line in lines]
        golds = [s["target"] for s in samples]
        for pipeline in ("protocol", "kobench"):
            preds = [s[pipeline]["parsed"] for s in samples]
            metrics = results.tasks[name].pipelines[pipeline].metrics
            assert next(iter(metrics)) == "accuracy"  # still the primary metric
            assert metrics["macro_f1"].value == pytest.approx(100 * independent_macro_f1(golds, preds))
            assert metrics["macro_f1"].n == len(samples)

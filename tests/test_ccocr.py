"""CC-OCR's Korean text reading as VLMEvalKit and lmms-eval score it: the tokens, each image's F1 and the
macro and micro F1, checked against independent re-implementations written from the published evaluators
(VLMEvalKit vlmeval/dataset/utils/ccocr_evaluator/ocr_evaluator.py at e8e78f0, the official evaluator's
copy; lmms-eval lmms_eval/tasks/cc_ocr/evaluators/ocr_metric.py at 3b61454), nothing from kobench; and the
task end to end from the synthetic mirror (tests/fixtures_ccocr.py), with the values worked out by hand."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from pathlib import Path

import pytest
from fixtures_ccocr import KOREAN, PROMPT, RESPONSES, write_ccocr
from scripted_model import ScriptedModel, register

from kobench.api import evaluate
from kobench.config import DataOptions, JudgeOptions, ScoringOptions
from kobench.families import resolve_tasks
from kobench.metrics.ccocr import ccocr_char_tokens, ccocr_counts, ccocr_dice, ccocr_f1
from kobench.run.prepare import prepare_task

# --- VLMEvalKit's OcrEvaluator, re-implemented --------------------------------------------------------


def vlm_token_normalize(token: str, is_lower: bool = False, is_alphanum_only: bool = False) -> str:
    if is_lower:
        token = token.lower()
    if is_alphanum_only:
        token = re.sub("[^A-Za-z0-9]+", "", token)
    return token


def vlm_tokenize(
    text: str, is_keep_blank: bool = True, is_lower: bool = True, is_alphanum_only: bool = False
):
    text = text.replace("\t", " ").replace("\n", " ").replace("###", "").replace("***", "")
    text = re.sub(r"\s+", " ", text)
    if not is_keep_blank:
        text = text.replace(" ", "")
    tokens = text.split(" ") if is_keep_blank else list(text)
    tokens = [vlm_token_normalize(t, is_lower, is_alphanum_only) for t in tokens]
    return [t for t in tokens if len(t) > 0]


def vlm_right(gts: list[str], preds: list[str]) -> int:
    right = 0
    pred_counts = dict(Counter(preds))
    for token, count in dict(Counter(gts)).items():
        right += min(count, pred_counts.get(token, 0))
    return right


def vlm_calculate_metrics(response_info: dict, gt_info: dict) -> dict:
    """calculate_metrics, verbose: per-image macro lists and the summed micro counts."""
    f1s = []
    total_gt = total_pred = total_right = 0
    for name, gts in gt_info.items():
        preds = response_info.get(name, [])
        right = vlm_right(gts, preds)
        total_right += right
        total_gt += len(gts)
        total_pred += len(preds)
        recall = right / (len(gts) + 1e-9)
        precision = right / (len(preds) + 1e-9)
        f1s.append(2 * recall * precision / (recall + precision + 1e-9))
    micro_r = total_right / (total_gt + 1e-9)
    micro_p = total_right / (total_pred + 1e-9)
    return {
        "per_image_f1": f1s,
        "macro_f1_score": sum(f1s) / (len(f1s) + 1e-9),
        "mirco_f1_score": 2 * micro_r * micro_p / (micro_r + micro_p + 1e-9),
    }


def vlm_evaluate(responses: dict, gts: dict, dataset: str = "Korean", group: str = "multi_lan_ocr") -> dict:
    """OcrEvaluator.evaluate: the word/char choice from the dataset name, then calculate_metrics."""
    is_word_level, is_lower, is_alphanum_only = True, True, False
    if dataset in ["Arabic", "Japanese", "Korean"] or "zh" in dataset:
        is_word_level = False
    if "multi_scene_ocr" in group and is_word_level:
        is_alphanum_only = True
    pred_tokens, gt_tokens = {}, {}
    for name, gt in gts.items():
        pred = responses.get(name, "")
        pred_tokens[name] = vlm_tokenize(str(pred).strip(), is_word_level, is_lower, is_alphanum_only)
        gt_tokens[name] = vlm_tokenize(str(gt).strip(), is_word_level, is_lower, is_alphanum_only)
    return vlm_calculate_metrics(pred_tokens, gt_tokens)


def lmms_compute_track(results: list[dict], key: str) -> float:
    """lmms-eval ocr_metric.compute_track for the multi_lan_ocr track: per subset, then the mean over them."""
    by_subset: dict[str, list[dict]] = {}
    for r in results:
        by_subset.setdefault(r["subset"], []).append(r)
    scores = {}
    for subset, samples in by_subset.items():
        char_level = subset in {"Arabic", "Japanese", "Korean"} or subset.startswith("zh")
        f1s, right_sum, gt_sum, pred_sum = [], 0, 0, 0
        for s in samples:
            gt = vlm_tokenize(str(s["gt"]).strip(), not char_level, True, False)
            pd = vlm_tokenize(str(s["pred"]).strip(), not char_level, True, False)
            right = vlm_right(gt, pd)
            recall, precision = right / (len(gt) + 1e-9), right / (len(pd) + 1e-9)
            f1s.append(2 * recall * precision / (recall + precision + 1e-9))
            right_sum, gt_sum, pred_sum = right_sum + right, gt_sum + len(gt), pred_sum + len(pd)
        if key == "macro_f1":
            scores[subset] = sum(f1s) / (len(f1s) + 1e-9)
        else:
            r, p = right_sum / (gt_sum + 1e-9), right_sum / (pred_sum + 1e-9)
            scores[subset] = 2 * r * p / (r + p + 1e-9)
    return sum(scores.values()) / (len(scores) + 1e-9)


# --- varied readings -------------------------------------------------------------------------------------

REFERENCES = (
    "서울특별시 중구\n세종대로 110",
    "영수증\n합계 12,000원\n부가세 포함",
    "주식회사 한빛",
    "OPEN 24시 편의점",
    "### 공지 ***\n오늘 휴무",
    "영업시간 10:00~22:00",
    "İstanbul 케밥",
    "가나다 ABC abc 123",
)


def _readings(ref: str) -> list[str]:
    no_space = re.sub(r"\s", "", ref)
    return [
        ref,
        ref.replace("\n", " "),
        ref.replace("\n", "\t"),
        no_space,
        ref.upper(),
        ref.lower(),
        unicodedata.normalize("NFD", ref),
        unicodedata.normalize("NFKC", ref).replace("1", "１"),  # a full-width digit
        ref[:-2],
        ref + ref,
        "이미지의 텍스트는 다음과 같습니다:\n" + ref,
        f"```\n{ref}\n```",
        f'"{ref}"',
        ref.replace(" ", "\u3000"),
        "#\n##" + ref,  # the newline becomes a space first: the three # stay
        "###" + ref + "***",
        "",
        "   \n",
        "I cannot read this image.",
        ref[::-1],
    ]


PAIRS = [(ref, reading) for ref in REFERENCES for reading in _readings(ref)]


def test_enough_varied_readings() -> None:
    assert len(PAIRS) >= 100 and len(set(PAIRS)) >= 100


@pytest.mark.parametrize("reference,reading", PAIRS)
def test_each_image_scores_as_published(reference: str, reading: str) -> None:
    counts = ccocr_counts(reading, reference)
    gt = vlm_tokenize(reference.strip(), False, True, False)
    pred = vlm_tokenize(reading.strip(), False, True, False)
    assert ccocr_char_tokens(reading.strip()) == pred
    assert (counts.right, counts.n_reference, counts.n_prediction) == (
        vlm_right(gt, pred),
        len(gt),
        len(pred),
    )
    (expected,) = vlm_evaluate({"x": reading}, {"x": reference})["per_image_f1"]
    assert ccocr_f1(counts) == expected  # the same arithmetic, bit for bit


def test_macro_and_micro_are_the_published_ones() -> None:
    names = [f"{n}.jpg" for n in range(len(PAIRS))]
    gts = {name: ref for name, (ref, _) in zip(names, PAIRS, strict=True)}
    preds = {name: reading for name, (_, reading) in zip(names, PAIRS, strict=True)}
    published = vlm_evaluate(preds, gts)
    counts = [ccocr_counts(preds[n], gts[n]) for n in names]
    macro = sum(ccocr_f1(c) for c in counts) / len(counts)
    dice = [ccocr_dice(c) for c in counts]
    micro = sum(v * w for v, w in dice) / sum(w for _, w in dice)
    assert macro == pytest.approx(published["macro_f1_score"], rel=1e-8)
    assert micro == pytest.approx(published["mirco_f1_score"], rel=1e-8)
    lmms = [{"subset": "Korean", "gt": gts[n], "pred": preds[n]} for n in names]
    assert macro == pytest.approx(lmms_compute_track(lmms, "macro_f1"), rel=1e-8)
    assert micro == pytest.approx(lmms_compute_track(lmms, "micro_f1"), rel=1e-8)


def test_token_rules_by_hand() -> None:
    assert ccocr_char_tokens("A b\n\t다") == ["a", "b", "다"]
    assert ccocr_char_tokens("#\n##가") == ["#", "#", "#", "가"]  # a newline between them: kept
    assert ccocr_char_tokens("####가***") == ["#", "가"]
    assert ccocr_char_tokens("İ") == ["i̇"]  # one token, lower-cased on its own
    assert len(ccocr_char_tokens(unicodedata.normalize("NFD", "한"))) == 3  # not composed
    assert ccocr_dice(ccocr_counts("", "")) == (0.0, 0) and ccocr_f1(ccocr_counts("", "")) == 0.0


# --- the task from the mirror --------------------------------------------------------------------------


def test_prompts_are_the_rows_questions(tmp_path: Path) -> None:
    (task,) = resolve_tasks(["cc-ocr-ko"])
    prepared = prepare_task(
        task,
        DataOptions(data_dir=write_ccocr(tmp_path / "d")),
        ScoringOptions(),
        JudgeOptions(),
        tmp_path / "c",
    )
    assert [i.id for i in prepared.items] == [name for name, _ in KOREAN]  # the Japanese row is not read
    asked = [i for i in prepared.items if i.request is not None]
    assert all(i.prompt == PROMPT for i in asked) and len(asked) == len(KOREAN) - 1
    assert [i.failure for i in prepared.items if i.request is None] == ["missing reference text"]
    assert prepared.generation.max_new_tokens == 4096 and asked[0].request.kind == "read"


def test_cc_ocr_ko_end_to_end(monkeypatch, tmp_path: Path) -> None:
    model = ScriptedModel(lambda r: RESPONSES[r.id])
    register(monkeypatch, model)
    result = evaluate(
        "scripted:x",
        "cc-ocr-ko",
        data_dir=write_ccocr(tmp_path / "d"),
        cache_dir=tmp_path / "c",
        output=tmp_path / "out",
    )
    task = result.tasks["cc-ocr-ko"]
    assert sorted(model.calls) == sorted(RESPONSES)
    assert task.n_rows == 8 and task.n == 7 and task.failure_reasons == {"missing reference text": 1}
    assert task.primary_metric == "ccocr_macro_f1"
    proto, kob = task.pipelines["protocol"], task.pipelines["kobench"]
    # Per image (right / reference tokens / reading tokens; spaces never count):
    #   0001 14/14/14 -> F1 1;  0002 12/12/28 (the 16-character preamble) -> 0.6, kobench cleans it: 1;
    #   0003 5/6/6 -> 5/6;  0004 7/7/7 (lower-cased) -> 1;  0005 NFD: 0/5/12 -> 0, kobench (NFC) 5/5/5 -> 1;
    #   0006 2/2/2 ("###" and "***" deleted) -> 1;  0007 0/9/0 -> 0.
    assert proto.metrics["ccocr_macro_f1"].value == pytest.approx(100 * (1 + 0.6 + 5 / 6 + 1 + 0 + 1 + 0) / 7)
    assert kob.metrics["ccocr_macro_f1"].value == pytest.approx(100 * (1 + 1 + 5 / 6 + 1 + 1 + 1 + 0) / 7)
    # micro = 2 * sum(right) / (sum(reference) + sum(reading))
    assert proto.metrics["ccocr_micro_f1"].value == pytest.approx(100 * 2 * 40 / (55 + 69))
    assert kob.metrics["ccocr_micro_f1"].value == pytest.approx(100 * 2 * 45 / (55 + 46))
    # ... and the published evaluator gives the same on the same rows and responses.
    gts = {name: ref for name, ref in KOREAN if ref}
    published = vlm_evaluate(RESPONSES, gts)
    assert proto.metrics["ccocr_macro_f1"].value == pytest.approx(100 * published["macro_f1_score"], rel=1e-8)
    assert proto.metrics["ccocr_micro_f1"].value == pytest.approx(100 * published["mirco_f1_score"], rel=1e-8)
    assert proto.n_unparsed == 1 and kob.n_unparsed == 1  # the empty reading
    assert {"cer", "char_f1", "char_iou"} <= set(kob.metrics)
    assert proto.parser == "as-written@1" and kob.parser == "clean-reading@1"

"""MTVQA's Korean subset as lmms-eval and VLMEvalKit run MTVQA: the flattening of qa_pairs, the prompt and the
containment score, each checked against an independent re-implementation written from the published code
(lmms-eval lmms_eval/tasks/mtvqa/utils.py at d8fcb9c; VLMEvalKit vlmeval/dataset/image_vqa.py
MTVQADataset at e8e78f0), nothing from kobench; kobench's Korean-aware containment on cases worked out by
hand; and the task end to end from the synthetic mirror (tests/fixtures_mtvqa.py)."""

from __future__ import annotations

import ast
import itertools
import unicodedata
from pathlib import Path

import pytest
from fixtures_mtvqa import TEST_IMAGES, write_mtvqa
from scripted_model import ScriptedModel, register

from kobench.api import evaluate
from kobench.config import DataOptions, JudgeOptions, ScoringOptions
from kobench.data.loader import Table
from kobench.data.records import explode_records
from kobench.errors import BadInputError
from kobench.families import resolve_tasks
from kobench.metrics.mtvqa import korean_contains, mtvqa_contains
from kobench.run.prepare import prepare_task

SUFFIX = "\nAnswer the question using a word or phrase in the language of the question."

# --- the published code, re-implemented --------------------------------------------------------------


def lmms_parse_qa_pairs(value) -> list[dict]:
    """lmms-eval _parse_qa_pairs: a list as it is, a string through ast.literal_eval ([] when it fails or is
    blank), anything else []; then only dicts, question and answer str()-ed and stripped, both non-empty."""
    if isinstance(value, list):
        pairs = value
    elif isinstance(value, str):
        raw = value.strip()
        if not raw:
            return []
        try:
            parsed = ast.literal_eval(raw)
        except (SyntaxError, ValueError):
            return []
        pairs = parsed if isinstance(parsed, list) else []
    else:
        return []
    out = []
    for pair in pairs:
        if not isinstance(pair, dict):
            continue
        question = str(pair.get("question", "")).strip()
        answer = str(pair.get("answer", "")).strip()
        if question and answer:
            out.append({"question": question, "answer": answer})
    return out


def lmms_process_docs(rows: list[dict]) -> list[dict]:
    """lmms-eval mtvqa_process_docs: per image (id stripped, or mtvqa_<idx>), one doc per parsed pair."""
    docs = []
    for idx, row in enumerate(rows):
        sample_id = str(row.get("id", "")).strip() or f"mtvqa_{idx}"
        category = str(row.get("lang", "")).strip() or "unknown"
        for qa_idx, qa in enumerate(lmms_parse_qa_pairs(row.get("qa_pairs"))):
            docs.append(
                {
                    "question_id": f"{sample_id}_{qa_idx}",
                    "category": category,
                    "question": qa["question"],
                    "answer": qa["answer"],
                }
            )
    return docs


def lmms_doc_to_text(doc: dict) -> str:
    """lmms-eval mtvqa_doc_to_text, mtvqa.yaml's kwargs: pre_prompt "", the stripped question, post_prompt."""
    return f"{''}{str(doc['question']).strip()}{SUFFIX}"


def lmms_score(answer: str, response: str) -> float:
    """lmms-eval mtvqa_process_results."""
    prediction = str(response)
    pred = prediction.strip().lower().replace(".", "")
    gold = str(answer).strip().lower().replace(".", "")
    return 1.0 if gold in pred else 0.0


def vlmevalkit_score(answer: str, response: str) -> float:
    """VLMEvalKit MTVQADataset.evaluate, one row (answer and prediction str()-ed first)."""
    ans = str(answer).strip().lower().replace(".", "")
    pred = str(response).strip().lower().replace(".", "")
    return 1.0 if ans in pred else 0.0


# --- varied answers and responses ----------------------------------------------------------------------

ANSWERS = (
    "한빛 분식",
    "02-123-4567",
    "9시",
    "3층",
    "1,500원",
    "3.5",
    "CU",
    "2023",
    "푸른 바다의 노래",
    "Bäckerei Sonne",
    " 서울 ",
    "v1.2.",
    "１５００원",
)
RESPONSES = (
    "{a}",
    "{a}.",
    " {a} \n",
    "정답은 {a}입니다.",
    "답: {a}",
    "The answer is {a}.",
    "{nospace}",
    "{upper}",
    "**{a}**",
    "'{a}'",
    "1{a}",
    "{a}0",
    "<think>{a}인 것 같다</think>모르겠습니다",
    "<think>생각 중</think>{a}",
    "이미지에서 답을 찾을 수 없습니다.",
    "I cannot read the text.",
    "",
    "   ",
    "{nfd}",
    "{dotted}",
)


def _responses(answer: str) -> list[str]:
    values = {
        "a": answer,
        "nospace": answer.replace(" ", ""),
        "upper": answer.upper(),
        "nfd": unicodedata.normalize("NFD", answer),
        "dotted": ".".join(answer),
    }
    return [template.format(**values) for template in RESPONSES]


CASES = [(a, r) for a in ANSWERS for r in _responses(a)]


def test_enough_varied_cases() -> None:
    assert len(CASES) >= 100 and len(set(CASES)) >= 100


@pytest.mark.parametrize("answer,response", CASES)
def test_protocol_score_is_the_published_one(answer: str, response: str) -> None:
    expected = lmms_score(answer, response)
    assert vlmevalkit_score(answer, response) == expected  # the two harnesses agree
    assert mtvqa_contains(response, [answer]) == expected


def test_the_published_rule_has_the_false_matches_kobench_avoids() -> None:
    assert lmms_score("3층", "13층") == 1.0 and korean_contains("13층", ["3층"]) == 0.0
    assert lmms_score("CU", "CUBE 편의점") == 1.0 and korean_contains("CUBE 편의점", ["CU"]) == 0.0
    assert lmms_score("한빛 분식", "한빛분식") == 0.0 and korean_contains("한빛분식", ["한빛 분식"]) == 1.0


@pytest.mark.parametrize(
    "response,answer,expected",
    [
        ("한빛분식입니다.", "한빛 분식", 1.0),  # spacing is not compared
        ("태양의 마테차", "태양의마테차", 1.0),
        ("1500원", "1,500원", 1.0),  # punctuation is not compared
        ("2024-01-05", "2024.01.05", 1.0),
        ("１５００원", "1500원", 1.0),  # NFKC
        ("ＣＵ 편의점", "cu", 1.0),  # NFKC, then case folding
        (unicodedata.normalize("NFD", "서울역"), "서울역", 1.0),  # conjoining jamo
        ("서울입니다", "서울", 1.0),  # a particle or copula may follow a Korean answer
        ("13층", "3층", 0.0),  # no number inside a longer number
        ("3층", "3층", 1.0),
        ("2023년", "3", 0.0),
        ("1 3층", "3층", 1.0),  # a space is a boundary
        ("3kg", "3", 1.0),  # a digit boundary looks at digits only
        ("CUBE", "CU", 0.0),  # no Latin word inside a longer one
        ("GS25 편의점", "GS25", 1.0),
        ("GS250", "GS25", 0.0),
        ("50%", "50%", 1.0),  # % is compared
        ("50", "50%", 0.0),
        ("가격은 - 입니다", "-", 1.0),  # only punctuation: looked for as written
        ("가격은 없습니다", "-", 0.0),
        ("", "서울", 0.0),
    ],
)
def test_korean_containment(response: str, answer: str, expected: float) -> None:
    assert korean_contains(response, [answer]) == expected


def test_any_accepted_answer_counts() -> None:
    assert (
        korean_contains("부산", ["서울", "부산"]) == 1.0 and mtvqa_contains("부산", ["서울", "부산"]) == 1.0
    )


# --- flattening qa_pairs ---------------------------------------------------------------------------------


def _table(cells: list) -> Table:
    rows = [{"id": f"KR_{n}", "lang": "KR", "qa_pairs": cell} for n, cell in enumerate(cells)]
    return Table(rows, ["id", "lang", "qa_pairs"], "test rows", [], None)


def test_records_flatten_as_lmms_eval_does() -> None:
    cells = [
        str([{"question": "가게 이름은?", "answer": "한빛"}, {"question": "층수는?", "answer": "3층"}]),
        [{"question": "  제목은?\n", "answer": " 노래 "}],  # a list cell, as lmms-eval also reads
        "[]",
        None,
        '[{"question": "연도는?", "answer": 2023}]',  # a non-text answer is str()-ed
    ]
    table = explode_records(_table(cells), "qa_pairs")
    assert table.columns == ["id", "lang", "question", "answer", "record"]
    ours = [
        (f"{r['id']}_{r['record']}", str(r["question"]).strip(), str(r["answer"]).strip()) for r in table.rows
    ]
    published = lmms_process_docs(
        [{"id": f"KR_{n}", "lang": "KR", "qa_pairs": c} for n, c in enumerate(cells)]
    )
    assert ours == [(d["question_id"], d["question"], d["answer"]) for d in published]


def test_records_keep_what_lmms_eval_drops_for_the_family_to_fail() -> None:
    table = explode_records(
        _table([str([{"question": " ", "answer": "없음"}, {"question": "q"}])]), "qa_pairs"
    )
    assert [(r["question"], r["answer"], r["record"]) for r in table.rows] == [
        (" ", "없음", 0),
        ("q", None, 1),
    ]


@pytest.mark.parametrize(
    "cell,message",
    [
        ("[{'question': '가',", "not a list of records"),
        ("{'question': '가'}", "expected a list of records"),
        ("['가', '나']", "expected a list of records"),
        (str([{"lang": "KO"}]), "already columns"),
        (str([{"record": 1}]), "already columns"),
    ],
)
def test_bad_records_name_the_row_and_column(cell: str, message: str) -> None:
    with pytest.raises(BadInputError, match=message) as caught:
        explode_records(_table(["[]", cell]), "qa_pairs")
    assert "row 2" in str(caught.value) and "qa_pairs" in str(caught.value)


def test_a_missing_records_column_is_named() -> None:
    with pytest.raises(BadInputError, match="'pairs'"):
        explode_records(_table([]), "pairs")


# --- the task from the mirror --------------------------------------------------------------------------


def _published_docs() -> list[dict]:
    rows = [
        {"id": i, "lang": lang, "qa_pairs": str([{"question": q, "answer": a} for q, a in pairs])}
        for i, lang, pairs in TEST_IMAGES
    ]
    return [d for d in lmms_process_docs(rows) if d["category"] == "KR"]


def test_prompts_and_rows_are_the_published_ones(tmp_path: Path) -> None:
    (task,) = resolve_tasks(["mtvqa-ko"])
    prepared = prepare_task(
        task,
        DataOptions(data_dir=write_mtvqa(tmp_path / "d")),
        ScoringOptions(),
        JudgeOptions(),
        tmp_path / "c",
    )
    asked = [item for item in prepared.items if item.request is not None]
    docs = _published_docs()  # lmms-eval drops KR_1_2 (a blank question); kobench fails it, counted
    assert [i.id for i in asked] == [d["question_id"] for d in docs]
    assert [i.prompt for i in asked] == [lmms_doc_to_text(d) for d in docs]
    assert [i.target for i in asked] == [[d["answer"]] for d in docs]
    assert [(i.id, i.failure) for i in prepared.items if i.request is None] == [
        ("KR_1_2", "missing question")
    ]
    assert prepared.generation.max_new_tokens == 64
    assert len(asked[0].request.images) == 1


RESPONSES_E2E = {
    "KR_0_0": "한빛분식입니다.",  # protocol 0 (spacing), kobench 1
    "KR_0_1": "전화번호는 02-123-4567입니다",  # 1, 1
    "KR_0_2": "오전 9시",  # 1, 1
    "KR_1_0": "13층",  # protocol 1 ("3층" in "13층"), kobench 0
    "KR_1_1": "1500원",  # protocol 0 (the comma), kobench 1
    "KR_2_0": "<think>푸른 바다의 노래일까?</think>잘 모르겠습니다",  # protocol 1 (inside the think block), 0
    "KR_2_1": "",  # 0, 0, unparsed in both
    "KR_2_2": "CUBE 편의점",  # protocol 1 ("cu" in "cube"), kobench 0
}


def test_mtvqa_ko_end_to_end(monkeypatch, tmp_path: Path) -> None:
    model = ScriptedModel(lambda r: RESPONSES_E2E[r.id])
    register(monkeypatch, model)
    result = evaluate(
        "scripted:x",
        "mtvqa-ko",
        data_dir=write_mtvqa(tmp_path / "d"),
        cache_dir=tmp_path / "c",
        output=tmp_path / "out",
    )
    task = result.tasks["mtvqa-ko"]
    # Only the Korean test images are asked: not JA_0 / DE_0, not the train split's KR_9.
    assert sorted(model.calls) == sorted(RESPONSES_E2E)
    assert task.n_rows == 9 and task.n == 8 and task.n_failed == 1
    assert task.failure_reasons == {"missing question": 1}
    proto, kob = task.pipelines["protocol"], task.pipelines["kobench"]
    assert proto.parser == "mtvqa-contains@1" and kob.parser == "ko-contains@1"
    assert proto.metrics["accuracy"].value == pytest.approx(100 * 5 / 8)
    assert kob.metrics["accuracy"].value == pytest.approx(100 * 4 / 8)
    assert proto.n_unparsed == 1 and kob.n_unparsed == 1
    # The protocol value is the published one: lmms-eval's mean over the same documents and responses.
    docs = {d["question_id"]: d for d in _published_docs()}
    published = [lmms_score(docs[i]["answer"], RESPONSES_E2E[i]) for i in RESPONSES_E2E]
    assert proto.metrics["accuracy"].value == pytest.approx(100 * sum(published) / len(published))
    assert task.dataset.hub_id == "ByteDance/MTVQA"


def test_every_combination_of_the_e2e_rules_is_covered() -> None:
    # Each of the four (protocol, kobench) outcomes occurs in the end-to-end responses.
    docs = {d["question_id"]: d for d in _published_docs()}
    outcomes = {
        (
            mtvqa_contains(r, [docs[i]["answer"]]),
            korean_contains(r.split("</think>")[-1], [docs[i]["answer"]]),
        )
        for i, r in RESPONSES_E2E.items()
    }
    assert outcomes == set(itertools.product((0.0, 1.0), repeat=2))

"""HRM8K as its authors evaluate it (GitHub gauss5930/HRM8K, commit d5a6fd5): the Korean prompt of
src/prompts.py joined as src/generate.py joins it, and the `original` answer check of src/score.py and
src/check.py, compared with an independent re-implementation of that code (tests/hrm8k_reference.py) on
generated responses; kobench's own final-answer reading on hand-labelled ones; and whole runs on the
synthetic mirror (tests/fixtures_hrm8k.py) with a scripted model and the tiny text model."""

from __future__ import annotations

from pathlib import Path

import hrm8k_reference as reference
import pytest
from fixtures_hrm8k import all_rows, write_mirror
from scripted_model import ScriptedModel, register

from kobench.api import evaluate
from kobench.config import DataOptions, JudgeOptions, ScoringOptions
from kobench.extract.hrm8k import protocol_verdict
from kobench.extract.math_answer import final_answer, kobench_verdict, same_answer
from kobench.families import load_tasks
from kobench.families.math import _math_verify_equal
from kobench.report.leaderboard import render_table
from kobench.results import load_results
from kobench.run.prepare import prepare_task

# src/prompts.py prompts["ko"]
KO_PROMPT = "주어진 문제를 한국어로 풀고 최종 답을 다음 형식으로 출력하시오: 최종 정답은 \\boxed{n}."


@pytest.fixture(scope="module")
def mirror(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_mirror(tmp_path_factory.mktemp("hrm8k"))


def test_prompt_is_the_published_one(mirror: Path, tmp_path: Path) -> None:
    task = load_tasks()["hrm8k"]
    prepared = prepare_task(task, DataOptions(data_dir=mirror), ScoringOptions(), JudgeOptions(), tmp_path)
    rows = all_rows()
    assert len(prepared.items) == len(rows) == 22
    for item, row in zip(prepared.items, rows, strict=True):
        (message,) = item.request.messages
        assert message.role == "user"
        assert message.text == " ".join([row["question"], KO_PROMPT]).strip()  # generate_queries
        assert item.request.generation.max_new_tokens == 8192 and item.request.generation.temperature == 0
        assert item.target["question"] == row["question"] and item.target["subset"] == row["subset"]
        assert str(item.target["answer"]) == str(row["answer"])  # a mixed column of a local CSV: text
    assert task.modality == "text" and task.category == "Math"


def _responses(answer: object, question: str) -> list[str]:
    """Varied outputs for one problem: right and wrong, boxed and not, the cases the published code reads
    oddly (thousands separators, signs, a box of commas, option texts, several boxes)."""
    a = str(answer)
    wrong = "17" if a != "17" else "18"
    options = [line.split(". ", 1)[1] for line in question.split("\n")[1:] if ". " in line]
    option_text = options[int(float(a)) - 1] if options and a.replace(".", "").isdigit() else "없음"
    return [
        f"풀이를 해 보면 ...\n최종 정답은 \\boxed{{{a}}}.",
        f"최종 정답은 \\boxed{{{wrong}}}.",
        f"계산하면 {a}입니다.\n따라서 답은 {a}",
        f"정답은 {a}입니다.\n(검산 완료)",  # the last line has no number
        f"정답은 {a}번입니다.",
        f"\\boxed{{ {a} }}",
        f"\\boxed{{{a}}} 이 아니라 \\boxed{{{wrong}}}",
        f"\\boxed{{{wrong}}} 이 아니라 \\boxed{{{a}}}",
        "\\boxed{,}",  # a box of commas: float('') raises
        f"\\boxed{{{a},}}",
        f"합계는 1,{a}",  # "1,7": the last-line number is 7, the box rule sees none
        f"답: -{a}",
        f"The final answer is \\boxed{{{a}}}.",
        f"<think>{wrong}</think>\n최종 정답은 \\boxed{{{a}}}.",
        f"최종 정답은 $\\boxed{{{option_text}}}$.",
        f"\\boxed{{\\text{{{a}}}}}",
        f"{a}.0",
        f"\\boxed{{{a}.00}}",
        "",
        "모르겠습니다.",
    ]


CASES = [
    (row, response) for row in all_rows() for response in _responses(row["answer"], str(row["question"]))
]


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= 400
    outcomes = {reference.check(r["subset"], r["question"], text, r["answer"]) for r, text in CASES}
    assert outcomes == {"O", "X", "E"}


@pytest.mark.parametrize(("row", "response"), CASES)
def test_protocol_check_is_the_published_one(row: dict, response: str) -> None:
    published = reference.check(row["subset"], row["question"], response, row["answer"])
    verdict = protocol_verdict({k: row[k] for k in ("answer", "question", "subset")}, response)
    assert verdict["correct"] == (1.0 if published == "O" else 0.0)
    assert (verdict["found_by"] == "error") == (published == "E")
    if published == "E":
        assert verdict["parsed"] is None


# Hand-labelled: (response, reference answer, question, what kobench reads, right?)
LABELLED = [
    ("따라서 최종 정답은 \\boxed{1,250}입니다.", 1250, "", "1,250", True),
    ("최종 정답은 \\boxed{-5}.", -5, "", "-5", True),  # the published check never reads a sign
    ("밤 기온은 영하 5도, 즉 -5도입니다.", -5, "", "-5", True),
    ("정답은 10,000원입니다.", 10000, "", "10,000원", True),
    ("정답은 7개입니다.", 7, "", "7개", True),
    ("답: 60자루", 60, "", "60자루", True),
    ("The final answer is 14.", 14, "", "14", True),
    ("\\boxed{\\dfrac{1}{2}}", 0.5, "", "\\dfrac{1}{2}", True),
    ("\\boxed{0.50}", 0.5, "", "0.50", True),
    ("\\boxed{1/2}", "\\frac{1}{2}", "", "1/2", True),
    ("\\boxed{\\frac{2}{4}}", "\\frac{1}{2}", "", "\\frac{2}{4}", True),
    ("\\boxed{\\sqrt{3}}", "\\sqrt{3}", "", "\\sqrt{3}", True),
    ("\\boxed{\\frac{\\sqrt{12}}{2}}", "\\sqrt{3}", "", "\\frac{\\sqrt{12}}{2}", True),  # Math-Verify
    ("\\boxed{2\\sqrt{3}}", "\\sqrt{3}", "", "2\\sqrt{3}", False),
    ("정답은 ③입니다.", 3, "다음 중?\n1. 21\n2. 27\n3. 29\n4. 33", "③", True),
    ("정답은 3번입니다.", "3", "몇 도?\n1. 100\n2. 110\n3. 120\n4. 135", "3번", True),
    ("\\boxed{29}", 3, "다음 중?\n1. 21\n2. 27\n3. 29\n4. 33", "29", False),  # 29 is the text, 3 the option
    ("정답은 29입니다", 3, "다음 중?\n1. 21\n2. 27\n3. 29\n4. 33", "29", False),
    ("최종 정답: 포도", 2, "과일은?\n1. 돌\n2. 포도\n3. 쇠", "포도", True),
    ("\\boxed{120^\\circ}", 120, "", "120^\\circ", True),
    ("\\boxed{30분}", "30분", "", "30분", True),
    ("\\boxed{30}", "30분", "", "30", True),  # the unit the reference carries may be left out
    ("\\boxed{30초}", "30분", "", "30초", False),  # a different unit is wrong
    ("\\boxed{x = 4}", 4, "", "x = 4", True),
    ("\\boxed{7} 이 아니라 \\boxed{8}", 8, "", "8", True),  # the last box is the final answer
    ("1부터 세면 3, 6, 9, ... 99까지 33개", 33, "", "33", True),
    ("<think>음... 17</think>정답은 33입니다.", 33, "", "33", True),
    ("<think>아직 푸는 중", 33, "", None, False),  # cut off in its reasoning: unparsed
    ("모르겠습니다.", 33, "", None, False),
    ("", 33, "", None, False),
    ("\\boxed{33", 33, "", "33", True),  # a box that never closes is no box; the last number stands
]


@pytest.mark.parametrize(("response", "answer", "question", "parsed", "right"), LABELLED)
def test_kobench_reads_the_final_answer(response, answer, question, parsed, right) -> None:
    verdict = kobench_verdict({"answer": answer, "question": question}, response, _math_verify_equal)
    assert verdict["parsed"] == parsed
    assert verdict["correct"] == float(right)


def test_where_the_final_answer_is_found() -> None:
    assert final_answer("\\boxed{3}") == ("3", "boxed")
    assert final_answer("정답은 3입니다") == ("3", "answer-sentence")
    assert final_answer("하나, 둘, 그리고 3") == ("3", "last-number")
    assert final_answer("없음") == (None, "none")
    assert final_answer("<think>...") == (None, "cut-off")
    assert same_answer("1,234", "1234") and not same_answer("1,23", "123")  # a misplaced separator


def _script(row: dict, n: int) -> str:
    """Run n's answer to a row: four kinds in turn (the published check and kobench differ on two)."""
    a = row["answer"]
    return [
        f"풀이 ...\n최종 정답은 \\boxed{{{a}}}.",  # both right
        f"정답은 {a}입니다.\n검산했습니다.",  # published: no number on the last line, wrong; kobench: right
        "답을 모르겠습니다.",  # unparsed in both
        f"\\boxed{{{a}}} 아니 \\boxed{{98765}}",  # published reads the first box; kobench the last (wrong)
    ][n % 4]


def test_run_scores_as_published(monkeypatch, mirror: Path, tmp_path: Path) -> None:
    rows = all_rows()
    answers = {str(n): _script(row, n) for n, row in enumerate(rows)}
    register(monkeypatch, ScriptedModel(lambda r: answers[r.id]))
    result = evaluate("scripted:x", "hrm8k", data_dir=mirror, use_cache=False, output=tmp_path / "out")
    task = result.tasks["hrm8k"]
    assert task.modality == "text" and task.n == len(rows) == 22 and task.n_failed == 0 and task.complete

    def published(ids: list[int]) -> float:
        marks = [
            reference.check(rows[i]["subset"], rows[i]["question"], answers[str(i)], rows[i]["answer"])
            for i in ids
        ]
        return 100 * marks.count("O") / len(ids)

    protocol, kobench = task.pipelines["protocol"], task.pipelines["kobench"]
    assert protocol.parser == "hrm8k-original@1" and kobench.parser == "kobench-math@1"
    assert protocol.metrics["accuracy"].value == pytest.approx(published(list(range(len(rows)))))
    for subset in ("GSM8K", "MATH", "OMNI_MATH", "MMMLU", "KSM"):
        ids = [i for i, row in enumerate(rows) if row["subset"] == subset]
        assert protocol.breakdown["subset"][subset].value == pytest.approx(published(ids))
        assert protocol.breakdown["subset"][subset].n == len(ids)
    # Hand count: kobench is right on kinds 0 and 1 (the box; "정답은 X입니다", the -5 of GSM8K included),
    # wrong on kind 3 (its last box), and reads nothing of kind 2.
    right = [i for i in range(len(rows)) if i % 4 in (0, 1)]
    assert kobench.metrics["accuracy"].value == pytest.approx(100 * len(right) / len(rows))
    assert kobench.n_unparsed == len([i for i in range(len(rows)) if i % 4 == 2])
    # The published check reads nothing of "정답은 X입니다." followed by a line without a number either.
    assert protocol.n_unparsed == len([i for i in range(len(rows)) if i % 4 in (1, 2)])
    assert set(kobench.breakdown["found_by"]) == {"boxed", "answer-sentence", "none"}
    assert set(protocol.breakdown["found_by"]) == {"boxed", "none"}
    assert "kobench-equivalence:math-verify-" in kobench.signature
    demo = load_results(Path(__file__).parents[1] / "results" / "demo" / "chance" / "results.json")
    image, text = render_table([result, demo]).split("**Text benchmarks**")  # its own table, under Math
    assert "hrm8k" not in image and "| Math" in text and "hrm8k" in text


def test_tiny_text_model_runs_it_offline(mirror: Path, tmp_path: Path) -> None:
    from kobench.testing.tiny_models import build_tiny_text_lm

    folder = build_tiny_text_lm(tmp_path / "lm")
    result = evaluate(
        f"hf:{folder}", "hrm8k", data_dir=mirror, max_new_tokens=6, use_cache=False, output=tmp_path / "out"
    )
    task = result.tasks["hrm8k"]
    assert task.n == 22 and task.n_failed == 0 and task.generation_overridden == ["max_new_tokens"]
    for pipeline in task.pipelines.values():  # a random model's text: mostly unparsed, never guessed
        assert 0 <= pipeline.metrics["accuracy"].value <= 100
        assert sum(g.n for g in pipeline.breakdown["found_by"].values()) == 22

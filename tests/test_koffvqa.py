# ruff: noqa: E501 (the published judge prompt, line for line as in src/judges.py)
"""KOFFVQA (maum-ai/KOFFVQA_Data): the published judge prompt, score parser and Korean-answer rule, each
checked against an independent re-implementation of maum-ai/KOFFVQA's code (commit c6a861d), and the task
end to end from a synthetic mirror with a loopback judge, the numbers worked out by hand."""

from __future__ import annotations

import json
import re
from itertools import product
from pathlib import Path
from string import punctuation, whitespace

import py3langid as langid
import pytest
from fixtures_koffvqa import koffvqa_rows, write_koffvqa

from kobench.api import evaluate
from kobench.errors import BadInputError
from kobench.families import resolve_tasks
from kobench.judge.koffvqa import is_korean_answer, parse_koffvqa_score
from kobench.judge.messages import judge_messages
from kobench.report.leaderboard import render_table
from kobench.testing.fake_openai import FakeOpenAIServer, Reply

# src/judges.py, as published (commit c6a861d); evaluate.py formats it with the question, the prediction
# and the answer column (the grading criteria).
BASE_JUDGE_PROMPT = """
어떤 사진에 대한 질문과 답변, 그리고 채점 기준이 다음과 같이 주어질 때, 주어진 채점 기준 항목을 기준으로 답변이 얼마나 옳은 답변인지 채점을 한 결과가 필요합니다.

사진은 주어지지 않지만, 아래 주어질 채점 기준을 바탕으로 어떤 내용인지 추정이 가능합니다. 채점 기준을 기반으로만 채점해 주세요.

채점의 목적은 주어진 답변이 사람이 보기에 얼마나 올바르고 질이 좋은 답변인지 판단하는 것입니다. 이것을 고려해서 채점해 주세요.

질문은 아래와 같습니다.
> "{0}"

그리고 이 질문에 대한 답변은 아래와 같습니다.
> "{1}"

위의 답변을 채점할 채점 기준은 다음과 같습니다.

{2}

위 기준을 바탕으로 답변을 10점 만점의 점수로 채점하세요. 단, 채점 기준의 각 항목을 부분적으로만 만족하는 경우에도 부분 점수는 없습니다. 무조건 0에서 10 사이의 점수로 채점해야 합니다.

단, 유의어 또는 유사한 표현을 사용한 설명은 말이 정확히 같지 않더라도 옳을 수 있습니다. 단, 여기에 예외가 있는데, 사진에 있는 글을 그대로 읽어야 하는 질문의 경우에는 유의어라도 정확히 일치하지 않게 잘못 읽었다면 틀린 답변입니다.

먼저 각 채점 기준에 대한 판단을 나열하고, 채점 결과를 종합하여 맨 마지막 줄에 "최종 점수: 10점 만점에 X점"의 형식으로 최종 점수를 쓰세요.
""".strip()


def published_parse_score(review, trace: list | None = None):
    """src/utils.py parse_score, re-typed line by line; `trace` records a fallback to 0."""
    try:
        for word in review.split()[::-1]:
            digs = []
            for c in word[::-1]:
                if not c.isdigit():
                    if len(digs) > 0:
                        break
                    else:
                        continue
                else:
                    digs.append(c)
            if len(digs) > 0:
                result = int("".join(digs[::-1]))
                if result > 10:
                    if trace is not None:
                        trace.append("over 10")
                    return 0
                return result
        if trace is not None:
            trace.append("no number")
        return 0
    except ValueError:
        if trace is not None:
            trace.append("int() failed")
        return 0


def published_counts_answer(prediction) -> bool:
    """evaluate.py's language filter, re-typed: lang_filter True keeps the judge's score."""
    lang_code, _ = langid.classify(str(prediction))
    only_numbers_and_punctuation = all(
        c.isdigit() or c in punctuation or c in whitespace for c in str(prediction)
    )
    return lang_code == "ko" or only_numbers_and_punctuation


def judge_outputs() -> list[str]:
    """Varied judge texts: the asked-for last line and its near misses, reasoning before it, numbers in
    every script and place, out-of-range numbers, refusals, and the empty text."""
    reasoning = (
        "",
        "- 기준 1: 답변이 '사과'라고 정확히 말함 -> 충족\n- 기준 2: 설명 없음 -> 미충족\n\n",
        "Criterion 1 (5 points): met.\nCriterion 2 (5 points): not met.\n",
        "채점 기준 3개 중 2개를 만족합니다.\n",
    )
    finals = (
        "최종 점수: 10점 만점에 {x}점",
        "최종 점수: 10점 만점에 {x}점입니다.",
        "**최종 점수: 10점 만점에 {x}점**",
        "최종 점수: {x}/10",
        "Final score: {x} out of 10",
        "점수: {x}",
        "{x}",
        "최종 점수: 10점 만점에 {x}점 (기준 3개 중 2개 충족)",
    )
    numbers = ("0", "3", "7", "10", "11", "15", "７", "٧", "5.5")
    texts = [r + f.format(x=x) for r, f, x in product(reasoning[:2], finals, numbers)]
    texts += [r + f.format(x=x) for r, f, x in product(reasoning[2:], finals[:3], ("0", "8", "12"))]
    texts += [
        "",
        "   ",
        "채점할 수 없습니다.",
        "Unable to grade this answer.",
        "최종 점수: 10점 만점에 X점",
        "최종 점수: ①점",
        "최종 점수: 10점 만점에 ²점",
        "최종 점수: 10점 만점에 7²점",
        "최종 점수: -3점",
        "점수: 100점",
        "7/10점\n감사합니다",
        "최종 점수: 10점 만점에 6점\n\n(참고: 2024년 기준)",
        "최종점수:8",
        "점수는8점",
        "최종 점수: 10점 만점에 ９점",
        "최종 점수: 10점 만점에 ० 점",
    ]
    return texts


def test_the_judge_score_parser_agrees_with_the_published_one_on_varied_outputs() -> None:
    outputs = judge_outputs()
    assert len(outputs) >= 100 and len(set(outputs)) == len(outputs)
    fallbacks = 0
    for text in outputs:
        trace: list[str] = []
        published = published_parse_score(text, trace)
        ours = parse_koffvqa_score(text)
        if trace:  # the published fallback 0 is not a verdict here: asked again, then counted as failed
            fallbacks += 1
            assert published == 0 and ours is None, (text, trace)
        else:
            assert ours == published, text
    assert fallbacks >= 20  # the fallbacks are well represented
    # The published reading, quirks included: "7/10" is 10, "5.5" is 5, "X점" leaves "10점 만점" as 10.
    assert parse_koffvqa_score("최종 점수: 7/10") == 10
    assert parse_koffvqa_score("최종 점수: 10점 만점에 5.5점") == 5
    assert parse_koffvqa_score("최종 점수: 10점 만점에 X점") == 10
    assert parse_koffvqa_score("최종 점수: 10점 만점에 ７점") == 7


def answers() -> list[str]:
    korean = (
        "사과입니다.",
        "사진 속 과일은 사과입니다.",
        "간판에는 '한빛분식'이라고 적혀 있습니다.",
        "고양이가 자고 있어요.",
    )
    english = (
        "It is an apple.",
        "The sign says HANBIT.",
        "There are three chairs.",
        "A cat sleeping on a sofa.",
    )
    others = ("りんごです。", "这是苹果。", "Это яблоко.", "C'est une pomme.")
    numbers = (
        "3",
        "30",
        "12,000",
        "3.14",
        "(3)",
        "3개",
        "１２",
        "٣",
        "①",
        "²",
        "Ⅲ",
        "10%",
        "-5",
        "3 + 4 = 7",
    )
    mixed = (
        "정답: B",
        "B",
        "A. 사과",
        "The answer is 사과.",
        "사과 (apple)",
        "apple 사과 apple apple apple",
        "<think>The user asks which fruit this is.</think>사과입니다.",
        "<think>음</think>사과",
        "ㅋㅋ",
        "😀",
        "사과🍎",
        "OK",
        "nan",
        "",
        "   ",
        "\n",
        "...",
        "!!!",
        "答案是 3",
        "3 apples",
    )
    texts = list(korean + english + others + numbers + mixed)
    texts += [f"{k} {e}" for k, e in product(korean, english)]
    texts += [f"{e} {n}" for e, n in product(english, numbers[:6])]
    texts += [f"{n}{k}" for n, k in product(numbers[:4], korean)]
    texts += [f"  {k}\n" for k in korean] + [f"**{k}**" for k in korean]
    return texts


def test_the_korean_answer_rule_agrees_with_the_published_filter() -> None:
    texts = answers()
    assert len(texts) >= 100
    decisions = [is_korean_answer(t) for t in texts]
    assert decisions == [published_counts_answer(t) for t in texts]
    assert 20 <= sum(decisions) <= len(texts) - 20  # both kinds well represented
    assert is_korean_answer("12,000") and not is_korean_answer("It is an apple.")


def test_judge_messages_are_the_published_prompt() -> None:
    spec = resolve_tasks(["koffvqa"])[0]
    row = {
        "index": 3,
        "question": "사진 속 과일은?\n한 단어로.",
        "answer": "- '사과'면 10점\n- 아니면 0점",
        "category": "c",
    }
    prediction = "  사과 {{ 아님 }} 입니다.\n"
    messages = judge_messages(spec.judge, row, prediction)
    assert messages == [
        {"role": "user", "content": BASE_JUDGE_PROMPT.format(row["question"], prediction, row["answer"])}
    ]
    assert spec.judge.default_model == "google/gemma-2-9b-it" and spec.judge.system is None
    assert spec.judge.temperature == 0.0 and spec.judge.max_tokens == 1024
    version = spec.prompt.versions[spec.prompt.default]
    assert version.template == "{{ question }}" and version.max_new_tokens == 512 and version.system is None


# The loopback run: the model's answer to each row (i = the number at the end of the question), and what the
# judge says of each answer. Rows 1 and 3 are never judged (not Korean, empty); row 4's protocol answer is
# its raw text, English reasoning included (not Korean), kobench's is "30" (only digits: counted).
ANSWERS = {
    0: "사과입니다.",
    1: "The sign says HANBIT.",
    2: "3",
    3: "",
    4: "<think>The user asks about the number on the sign. I see thirty written clearly.</think>30",
    5: "바나나 같아요.",
    6: "간판에는 한빛분식이라고 적혀 있습니다.",
    7: "의자가 세 개 있습니다.",
    8: "고양이가 자고 있어요.",
    9: "숫자는 30입니다.",
}
VERDICTS = {
    "사과입니다.": "기준 1: 충족\n최종 점수: 10점 만점에 10점",
    "3": "최종 점수: 10점 만점에 10점",
    "30": "'30'이라고 답함.\n최종 점수: 10점 만점에 10점",
    "바나나 같아요.": "과일이 틀림.\n최종 점수: 10점 만점에 0점",
    "간판에는 한빛분식이라고 적혀 있습니다.": "채점할 수 없습니다.",  # no number: never a verdict
    "의자가 세 개 있습니다.": "최종 점수: 10점 만점에 7점",
    "고양이가 자고 있어요.": "고양이 5점, 잠 0점\n최종 점수: 10점 만점에 5점",
    "숫자는 30입니다.": "최종 점수: 10점 만점에 12점",  # above 10: never a verdict
}


def _user_text(body: dict) -> str:
    content = body["messages"][-1]["content"]
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if part.get("type") == "text")
    return content


def script(body: dict, index: int) -> Reply:
    text = _user_text(body)
    if body["model"].startswith("vlm"):
        return Reply(text=ANSWERS[int(re.search(r"\((\d+)\)$", text).group(1))])
    answer = re.search(
        r'그리고 이 질문에 대한 답변은 아래와 같습니다.\n> "(.*)"\n\n위의 답변을', text, re.S
    ).group(1)
    return Reply(text=VERDICTS[answer])


@pytest.fixture()
def mirror(tmp_path: Path) -> Path:
    write_koffvqa(tmp_path / "mirror", koffvqa_rows(10))
    return tmp_path / "mirror"


def _run(
    server: FakeOpenAIServer, mirror: Path, tmp_path: Path, model: str = "vlm", judge: str = "judge", **kw
):
    return evaluate(
        f"openai:{model}@{server.base_url}",
        "koffvqa",
        data_dir=mirror,
        judge=f"{judge}@{server.base_url}",
        cache_dir=tmp_path / "cache",
        **kw,
    )


def test_koffvqa_end_to_end_scores_by_hand(mirror: Path, tmp_path: Path) -> None:
    with FakeOpenAIServer(script) as server:
        result = _run(server, mirror, tmp_path, output=tmp_path / "out")
        asked = [b for _, b in server.requests if b["model"] == "vlm"]
        judged = [b for _, b in server.requests if b["model"] == "judge"]
    task = result.tasks["koffvqa"]
    # Rows 6 and 9 have no verdict after 3 attempts each: counted, left out of both pipelines.
    assert task.judge.n_failed == 2 and task.judge.n_judged == 8
    assert sum(task.judge.failure_reasons.values()) == 2
    assert all("not a koffvqa verdict" in why for why in task.judge.failure_reasons)
    assert not task.complete  # 2 of 10 failed judgements > 5%
    # Scores 0-10 of the 8 kept rows (0, 1, 2, 3, 4, 5, 7, 8); mean x 10.
    protocol = [10, 0, 10, 0, 0, 0, 7, 5]
    kobench = [10, 0, 10, 0, 10, 0, 7, 5]
    assert task.pipelines["protocol"].metrics["judge_score"].value == pytest.approx(10 * sum(protocol) / 8)
    assert task.pipelines["kobench"].metrics["judge_score"].value == pytest.approx(10 * sum(kobench) / 8)
    by_category = task.pipelines["kobench"].breakdown["category"]  # rows by i % 3
    assert by_category["사물 인식"].value == pytest.approx(10 * (10 + 0) / 2)  # rows 0, 3 (6, 9 failed)
    assert by_category["글자 읽기"].value == pytest.approx(10 * (0 + 10 + 7) / 3)  # rows 1, 4, 7
    assert by_category["개수 세기"].value == pytest.approx(10 * (10 + 0 + 5) / 3)  # rows 2, 5, 8
    decided = task.pipelines["protocol"].breakdown["decided_by"]
    assert {k: v.n for k, v in decided.items()} == {"judge": 5, "not-korean": 2, "empty": 1}
    assert task.pipelines["protocol"].n_unparsed == 3 and task.pipelines["kobench"].n_unparsed == 2
    # The model is asked the question alone after the image, for 512 tokens, greedily, with no system turn.
    first = asked[0]
    assert [m["role"] for m in first["messages"]] == ["user"]
    assert [p["type"] for p in first["messages"][0]["content"]] == ["image_url", "text"]
    assert first["temperature"] == 0.0
    # One judge call per distinct answer judged (6), 3 attempts for each of the 2 that never parse; the
    # non-Korean and empty answers are never sent.
    assert len(judged) == 6 + 2 * 3
    assert not any("HANBIT" in _user_text(b) or "thirty" in _user_text(b) for b in judged)
    assert all(b["temperature"] == 0.0 and b["max_tokens"] == 1024 for b in judged)
    rows = {r["index"]: r for r in koffvqa_rows(10)}
    first_judged = next(b for b in judged if "사과입니다." in _user_text(b))
    assert first_judged["messages"] == [
        {
            "role": "user",
            "content": BASE_JUDGE_PROMPT.format(rows[0]["question"], "사과입니다.", rows[0]["answer"]),
        }
    ]
    sample = {
        s["id"]: s
        for s in map(json.loads, (tmp_path / "out" / "samples" / "koffvqa.jsonl").read_text().splitlines())
    }
    assert (
        sample["1"]["protocol"]["unjudged"].startswith("not Korean")
        and sample["1"]["protocol"]["score"] == 0.0
    )
    assert sample["4"]["protocol"]["decided_by"] == "not-korean" and sample["4"]["kobench"]["raw_score"] == 10
    assert "py3langid-" in task.pipelines["kobench"].signature
    assert "judge:judge" in task.pipelines["kobench"].signature


def clean(body: dict, index: int) -> Reply:
    """Every answer Korean and every judgement readable."""
    if body["model"].startswith("vlm"):
        return Reply(text="사과입니다.")
    return Reply(text="최종 점수: 10점 만점에 8점")


def test_another_judge_than_the_judge_of_record_is_marked_in_tables(mirror: Path, tmp_path: Path) -> None:
    with FakeOpenAIServer(clean) as server:
        of_record = _run(server, mirror, tmp_path, model="vlm-a", judge="google/gemma-2-9b-it")
        other = _run(server, mirror, tmp_path, model="vlm-b", judge="Qwen/Qwen2.5-72B-Instruct")
    assert of_record.tasks["koffvqa"].pipelines["kobench"].metrics["judge_score"].value == pytest.approx(80.0)
    line = next(x for x in render_table([of_record, other]).splitlines() if "koffvqa" in x)
    cells = [c.strip() for c in line.split("|")]
    assert cells[-3] == "**80.0**" and cells[-2] == "**80.0** †"  # the same number, another judge: marked


def test_without_a_judge_it_stops_naming_the_judge_of_record(mirror: Path, tmp_path: Path) -> None:
    with FakeOpenAIServer(clean) as server:
        with pytest.raises(BadInputError, match=r"google/gemma-2-9b-it@BASE_URL"):
            evaluate(f"openai:vlm@{server.base_url}", "koffvqa", data_dir=mirror, cache_dir=tmp_path / "c")
        assert server.requests == []


def test_without_py3langid_it_stops_before_any_call(mirror: Path, tmp_path: Path, monkeypatch) -> None:
    from kobench.judge import koffvqa

    monkeypatch.setattr(koffvqa, "langid_version", lambda: None)
    with FakeOpenAIServer(clean) as server:
        with pytest.raises(BadInputError, match=r"pip install 'py3langid>=0.3,<0.4'"):
            _run(server, mirror, tmp_path)
        assert server.requests == []

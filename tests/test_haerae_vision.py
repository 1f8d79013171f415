"""HAERAE-Vision (HAERAE-HUB/HAERAE-VISION): the published judge message, score parser and answer
cleaning, each checked against an independent re-implementation of HAE-RAE/HAERAE-VISION's code (commit
0b3614f), and the task end to end from a synthetic mirror with a loopback judge, worked out by hand."""

from __future__ import annotations

import json
import re
from fractions import Fraction
from itertools import product
from pathlib import Path

import pytest
from fixtures_haerae_vision import haerae_vision_rows, write_haerae_vision

from kobench.api import evaluate
from kobench.families import resolve_tasks
from kobench.judge.haerae_vision import judged_answer, parse_checklist_score
from kobench.judge.messages import judge_messages
from kobench.testing.fake_openai import FakeOpenAIServer, Reply

# utils/evaluate.py prompt_template as published (its {{QUESTION}}-style names are text: never filled in).
PROMPT_TEMPLATE = '[GOAL]\nGiven a **Question**, **Response**, and a natural-language **Checklist**, decide for each checklist item whether the Response **explicitly** satisfies it: **met = 1**, **not met = 0**. Final score = **(# met) / (total checklist items)**.\n\n[INPUT]\n[Question]\n{{QUESTION}}\n\n[Response]\n{{RESPONSE}}\n\n[Checklist]\n{{CHECKLIST}}  ← JSON array or a plain list string. Treat each string as one criterion. Strip any leading numbering like “1.” or “2)”.\n\n[DECISION RULES]\n1. **Use only the Response text.** No outside knowledge/assumptions. If uncertain → 0.\n2. **Explicitness (mentions/explains/indicates).**\n   * 1: Clear, direct statement that fulfills the criterion.\n   * 0.5: Indirect/implicit mention that likely implies fulfillment, but not explicit.\n   * 0: Not mentioned or contradicted.\n   \n3. **“All / every / complete” requirements.**\n   * 1: Explicitly states completeness (e.g., “all”, “every”, or equivalent).\n   * 0.5: Strongly suggests near-completeness (“fill the nests” without “all”, “almost all”).\n   * 0: No completeness requirement or states partial suffices.\n   \n4. **Method / Procedure (“explains how / method”).**\n   * 1: Concrete, actionable steps or clear guidance.\n   * 0.5: Vague or partial steps (general approach without specifics).\n   * 0: No method/procedure provided.\n   \n5. **“Various / multiple types.”**\n   * 1: Names **≥2 distinct, specific types**.\n   * 0.5: Mentions variety without naming types, or names only **1** type.\n   * 0: No indication of multiple types.\n   \n6. **Synonyms.** Accept unambiguous equivalents (e.g., “baby dragon” = “hatchling”).\n   * 1: Unambiguous equivalence.\n   * 0.5: Likely equivalent but slightly ambiguous.\n   * 0: Ambiguous or different meaning.\n\n[Evidence policy]\n* For **met = 1 or 0.5**, include a **10–60 character direct quote** from the Response supporting the decision.\n* For **met = 0 ** include a brief explanation why the response fails the given criteria.\n* In the evidence block, list **evidence first**, then the explanation, then the met value.\n\n[OUTPUT FORMAT — STRICT. NO PROSE OUTSIDE TAGS.] <evidence>\nItem 1:\nevidence: "…direct quote from Response…"\nexplanation: Briefly justify why criterion 1 earned 1/0.5/0 (reference rule numbers if helpful).\nmet: 0 | 0.5 | 1\n\nItem 2:\nevidence: "…"\nexplanation: …\nmet: 0 | 0.5 | 1\n\n… (repeat for all checklist items, in order) </evidence>\n<score>\nK/N \n</score>\n\n[NOTES]\n* Output **only** the two tags above; no code fences, no extra text.'  # noqa: E501 (utils/evaluate.py, one line here)

SYSTEM = "You are a helpful math assistant. Answer precisely in Korean if the prompt is Korean."
SCORE_RE = re.compile(
    r"""<score>\s*([+-]?(?:\d+(?:\.\d+)?|\.\d+))\s*(?:/\s*([+-]?(?:\d+(?:\.\d+)?|\.\d+))\s*)?</score>""",
    re.IGNORECASE | re.DOTALL,
)


def published_score(content):
    """score.py's score for one judge reply: utils/evaluate.py parse_single_score re-typed line by line
    (its "value"), None where it finds no tag or raises (score.py catches every exception)."""
    try:
        matches = SCORE_RE.findall(content)
        if not matches:
            return None
        if len(matches) > 1:
            raise ValueError(f"Expected 1 <score> tag, found {len(matches)}")
        num_s, den_s = matches[0]
        if den_s:
            den_raw = float(den_s)
            if den_raw == 0:
                raise ZeroDivisionError("Denominator is 0 in <score>")
            val_frac = Fraction(num_s).limit_denominator(100000) / Fraction(den_s).limit_denominator(100000)
        else:
            val_frac = Fraction(num_s).limit_denominator(100000)
        return float(val_frac)
    except Exception:
        return None


def published_message(question, response, checklist) -> str:
    """score.py build_messages: the user message for one row."""
    return f"{PROMPT_TEMPLATE}[INPUT]\n{question}\n[Response]\n{response}\n[Checklist]\n{checklist}\n"


def published_strip_reasoning(text):
    """utils/prompts.py strip_reasoning, re-typed."""
    if not isinstance(text, str):
        return ""
    for tag in ["</think>", "</thinking>", "<think>", "<thinking>"]:
        if tag in text:
            text = text.split(tag)[-1].strip()
    return text.strip()


def published_engine_output(content: str) -> str:
    """engines/litellm_engine.py: _safe_parse (content stripped), then strip_reasoning, stripped."""
    resp = content.strip()
    return (published_strip_reasoning(resp) if resp else "").strip()


def judge_outputs() -> list[str]:
    evidence = (
        "",
        '<evidence>\nItem 1:\nevidence: "사과라고 말함"\nexplanation: 기준 충족\nmet: 1\n</evidence>\n',
        "Item 1: met 0.5\n",
    )
    scores = (
        "2/3",
        "1/2",
        "0/4",
        "3/3",
        "2.5/4",
        ".5/1",
        "+1/2",
        "-1/2",
        "5/4",
        "3/0",
        "0/0",
        "0.75",
        "1",
        "0",
        "1.5",
        "1/3",
        "7/9",
        "0.000001/0.000001",
    )
    wrappers = ("<score>{s}</score>", "<score>\n{s} \n</score>", "<SCORE> {s} </SCORE>", "<score>{s}")
    texts = [e + w.format(s=s) for e, w, s in product(evidence[:2], wrappers, scores)]
    texts += [evidence[2] + "<score>" + s.replace("/", " / ") + "</score>" for s in scores[:8]]
    texts += [
        "",
        "no score here",
        "score: 2/3",
        "<score>two/three</score>",
        "<score>2/3/4</score>",
        "<score>1e3</score>",
        "<score>2/3</score><score>1/3</score>",
        "<score>2/3</score>\n<score>2/3</score>",
        "<score></score>",
        "<score>２/３</score>",
        "<score>\n\n2\n/\n3\n\n</score>",
        "<evidence>...</evidence>\n<score>\nK/N \n</score>",
    ]
    return texts


def test_the_score_parser_agrees_with_the_published_one_on_varied_outputs() -> None:
    outputs = judge_outputs()
    assert len(outputs) >= 100 and len(set(outputs)) == len(outputs)
    refused_out_of_range = 0
    for text in outputs:
        published = published_score(text)
        ours = parse_checklist_score(text)
        if published is not None and 0.0 <= published <= 1.0:
            assert ours == published, text
        else:  # no score there, or one outside 0-1 (passed on there, no verdict here)
            assert ours is None, text
            refused_out_of_range += published is not None
    assert refused_out_of_range >= 5
    assert sum(parse_checklist_score(t) is None for t in outputs) >= 30
    assert parse_checklist_score("<score>\n2/3 \n</score>") == pytest.approx(2 / 3)


def responses() -> list[str]:
    bodies = ("정답은 사과입니다.", "  물을 일주일에 한 번 주세요.\n", "", "   ", "Step 1: ...\nStep 2: ...")
    wraps = (
        "{b}",
        "<think>생각 중</think>{b}",
        "<think>a</think>b<think>c</think>{b}",
        "<thinking>\nreasoning\n</thinking>\n\n{b}",
        "reasoning...</think>{b}",
        "<think>unfinished {b}",
        "</thinking>x</think>{b}",
        "<THINK>upper</THINK>{b}",
        "  \n<think>\n</think>\n{b}  ",
        "{b}<think>after</think>",
        "<thinking>t</thinking><think>u</think>{b}",
        "<think>x</thinking>{b}",
        "앞말 <think> 중간 </think> {b}",
        "{b}\n</think>",
        "<think><thinking>nested</thinking></think>{b}",
        "<thinking>{b}",
        "\n\n{b}\n\n",
        "<think>one</think>two</think>{b}",
        "{b} </thinking> 끝",
        "<thinking>a</thinking>b</thinking>{b}",
    )
    return [w.format(b=b) for w, b in product(wraps, bodies)]


def test_the_answer_the_judge_reads_is_the_published_engine_output() -> None:
    texts = responses()
    assert len(texts) >= 100
    assert [judged_answer(t) for t in texts] == [published_engine_output(t) for t in texts]


def test_judge_messages_are_the_published_ones() -> None:
    spec = resolve_tasks(["haerae-vision"])[0]
    row = {
        "question_idx": 7,
        "question_original": "  이거 뭐임?\n",
        "question_explicit": "사진 속 식물의 이름을 알려 주세요.",
        "checklist": '["식물 이름을 밝힌다", "물 주는 주기를 말한다"]',
        "category": "생활",
    }
    response = "몬스테라입니다. {{ 템플릿 아님 }}"
    for version, column in (("original", "question_original"), ("explicit", "question_explicit")):
        messages = judge_messages(spec.judge, {**row, "prompt_version": version}, response)
        assert messages == [
            {"role": "user", "content": published_message(row[column], response, row["checklist"])}
        ]
    assert spec.judge.default_model == "gpt-5-mini" and spec.judge.max_tokens is None
    assert spec.judge.temperature == 1.0
    for version in ("original", "explicit"):
        prompt = spec.prompt.versions[version]
        assert prompt.system == SYSTEM and prompt.max_new_tokens == 512


# The loopback run: the model's answer per row (i = the number the question ends with) and the judge's
# reply per answer. Row 3's answer is all reasoning (nothing after </think>): empty, scored 0 unjudged.
ANSWERS = {
    0: "몬스테라입니다. 물은 일주일에 한 번 주세요.",
    1: "<think>퍼즐을 본다</think>첫 수는 왼쪽 위입니다.",
    2: "기온이 떨어진 이유는 한랭전선 때문입니다.",
    3: "<think>모르겠다</think>",
    4: "식물 이름은 모릅니다.",
    5: "오른쪽부터 차례로 옮기세요.",
    6: "그래프만으로는 알 수 없습니다.",
    7: "합계는 12,000원입니다.",
}
REPLIES = {
    ANSWERS[0]: "<evidence>\nItem 1: met: 1\n</evidence>\n<score>\n2/2 \n</score>",
    "첫 수는 왼쪽 위입니다.": "<evidence>...</evidence>\n<score>\n1/3 \n</score>",
    "기온이 떨어진 이유는 한랭전선 때문입니다.": "<evidence>...</evidence>\n<score>\n1.5/2 \n</score>",
    "식물 이름은 모릅니다.": "<evidence>...</evidence>\n<score>\n0/2 \n</score>",
    "오른쪽부터 차례로 옮기세요.": "<score>1/3</score> 다시: <score>2/3</score>",  # two blocks: no verdict
    "그래프만으로는 알 수 없습니다.": "<score>0.5/2</score>",
    "합계는 12,000원입니다.": "<score>1</score>",
}


def _user_text(body: dict) -> str:
    content = body["messages"][-1]["content"]
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if part.get("type") == "text")
    return content


def script(body: dict, index: int) -> Reply:
    text = _user_text(body)
    if body["model"] == "vlm":
        return Reply(text=ANSWERS[int(re.search(r"\((\d+)\)$", text).group(1))])
    response = re.search(r"\[Response\]\n(.*)\n\[Checklist\]", text.split("[INPUT]\n", 2)[2], re.S).group(1)
    return Reply(text=REPLIES[response])


@pytest.fixture()
def mirror(tmp_path: Path) -> Path:
    write_haerae_vision(tmp_path / "mirror", haerae_vision_rows(8))
    return tmp_path / "mirror"


def test_haerae_vision_end_to_end_scores_by_hand(mirror: Path, tmp_path: Path) -> None:
    with FakeOpenAIServer(script) as server:
        result = evaluate(
            f"openai:vlm@{server.base_url}",
            "haerae-vision",
            data_dir=mirror,
            judge=f"judge@{server.base_url}",
            cache_dir=tmp_path / "cache",
            output=tmp_path / "out",
        )
        asked = [b for _, b in server.requests if b["model"] == "vlm"]
        judged = [b for _, b in server.requests if b["model"] == "judge"]
    task = result.tasks["haerae-vision"]
    # Row 5's judgement never parses (two score blocks, 3 attempts): counted, left out of both pipelines.
    assert task.judge.n_failed == 1 and task.judge.n_judged == 7
    assert any("not a checklist verdict" in why for why in task.judge.failure_reasons)
    kept = [1.0, 1 / 3, 0.75, 0.0, 0.0, 0.25, 1.0]  # rows 0, 1, 2, 3 (empty), 4, 6, 7
    for pipeline in ("protocol", "kobench"):
        value = task.pipelines[pipeline].metrics["judge_score"].value
        assert value == pytest.approx(100 * sum(kept) / 7)
    by_category = task.pipelines["protocol"].breakdown["category"]  # rows by i % 3
    assert by_category["게임"].value == pytest.approx(100 * (1.0 + 0.0 + 0.25) / 3)  # rows 0, 3, 6
    assert by_category["과학"].value == pytest.approx(100 * (1 / 3 + 0.0 + 1.0) / 3)  # rows 1, 4, 7
    assert by_category["생활"].value == pytest.approx(100 * 0.75)  # row 2 (row 5 failed)
    assert task.pipelines["protocol"].breakdown["decided_by"]["empty"].n == 1
    # The model: the system prompt, then the question (stripped) followed by every image of the row.
    rows = {r["question_idx"]: r for r in haerae_vision_rows(8)}
    two = next(b for b in asked if b["messages"][1]["content"][0]["text"].endswith("(1)"))
    assert two["messages"][0] == {"role": "system", "content": SYSTEM}
    assert [p["type"] for p in two["messages"][1]["content"]] == ["text", "image_url", "image_url"]
    assert two["messages"][1]["content"][0]["text"] == rows[101]["question_original"]
    # The judge: one user message as score.py builds it, the protocol's answer after the reasoning block;
    # no token limit and temperature 1 (the published call sets neither; gpt-5-mini accepts only 1).
    reply = next(b for b in judged if "첫 수는" in _user_text(b))
    assert reply["messages"] == [
        {
            "role": "user",
            "content": published_message(
                rows[101]["question_original"], "첫 수는 왼쪽 위입니다.", rows[101]["checklist"]
            ),
        }
    ]
    assert all(
        "max_tokens" not in b and "max_completion_tokens" not in b and b["temperature"] == 1.0 for b in judged
    )
    assert len(judged) == 6 + 3  # six answers judged once, row 5's three times; row 3 never
    assert "rules:haerae-vision@1" in task.pipelines["protocol"].signature
    samples = [
        json.loads(x) for x in (tmp_path / "out" / "samples" / "haerae-vision.jsonl").read_text().splitlines()
    ]
    assert next(s for s in samples if s["id"] == "103")["protocol"]["unjudged"].startswith("empty answer")


def test_the_explicit_version_asks_and_judges_the_explicit_question(mirror: Path, tmp_path: Path) -> None:
    with FakeOpenAIServer(script) as server:
        result = evaluate(
            f"openai:vlm@{server.base_url}",
            "haerae-vision",
            data_dir=mirror,
            judge=f"judge@{server.base_url}",
            cache_dir=tmp_path / "cache",
            prompt_versions=["haerae-vision=explicit"],
        )
        asked = [b for _, b in server.requests if b["model"] == "vlm"]
        judged = [b for _, b in server.requests if b["model"] == "judge"]
    rows = {r["question_idx"]: r for r in haerae_vision_rows(8)}
    assert {b["messages"][1]["content"][0]["text"] for b in asked} == {
        r["question_explicit"] for r in rows.values()
    }
    reply = next(b for b in judged if "몬스테라" in _user_text(b))
    assert _user_text(reply) == published_message(
        rows[100]["question_explicit"], ANSWERS[0], rows[100]["checklist"]
    )
    assert "prompt:explicit" in result.tasks["haerae-vision"].pipelines["kobench"].signature

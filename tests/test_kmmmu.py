"""KMMMU: the published answer check stage by stage (boxed answer, Math-Verify, LLM judge), checked against
an independent re-implementation of the published code on generated responses, and the task end to end
from a synthetic mirror (tests/fixtures_kmmmu.py) with an OpenAI-compatible model and judge on 127.0.0.1.

The reference code below follows GitHub HAE-RAE/KMMMU line by line: kmmmu_eval_guideline.ipynb (commit
f27cc82) "Parsing Answer" (BOX_RE, CIRCLED_NUM, parse_answer), eval_tutorial.ipynb (commit 00a946d)
sections 6 and 7 (parse, judge_user_prompt, correct) and kmmmu_utils.py (commit 85faab6) for the two
system prompts. It is written from those files, not from kobench.judge.kmmmu.
"""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import pytest
from fixtures_kmmmu import HUB_ID, ITEMS, kmmmu_rows, write_kmmmu
from typer.testing import CliRunner

from kobench.api import evaluate
from kobench.cli import app
from kobench.data.formats import Source, to_image, url_path
from kobench.data.loader import load_local
from kobench.errors import BadInputError
from kobench.families import load_tasks
from kobench.judge import kmmmu
from kobench.judge.messages import judge_messages
from kobench.judge.verdicts import parse_true_false
from kobench.testing.fake_openai import FakeOpenAIServer, Reply

math_verify = pytest.importorskip("math_verify", reason="the KMMMU answer check needs math-verify")

# --- the published code, re-implemented from its files ---------------------------------------------------

REF_SYSTEM_PROMPT = (
    "You are a helpful assistant.\n"
    "You MUST output the final answer in boxed format as LaTeX with dollar signs, exactly like:\n"
    "$\\boxed{ANSWER}$\n"
    "Do NOT add any extra text outside the box."
)
REF_JUDGE_SYSTEM_PROMPT = (
    "You are a strict evaluator.\n"
    "Decide if the model's answer matches the gold answer.\n"
    "Use the parsed model answer (from Math-Verify) if helpful.\n"
    "Return ONLY: true or false."
)
REF_BOX_RE = re.compile(r"\\boxed\{(.+?)\}", re.DOTALL)
REF_CIRCLED_NUM = {
    "①": "1",
    "②": "2",
    "③": "3",
    "④": "4",
    "⑤": "5",
    "⑥": "6",
    "⑦": "7",
    "⑧": "8",
    "⑨": "9",
    "⑩": "10",
}


def ref_parse_answer(resp):
    if not isinstance(resp, str):
        return ""
    m = REF_BOX_RE.findall(resp)
    if not m:
        return ""
    ans = m[-1].strip()
    if ans in REF_CIRCLED_NUM:
        ans = REF_CIRCLED_NUM[ans]
    return ans


def ref_judge_messages(q, gold, pred):
    parsed_pred = str(math_verify.parse(pred))
    judge_user_prompt = (
        f"Question:\n{q}\n\n"
        f"Gold answer:\n{gold}\n\n"
        f"Model output:\n{pred}\n\n"
        f"Parsed model output (Math-Verify parse):\n{parsed_pred}\n\n"
        "Is the model answer correct? Reply only with true or false."
    )
    return [
        {"role": "system", "content": REF_JUDGE_SYSTEM_PROMPT},
        {"role": "user", "content": judge_user_prompt},
    ]


def ref_correct(content):
    return content.strip().lower().startswith("true")


def ref_stage(gold, resp):
    """The staged check (kobench.judge.kmmmu's docstring): the guideline's boxed answer equal to the gold
    answer, else a boxed output Math-Verify finds equivalent to the gold answer read as `$gold$`, else the
    judge."""
    reference = str(gold).strip()
    ans = ref_parse_answer(resp)
    if ans != "" and ans == reference:
        return "boxed"
    gold_parsed = math_verify.parse("$" + reference + "$")
    pred_parsed = math_verify.parse(resp)
    if (
        REF_BOX_RE.search(resp)
        and gold_parsed
        and pred_parsed
        and math_verify.verify(gold_parsed, pred_parsed)
    ):
        return "math"
    return "judge"


# --- generated responses -----------------------------------------------------------------------------------

ANSWERS = (
    "3",
    "③",
    "(3)",
    "3번",
    " 3 ",
    "50",
    "50.0",
    "\\frac{3}{4}",
    "0.75",
    "ㄱ, ㄹ",
    "ㄱ,ㄹ",
    "\\text{ㄱ, ㄹ}",
    "1, 3",
    "A: 농협, B: 수협",
    "B",
    "",
    " ",
    "\n7\n",
)
FRAMES = (
    "$\\boxed{{{a}}}$",
    "정답은 다음과 같습니다.\n$\\boxed{{{a}}}$",
    "풀이: 2+2=4이고 10을 더하면 14.\n따라서 답은 \\boxed{{{a}}} 입니다.",
    "<think>처음엔 \\boxed{{2}}라고 생각했다</think>\n최종 답: $\\boxed{{{a}}}$",
    "먼저 $x = \\boxed{{5}}$를 구하고, 최종적으로 $\\boxed{{{a}}}$",
    "\\fbox{{{a}}}",
    "\\boxed {{{a}}}",
    "The answer is {a}.",
    "정답은 {a}입니다.",
    "{a}",
)
ODD = (
    "",
    "답할 수 없습니다.",
    "I cannot answer this question.",
    "정답은 B입니다",
    "B번",
    "①",
    "\\boxed{4",
    "\\boxed{}",
    "$\\boxed{3}$ 또는 $\\boxed{4}$",
    "\\boxed{\\boxed{3}}",
    "Answer: \\boxed{\\{1, 3\\}}",
    "정답: (3) 와셔\n\n$\\boxed{(3)}$\n",
)
GOLDS = ("3", "50.0", "\\frac{3}{4}", "ㄱ,ㄹ", "1, 3", "A: 농협, B: 수협", "7")


def responses() -> list[str]:
    made = [frame.format(a=a) for frame, a in itertools.product(FRAMES, ANSWERS)]
    return [*made, *ODD]


def test_enough_varied_responses() -> None:
    texts = responses()
    assert len(set(texts)) >= 150
    assert sum("\\boxed" in t for t in texts) >= 100 and sum("\\boxed" not in t for t in texts) >= 30


def test_boxed_answer_matches_the_guideline_parser() -> None:
    for text in responses():
        expected = ref_parse_answer(text)
        got = kmmmu.guideline_boxed(text)
        assert (got if got is not None else "") == expected, text
        assert (got is None) == (REF_BOX_RE.search(text) is None), text


def test_protocol_stages_match_the_reference_on_every_pair() -> None:
    pairs = list(itertools.product(GOLDS, responses()))
    assert len(pairs) >= 1000
    seen = set()
    for gold, text in pairs:
        verdict = kmmmu.protocol_verdict(gold, text)
        expected = ref_stage(gold, text)
        assert verdict["decided_by"] == expected, (gold, text)
        seen.add(expected)
        if expected == "judge":
            assert "unjudged" not in verdict and "correct" not in verdict
            assert verdict["judged_text"] == text  # the raw output, as the notebook sends it
        else:
            assert verdict["correct"] == 1.0 and verdict["unjudged"]
    assert seen == {"boxed", "math", "judge"}


def test_judge_messages_are_the_notebooks_byte_for_byte() -> None:
    spec = load_tasks()["kmmmu"].judge
    question = "(문항 3) <표>에서 값은?\n\n선택지:\n(1) 가\n(2) 나"
    for gold, text in itertools.product(GOLDS[:3], responses()[::3]):
        verdict = kmmmu.protocol_verdict(gold, text)
        if verdict["decided_by"] != "judge":
            continue
        context = {"question": question, "answer": gold, **verdict["judge_variables"]}
        assert judge_messages(spec, context, verdict["judged_text"]) == ref_judge_messages(
            question, gold, text
        )


def test_true_false_verdicts_follow_the_notebook_where_it_reads_one() -> None:
    replies = ("true", "True", " TRUE\n", "true.", "True, the answer matches", "false", "False.", " FALSE ")
    for reply in replies:
        assert parse_true_false(reply) == int(ref_correct(reply)), reply
    # Neither word first: the notebook counts it wrong; here it is no verdict (asked again, then failed).
    for reply in ("", "The answer is true", "**true**", "정답입니다", "yes"):
        assert parse_true_false(reply) is None and not ref_correct(reply)


def test_kobench_pipeline_reads_the_balanced_box_outside_reasoning() -> None:
    assert kmmmu.last_boxed("$\\boxed{\\frac{3}{4}}$") == "\\frac{3}{4}"
    assert kmmmu.last_boxed("\\boxed{2} 그리고 \\fbox{ 5 }") == "5"
    assert kmmmu.last_boxed("\\boxed{4") is None and kmmmu.last_boxed("답: 4") is None
    assert kmmmu.comparable("\\text{ㄱ, ㄹ}") == kmmmu.comparable("ㄱ,ㄹ")
    assert kmmmu.comparable("③") == "3" == kmmmu.comparable("(3)") == kmmmu.comparable("3번")
    assert kmmmu.comparable("(나)") == kmmmu.comparable("나")
    assert kmmmu.comparable("50") != kmmmu.comparable("50.0")  # left to Math-Verify
    think = "<think>\\boxed{ㄱ}</think>\n최종 답: $\\boxed{ㄴ, ㄷ}$"
    assert kmmmu.kobench_verdict("ㄴ,ㄷ", think)["decided_by"] == "boxed"
    assert kmmmu.protocol_verdict("ㄴ,ㄷ", think)["decided_by"] == "judge"
    assert kmmmu.kobench_verdict("50.0", "$\\boxed{50}$")["decided_by"] == "math"
    assert kmmmu.kobench_verdict("1, 3", "$\\boxed{3}$")["decided_by"] == "judge"  # never accepted by a part
    unclosed = kmmmu.kobench_verdict("3", "<think>\\boxed{3}")  # cut off inside its reasoning
    assert unclosed["decided_by"] == "judge" and unclosed["judged_text"] == "" and not unclosed["boxed"]


# --- the mirror and the data layer -----------------------------------------------------------------------


def test_the_mirror_loads_with_its_url_images(tmp_path: Path) -> None:
    root = write_kmmmu(tmp_path)
    table = load_local(root / HUB_ID, "train", image_columns=("image_link",))
    assert len(table.rows) == len(ITEMS) and table.origin.startswith("local csv")
    first = table.rows[2]
    assert len(first["image_link"]) == 3 and all(Path(ref.path).is_file() for ref in first["image_link"])
    assert first["answer"] == "50.0" and table.rows[10]["answer"] == "1, 3"  # text stays text
    assert table.rows[0]["is_korean_specific"] == "True"
    url = "https://raw.githubusercontent.com/o/r/main/2._자료%20해석/p1_i2.jpg"
    assert url_path(url) == "raw.githubusercontent.com/o/r/main/2._자료 해석/p1_i2.jpg"


def test_image_urls_from_the_hub_say_how_to_mirror_them() -> None:
    cell = "['https://www.kinz.kr/data/exam/a/b.gif']"
    with pytest.raises(BadInputError, match=r"downloads no images.*--force-directories"):
        to_image(cell, Source("hub HAERAE-HUB/KMMMU"), 1, "image_link")


def test_a_url_may_not_leave_the_mirror(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="leaves the dataset folder"):
        to_image("https://example.org/../../etc/passwd", Source("x.csv", tmp_path, tmp_path), 1, "image_link")


# --- end to end --------------------------------------------------------------------------------------------

RESPONSES = {
    0: "정답은 (3)입니다.\n$\\boxed{3}$",  # boxed in both pipelines
    1: "$\\boxed{③}$",  # the guideline reads ③ as 3: boxed
    2: "계산하면 50이다. $\\boxed{50}$",  # 50 vs 50.0: Math-Verify
    3: "$\\boxed{\\frac{3}{4}}$",  # the guideline's regex cuts \frac{3: Math-Verify; kobench: boxed
    4: "$\\boxed{ㄱ, ㄹ}$",  # protocol: judge (a space); kobench: boxed
    5: "A는 농협, B는 수협입니다. $\\boxed{A: 농협, B: 수협}$",
    6: "정답은 2번입니다.",  # no box: judge (true)
    7: "$\\boxed{2}$",  # wrong: judge (false)
    # protocol: judge (true); kobench: boxed
    8: "<think>먼저 \\boxed{ㄱ}</think>\n최종 답: $\\boxed{ㄴ, ㄷ}$",
    9: "",  # judge (false)
    10: "$\\boxed{3}$",  # gold "1, 3": judge (false)
    11: "답은 7입니다\n",  # judge (true); the two pipelines send different texts
}
JUDGED_TRUE = {4, 6, 8, 11}


def _text(body: dict) -> str:
    content = body["messages"][-1]["content"]
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if part.get("type") == "text")
    return content


def _number(body: dict) -> int:
    return int(re.search(r"\(문항 (\d+)\)", _text(body)).group(1))


def script(body: dict, index: int) -> Reply:
    if body["model"] == "vlm":
        return Reply(text=RESPONSES[_number(body)])
    return Reply(text="true" if _number(body) in JUDGED_TRUE else "False")


def _run(server: FakeOpenAIServer, root: Path, tmp_path: Path, **kw):
    return evaluate(
        f"openai:vlm@{server.base_url}",
        "kmmmu",
        data_dir=root,
        judge=f"judge@{server.base_url}",
        cache_dir=tmp_path / "cache",
        **kw,
    )


def test_kmmmu_end_to_end_stage_by_stage(tmp_path: Path) -> None:
    root = write_kmmmu(tmp_path / "data")
    with FakeOpenAIServer(script) as server:
        result = _run(server, root, tmp_path, output=tmp_path / "out")
        asked = [body for _, body in server.requests if body["model"] == "vlm"]
        judged = [body for _, body in server.requests if body["model"] == "judge"]
    task = result.tasks["kmmmu"]
    protocol, kob = task.pipelines["protocol"], task.pipelines["kobench"]
    # Protocol: boxed 0, 1, 5; Math-Verify 2, 3; judged true 4, 6, 8, 11 of 4, 6, 7, 8, 9, 10, 11.
    assert protocol.metrics["judge_accuracy"].value == pytest.approx(75.0)
    stages = {g: v.n for g, v in protocol.breakdown["decided_by"].items()}
    assert stages == {"boxed": 3, "math": 2, "judge": 7}
    assert protocol.breakdown["decided_by"]["judge"].value == pytest.approx(100 * 4 / 7)
    assert protocol.breakdown["boxed"]["False"].n == 3  # 6, 9 and 11 hold no box
    # kobench: boxed 0, 1, 3, 4, 5, 8; Math-Verify 2; judged true 6, 11 of 6, 7, 9, 10, 11.
    assert kob.metrics["judge_accuracy"].value == pytest.approx(75.0)
    assert {g: v.n for g, v in kob.breakdown["decided_by"].items()} == {"boxed": 6, "math": 1, "judge": 5}
    # The benchmark's breakdowns: Korean-specific rows 0, 4, 5, 8, 11 all right in the protocol pipeline.
    assert protocol.breakdown["is_korean_specific"]["True"].value == pytest.approx(100.0)
    assert protocol.breakdown["is_korean_specific"]["False"].value == pytest.approx(100 * 4 / 7)
    assert protocol.breakdown["subject_macro"]["Engineering"].n == 2
    assert set(protocol.breakdown) >= {"subject_macro", "visual_type", "question_type"}
    assert (
        protocol.parser == "kmmmu-boxed-mathverify@1" and "rules:kmmmu@1(math-verify-" in protocol.signature
    )
    assert task.judge.n_judged == 12 and task.judge.n_failed == 0 and task.complete
    # One judge call per distinct message: the protocol's 7, and kobench's row 11 (without its newline).
    assert len(judged) == 8
    for body in judged:
        assert body["temperature"] == 1.0 and "max_tokens" not in body
    rows = kmmmu_rows()
    for n in (4, 6, 7, 8, 9, 10, 11):
        expected = ref_judge_messages(rows[n]["question"], rows[n]["answer"], RESPONSES[n])
        assert any(body["messages"] == expected for body in judged), n
    # The model's request: the published system prompt, then the question text followed by every image.
    by_number = {_number(body): body for body in asked}
    messages = by_number[2]["messages"]
    assert messages[0] == {"role": "system", "content": REF_SYSTEM_PROMPT}
    parts = messages[1]["content"]
    assert parts[0] == {"type": "text", "text": rows[2]["question"]}
    assert [p["type"] for p in parts[1:]] == ["image_url"] * 3
    assert by_number[2]["max_tokens"] == 8192
    sample = json.loads((tmp_path / "out" / "samples" / "kmmmu.jsonl").read_text().splitlines()[2])
    assert sample["protocol"]["decided_by"] == "math" and "judgement" not in sample["protocol"]


def test_failed_judgements_are_counted_and_left_out(tmp_path: Path) -> None:
    root = write_kmmmu(tmp_path / "data")

    def unsure(body: dict, index: int) -> Reply:
        if body["model"] == "judge" and _number(body) == 7:
            return Reply(text="I am not sure.")
        return script(body, index)

    with FakeOpenAIServer(unsure) as server:
        result = _run(server, root, tmp_path)
        retried = [b for _, b in server.requests if b["model"] == "judge" and _number(b) == 7]
    task = result.tasks["kmmmu"]
    assert len(retried) == 3  # both pipelines judge the same text: one judgement, asked three times
    assert task.judge.n_failed == 1 and task.judge.n_judged == 11 and not task.complete
    assert task.pipelines["protocol"].metrics["judge_accuracy"].value == pytest.approx(100 * 9 / 11)


def test_rejudging_asks_only_what_the_rules_left(tmp_path: Path) -> None:
    root = write_kmmmu(tmp_path / "data")
    with FakeOpenAIServer(script) as server:
        _run(server, root, tmp_path, output=tmp_path / "out")
        outcome = CliRunner().invoke(
            app,
            ["judge", str(tmp_path / "out"), "--judge", f"judge-b@{server.base_url}", "--no-progress"],
        )
        again = [b for _, b in server.requests if b["model"] == "judge-b"]
    assert outcome.exit_code == 0, outcome.output
    assert len(again) == 8
    saved = json.loads((tmp_path / "out" / "results.json").read_text())
    stages = saved["tasks"]["kmmmu"]["pipelines"]["protocol"]["breakdown"]["decided_by"]
    assert {g: v["n"] for g, v in stages.items()} == {"boxed": 3, "math": 2, "judge": 7}


def test_without_math_verify_the_task_stops_before_any_call(tmp_path: Path, monkeypatch) -> None:
    root = write_kmmmu(tmp_path / "data")
    monkeypatch.setattr(kmmmu, "math_verify_version", lambda: None)
    with FakeOpenAIServer(script) as server:
        with pytest.raises(BadInputError, match="math-verify"):
            _run(server, root, tmp_path)
        assert server.requests == []

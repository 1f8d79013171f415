"""Ko-MT-Bench as LG AI Research evaluates it (GitHub LG-AI-EXAONE/KoMT-Bench, commit 56d4f3a, FastChat's
llm_judge): the two turns asked one after the other in one conversation, each judged with the published
single-answer prompt for its category and turn (judge_prompts_ko.jsonl, byte-exact), the rating read as
common.py reads it, and detector.py's square-root penalty for non-Korean answers. Checked against an
independent re-implementation of FastChat's message building and rating parse written here, on the
synthetic copy (tests/fixtures_ko_mt_bench.py) with a scripted model, the tiny text model and the loopback
judge."""

from __future__ import annotations

import ast
import hashlib
import json
import math
import re
from pathlib import Path

import pytest
from fixtures_ko_mt_bench import QUESTIONS, reference_answer, write_hub_copy, write_repository_copy
from scripted_model import ScriptedModel, register

from kobench.api import evaluate
from kobench.errors import BadInputError
from kobench.families import load_tasks
from kobench.judge.mt_bench import parse_mt_bench_rating
from kobench.report.leaderboard import render_table
from kobench.results import load_results
from kobench.run.rejudge import rejudge
from kobench.testing.fake_openai import FakeOpenAIServer, Reply

TASK = load_tasks()["ko-mt-bench"]
# sha256 of (system_prompt, prompt_template) of each prompt in the published data/judge_prompts_ko.jsonl
# (file sha256 32d1e94b1b3877c68bed2254ef33e05b496999896b1cb3887613e0ba5d755fa5).
PUBLISHED = {
    "single-v1": (
        "3d272b69c2d7ac537b8bad118ab9e17fb93db057ef678fb7777b434dbb32fbf6",
        "08d6a07c2f42de7e924ae31c9ce8efc3da1be78ae6d638ec4d213beedc585ded",
    ),
    "single-math-v1": (
        "3d272b69c2d7ac537b8bad118ab9e17fb93db057ef678fb7777b434dbb32fbf6",
        "54c184fc1560c7310f582ab81152f5547366f4f221eccf0a204c9f46aee77f0b",
    ),
    "single-v1-multi-turn": (
        "5caedef81db9971b09043b68ab5a164ebe33e9fcffd9f652fe17bbce99948cfa",
        "6afed76d349429c4caec5f84477e891e89bdf824b313ad194a62ee553562fa0c",
    ),
    "single-math-v1-multi-turn": (
        "a82bda400ccd8893a5515f51b9300a669308b2813f5d9241f9f45be31f6a31ff",
        "591bd047f9e14e2228ba86d5a38cd7df520997c86d6258df12e5a0ffc059b5e7",
    ),
}
NEED_REF_CATS = ["math", "reasoning", "coding", "arena-hard-200"]  # common.py


def _prompt(name: str) -> tuple[str, str]:
    key = name.replace("-", "_")
    return TASK.judge.variables[f"{key}_system"], TASK.judge.variables[key]


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def test_the_judge_prompts_are_the_published_ones_byte_for_byte() -> None:
    for name, hashes in PUBLISHED.items():
        assert tuple(_sha(s) for s in _prompt(name)) == hashes, name
    assert TASK.judge.default_model == "gpt-4-0613"
    assert TASK.judge.temperature == 0 and TASK.judge.max_tokens == 2048 and TASK.judge.parse == "mt_bench"


def fastchat_messages(question: dict, answers: list[str], turn: int, ref: list[str]) -> list[dict]:
    """gen_judgment.py make_judge_single + common.py run_judge_single: the judge prompt by category and
    turn, formatted with str.format, as OpenAI messages (system, user)."""
    math_like = question["category"] in NEED_REF_CATS
    name = ("single-math-v1" if math_like else "single-v1") + ("-multi-turn" if turn == 2 else "")
    system, template = _prompt(name)
    kwargs = {}
    if math_like:
        kwargs["ref_answer_1"] = ref[0]
        if turn == 2:
            kwargs["ref_answer_2"] = ref[1]
    if turn == 2:
        user = template.format(
            question_1=question["turns"][0],
            question_2=question["turns"][1],
            answer_1=answers[0],
            answer_2=answers[1],
            **kwargs,
        )
    else:
        user = template.format(question=question["turns"][0], answer=answers[0], **kwargs)
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def fastchat_rating(judgment: str) -> float | int:
    """common.py's rating: the first [[x]], else the first [x], literal_eval'd; -1 without one (a leading
    zero makes literal_eval raise, as there)."""
    match = re.search(r"\[\[(\d+\.?\d*)\]\]", judgment)
    if not match:
        match = re.search(r"\[(\d+\.?\d*)\]", judgment)
    return ast.literal_eval(match.groups()[0]) if match else -1


def _judgements() -> list[str]:
    texts = []
    for k in ["1", "2", "5", "7", "9", "10", "8.5", "6.", "0", "11", "15", "07", "3.25"]:
        texts += [
            f"답변은 정확하고 유용합니다. 점수: [[{k}]]",
            f"평가: 전반적으로 좋습니다.\n\nRating: [[{k}]]",
            f"[[{k}]]",
            f"점수: [{k}]",  # the backup pattern
            f"참고 [1]에 따르면 ... 점수: [[{k}]]",  # [[k]] wins over an earlier [1]
            f"[2] 문단 참조. 최종 점수는 {k}점",  # only the backup [2]
            f"점수: [[{k}]] (이전 평가 [[9]] 수정)",  # the first [[x]]
            f"Rating: [[ {k} ]]",  # spaces: no pattern matches... but the backup neither
        ]
    texts += [
        "",
        "점수를 매길 수 없습니다.",
        "[[A]]",
        "[[-3]]",
        "[[7/10]]",
        "점수: 7",
        "[[7]",
        "[7]]",
        "[[１０]]",
    ]
    return texts


JUDGEMENTS = _judgements()


@pytest.mark.parametrize("judgment", JUDGEMENTS)
def test_rating_is_read_as_fastchat_reads_it(judgment: str) -> None:
    try:
        published = fastchat_rating(judgment)
    except (ValueError, SyntaxError):
        published = None  # gen_judgment.py would stop here
    ours = parse_mt_bench_rating(judgment)
    if published is None or published == -1 or not 1 <= published <= 10:
        assert ours is None  # a failed judgement: asked again, then counted, never averaged
    else:
        assert ours == float(published)


def test_there_are_enough_judgements() -> None:
    assert len(JUDGEMENTS) >= 100
    readable = [j for j in JUDGEMENTS if parse_mt_bench_rating(j) is not None]
    assert 40 <= len(readable) < len(JUDGEMENTS)


# --- a whole run: the scripted model and the loopback judge ---------------------------------------------

ROWS = {qid: {"question_id": qid, "category": c, "turns": [a, b]} for qid, c, a, b, _ in QUESTIONS}
ENGLISH = {(91, 1), (138, 1)}  # answers in English: 91 is penalised, 138 is exempt
UNREADABLE = (82, 2)  # the judge never gives this one a rating


def first_answer(qid: int) -> str:
    if (qid, 1) in ENGLISH:
        return f"This is my answer {qid}-1 in English, written plainly."
    if qid == 101:  # a reasoning block: the protocol judges it, kobench does not
        return "<think>let me think in English first</think>답변 101-1입니다. 정답은 1등입니다."
    return f"답변 {qid}-1입니다. 질문에 맞게 성실히 답했습니다."


def model_script(request) -> str:
    qid, turn = int(request.id.split(":")[0]), int(request.id[-1])
    if turn == 1:
        assert [m.role for m in request.messages] == ["user"]
        return first_answer(qid)
    # The second turn carries the first question and the model's own first answer, as FastChat's one
    # conversation does.
    assert [(m.role, m.text) for m in request.messages] == [
        ("user", ROWS[qid]["turns"][0]),
        ("assistant", first_answer(qid)),
        ("user", ROWS[qid]["turns"][1]),
    ]
    return f"답변 {qid}-2: 앞의 답을 바탕으로 다시 정리했습니다."


def _which(user: str) -> tuple[int, int]:
    """The question and turn a judge request is about (its question text; the multi-turn layout)."""
    qid = next(q for q, row in ROWS.items() if row["turns"][0] in user)
    return qid, 2 if "<|어시스턴트 A와 사용자와의 대화 시작|>" in user else 1


def rating(qid: int, turn: int, answer_has_think: bool) -> int:
    return 2 if answer_has_think else (qid % 7) + 3 if turn == 1 else (qid % 5) + 5


def judge_script(body: dict, index: int) -> Reply:
    user = body["messages"][-1]["content"]
    qid, turn = _which(user)
    if (qid, turn) == UNREADABLE:
        return Reply(text="이 답변은 평가하기 어렵습니다.")
    thinks = turn == 1 and "<think>" in user  # the answer judged keeps its reasoning block
    return Reply(text=f"설명: 답변을 검토했습니다.\n\n점수: [[{rating(qid, turn, thinks)}]]")


def expected(pipeline: str) -> dict[tuple[int, int], tuple[float, float]]:
    """Each judged turn's (rating, penalised rating), by hand."""
    out = {}
    for qid in ROWS:
        for turn in (1, 2):
            if (qid, turn) == UNREADABLE:
                continue
            thinks = pipeline == "protocol" and turn == 1 and qid == 101
            r = rating(qid, turn, thinks)
            penalised = math.sqrt(r) if (qid, turn) == (91, 1) else r
            out[(qid, turn)] = (r, penalised)
    return out


def _mean(values) -> float:
    values = list(values)
    return sum(values) / len(values)


@pytest.fixture()
def repository(tmp_path: Path) -> Path:
    return write_repository_copy(tmp_path / "mt_bench")


def _run(server: FakeOpenAIServer, repository: Path, tmp_path: Path, **kw):
    return evaluate(
        kw.pop("model", "scripted:x"),
        "ko-mt-bench",
        data_paths=[f"ko-mt-bench={repository}"],
        judge=f"judge@{server.base_url}",
        cache_dir=tmp_path / "cache",
        **kw,
    )


def test_run_judges_each_turn_as_published(monkeypatch, repository: Path, tmp_path: Path) -> None:
    register(monkeypatch, ScriptedModel(model_script))
    with FakeOpenAIServer(judge_script) as server:
        result = _run(server, repository, tmp_path, output=tmp_path / "out")
        calls = [body for _, body in server.requests]
    task = result.tasks["ko-mt-bench"]
    assert task.modality == "text" and task.n_rows == task.n == 20 and task.n_failed == 0
    # One failed judgement (3 fresh attempts), counted and left out; the other 19 judged once for both
    # pipelines, but for question 101, whose first answer's reasoning block only the protocol keeps (its
    # two turns' judge messages differ by pipeline).
    assert task.judge.n_failed == 1 and task.judge.n_judged == 19 and task.judge.model == "judge"
    assert len(calls) == 3 + 19 + 2
    # Every judge request is FastChat's, byte for byte, with temperature 0 and max_tokens 2048.
    seen = {json.dumps(body["messages"], ensure_ascii=False) for body in calls}
    for qid, row in ROWS.items():
        ref = reference_answer(qid)
        second = f"답변 {qid}-2: 앞의 답을 바탕으로 다시 정리했습니다."
        first = first_answer(qid)
        for shown in {first, first.split("</think>")[-1]}:  # the protocol's and kobench's first answer
            want = [fastchat_messages(row, [shown], 1, ref), fastchat_messages(row, [shown, second], 2, ref)]
            for messages in want:
                assert json.dumps(messages, ensure_ascii=False) in seen
    assert all(b["temperature"] == 0 and b["max_tokens"] == 2048 for b in calls)

    for name, pipeline in task.pipelines.items():
        by_turn = expected(name)
        metrics = pipeline.metrics
        assert metrics["judge_score"].value == pytest.approx(10 * _mean(r for r, _ in by_turn.values()))
        assert metrics["mt_bench_score"].value == pytest.approx(10 * _mean(p for _, p in by_turn.values()))
        for turn in (1, 2):
            penalised = [p for (_, t), (_, p) in by_turn.items() if t == turn]
            assert pipeline.breakdown["turn"][str(turn)].value == pytest.approx(10 * _mean(penalised))
            assert pipeline.breakdown["turn"][str(turn)].n == len(penalised)
        for category in {row["category"] for row in ROWS.values()}:
            values = [p for (q, _), (_, p) in by_turn.items() if ROWS[q]["category"] == category]
            assert pipeline.breakdown["category"][category].value == pytest.approx(10 * _mean(values))
        assert pipeline.breakdown["language"]["en"].n == 2  # 91 (penalised) and 138 (exempt)
        assert "judge:judge" in pipeline.signature and "judge-prompt:komt-bench-2024-08" in pipeline.signature
        assert "rules:ko-mt-bench@1(py3langid-" in pipeline.signature
    assert task.primary_metric == "mt_bench_score"
    assert task.judge.failed_share == 0.05 and task.complete  # 1 of 20 failed: not above --max-failed 5%
    samples = (tmp_path / "out" / "samples" / "ko-mt-bench.jsonl").read_text(encoding="utf-8").splitlines()
    record = next(json.loads(s) for s in samples if json.loads(s)["id"] == "91:turn1")
    assert record["kobench"]["language"] == "en" and record["kobench"]["language_penalty"] is True
    assert record["kobench"]["raw_score"] == rating(91, 1, False)


def test_rejudging_from_the_samples_shows_the_judge_the_same_conversations(
    monkeypatch, repository: Path, tmp_path: Path
) -> None:
    register(monkeypatch, ScriptedModel(model_script))
    with FakeOpenAIServer(judge_script) as server:
        judged = _run(server, repository, tmp_path, output=tmp_path / "out")
        first = sorted(json.dumps(b["messages"], ensure_ascii=False) for _, b in server.requests)
    with FakeOpenAIServer(judge_script) as server:
        result = rejudge(tmp_path / "out", f"judge2@{server.base_url}", cache_path=tmp_path / "j2.sqlite")
        again = sorted(json.dumps(b["messages"], ensure_ascii=False) for _, b in server.requests)
    assert again == first
    assert result.tasks["ko-mt-bench"].judge.model == "judge2"
    # In the text table, and the other judge's number is marked: its signature differs (judge:judge2).
    demo = load_results(Path(__file__).parents[1] / "results" / "demo" / "chance" / "results.json")
    image, text = render_table([judged, result, demo], merge=False).split("**Text benchmarks**")
    row = next(line for line in text.splitlines() if "ko-mt-bench (mt_bench_score)" in line)
    assert "ko-mt-bench" not in image and row.count("†") == 1 and "Instruction Following" in row


def test_the_hub_copy_lacks_the_judges_reference_answers(monkeypatch, tmp_path: Path) -> None:
    model = ScriptedModel(model_script)
    register(monkeypatch, model)
    with (
        FakeOpenAIServer(judge_script) as server,
        pytest.raises(BadInputError, match="'ref_answer' is undefined"),
    ):
        evaluate(
            "scripted:x",
            "ko-mt-bench",
            data_dir=write_hub_copy(tmp_path / "hub"),
            judge=f"judge@{server.base_url}",
            use_cache=False,
        )
    assert model.calls == []  # stopped before any model call


def test_without_a_judge_it_names_the_judge_of_record(monkeypatch, repository: Path, tmp_path: Path) -> None:
    register(monkeypatch, ScriptedModel(model_script))
    with pytest.raises(BadInputError, match="judge of record is gpt-4-0613"):
        evaluate("scripted:x", "ko-mt-bench", data_paths=[f"ko-mt-bench={repository}"], use_cache=False)


def test_tiny_text_model_answers_both_turns_offline(repository: Path, tmp_path: Path) -> None:
    from kobench.testing.tiny_models import build_tiny_text_lm

    folder = build_tiny_text_lm(tmp_path / "lm")
    with FakeOpenAIServer(lambda body, i: Reply(text="설명.\n\n점수: [[6]]")) as server:
        result = _run(server, repository, tmp_path, model=f"hf:{folder}", max_new_tokens=8, use_cache=False)
    task = result.tasks["ko-mt-bench"]
    assert task.n == 20 and task.n_failed == 0 and task.judge.n_failed == 0 and task.complete
    judge = task.pipelines["kobench"].metrics["judge_score"]
    assert judge.value == pytest.approx(60.0)  # every turn rated 6
    assert task.pipelines["kobench"].breakdown["turn"]["2"].n == 10

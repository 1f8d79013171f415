"""KRETA as its authors score it: the prompts of GitHub tabtoyou/KRETA eval/infer/infer_hf_vlm.py and
infer_gpt.py, and eval/evaluate.py's parse_multi_choice_response up to its random guess (`kreta-noguess`),
checked against an independent re-implementation typed here from those files (commit c273302), on the
synthetic local mirror of tests/fixtures_kreta.py."""

from __future__ import annotations

import base64
import itertools
import random
from pathlib import Path

import numpy as np
import pytest
from fixtures_kreta import HUB_ID, QUESTIONS, kreta_rows, write_kreta_mirror
from scripted_model import ScriptedModel, register

from kobench.api import evaluate
from kobench.config import DataOptions, JudgeOptions, ScoringOptions
from kobench.data.formats import Source, is_base64_image, to_image
from kobench.data.loader import load_table
from kobench.extract.kreta import kreta_noguess
from kobench.extract.protocol import PROTOCOL_PARSER_VERSIONS, PROTOCOL_PARSERS
from kobench.families import load_tasks
from kobench.run.prepare import prepare_task
from kobench.types import ImageRef

# ---- the reference: eval/evaluate.py and eval/infer/*.py, line by line --------------------------------

GUESSED = "<random.choice>"  # what the reference returns where the published code draws a random letter

PROMPT_CONFIG = {
    "default": "Please select the correct answer from the options above. The last line of your response should be of the following format: 'Answer: LETTER' (without quotes) where LETTER is one of options.",  # noqa: E501
    "direct": "Answer directly with the option letter from the given choices.",
}


def ref_construct_prompt(doc: dict, setting: str) -> str:
    option_letters = ["A", "B", "C", "D"]
    options = [doc[letter] for letter in option_letters]
    parsed_options = "\n".join([f"{l}. {o}" for l, o in zip(option_letters, options, strict=True)])  # noqa: E741
    return f"Question: {doc['question']}\nOptions:\n{parsed_options}\n{PROMPT_CONFIG[setting]}"


def ref_get_multi_choice_info(options: list) -> tuple[dict, list]:
    start_chr = "A"
    all_choices = []
    index2ans = {}
    for i, option in enumerate(options):
        safe_option = "" if option is None else str(option)
        index2ans[chr(ord(start_chr) + i)] = safe_option
        all_choices.append(chr(ord(start_chr) + i))
    return index2ans, all_choices


def ref_parse_multi_choice_response(response, all_choices, index2ans) -> tuple[str, str]:
    """(the letter, the stage that gave it); GUESSED at the random fallback."""
    if not isinstance(response, str):
        response = ""
    last_answer_pos = response.rfind("Answer:")
    if last_answer_pos != -1:
        answer_str = response[last_answer_pos + len("Answer:") :].strip()
        matching_options = [option for option in all_choices if option in answer_str]
        if len(matching_options) == 1:
            return matching_options[0], "answer-tag"
    for char in [",", ".", "!", "?", ";", ":", "'"]:
        response = response.strip(char)
    response = " " + response + " "
    index_ans = True
    ans_with_brack = False
    candidates = []
    for choice in all_choices:
        if f"({choice})" in response:
            candidates.append(choice)
            ans_with_brack = True
    stage = "(X)"
    if len(candidates) == 0:
        stage = "X "
        for choice in all_choices:
            if f"{choice} " in response:
                candidates.append(choice)
    if len(candidates) == 0:
        stage = "X."
        for choice in all_choices:
            if f"{choice}." in response:
                candidates.append(choice)
    if len(candidates) == 0 and len(response.split()) > 5:
        stage = "text"
        for index, ans in index2ans.items():
            if isinstance(ans, str) and ans and ans.lower() in response.lower():
                candidates.append(index)
                index_ans = False
    if len(candidates) == 0:
        return GUESSED, "guess"  # pred_index = random.choice(all_choices)
    if len(candidates) > 1:
        start_indexes = []
        if index_ans:
            if ans_with_brack:
                for can in candidates:
                    start_indexes.append(response.rfind(f"({can})"))
            else:
                for can in candidates:
                    start_indexes.append(response.rfind(f" {can} "))
        else:
            for can in candidates:
                start_indexes.append(response.lower().rfind(index2ans[can].lower()))
        return candidates[np.argmax(start_indexes)], stage + " (several)"
    return candidates[0], stage


def ref_parse(response: str, texts: list[str]) -> tuple[str, str]:
    index2ans, all_choices = ref_get_multi_choice_info(texts)
    return ref_parse_multi_choice_response(response, all_choices, index2ans)


# ---- varied responses ----------------------------------------------------------------------------------

OPTION_SETS = [
    list(QUESTIONS[0][1]),
    list(QUESTIONS[1][1]),
    ["Seoul Station", "Busan", "A small cafe", "The city hall"],
    ["A구역", "B구역", "C구역", "D구역"],  # capital letters inside the options
    ["서울", "서울역", "부산", "부산항"],  # one option inside another
]
CIRCLED = dict(zip("ABCD", "①②③④", strict=True))
TEMPLATES = [
    "{g}", "{g}.", "({g})", "{g})", "{g}:", " {g} ", "{g}!", "'{g}'", '"{g}"', "{g}번", "{g}입니다",
    "{g}번입니다.", "정답은 {g}입니다.", "정답: {g}", "답은 ({g})입니다", "정답은 {g}", "{c}",
    "정답은 {c}입니다",
    "Answer: {g}", "Answer:{g}", "answer: {g}", "ANSWER: {g}", "**Answer:** {g}", "Answer: **{g}**",
    "Answer: ({g}) {t}", "Answer: {g}. {t}", "Answer: {g} or {o}", "Answer: {o}\n다시 보니\nAnswer: {g}",
    "Answer: {g}\nAnswer: 모르겠습니다", "Answer: Based on the image, {g}", "Answer: {t}",
    "The answer is {g}.", "The answer is ({g}).", "I think {g} is correct, not {o}.", "{o} 아니면 {g}",
    "({o}) 또는 ({g})", "({g}) 또는 ({o})", "{g}. {t}", "{g} {t}", "Option {g}", "\\boxed{{{g}}}",
    "$\\boxed{{{g}}}$", "<think>{o}일 수도 있다</think>\nAnswer: {g}", "{g}{o}", "({g})({o})", "{g}, {o}",
    "{t}", "정답은 {t}입니다.", "이미지의 안내문을 보면 정답은 {t} 입니다 확실합니다",
    "Looking at the image carefully, the correct one is {t} for sure",
    "이미지를 보면 {t}도 있고 {u}도 있지만 결국 답은 {t} 입니다",
    "이미지를 보면 {t}도 있고 {u}도 있지만 결국 답은 {u} 입니다",
    "{g}. {t}\n{o}. {u}\n둘 중 하나입니다", "{g}.{o}.", "보기 {g}. 와 보기 {o}. 중에서 고르면 {g}.",
    "", "   ", "\n", "모르겠습니다.", "I cannot determine the answer from the image.",
    "이미지가 흐려서 답을 알 수 없습니다 죄송합니다 정말로요", "None of the options",
    "Based on the image, {g}",
    "Because", "ABCD", "A B C D", "Ｂ", "b", "(b)", "{g}?", "?{g}?", ";{g};", ":{g}:", ",{g},",
]  # fmt: skip


def varied_responses() -> list[tuple[str, list[str]]]:
    out = []
    for texts, template, g in itertools.product(OPTION_SETS, TEMPLATES, "ABCD"):
        o = "ABCD"[("ABCD".index(g) + 1) % 4]
        t, u = texts["ABCD".index(g)], texts["ABCD".index(o)]
        out.append((template.format(g=g, o=o, t=t, u=u, c=CIRCLED[g]), texts))
    rng = random.Random(17)
    pieces = [
        "Answer:",
        "(A)",
        "(C)",
        "B ",
        "D.",
        "정답은",
        "입니다",
        "\n",
        " ",
        ".",
        "'",
        "서울",
        "A small cafe",
        "x",
    ]
    for _ in range(300):  # random mixtures of the pieces the stages look for
        texts = rng.choice(OPTION_SETS)
        out.append(("".join(rng.choice(pieces) for _ in range(rng.randint(0, 12))), texts))
    return list(dict.fromkeys((r, tuple(t)) for r, t in out))


def _pairs(texts) -> list[tuple[str, str]]:
    return list(zip("ABCD", texts, strict=True))


def test_parser_is_registered() -> None:
    assert PROTOCOL_PARSERS["kreta-noguess"] is kreta_noguess
    assert PROTOCOL_PARSER_VERSIONS["kreta-noguess"] == "1"


def test_parser_reads_what_evaluate_py_reads_and_nothing_where_it_guesses() -> None:
    responses = varied_responses()
    assert len(responses) >= 100
    stages = set()
    for response, texts in responses:
        expected, stage = ref_parse(response, list(texts))
        stages.add(stage)
        got = kreta_noguess(response, _pairs(texts))
        assert got == (None if expected == GUESSED else expected), (response, texts, stage)
    # Every stage of the published parser, and each tie-break, is reached.
    for stage in ("answer-tag", "(X)", "X ", "X.", "text", "guess"):
        assert stage in stages
    for stage in ("(X) (several)", "X  (several)", "X. (several)", "text (several)"):
        assert stage in stages


def test_guessed_share_of_the_varied_responses() -> None:
    responses = varied_responses()
    guessed = [r for r, texts in responses if ref_parse(r, list(texts))[0] == GUESSED]
    unparsed = [r for r, texts in responses if kreta_noguess(r, _pairs(texts)) is None]
    assert guessed == unparsed and 0 < len(guessed) < len(responses)
    # Korean answers the published parser cannot read: it would guess on them.
    for response in ("정답은 B입니다.", "B번", "②", "정답: ", "모르겠습니다.", ""):
        assert ref_parse(response, list(QUESTIONS[0][1]))[0] == GUESSED
        assert kreta_noguess(response, _pairs(QUESTIONS[0][1])) is None


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        ("Answer: C", "C"),
        ("Answer: **B**", "B"),
        ("Answer: Based on the image, D", "D"),  # B and D after the tag: the letter forms then find D
        ("answer: C", "C"),  # not the tag (case-sensitive), but "C" ends the padded text
        ("(A) 또는 (C)", "C"),  # the last "(X)"
        ("A.C.가", "A"),  # "X." candidates with no " X ": a tie at -1 goes to the first letter
        ("정답은 B입니다.", None),  # the published code guesses here
    ],
)
def test_parser_cases(response: str, expected: str | None) -> None:
    assert kreta_noguess(response, _pairs(QUESTIONS[0][1])) == expected


# ---- the data and the prompts ---------------------------------------------------------------------------


def test_base64_image_strings_are_images_and_paths_stay_paths(tmp_path: Path) -> None:
    rows = kreta_rows(2)
    src = Source("x.parquet", tmp_path, tmp_path)
    for row in rows:
        ref = to_image(row["image"], src, 1, "image")
        assert isinstance(ref, ImageRef) and ref.data == base64.b64decode(row["image"])
        assert ref.load().size == (48, 32)
    assert rows[0]["image"].startswith("iVBORw0KGgo") and rows[1]["image"].startswith("/9j/")  # PNG, JPEG
    assert is_base64_image("data:image/png;base64," + rows[0]["image"])
    for path in (
        "images/0001.png",
        "/9j/abc.jpg",
        "iVBORw0KGgo.png",
        "R0lGOD" + "a" * 100 + ".gif",
        "x" * 300,
    ):
        assert not is_base64_image(path)
        ref = to_image(path, Source("x.parquet"), 1, "image")
        assert (ref.path, ref.data) == (path, None)


def test_mirror_loads_as_the_hub_layout(tmp_path: Path) -> None:
    root = write_kreta_mirror(tmp_path / "data", n=6)
    table = load_table(HUB_ID, "test", data_dir=root)
    assert [r["id"] for r in table.rows] == [f"kreta_{i:04d}" for i in range(6)]
    assert all(isinstance(r["image"], ImageRef) for r in table.rows)
    assert table.origin.startswith("local parquet")


@pytest.mark.parametrize(
    ("version", "setting", "system", "max_new_tokens"),
    [
        ("kreta-default", "default", None, 300),
        ("kreta-direct", "direct", None, 300),
        ("kreta-gpt-default", "default", "You are a helpful assistant.", 4096),
    ],
)
def test_prompts_are_the_published_ones(
    tmp_path: Path, version: str, setting: str, system: str | None, max_new_tokens: int
) -> None:
    root = write_kreta_mirror(tmp_path / "data")
    task = load_tasks()["kreta"]
    assert task.prompt.default == "kreta-default" and task.dataset.revision == "unpinned"
    prepared = prepare_task(
        task, DataOptions(data_dir=root), ScoringOptions(prompt_versions=(version,)), JudgeOptions(), tmp_path
    )
    rows = kreta_rows()
    assert len(prepared.items) == len(rows)
    for item, row in zip(prepared.items, rows, strict=True):
        *before, user = item.request.messages
        assert [m.text for m in before] == ([system] if system else [])
        assert user.text == ref_construct_prompt(row, setting)
        assert [i.read_bytes() for i in user.images] == [base64.b64decode(row["image"])]
        assert item.request.generation.max_new_tokens == max_new_tokens
        assert item.request.generation.temperature == 0
        assert item.target == row["answer"]
        assert item.fields["domain_system"] == f"{row['category']} / {row['topic_difficulty']}"


# ---- end to end from the mirror --------------------------------------------------------------------------

# Eight answer patterns, row i gets pattern i % 8: (response, protocol reading, kobench reading), where a
# reading is "right", "wrong" or None (unparsed). By hand from the rules above.
PATTERNS = [
    ("표를 차례로 읽어 보면 ...\nAnswer: {g}", "right", "right"),
    ("Answer: {o}", "wrong", "wrong"),
    ("정답은 {g}입니다.", None, "right"),  # published: a random guess
    ("({g})", "right", "right"),
    ("이미지에 적힌 내용을 읽어 보면 답은 {t} 입니다", "right", "right"),  # published: the option-text stage
    ("", None, None),
    ("{g}번", None, "right"),  # published: a random guess
    ("{g}.", "right", "right"),
]


def _answer(row: dict, i: int) -> str:
    g = row["answer"]
    o = "ABCD"[("ABCD".index(g) + 1) % 4]
    return PATTERNS[i % 8][0].format(g=g, o=o, t=row[g])


def _percent(flags: list[bool]) -> float:
    return 100 * sum(flags) / len(flags)


def test_run_scores_as_published(monkeypatch, tmp_path: Path) -> None:
    root = write_kreta_mirror(tmp_path / "data")
    rows = kreta_rows()
    answers = {row["id"]: _answer(row, i) for i, row in enumerate(rows)}
    register(monkeypatch, ScriptedModel(lambda r: answers[r.id]))
    result = evaluate("scripted:x", "kreta", data_dir=root, use_cache=False, output=tmp_path / "out")
    task = result.tasks["kreta"]
    assert task.n == len(rows) == 16 and task.n_failed == 0
    assert task.dataset.hub_id == HUB_ID and task.prompt_version == "kreta-default"

    protocol, kobench = task.pipelines["protocol"], task.pipelines["kobench"]
    assert protocol.parser == "kreta-noguess@1"
    # Patterns 0, 3, 4 and 7 are right under the protocol: 8 of 16; 2, 5 and 6 unparsed: 6 of 16, the
    # rows the published code would have guessed (a quarter of them right in expectation).
    assert protocol.metrics["accuracy"].value == pytest.approx(50.0)
    assert protocol.n_unparsed == 6 and protocol.unparsed_share == pytest.approx(0.375)
    # kobench reads every pattern but "" (5): 12 of 16 right (the two "Answer: {o}" are wrong).
    assert kobench.metrics["accuracy"].value == pytest.approx(75.0)
    assert kobench.n_unparsed == 2
    for pipeline, column in ((protocol, 1), (kobench, 2)):  # the same from the table of patterns
        readings = [PATTERNS[i % 8][column] for i in range(len(rows))]
        assert pipeline.metrics["accuracy"].value == pytest.approx(_percent([r == "right" for r in readings]))
        assert pipeline.n_unparsed == readings.count(None)

    # The reference parser gives the same verdicts, guessing exactly on the unparsed rows.
    ref = [ref_parse(answers[row["id"]], [row[x] for x in "ABCD"])[0] for row in rows]
    assert sum(r == GUESSED for r in ref) == protocol.n_unparsed
    right = [r == row["answer"] for r, row in zip(ref, rows, strict=True)]
    assert protocol.metrics["accuracy"].value == pytest.approx(_percent(right))

    # The published breakdown: System 1/2 (System2 on rows 0, 3, 6, 9, 12, 15: patterns 0, 3, 6, 1, 4, 7,
    # of which 0, 3, 4, 7 are right; System1 on the other ten: patterns 1, 2, 4, 5, 7, 0, 2, 3, 5, 6, of
    # which 4, 7, 0, 3 are right), domain, image type, and domain by System.
    system = protocol.breakdown["topic_difficulty"]
    assert (system["System2"].value, system["System2"].n) == (pytest.approx(400 / 6), 6)
    assert (system["System1"].value, system["System1"].n) == (pytest.approx(40.0), 10)
    for column in ("category", "image_type", "domain_system"):
        groups = {}
        for i, row in enumerate(rows):
            key = (
                row["category"] + " / " + row["topic_difficulty"]
                if column == "domain_system"
                else row[column]
            )
            groups.setdefault(key, []).append(PATTERNS[i % 8][1] == "right")
        assert {g: v.value for g, v in protocol.breakdown[column].items()} == pytest.approx(
            {g: _percent(flags) for g, flags in groups.items()}
        )

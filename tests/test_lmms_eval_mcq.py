"""lmms-eval v0.7.2's K-MMStar scoring (protocol parser `lmms-eval-mcq`), checked against a second,
independent re-implementation typed here from the source (EvolvingLMMs-Lab/lmms-eval v0.7.2,
lmms_eval/api/reasoning.py strip_reasoning_tags with the CLI's default --reasoning_tags, then
lmms_eval/tasks/mmstar/utils.py exact_match_ko -> _task_utils/mcq_extract.py extract_mcq_answer with
choices A-D), and bound to the prompt version it belongs to."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest
from benchmark_copies import k_mmstar_rows, write_all
from scripted_model import ScriptedModel, register

from kobench.api import evaluate
from kobench.errors import BadInputError
from kobench.extract.protocol import (
    PROTOCOL_PARSER_VERSIONS,
    PROTOCOL_PARSERS,
    lmms_eval_mcq,
    mmstar_original,
)
from kobench.families import check_fits
from kobench.tasks.registry import load_registry
from kobench.tasks.spec import parse_task

LETTERS_ONLY = [(letter, "") for letter in "ABCD"]  # K-MMStar: the options are inside the question


# ---- the reference, re-typed in another style (regular expressions, a sorted candidate list) ----

_TAG_PAIRS = [("<think>", "</think>"), ("<analysis>", "</analysis>")]
_PHRASES = [
    "the answer is", "answer is", "the correct answer is", "correct answer is", "the best answer is",
    "best answer is", "the correct option is", "correct option is", "the best option is", "best option is",
    "the choice is", "choice is", "the correct choice is", "correct choice is", "i choose", "i select",
    "i pick", "my answer is", "my choice is",
    "옵션", "정답은", "답은", "답:", "答案是", "答案为", "选", "答えは",
]  # fmt: skip
_PRIORITY = {"start": 10, "end": 9, "phrase": 7, "paren": 6, "period": 5, "colon": 4, "rparen": 3, "space": 2}


def ref_strip_reasoning(text: str) -> str:
    for start, end in _TAG_PAIRS:
        block = re.compile(re.escape(start) + ".*?" + re.escape(end), re.DOTALL)
        while True:  # one leftmost block at a time, as the source's while loop re-scans after each cut
            cut = block.sub("", text, count=1)
            if cut == text:
                break
            text = cut
        if end in text and start not in text:
            text = text.split(end)[-1]
    return text.strip()


def ref_extract(response: str, choices: str = "ABCD") -> str:
    if not response or not response.strip():
        return ""
    text = response.strip()
    for char in [",", ".", "!", "?", ";", ":", "'", '"']:
        text = text.strip(char)
    text = " " + text + " "
    cands: list[tuple[int, int, str]] = []  # (priority, position, letter)
    forms = {"paren": "({})", "period": "{}.", "colon": "{}:", "rparen": "{})", "space": "{} "}
    for name, form in forms.items():
        for ch in choices:
            hits = [m.start() for m in re.finditer("(?=" + re.escape(form.format(ch)) + ")", text)]
            if hits:
                cands.append((_PRIORITY[name], hits[-1], ch))
    low = text.lower()
    for phrase in _PHRASES:
        at = low.find(phrase)
        if at == -1:
            continue
        for ch in choices:
            m = re.compile(re.escape(ch)).search(text, at + len(phrase))
            if m:
                cands.append((_PRIORITY["phrase"], m.start(), ch))
    core = text.strip()
    for ch in choices:
        if core.startswith(ch) and (len(core) == 1 or not core[1].isalpha()):
            cands.append((_PRIORITY["start"], 0, ch))
        if core.endswith(ch) and (len(core) == 1 or not core[-2].isalpha()):
            cands.append((_PRIORITY["end"], len(text) - 1, ch))
    if not cands:
        cands = [(0, text.rindex(ch), ch) for ch in choices if ch in text]
    if not cands:
        return ""
    return sorted(cands, key=lambda c: (-c[0], -c[1]))[0][2]


def ref_exact_match_ko(pred: str, gt: str) -> float:
    return 1.0 if ref_extract(ref_strip_reasoning(pred)) == gt.strip().upper() else 0.0


# ---- generated responses ----

_PIECES = [
    "A", "B", "C", "D", "E", "a", "b", "c", "d", "(A)", "(b)", "(C)", "D.", "c.", "B:", "A)", "d)",
    "정답은 ", "정답은 B", "답: C", "답은 d", "옵션 ", "옵션 A",
    "The answer is ", "the correct answer is (D)",
    "I choose ", "i pick b", "My answer is C.", "Answer: B", "Because", "BANANA", "Apple", "CD", "A4",
    "사과", "배", "포도", "입니다", "이 정답입니다", "번",
    "를 선택합니다", "는 틀렸고", "가 맞습니다", " ", "  ",
    "\n", ", ", ".", "!", "?", "'", '"', ":", ";", "<think>", "</think>", "<think>A는 아니다</think>",
    "<analysis>B</analysis>", "答案是C", "选D", "答えはA", "İ", "Ａ", "(", ")", "1", "옵션B", "정답:",
    "B. 포도", "C: 배", "(D) 귤", "A) 사과", "보기 B.", "C가 아니라",
]  # fmt: skip


def generated_responses(n: int = 400, seed: int = 20260411) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        pieces = rng.choices(_PIECES, k=rng.randint(1, 7))
        sep = rng.choice(["", " ", "", "\n"])
        out.append(sep.join(pieces))
    return out


def paired_forms() -> list[str]:
    """Two letters in two forms inside Korean text that has no phrase and no standalone first or last
    letter: only the forms' ranks (and then positions) decide."""
    forms = ["({})", "{}.", "{}:", "{})", "{} "]
    return [
        f"보기 {f1.format(x)}와 {f2.format(y)}중 하나입니다"
        for f1 in forms
        for f2 in forms
        for x, y in (("A", "C"), ("D", "B"))
    ]


RESPONSES = generated_responses() + paired_forms()


def test_enough_varied_responses() -> None:
    assert len(set(RESPONSES)) >= 300
    assert sum("<think>" in r or "</think>" in r for r in RESPONSES) >= 20
    assert sum(bool(re.search("[가-힣]", r)) for r in RESPONSES) >= 100


def test_agrees_with_the_independent_reference_on_every_response() -> None:
    disagreements = []
    for response in RESPONSES:
        for gt in "ABCD":
            ours = 1.0 if lmms_eval_mcq(response, LETTERS_ONLY) == gt else 0.0
            if ours != ref_exact_match_ko(response, gt):
                disagreements.append((response, gt))
        assert (lmms_eval_mcq(response, LETTERS_ONLY) or "") == ref_extract(ref_strip_reasoning(response))
    assert disagreements == []


def test_old_and_new_k_mmstar_parsers_disagree_often() -> None:
    differ = [r for r in RESPONSES if lmms_eval_mcq(r, LETTERS_ONLY) != mmstar_original(r, LETTERS_ONLY)]
    assert len(differ) >= len(RESPONSES) // 4  # case, letters anywhere, the preferred forms


@pytest.mark.parametrize(
    ("response", "expected"),
    [  # worked by hand from mcq_extract.py (v0.7.2)
        ("B", "B"),
        ("b", None),  # case-sensitive: no upper-case letter anywhere, "" in the source
        ("(b) 포도", None),
        ("The answer is (C).", "C"),  # "." stripped; the phrase (rank 7) beats "(C)" (6)
        ("A는 틀렸고 정답은 D", "D"),  # ends with a standalone D (rank 9) over the phrase's D (7)
        ("정답은 B, 아니 C", "C"),  # the standalone last letter (9) over the phrase's B (7)
        ("정답은 B입니다", "B"),  # the phrase: the first A-D after "정답은"
        ("Because A is wrong", "A"),  # "A " (rank 2); the B of "Because" would be a fallback only
        ("BANANA", "A"),  # "A " at the padded end; no standalone start or end letter
        ("Apple", "A"),  # only the fallback: any A-D, last occurrence
        ("<think>A는 아니다</think> C", "C"),  # the think block is cut first
        ("정답은 C</think>D", "D"),  # a lone closing tag: only what follows it
        ("'D'", "D"),
        ("옵션 B와 C 중 C", "C"),
        ("", None),
        ("...", None),
        ("모르겠습니다", None),
    ],
)
def test_hand_checked(response: str, expected: str | None) -> None:
    assert lmms_eval_mcq(response, LETTERS_ONLY) == expected
    assert ref_extract(ref_strip_reasoning(response)) == (expected or "")


def test_every_parser_has_a_version() -> None:
    assert set(PROTOCOL_PARSER_VERSIONS) == set(PROTOCOL_PARSERS)


# ---- the parser belongs to a prompt version ----


def test_k_mmstar_prompt_versions_name_their_parsers() -> None:
    task = load_registry()["k-mmstar"]
    assert task.protocol_parser_for("ncsoft-original") == "mmstar-original"
    assert task.protocol_parser_for("lmms-eval-2025") == "mmstar-original"  # lmms-eval v0.6 - v0.7.1
    assert task.protocol_parser_for("lmms-eval-0.7.2") == "lmms-eval-mcq"
    assert task.for_prompt_version("ncsoft-original") is task
    resolved = task.for_prompt_version("lmms-eval-0.7.2")
    assert (
        resolved.scoring.protocol_parser == "lmms-eval-mcq"
        and task.scoring.protocol_parser == "mmstar-original"
    )
    assert resolved.prompt == task.prompt and resolved.scoring.aggregate == "macro"


_TASK = """\
name: t
family: multiple_choice
category: General
description: d
source: s
dataset: {hub_id: a/b, split: test}
columns: {image: image, question: question, answer: answer}
prompt:
  default: v1
  versions:
    v1: {template: "{{ question }}", max_new_tokens: 4, source: s}
    v2:
      template: "{{ question }}"
      max_new_tokens: 4
      source: s
      protocol_parser: PARSER
scoring: {protocol_parser: first-char}
"""


def test_an_unknown_prompt_version_parser_is_refused_with_its_line() -> None:
    check_fits(parse_task(_TASK.replace("PARSER", "lmms-eval-mcq"), "t.yaml"))
    with pytest.raises(BadInputError, match=r"t.yaml:\?: prompt.versions.v2.protocol_parser: 'nope'"):
        check_fits(parse_task(_TASK.replace("PARSER", "nope"), "t.yaml"))
    other = _TASK.replace("family: multiple_choice", "family: doc_vqa").replace("PARSER", "first-char")
    with pytest.raises(BadInputError, match="only multiple_choice tasks take"):
        parse_task(other, "t.yaml")


def test_run_scores_each_k_mmstar_prompt_version_with_its_parser(monkeypatch, tmp_path: Path) -> None:
    mirror = write_all(tmp_path / "mirror")
    rows = {str(r["index"]): r for r in k_mmstar_rows()}

    # The right letter in lower case ("b"): the original parser credits it, the v0.7.2 one never does;
    # "The answer is (X)" the other way round.
    def script(request) -> str:
        right = rows[request.id]["answer"]
        return right.lower() if int(request.id) % 2 == 0 else f"The answer is ({right})."

    register(monkeypatch, ScriptedModel(script))
    results = {}
    for version in ("lmms-eval-2025", "lmms-eval-0.7.2"):
        result = evaluate(
            "scripted:x",
            "k-mmstar",
            data_dir=mirror,
            cache_dir=tmp_path / "cache",
            prompt_versions=(version,),
        )
        results[version] = result.tasks["k-mmstar"].pipelines
    old, new = results["lmms-eval-2025"]["protocol"], results["lmms-eval-0.7.2"]["protocol"]
    assert "parser:mmstar-original@1" in old.signature and "prompt:lmms-eval-2025" in old.signature
    assert "parser:lmms-eval-mcq@1" in new.signature and "prompt:lmms-eval-0.7.2" in new.signature
    # Even rows (index % 4 in {0, 2}: l2 groups 0 and 2) are right for the old parser only, odd rows
    # (groups 1 and 3) for the new one only: each scores half of the four l2 groups.
    assert old.metrics["accuracy"].value == pytest.approx(50.0)
    assert new.metrics["accuracy"].value == pytest.approx(50.0)
    assert old.unit_scores == [1.0 - s for s in new.unit_scores]
    assert results["lmms-eval-2025"]["kobench"].unit_scores == [1.0] * 12  # kobench reads both forms

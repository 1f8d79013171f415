"""Published answer parsers, reproduced rule for rule (each cites its source).

Each parser maps (response, present options) to the letter the published evaluation would credit,
or None where it credits nothing. A row is right under the protocol iff the parser returns the
answer letter, which is exactly when the published code scores it 1.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Sequence

from kobench.extract.kormedmcqa import kormedmcqa_json
from kobench.extract.kreta import kreta_noguess

Options = Sequence[tuple[str, str]]
ProtocolParser = Callable[[str, Options], "str | None"]


def first_char(response: str, options: Options) -> str | None:
    """K-SEED and K-DTCBench (lmms-eval seedbench/ko_utils.py and dtcbench/utils.py, NCSOFT, PR #575):
    the first character of the stripped output, compared case-insensitively with the answer."""
    pred = response.strip()[:1].upper()
    return pred if pred in {letter for letter, _ in options} else None


def mmstar_original(response: str, options: Options) -> str | None:
    """K-MMStar, NCSOFT's original `exact_match_ko` (lmms-eval mmstar/utils.py before 2025):
    lower-cased, newlines to spaces, stripped; then the first character, or the character after
    a leading `(`, `옵션 ` or `정답은 `."""
    predict = response.lower().replace("\n", " ").strip()
    if predict.startswith("("):
        candidate = predict[1:2]
    elif predict.startswith("옵션 "):
        candidate = predict[3:4]
    elif predict.startswith("정답은 "):
        candidate = predict[4:5]
    else:
        candidate = predict[:1]
    candidate = candidate.upper()
    return candidate if candidate in {letter for letter, _ in options} else None


# MMBench's heuristic matcher (lmms-eval mmbench/mmbench_evals.py, can_infer_option / can_infer_text),
# the stage before its GPT matcher and random fallback, which kobench does not reproduce.
_MMBENCH_AFFIXES = [
    ("", "."),
    ("", ","),
    ("", ":"),
    ("", ")"),
    ("", ")."),
    ("(", ")"),
    ("(", ")."),
    (":", ""),
    (":", ","),
    (":", "."),
    (":", ")"),
    (":", ")."),
]


def _mmbench_option(answer: str) -> str | None:
    letters = "ABCDE"  # the published code always looks at five letters
    if "Failed to obtain answer via API" in answer:
        return None
    tokens = [t.strip() for t in answer.split()]

    def hits(prefix: str = "", suffix: str = "") -> list[str]:
        return [c for c in letters if prefix + c + suffix in tokens]

    bare = hits()
    # A lone "A" in a longer answer may be the English article, so the bare match is skipped then.
    if len(bare) == 1 and not ("A" in tokens and len(tokens) > 3):
        return bare[0]
    for prefix, suffix in _MMBENCH_AFFIXES:
        found = hits(prefix, suffix)
        if len(found) == 1:
            return found[0]
    return None


def _mmbench_text(answer: str, options: Options) -> str | None:
    lowered = answer.lower()
    # The published matcher only builds choices from A-D.
    found = [letter for letter, text in options if letter in "ABCD" and str(text).lower() in lowered]
    return found[0] if len(found) == 1 else None


def mmbench_heuristic(response: str, options: Options) -> str | None:
    """K-MMBench: MMBench's rule-based matcher only (no GPT stage, no random fallback), on the response
    stripped of outer whitespace as lmms-eval mmbench/ko_utils.py mmbench_process_results stores it.

    `options` are the options as MMBench's `build_choices` sees them: every A-D value that is not
    NaN, so an option whose text is "" (which then matches every response) or the string "nan" takes
    part in the text match even though the prompt never showed it (the multiple-choice family builds
    them so, task option rule "mmbench")."""
    response = response.strip()
    return _mmbench_option(response) or _mmbench_text(response, options)


# lmms-eval's generic multiple-choice extractor (lmms_eval/tasks/_task_utils/mcq_extract.py,
# extract_mcq_answer), which scores K-MMStar since v0.7.2. Its answer phrases, matched in this order on
# the lower-cased text (the letter after a phrase is then searched case-sensitively in the original).
_MCQ_PHRASES = (
    "the answer is",
    "answer is",
    "the correct answer is",
    "correct answer is",
    "the best answer is",
    "best answer is",
    "the correct option is",
    "correct option is",
    "the best option is",
    "best option is",
    "the choice is",
    "choice is",
    "the correct choice is",
    "correct choice is",
    "i choose",
    "i select",
    "i pick",
    "my answer is",
    "my choice is",
    "옵션",
    "정답은",
    "답은",
    "답:",
    "答案是",
    "答案为",
    "选",
    "答えは",
)
# How much a letter form is trusted; a higher rank wins, and within a rank the later position.
_MCQ_RANK = {"start": 10, "end": 9, "phrase": 7, "(X)": 6, "X.": 5, "X:": 4, "X)": 3, "X ": 2, "any": 0}
# The forms found by a plain substring search, each at its last occurrence.
_MCQ_AFFIXED = (("(X)", "(", ")"), ("X.", "", "."), ("X:", "", ":"), ("X)", "", ")"), ("X ", "", " "))
# `python -m lmms_eval` removes these blocks from every response before scoring (--reasoning_tags,
# lmms_eval/api/reasoning.py strip_reasoning_tags, since v0.7).
_REASONING_TAGS = (("<think>", "</think>"), ("<analysis>", "</analysis>"))


def _without_reasoning(text: str) -> str:
    for opening, closing in _REASONING_TAGS:
        # Each opening tag up to the first closing tag after it goes, as long as one follows it.
        while opening in text and closing in text:
            start = text.find(opening)
            end = text.find(closing, start)
            if end < 0:
                break
            text = text[:start] + text[end + len(closing) :]
        # A closing tag without any opening one: the opening tag was in the prompt, keep what follows.
        if closing in text and opening not in text:
            text = text.rpartition(closing)[2]
    return text.strip()


def lmms_eval_mcq(response: str, options: Options) -> str | None:
    """K-MMStar as lmms-eval scores it since v0.7.2 (EvolvingLMMs-Lab/lmms-eval, tag v0.7.2 =
    cb45ac4d, unchanged at 75571cfe): mmstar/utils.py `exact_match_ko` is
    `extract_mcq_answer(pred, choices=["A", "B", "C", "D"]) == gt.strip().upper()`
    (lmms_eval/tasks/_task_utils/mcq_extract.py), after the CLI's default reasoning-tag stripping.

    Case-sensitive: only upper-case A-D count, wherever they stand ("Because" holds a B). The text is
    stripped of whitespace, then of , . ! ? ; : ' " at both ends (in that order), and padded with a
    space. Candidates: "(X)", "X.", "X:", "X)" and "X " at their last occurrence; the first A-D after
    the first occurrence of each answer phrase (`_MCQ_PHRASES`, case-insensitive); a letter that starts
    or ends the text with no letter (`str.isalpha`, Hangul too) beside it; and only when none of those
    is found, any A-D at its last occurrence. The best rank wins, then the later position. Nothing
    found is "" in the source, None here; the letters are always A-D, whatever `options` holds."""
    text = _without_reasoning(response)
    if not text:
        return None
    for mark in ",.!?;:'\"":
        text = text.strip(mark)
    padded = f" {text} "
    best: tuple[int, int, str] | None = None

    def offer(rank: str, position: int, letter: str) -> None:
        nonlocal best
        key = (_MCQ_RANK[rank], position, letter)
        if best is None or key[:2] > best[:2]:
            best = key

    for letter in "ABCD":
        for rank, before, after in _MCQ_AFFIXED:
            at = padded.rfind(before + letter + after)
            if at >= 0:
                offer(rank, at, letter)
    lowered = padded.lower()
    for phrase in _MCQ_PHRASES:
        at = lowered.find(phrase)
        if at >= 0:
            for letter in "ABCD":
                found = padded.find(letter, at + len(phrase))
                if found >= 0:
                    offer("phrase", found, letter)
    core = padded.strip()
    if core:
        if core[0] in "ABCD" and (len(core) == 1 or not core[1].isalpha()):
            offer("start", 0, core[0])
        if core[-1] in "ABCD" and (len(core) == 1 or not core[-2].isalpha()):
            offer("end", len(padded) - 1, core[-1])
    if best is None:
        for letter in "ABCD":
            if letter in padded:
                offer("any", padded.rfind(letter), letter)
    return best[2] if best is not None else None


def exact_letter(response: str, options: Options) -> str | None:
    """K-Viscuit (run_vqa.py of ddehun/k-viscuit): the stripped output must be exactly one letter."""
    pred = response.strip()
    return pred if pred in {letter for letter, _ in options} else None


_PUNCTUATION = str.maketrans("", "", string.punctuation)


def _lm_eval_exact(text: str) -> str:
    return re.sub(" ", "", text).lower().translate(_PUNCTUATION)


def lm_eval_exact_match(response: str, options: Options) -> str | None:
    """lm-evaluation-harness v0.4.9.2 `exact_match` as KMMLU's direct tasks configure it
    (lm_eval/tasks/kmmlu/direct/_direct_kmmlu_yaml: regexes_to_ignore [" "], ignore_case, ignore_punctuation;
    lm_eval/api/metrics.py exact_match_hf_evaluate): the answer, generated up to the first stop string, with
    spaces removed, lower-cased and ASCII punctuation removed, must equal the letter so treated. Other
    whitespace (a newline) stays, as there."""
    pred = _lm_eval_exact(response)
    return next((letter for letter, _ in options if _lm_eval_exact(letter) == pred), None)


# KoBALT's extract_answer (snunlp/KoBALT-700 data/inference_*.py): every "정답은 ... 입니다" clause (no
# newline inside), the capital Latin letters in it, each once, in order.
_KOBALT_STATEMENT = re.compile(r"정답은\s*(.*?)\s*입니다")
_KOBALT_LETTER = re.compile(r"[A-Z]")


def kobalt_regex(response: str, options: Options) -> str | None:
    """KoBALT's published scoring (snunlp/KoBALT-700 data/inference_open-models.py extract_answer, scored
    `ground_truth == predicted_answer`): the letters of all "정답은 X입니다" statements, joined by ", ".
    Several letters ("A, C") are kept as they are, so they match no answer: wrong, as there, not
    unparseable. The published scripts search the decoded prompt too; its "정답은 [정답 보기]입니다" holds
    no capital letter, so searching the response alone gives the same letters."""
    found: list[str] = []
    for content in _KOBALT_STATEMENT.findall(response):
        for letter in _KOBALT_LETTER.findall(content):
            if letter not in found:
                found.append(letter)
    return ", ".join(found) if found else None


PROTOCOL_PARSERS: dict[str, ProtocolParser] = {
    "first-char": first_char,
    "mmstar-original": mmstar_original,
    "lmms-eval-mcq": lmms_eval_mcq,
    "mmbench-heuristic": mmbench_heuristic,
    "exact-letter": exact_letter,
    "lm-eval-exact-match": lm_eval_exact_match,
    "kobalt-regex": kobalt_regex,
    "kreta-noguess": kreta_noguess,  # kobench/extract/kreta.py
    "kormedmcqa-v-json": kormedmcqa_json,  # kobench/extract/kormedmcqa.py
}
# Each parser's version, in the score signature as name@version: bumped when that parser's behaviour
# changes, so a changed parser never shares a signature with its earlier numbers (and the others keep theirs).
PROTOCOL_PARSER_VERSIONS: dict[str, str] = {
    "first-char": "1",
    "mmstar-original": "1",
    "lmms-eval-mcq": "1",
    "mmbench-heuristic": "2",  # 2: the response is stripped first, as lmms-eval stores it
    "exact-letter": "1",
    "lm-eval-exact-match": "1",
    "kobalt-regex": "1",
    "kreta-noguess": "1",
    "kormedmcqa-v-json": "1",
}

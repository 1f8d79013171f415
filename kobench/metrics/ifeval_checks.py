"""IFEval's verifiable instructions, each a pure check of one response: kobench's own code, written from
google-research instruction_following_eval/instructions.py as lm-evaluation-harness (commit 4e7e0d4)
copies it in lm_eval/tasks/ifeval/instructions.py (the registered checks are the same in both), and checked
against an independent re-implementation of that file in tests/ifeval_reference.py.

The published semantics are kept where they are odd, because scores depend on them: keywords are regular
expressions searched case-insensitively; a forbidden word counts only between two `\\b` word boundaries (a
Korean word with a particle attached, 사과를, does not contain the forbidden 사과 there: kobench's own
pipeline drops the right-hand boundary, `Rules.particles_attach`); "less than" is strict and "at least"
inclusive; a language that langdetect cannot tell counts as followed.

IFEval-Ko (allganize/IFEval-Ko) asks for the constrained response options in Korean; its checker must find
them in Korean, so `CONSTRAINED_RESPONSE_OPTIONS` holds the Korean options of the Korean adaptation of
lm-eval's instructions.py (as found in GitHub samprate1st/mt-ifeval-ko, commit 1652ea1,
ifeval/instructions/ko_instructions.py; allganize's own ifeval_ko/instructions.py is on the Hub only).

Where IFEval draws a missing argument at random (a keyword, a relation, a letter), kobench refuses the
instruction instead (`InstructionError`): a row is never scored against a random draw.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from kobench.metrics.ifeval_text import count_sentences, count_words, detect_language

RELATIONS = ("less than", "at least")
# The Korean adaptation's translations of ("My answer is yes.", "My answer is no.", "My answer is maybe.").
CONSTRAINED_RESPONSE_OPTIONS = ("제 답변은 예입니다.", "제 답변은 아니요입니다.", "제 답변은 아마도입니다.")
_FIRST_WORD_STOPS = frozenset(".,?!'\"")


class InstructionError(ValueError):
    """An instruction that cannot be checked as given: unknown id, missing or invalid argument."""


@dataclass(frozen=True)
class Rules:
    """How a pipeline reads the instructions. `particles_attach`: a forbidden word followed by more word
    characters (a Korean particle or ending) still counts as used."""

    particles_attach: bool = False


AS_PUBLISHED = Rules()
Args = Mapping[str, Any]
CheckFn = Callable[[str, Args, Rules], bool]


@dataclass(frozen=True)
class Instruction:
    check: CheckFn
    required: tuple[str, ...] = ()  # arguments IFEval would otherwise draw at random
    needs: tuple[str, ...] = ()  # modules the check imports (langdetect, kiwipiepy)


def _compare(count: int, threshold: int, relation: str) -> bool:
    return count < threshold if relation == RELATIONS[0] else count >= threshold


def _keywords(value: str, args: Args, rules: Rules) -> bool:
    return all(re.search(k, value, flags=re.IGNORECASE) for k in sorted(args["keywords"]))


def _keyword_frequency(value: str, args: Args, rules: Rules) -> bool:
    found = len(re.findall(args["keyword"].strip(), value, flags=re.IGNORECASE))
    return _compare(found, args["frequency"], args["relation"])


def _forbidden_words(value: str, args: Args, rules: Rules) -> bool:
    right = "" if rules.particles_attach else r"\b"
    return not any(
        re.search(r"\b" + word + right, value, flags=re.IGNORECASE)
        for word in sorted(set(args["forbidden_words"]))
    )


def _letter_frequency(value: str, args: Args, rules: Rules) -> bool:
    letters = Counter(value.lower())
    return _compare(letters[args["letter"].strip().lower()], args["let_frequency"], args["let_relation"])


def _response_language(value: str, args: Args, rules: Rules) -> bool:
    language = detect_language(value)
    return language is None or language == args["language"]


def _number_sentences(value: str, args: Args, rules: Rules) -> bool:
    return _compare(count_sentences(value), args["num_sentences"], args["relation"])


def _number_paragraphs(value: str, args: Args, rules: Rules) -> bool:
    paragraphs = re.split(r"\s?\*\*\*\s?", value)
    count = len(paragraphs)
    for index, paragraph in enumerate(paragraphs):
        if not paragraph.strip():
            if index not in (0, len(paragraphs) - 1):
                return False  # an empty paragraph between two dividers
            count -= 1
    return count == args["num_paragraphs"]


def _number_words(value: str, args: Args, rules: Rules) -> bool:
    return _compare(count_words(value), args["num_words"], args["relation"])


def _first_word(paragraph: str) -> str:
    word = paragraph.split()[0].strip().lstrip("'").lstrip('"')
    out = []
    for char in word:
        if char in _FIRST_WORD_STOPS:
            break
        out.append(char.lower())
    return "".join(out)


def _nth_paragraph_first_word(value: str, args: Args, rules: Rules) -> bool:
    paragraphs = re.split(r"\n\n", value)
    count = sum(1 for p in paragraphs if p.strip())
    nth = args["nth_paragraph"]
    # The published check counts the non-empty paragraphs but indexes the split as it is.
    if nth > count or not paragraphs[nth - 1].strip():
        return False
    first = _first_word(paragraphs[nth - 1].strip())
    return count == args["num_paragraphs"] and first == args["first_word"].lower()


def _placeholders(value: str, args: Args, rules: Rules) -> bool:
    return len(re.findall(r"\[.*?\]", value)) >= args["num_placeholders"]


def _postscript(value: str, args: Args, rules: Rules) -> bool:
    marker = args["postscript_marker"].strip()
    patterns = {"P.P.S": r"\s*p\.\s?p\.\s?s.*$", "P.S.": r"\s*p\.\s?s\..*$"}
    pattern = patterns.get(marker, r"\s*" + marker.lower() + r".*$")
    return bool(re.findall(pattern, value.lower(), flags=re.MULTILINE))


def _bullet_lists(value: str, args: Args, rules: Rules) -> bool:
    stars = re.findall(r"^\s*\*[^\*].*$", value, flags=re.MULTILINE)
    dashes = re.findall(r"^\s*-.*$", value, flags=re.MULTILINE)
    return len(stars) + len(dashes) == args["num_bullets"]


def _constrained_response(value: str, args: Args, rules: Rules) -> bool:
    value = value.strip()
    return any(option in value for option in CONSTRAINED_RESPONSE_OPTIONS)


def _highlighted_sections(value: str, args: Args, rules: Rules) -> bool:
    single = [h for h in re.findall(r"\*[^\n\*]*\*", value) if h.strip("*").strip()]
    double = [
        h for h in re.findall(r"\*\*[^\n\*]*\*\*", value) if h.removeprefix("**").removesuffix("**").strip()
    ]
    return len(single) + len(double) >= args["num_highlights"]


def _multiple_sections(value: str, args: Args, rules: Rules) -> bool:
    splitter = args["section_spliter"].strip()
    sections = re.split(r"\s?" + splitter + r"\s?\d+\s?", value)
    return len(sections) - 1 >= args["num_sections"]


def _json_format(value: str, args: Args, rules: Rules) -> bool:
    value = value.strip()
    for fence in ("```json", "```Json", "```JSON", "```"):
        value = value.removeprefix(fence)
    value = value.removesuffix("```").strip()
    try:
        json.loads(value)
    except ValueError:
        return False
    return True


def _title(value: str, args: Args, rules: Rules) -> bool:
    return any(t.lstrip("<").rstrip(">").strip() for t in re.findall(r"<<[^\n]+>>", value))


def _two_responses(value: str, args: Args, rules: Rules) -> bool:
    parts = value.split("******")
    answers = []
    for index, part in enumerate(parts):
        if part.strip():
            answers.append(part)
        elif index not in (0, len(parts) - 1):
            return False
    return len(answers) == 2 and answers[0].strip() != answers[1].strip()


def _repeat_prompt(value: str, args: Args, rules: Rules) -> bool:
    return value.strip().lower().startswith(args["prompt_to_repeat"].strip().lower())


def _end_checker(value: str, args: Args, rules: Rules) -> bool:
    return value.strip().strip('"').lower().endswith(args["end_phrase"].strip().lower())


def _english_case(upper: bool) -> CheckFn:
    def check(value: str, args: Args, rules: Rules) -> bool:
        if not (value.isupper() if upper else value.islower()):
            return False
        language = detect_language(value)
        return language is None or language == "en"

    return check


def _no_comma(value: str, args: Args, rules: Rules) -> bool:
    return "," not in value


def _quotation(value: str, args: Args, rules: Rules) -> bool:
    value = value.strip()
    return len(value) > 1 and value[0] == '"' and value[-1] == '"'


INSTRUCTIONS: dict[str, Instruction] = {
    "keywords:existence": Instruction(_keywords, ("keywords",)),
    "keywords:frequency": Instruction(_keyword_frequency, ("keyword", "frequency", "relation")),
    "keywords:forbidden_words": Instruction(_forbidden_words, ("forbidden_words",)),
    "keywords:letter_frequency": Instruction(_letter_frequency, ("letter", "let_frequency", "let_relation")),
    "language:response_language": Instruction(_response_language, ("language",), ("langdetect",)),
    "length_constraints:number_sentences": Instruction(
        _number_sentences, ("num_sentences", "relation"), ("kiwipiepy",)
    ),
    "length_constraints:number_paragraphs": Instruction(_number_paragraphs, ("num_paragraphs",)),
    "length_constraints:number_words": Instruction(_number_words, ("num_words", "relation")),
    "length_constraints:nth_paragraph_first_word": Instruction(
        _nth_paragraph_first_word, ("num_paragraphs", "nth_paragraph", "first_word")
    ),
    "detectable_content:number_placeholders": Instruction(_placeholders, ("num_placeholders",)),
    "detectable_content:postscript": Instruction(_postscript, ("postscript_marker",)),
    "detectable_format:number_bullet_lists": Instruction(_bullet_lists, ("num_bullets",)),
    "detectable_format:constrained_response": Instruction(_constrained_response),
    "detectable_format:number_highlighted_sections": Instruction(_highlighted_sections, ("num_highlights",)),
    "detectable_format:multiple_sections": Instruction(
        _multiple_sections, ("section_spliter", "num_sections")
    ),
    "detectable_format:json_format": Instruction(_json_format),
    "detectable_format:title": Instruction(_title),
    "combination:two_responses": Instruction(_two_responses),
    "combination:repeat_prompt": Instruction(_repeat_prompt, ("prompt_to_repeat",)),
    "startend:end_checker": Instruction(_end_checker, ("end_phrase",)),
    "change_case:english_capital": Instruction(_english_case(upper=True), (), ("langdetect",)),
    "change_case:english_lowercase": Instruction(_english_case(upper=False), (), ("langdetect",)),
    "punctuation:no_comma": Instruction(_no_comma),
    "startend:quotation": Instruction(_quotation),
}
# IFEval's one registered check that kobench cannot run as published: it counts capital words with nltk's
# word_tokenize, whose punkt data comes from outside the package index. IFEval-Ko leaves it out (its
# capital_frequency and capital_relation are null in every row); a row that asks for it fails, counted.
UNSUPPORTED = {"change_case:capital_word_frequency": "counts words with nltk's punkt data, not installed"}
_INTEGERS = frozenset(
    "frequency let_frequency num_sentences num_paragraphs num_words nth_paragraph num_placeholders "
    "num_bullets num_highlights num_sections".split()
)
_REGEXES = ("keywords", "keyword", "forbidden_words", "postscript_marker", "section_spliter")


def instruction_args(instruction_id: str, kwargs: Mapping[str, Any] | None) -> dict[str, Any]:
    """The arguments the check of `instruction_id` runs with: lm-eval's `{k: v for k, v in kwargs.items()
    if v}` (the Hub rows carry every argument name, null where unused), validated as IFEval's
    build_description validates them; InstructionError where IFEval would draw at random or fail."""
    if instruction_id in UNSUPPORTED:
        raise InstructionError(f"{instruction_id}: {UNSUPPORTED[instruction_id]}")
    spec = INSTRUCTIONS.get(instruction_id)
    if spec is None:
        raise InstructionError(f"unknown instruction {instruction_id!r}")
    args = {k: v for k, v in (kwargs or {}).items() if v}
    missing = [name for name in spec.required if name not in args]
    if missing:
        raise InstructionError(f"{instruction_id}: no {', '.join(missing)} (IFEval would draw one at random)")
    for name, value in args.items():
        if name in _INTEGERS and name in spec.required:
            if isinstance(value, float) and value.is_integer():
                args[name] = int(value)  # a nullable int64 column read through pandas
            elif not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise InstructionError(f"{instruction_id}: {name} {value!r} is not a count")
    for name in ("relation", "let_relation"):
        if name in spec.required and args[name] not in RELATIONS:
            raise InstructionError(f"{instruction_id}: {name} {args[name]!r} is not one of {RELATIONS}")
    if instruction_id == "keywords:letter_frequency":
        letter = str(args["letter"])
        if len(letter) != 1 or not ("a" <= letter.lower() <= "z"):
            raise InstructionError(f"{instruction_id}: letter {letter!r} is not one Latin letter")
    if instruction_id == "length_constraints:nth_paragraph_first_word" and not (
        1 <= args["nth_paragraph"] <= args["num_paragraphs"]
    ):
        raise InstructionError(f"{instruction_id}: nth_paragraph {args['nth_paragraph']} is out of range")
    for name in _REGEXES:
        for pattern in [args[name]] if isinstance(args.get(name), str) else args.get(name) or []:
            try:
                re.compile(str(pattern))
            except re.error as exc:
                raise InstructionError(
                    f"{instruction_id}: {name} {pattern!r} is no regular expression"
                ) from exc
    return args


def follows(instruction_id: str, args: Args, value: str, rules: Rules = AS_PUBLISHED) -> bool:
    """Whether `value` follows the instruction; an empty (all-space) response follows nothing."""
    return bool(value.strip()) and INSTRUCTIONS[instruction_id].check(value, args, rules)

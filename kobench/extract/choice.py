"""kobench's Korean-aware multiple-choice extractor: the one option a free-form response commits to.

This is the "robust" pipeline that is reported beside the published protocol (first character, exact
letter). It reads `정답은 B입니다`, `B번`, `(B)를 선택합니다`, `Final answer: C`, think blocks and answers
given as the option's text. It never guesses: a response that does not commit to exactly one option gives
None, and the caller counts it as unparseable (wrong), never replaced by a random option.

How a response is read, strongest evidence first; the first level that finds any letter decides, and
it decides only if it found exactly one letter that is one of the options:

1. final statements: `Final answer: C`, `최종 답: C`, `\\boxed{C}`, or an answer statement after a
   conclusion word in the same clause (`따라서 정답은 B`, `So the answer is B`, `So B.`);
2. answer statements anywhere: `정답은 B`, `Answer: B`, `B가 정답`, `B를 선택`, `B입니다`, `B is correct`;
3. answer forms: the whole response is a letter (`b`, `(B)`, `Option B`, `B번`; only here may it be
   lowercase) or a line starts with a label (`B. ...`, `B) 사과`, `[B]`);
4. option text: the response, or what follows `정답은`, is exactly one option's text (`사과입니다`).

So letters mentioned while reasoning (`A는 틀렸고 C도 아니므로`) never outvote a stated answer, and two
different stated answers (`정답은 B와 C`) give None.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from kobench.extract.thinking import strip_thinking
from kobench.normalize import collapse_spaces, fold_single_quotes, nfkc

EXTRACTOR_NAME = "kobench-choice"
EXTRACTOR_VERSION = "1"

# Letters that can name an option inside a response. "I" is left out: in English it is the pronoun.
_LETTERS = "A-H"
# Lowercase words that may follow a bare "A" naming an option ("A is correct", "A because ...").
# After any other lowercase word "A" is the English article ("A cat is sitting"), not an answer.
_AFTER_OPTION_A = (
    "is|was|would|seems|appears|looks|matches|fits|best|because|since|as|and|or|but|so|which|that|"
    "then|with|for|in|from|only|also|here|correctly|describes|shows|represents|corresponds|has|does|not"
)
# An option letter standing alone: "(B)", "[B]" or a bare "B", not inside a word ("BANANA", "CD", "A4").
# Hangul may follow directly, because Korean particles are glued to it ("B를", "B입니다", "B번").
_LETTER = (
    rf"(?<![A-Za-z0-9])(?:\([{_LETTERS}]\)|\[[{_LETTERS}]\]"
    rf"|A(?!\s+(?!(?:{_AFTER_OPTION_A})\b)[a-z])|[B-H])(?![A-Za-z0-9])"
)
# Letters joined ("B와 C", "B, C", "B or C") are read together, so that the statement names all of them.
# At most 8: more names no single answer anyway, and the bound keeps degenerate repetitive output linear.
_LIST = rf"{_LETTER}(?:\s*(?:,|/|&|와|과|및|또는|혹은|이나|나|(?i:and|or)\b)\s*{_LETTER}){{0,7}}"
_REF = r"(?:보기|선택지|옵션|(?i:option|choice))\s*"
_CUE_KO = r"(?:(?:정답|답변|답)\s*(?:은요|은|는|:|=|->|→)?|선택\s*:)"
_CUE_EN = (
    r"(?i:\b(?:answer|option|choice)\s*(?:is|would\s+be|should\s+be|will\s+be|:|=)\s*:?"
    r"|\b(?:choose|chose|pick|picked|select|selected|go\s+with|going\s+with)\s+|\bit(?:'s|\s+is)\s+|\bI\s+think\s+)"
)
_COPULA = r"(?:입니다|이에요|예요|에요|이다|이야|임|요)"

# Level 1: statements that say they are the final answer.
_FINAL = re.compile(
    rf"(?:(?i:\bfinal\s+answer)\s*(?:(?i:is)\s*)?[:=]?|최종\s*(?:정답|답변|답|선택)\s*(?:은|는|:|=)?|\\boxed\{{)"
    rf"\s*(?:{_REF})?(?P<list>{_LIST})"
)
# Level 2: a cue before the letter ("정답은 B", "The answer is B", "I choose B") ...
_PREFIX = re.compile(rf"(?:{_CUE_KO}|{_CUE_EN})\s*(?:{_REF})?(?P<list>{_LIST})")
# ... or an assertion after it ("B가 정답", "B를 선택합니다", "B번입니다", "B is correct").
_POST = re.compile(
    rf"(?P<list>{_LIST})\s*(?:번)?\s*(?:"
    r"(?:이야말로|이|가|은|는)?\s*(?:정답|답|맞|옳)"
    r"|(?:을|를|으로|로)?\s*(?:선택|고르|골라|고릅|골랐|택|답하|답합|답했)"
    r"|(?:이)?라고\s*(?:생각|봅|판단)"
    rf"|{_COPULA}(?![가-힣])"
    r"|(?i:(?:is|was|would\s+be|seems\s+to\s+be)\s+(?:the\s+)?(?:correct|right|best|true|answer)\b))"
)
# What right after a statement takes it back: "A가 아니라", "정답이 아닙니다", "선택하지 않", "정답일 수도".
# Used with .match(text, pos), which anchors at pos (a "^" would anchor at the start of the text).
_NEG_AFTER = re.compile(
    r"\s*(?:[이가]\s*)?(?:아니|아닙|아님|아닌|아냐|없)"
    r"|\s*(?:[이가]\s*)?(?:될|일)\s*수\s*(?:는\s*)?없"
    r"|[가-힣]*지\s*(?:않|못|말)"
    r"|\s*(?:처럼|인지|일까|일\s*수도)"
    r"|\s*(?:이)?라고\s*(?:생각|볼|착각)할\s*수"  # a concession: "A가 정답이라고 생각할 수 있지만"
    r"|\s*(?i:(?:is|was)\s+not\b|isn't|wasn't|(?:is|was)\s+(?:incorrect|wrong))"
)
_NEG_BEFORE = re.compile(r"(?i:\b(?:not|never)\s+|n't\s+)$")
# A conclusion word earlier in the same clause promotes a statement to a final one.
_CONCLUSION_WORDS = (
    r"따라서|그러므로|그래서|결론적으로|결국|최종적으로"
    r"|(?i:\b(?:therefore|thus|hence|so|in\s+conclusion|overall)\b)"
)
_CONCLUSION = re.compile(_CONCLUSION_WORDS)
# A conclusion word followed by nothing but letters up to the clause end: "So B.", "따라서 C".
_CONCLUDED = re.compile(rf"(?:{_CONCLUSION_WORDS}),?\s*(?P<list>{_LIST})(?=\s*(?:[.!\n]|$))")
_CLAUSE_END = re.compile(r"[.!?\n]")
# How far (characters) a clause is followed around a statement; bounded so long outputs stay linear.
_CLAUSE_WINDOW = 200
_UPPER = re.compile(rf"[{_LETTERS}]")

# Level 3: the whole response is an answer form ("b" and "(b)" count here: nothing else is there).
_WHOLE = re.compile(
    rf"^(?:(?:{_CUE_KO}|{_CUE_EN}|{_REF})\s*)?[\(\[]?(?P<letter>[A-Za-z])[\)\]]?\s*(?:번)?\s*"
    rf"(?:을|를|이|가|은|는|{_COPULA})?$"
)
_LABEL = re.compile(rf"(?P<letter>{_LETTER})")
_LABEL_DELIMITER = re.compile(r"[.):](?![A-Za-z0-9])")  # "B." and "B)" but not "A.I."
# Labels are looked for at line starts, after "," or ";", and before a "(B)" or "B." inside a line, so
# that options echoed on one line ("(A) 사과 (B) 배", "A. 사과 B. 배") are seen as several labels.
_SEGMENT_SPLIT = re.compile(rf"\n|[,;]\s*|\s+(?=[\(\[][{_LETTERS}][\)\]]|[{_LETTERS}][.)]\s)")

# Level 4: the phrase after an answer cue, to compare with option texts.
_TEXT_CUE = re.compile(
    rf"(?:{_CUE_KO}|(?i:\b(?:answer\s*(?:is|:)|it(?:'s|\s+is))))\s*(?P<phrase>.+?)\s*(?=[.!?](?:\s|$)|\n|$)"
)
# Endings stripped one after another to reach the bare option text: "사과가 정답입니다" -> "사과".
_TEXT_STRIPS = (
    re.compile(rf"{_COPULA}$"),
    re.compile(r"\s*정답$"),
    re.compile(r"[이가은는을를]$"),
    re.compile(r"(?i:\s+is\s+(?:the\s+)?(?:correct|right)(?:\s+answer)?)$"),
    re.compile(r"^(?i:an?|the)\s+"),
)


# NFKC would turn ① into "1"; map circled digits to the option in that position first.
_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩"
_MARKDOWN = re.compile(r"\*+|__|~~|`+|^[ \t]*(?:#{1,6}|>|[-•])[ \t]+", re.MULTILINE)
# Single quotes are stripped only at word edges so that "it's" and "don't" survive.
_QUOTES = re.compile(r"[\"“”«»「」『』]|(?<![A-Za-z])'|'(?![A-Za-z])")
_TRAILING = re.compile(r"[\s.!?。,;:~…]+$")


def extract_choice(response: str | None, options: Sequence[tuple[str, str]]) -> str | None:
    """Return the single option letter the response commits to, or None. Never a guess."""
    letters = [letter.strip().upper() for letter, _ in options]
    if not isinstance(response, str) or not letters:
        return None
    visible = strip_thinking(response)
    if visible is None:
        return None
    text = _clean(visible, letters)
    if not text:
        return None
    final, stated = _statements(text)
    found = final or stated or _answer_forms(text, options) or _option_texts(text, options)
    if len(found) == 1 and (letter := next(iter(found))) in letters:
        return letter
    return None


def _clean(text: str, letters: Sequence[str]) -> str:
    """NFKC (full-width letters), circled digits as letters, no markdown or quotes, tidy whitespace."""
    circled = dict(zip(_CIRCLED, letters, strict=False))  # only as many as there are options
    text = "".join(circled.get(ch, ch) for ch in text)
    text = fold_single_quotes(nfkc(text))
    text = _QUOTES.sub("", _MARKDOWN.sub("", text))
    lines = (collapse_spaces(line) for line in text.splitlines())
    return _TRAILING.sub("", "\n".join(line for line in lines if line))


def _statements(text: str) -> tuple[set[str], set[str]]:
    """Letters stated as the answer: (those in final statements, all of them)."""
    final: set[str] = set()
    stated: set[str] = set()
    for regex in (_FINAL, _CONCLUDED, _PREFIX, _POST):
        for m in regex.finditer(text):
            if _taken_back(text, m):
                continue
            named = set(_UPPER.findall(m.group("list")))
            window = max(0, m.start() - _CLAUSE_WINDOW)
            clause_start = max(window, *(text.rfind(c, window, m.start()) + 1 for c in ".!?\n"))
            clause = text[clause_start : m.start()]
            if regex is _FINAL or _CONCLUSION.search(clause):
                final |= named
            stated |= named
    return final, stated


def _taken_back(text: str, m: re.Match[str]) -> bool:
    """A negated statement ("정답은 A가 아니라", "not choose A") or one asked as a question ("정답은 B?")."""
    if _NEG_AFTER.match(text, m.end()) or _NEG_BEFORE.search(text[max(0, m.start() - 12) : m.start()]):
        return True
    end = _CLAUSE_END.search(text, m.end(), m.end() + _CLAUSE_WINDOW)
    return end is not None and end.group() == "?"


def _answer_forms(text: str, options: Sequence[tuple[str, str]]) -> set[str]:
    """The whole response is a letter form, or lines/segments start with option labels."""
    whole = _WHOLE.match(collapse_spaces(text))
    if whole:
        return {whole.group("letter").upper()}
    by_letter = {letter.strip().upper(): _norm(option) for letter, option in options}
    found = set()
    for segment in _SEGMENT_SPLIT.split(text):
        m = _LABEL.match(segment.strip())
        if not m:
            continue
        token, rest = m.group("letter"), segment.strip()[m.end() :]
        letter = token.strip("()[]")
        # "(B)", "B.", "B)", "B:", "B번" and a lone "B" are labels; "B 사과" only when 사과 is B's text.
        labelled = token != letter or not rest or rest.startswith("번")
        labelled = labelled or bool(_LABEL_DELIMITER.match(rest))
        if labelled or (rest.startswith(" ") and _norm(rest) == by_letter.get(letter)):
            found.add(letter)
    return found


def _option_texts(text: str, options: Sequence[tuple[str, str]]) -> set[str]:
    """Letters whose option text is exactly the response, or exactly what follows an answer cue."""
    index: dict[str, set[str]] = {}
    for letter, option in options:
        if key := _norm(option):
            index.setdefault(key, set()).add(letter.strip().upper())
    phrases = [collapse_spaces(text)] + [m.group("phrase") for m in _TEXT_CUE.finditer(text)]
    found: set[str] = set()
    for phrase in phrases:
        # Longest variant first: "사과나무" must not be read as "사과" (the exact, longest match wins).
        for variant in sorted(_variants(phrase), key=lambda v: (-len(v), v)):
            if (key := _norm(variant)) in index:
                found |= index[key]
                break
    return found


def _variants(phrase: str) -> set[str]:
    """The phrase and every form of it with answer endings, particles or an article stripped."""
    variants = {phrase}
    for strip in _TEXT_STRIPS:
        variants |= {strip.sub("", v).strip() for v in variants}
    return variants


def _norm(text: str) -> str:
    """Option-text comparison key: NFKC, case-folded, whitespace collapsed, outer punctuation dropped."""
    text = collapse_spaces(nfkc(text).casefold())
    return text.strip(" .!?,;:'\"")

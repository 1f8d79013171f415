"""kobench's Korean-aware multiple-choice extractor: the one option a free-form response commits to.

This is the "robust" pipeline that is reported beside the published protocol (first character, exact
letter). It reads `정답은 B입니다`, `B번`, `(B)를 선택합니다`, `Final answer: C`, think blocks and answers
given as the option's text. It never guesses: a response that does not commit to exactly one option gives
None, and the caller counts it as unparseable (wrong), never replaced by a random option.

Before reading, a response is cleaned: NFKC (full-width `Ｂ`), circled digits as letters (`③` is C),
invisible characters dropped (BOM, zero-width space and joiners), chat-template tokens (`<|end_of_box|>`,
`</s>`) and LaTeX wrappers (`\\boxed{\\text{(B) 25\\%}}`, `$`) removed, markdown and pointing symbols at a
line start dropped (`**B**`, `### 정답: B`, `→ B`, `✅ B`, `* B`, `- C`), and a letter in any brackets written
`(B)` (`( B )`, `[ C ]`, `【B】`).

How a response is read, strongest evidence first; the first level that finds any letter decides, and
it decides only if it found exactly one letter that is one of the options:

1. final statements: `Final answer: C` (or `- C`), `최종 답: C`, `\\boxed{C}`, an answer statement after a
   conclusion word in the same clause (`따라서 정답은 B`, `So the answer is B`, `So B.`), or after a
   correction (`Actually I made a mistake ... The best answer is: (B)`, `다시 보니`);
2. answer statements anywhere: `정답은 B`, `정답 (Answer): C`, `Answer: B`, `Answer → C`, `ANSWER` on its own
   line then `B`, `The answer is b.`, `The correct option letter is D`, `The correct one is clearly C`,
   `Definitely B!`, `I'd say C`, `My pick: C`, `It is (E)`, `not B but D`, `B가 정답`, `B를 선택`,
   `B입니다`, `B인 것 같습니다`, `아마도 D`, `B is correct`, `B is my answer`, `B matches best`, `B for sure`;
3. answer forms: the whole response is a letter (`b`, `(B)`, `Option B`, `选项B`, `B번`; only here may it be
   lowercase) or a line starts with a label: `B. ...`, `B) 사과`, `[B]`, a letter and a reason (`B, because
   ...`, `C since ...`, `B — ...`), a letter and a gloss that is all there is (`B (사과)`, `D (분산)`), or a
   `(C)` that ends a statement (`7728 (C)`, `포도(C)`);
4. option text: the response, or what follows `정답은`, is exactly one option's text (`사과입니다`), or the
   response opens with a yes/no option (`No, the car is larger.`).

So letters mentioned while reasoning (`A는 틀렸고 C도 아니므로`) never outvote a stated answer, a statement
or label taken back (`A가 아니라 C입니다`, `(A) is wrong`) names nothing, and two different stated answers
(`정답은 B와 C`) give None. tests/fixtures/choice_corpus.jsonl holds natural responses (most quoted from
published model outputs) labelled by reading; tests/test_choice_corpus.py requires 99% of the lettered
ones read and no wrong letter.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from kobench.extract.thinking import strip_thinking
from kobench.normalize import collapse_spaces, fold_single_quotes, nfkc

EXTRACTOR_NAME = "kobench-choice"
EXTRACTOR_VERSION = "2"

# Lowercase words that may follow a bare "A" (or "I") naming an option ("A is correct", "A because ...").
# After any other lowercase word "A" is the English article ("A cat is sitting"), not an answer.
_AFTER_OPTION_A = (
    "is|was|would|seems|appears|looks|matches|fits|best|because|since|as|and|or|but|so|which|that|"
    "then|with|for|in|from|only|also|here|correctly|describes|shows|represents|corresponds|has|does|not"
)
_REF = r"(?:보기|선택지|옵션|选项|(?i:option|choice))\s*"
# An arrow may stand for "is" after a cue word: "Answer → C", "정답 ➜ B".
_ARROW = r"(?:->|=>|[→➜➔⇒⟶])"
# "정답 (Answer): C": an English gloss in parentheses may follow the Korean cue word.
_CUE_KO = rf"(?:(?:정답|답변|답)\s*(?:\((?i:answer)\)\s*)?(?:은요|은|는|:|=|{_ARROW})?|선택\s*:|아마도?\s+)"
# Adverbs that only make an answer emphatic ("Definitely B!", "The correct one is clearly C").
_EMPHASIS = r"(?:clearly|definitely|obviously|certainly|surely|undoubtedly)"
_COPULA = r"(?:입니다|이에요|예요|에요|이다|이야|임|요)"
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
# A correction earlier in the window ("Actually I made a mistake", "다시 보니") makes what follows final.
_CORRECTION = re.compile(
    r"(?i:\bactually\b|\bI\s+made\s+a\s+mistake\b|\bon\s+second\s+thought\b)|다시\s*보니"
)
_CLAUSE_END = re.compile(r"[.!?\n]")
# How far (characters) a clause is followed around a statement; bounded so long outputs stay linear.
_CLAUSE_WINDOW = 200
_LABEL_DELIMITER = re.compile(r"[.):](?![A-Za-z0-9])")  # "B." and "B)" but not "A.I."


@dataclass(frozen=True)
class _Grammar:
    """The patterns that name option letters, for one range of letters."""

    final: re.Pattern[str]
    concluded: re.Pattern[str]
    prefix: re.Pattern[str]
    post: re.Pattern[str]
    upper: re.Pattern[str]
    whole: re.Pattern[str]
    label: re.Pattern[str]
    label_follower: re.Pattern[str]
    segment_split: re.Pattern[str]


@lru_cache(maxsize=2)
def _grammar(wide: bool) -> _Grammar:
    """Options A-H, or A-J for the ten-option tasks (KoBALT). "I" can name an option only in the wide
    grammar, and then only where "A" could (not "I think ...", "I'd say"): in English it is the pronoun.
    So a task with at most eight options reads exactly as before the wide grammar existed."""
    letters = "A-J" if wide else "A-H"
    lower = "a-j" if wide else "a-h"
    not_article = rf"(?!\s+(?!(?:{_AFTER_OPTION_A})\b)[a-z])"
    bare = rf"A{not_article}|I{not_article}(?!['’])|[B-HJ]" if wide else rf"A{not_article}|[B-H]"
    # An option letter standing alone: "(B)", "[B]" or a bare "B", not inside a word ("BANANA", "CD",
    # "A4"). Hangul may follow directly, because Korean particles are glued to it ("B를", "B입니다", "B번").
    letter = rf"(?<![A-Za-z0-9])(?:\([{letters}]\)|\[[{letters}]\]|{bare})(?![A-Za-z0-9])"
    # Letters joined ("B와 C", "B, C", "B or C") are read together, so that the statement names all of
    # them. At most 8: more names no single answer anyway, and the bound keeps degenerate output linear.
    joined = rf"{letter}(?:\s*(?:,|/|&|와|과|및|또는|혹은|이나|나|(?i:and|or)\b)\s*{letter}){{0,7}}"
    cue_en = (
        rf"(?i:\b(?:answer|option|choice)(?:\s+letter)?\s*(?:here\s+)?"
        rf"(?:is|would\s+be|should\s+be|will\s+be|must\s+be|:|=|{_ARROW})\s*:?\s*(?:{_EMPHASIS}\s+)?"
        r"|\b(?:correct|right|best|true)\s+one\s+(?:is|would\s+be)\s+(?:" + _EMPHASIS + r"\s+)?"
        r"|\b(?:my\s+)?(?:pick|final|correct|selection)\s*:"
        # "ANSWER" alone on its line, the letter on the next one ("### ANSWER\nB").
        r"|\b(?:final\s+)?answer(?=\s*\n)"
        r"|\b(?:choose|chose|pick|picked|select|selected|go\s+with|going\s+with)\s+|\bit(?:'s|\s+is)\s+"
        r"|\bI\s+think\s+|\bI(?:'d|\s+would)?\s+say\s+|\b" + _EMPHASIS + r",?\s+"
        # "is (E)": a parenthesised letter right after "is" states it ("The top view is (E)").
        rf"|\bis\s+(?=\([{letters}]\))"
        # "not B but D" names D.
        rf"|\bnot\s+[{letters}],?\s+but\s+)"
    )
    # Right after a cue a lowercase letter names an option too ("The answer is b.", "정답은 c입니다"), when
    # nothing but punctuation or a Korean ending follows it ("the answer is a dog" names no option).
    lowercase = rf"(?P<lower>[{lower}])(?=\s*(?:[.!)\]]|$)|[을를이가은는]|{_COPULA})"
    cued = rf"(?:(?P<list>{joined})|{lowercase})"
    return _Grammar(
        # Level 1: statements that say they are the final answer.
        final=re.compile(
            rf"(?:(?i:\bfinal\s+answer)\s*(?:(?i:is)\s*)?[:=\-–—]?|최종\s*(?:정답|답변|답|선택)\s*(?:은|는|:|=)?"
            rf"|\\boxed\{{)\s*(?:{_REF})?{cued}"
        ),
        # A conclusion word followed by nothing but letters up to the clause end: "So B.", "따라서 C".
        concluded=re.compile(rf"(?:{_CONCLUSION_WORDS}),?\s*(?P<list>{joined})(?=\s*(?:[.!\n]|$))"),
        # Level 2: a cue before the letter ("정답은 B", "The answer is B", "I choose B") ...
        prefix=re.compile(rf"(?:{_CUE_KO}|{cue_en})\s*(?:{_REF})?{cued}"),
        # ... or an assertion after it ("B가 정답", "B를 선택합니다", "B번입니다", "B is correct").
        post=re.compile(
            rf"(?P<list>{joined})\s*(?:번)?\s*(?:"
            r"(?:이야말로|이|가|은|는)?\s*(?:정답|답|맞|옳)"
            r"|(?:을|를|으로|로)?\s*(?:선택|고르|골라|고릅|골랐|택|답하|답합|답했)"
            r"|(?:이)?라고\s*(?:생각|봅|판단)"
            r"|\s*(?:인|일)\s*것\s*같"  # "B인 것 같습니다": what the model believes, as "I think B"
            rf"|{_COPULA}(?![가-힣])"
            r"|(?i:(?:is|was|would\s+be|seems\s+to\s+be)\s+(?:the\s+)?(?:correct|right|best|true|answer)\b"
            r"|is\s+my\s+(?:answer|choice|pick)\b|(?:matches|fits)\s+best\b|is\s+the\s+best\s+(?:match|fit)\b"
            r"|for\s+sure\b))"
        ),
        upper=re.compile(rf"[{letters}]"),
        # Level 3: the whole response is an answer form ("b" and "(b)" count here: nothing else is there).
        whole=re.compile(
            rf"^(?:(?:{_CUE_KO}|{cue_en}|{_REF})\s*)?[\(\[]?(?P<letter>[A-Za-z])[\)\]]?\s*(?:번)?\s*"
            rf"(?:을|를|이|가|은|는|{_COPULA})?$"
        ),
        label=re.compile(rf"(?P<letter>{letter})"),
        # After a lone letter, these also make it a label: a dash ("B — the image shows a pear"), a reason
        # ("C since ...", "D because ...", "C as it is purple"), or a gloss in parentheses that is all there
        # is ("D (분산)", "B (배) 입니다"; "A (very) nice cat" goes on after the gloss, so it is no label).
        label_follower=re.compile(
            r"\s*[—–]|\s+-\s|\s+(?:because|since|as\s+(?:it|the|they|there|this|shown))\b"
            rf"|\s*\((?![^()\n]*\b[{letters}]\b)[^()\n]{{1,40}}\)\s*(?:{_COPULA})?$"  # no other letter in it
        ),
        # Labels are looked for at line starts, after "," or ";", and before a "(B)" or "B." inside a line,
        # so that options echoed on one line ("(A) 사과 (B) 배", "A. 사과 B. 배") are seen as several labels.
        # A "(B)" glued to Hangul that ends the statement ("포도(C)", "배(B)입니다") is split off as well;
        # not "최대오차(E) = 2", a name in the reasoning.
        segment_split=re.compile(
            rf"\n|[,;]\s*|\s+(?=[\(\[][{letters}][\)\]]|[{letters}][.)]\s)"
            rf"|(?<=[가-힣])(?=\([{letters}]\)\s*(?:{_COPULA}|[.!]|$))"
        ),
    )


# Level 4: the phrase after an answer cue, to compare with option texts.
_TEXT_CUE = re.compile(
    rf"(?:{_CUE_KO}|(?i:\b(?:answer\s*(?:is|:)|it(?:'s|\s+is))))\s*(?P<phrase>.+?)\s*(?=[.!?](?:\s|$)|\n|$)"
)
# Options that answer a yes/no question: a response may open with one ("No, the car is larger.").
_YES_NO = {"yes", "no", "true", "false", "예", "네", "아니요", "아니오", "아니다", "맞다", "틀리다"}
_FIRST_CLAUSE = re.compile(r"[^,.;:!?\n]+")
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
# Characters that print as nothing (BOM, zero-width space/joiners, word joiner, soft hyphen): NFKC keeps
# them, and "B\u200b" or "\ufeffB" must read as "B".
_INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200f\u2060-\u2064\ufeff]")
# Chat-template and end-of-sequence tokens left in a decoded response ("<|begin_of_box|>B<|end_of_box|>",
# "...(A) Yes.</s>").
_SPECIAL_TOKENS = re.compile(r"<\|[^|<>\n]{0,40}\|>|</?s>")
# LaTeX that only wraps text: "\boxed{\text{(B) 25\%}}" reads as "\boxed{(B) 25\%}}"; "$", "\(" and "\["
# delimiters go too. The stray closing braces left behind are harmless.
_LATEX_WRAPPERS = re.compile(r"\\(?:text|textbf|textit|mathrm|mathbf|operatorname)\s*\{|\$+|\\[\[\]()]")
# A letter in brackets with spaces inside or in other brackets ("( B )", "[ C ]", "【B】", "{B}") is written
# "(B)". "\boxed{C}" keeps its brace: a backslash word before "{" is LaTeX.
_BRACKETED = re.compile(r"(?<![A-Za-z\\])[(\[{【〔<《「]\s*([A-Za-z])\s*[)\]}】〕>》」]")
_MARKDOWN = re.compile(r"\*+|__|~~|`+|^[ \t]*(?:#{1,6}|>|[-•])[ \t]+", re.MULTILINE)
# Symbols that only point at or tick an answer at the start of a line ("→ B", "✅ B", "👉 B", "★ A").
_LINE_MARKS = re.compile(r"^[ \t]*(?:->|=>|[→➜➔⇒⟶▶►▷■□◆◇★☆✓✔✅☑👉➤·])+[ \t]*", re.MULTILINE)
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
    grammar = _grammar(wide=bool(set(letters) - set("ABCDEFGH")))
    final, stated = _statements(text, grammar)
    found = final or stated or _answer_forms(text, options, grammar) or _option_texts(text, options)
    if len(found) == 1 and (letter := next(iter(found))) in letters:
        return letter
    return None


def _clean(text: str, letters: Sequence[str]) -> str:
    """NFKC (full-width letters), circled digits as letters, no markdown or quotes, tidy whitespace."""
    circled = dict(zip(_CIRCLED, letters, strict=False))  # only as many as there are options
    text = "".join(circled.get(ch, ch) for ch in _INVISIBLE.sub("", text))
    text = fold_single_quotes(nfkc(text))
    text = _LATEX_WRAPPERS.sub("", _SPECIAL_TOKENS.sub(" ", text))
    text = _QUOTES.sub("", _LINE_MARKS.sub("", _MARKDOWN.sub("", text)))
    text = _BRACKETED.sub(r"(\1)", text)
    lines = (collapse_spaces(line) for line in text.splitlines())
    return _TRAILING.sub("", "\n".join(line for line in lines if line))


def _statements(text: str, grammar: _Grammar) -> tuple[set[str], set[str]]:
    """Letters stated as the answer: (those in final statements, all of them)."""
    final: set[str] = set()
    stated: set[str] = set()
    has_correction = _CORRECTION.search(text) is not None  # one scan, not one per statement
    for regex in (grammar.final, grammar.concluded, grammar.prefix, grammar.post):
        for m in regex.finditer(text):
            if _taken_back(text, m):
                continue
            lower = m.groupdict().get("lower")
            named = {lower.upper()} if lower else set(grammar.upper.findall(m.group("list")))
            window = max(0, m.start() - _CLAUSE_WINDOW)
            clause_start = max(window, *(text.rfind(c, window, m.start()) + 1 for c in ".!?\n"))
            clause = text[clause_start : m.start()]
            corrected = has_correction and _CORRECTION.search(text, window, m.start())
            if regex is grammar.final or _CONCLUSION.search(clause) or corrected:
                final |= named
            stated |= named
    return final, stated


def _taken_back(text: str, m: re.Match[str]) -> bool:
    """A negated statement ("정답은 A가 아니라", "not choose A") or one asked as a question ("정답은 B?")."""
    if _NEG_AFTER.match(text, m.end()) or _NEG_BEFORE.search(text[max(0, m.start() - 12) : m.start()]):
        return True
    end = _CLAUSE_END.search(text, m.end(), m.end() + _CLAUSE_WINDOW)
    return end is not None and end.group() == "?"


def _answer_forms(text: str, options: Sequence[tuple[str, str]], grammar: _Grammar) -> set[str]:
    """The whole response is a letter form, or lines/segments start with option labels."""
    whole = grammar.whole.match(collapse_spaces(text))
    if whole:
        return {whole.group("letter").upper()}
    by_letter = {letter.strip().upper(): _norm(option) for letter, option in options}
    found = set()
    for segment in grammar.segment_split.split(text):
        m = grammar.label.match(segment.strip())
        if not m:
            continue
        token, rest = m.group("letter"), segment.strip()[m.end() :]
        letter = token.strip("()[]")
        # "(B)", "B.", "B)", "B:", "B번" and a lone "B" are labels; "B 사과" only when 사과 is B's text.
        labelled = token != letter or not rest or rest.startswith("번")
        labelled = labelled or bool(_LABEL_DELIMITER.match(rest) or grammar.label_follower.match(rest))
        if _NEG_AFTER.match(rest):  # "(A) is wrong", "A가 아니라": a label taken back
            continue
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
    first = _FIRST_CLAUSE.match(text)
    if first and _norm(first.group()) in _YES_NO and first.end() < len(text):
        phrases.append(first.group())  # "Yes, the sandwich is cut in half." opens with option "Yes"
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

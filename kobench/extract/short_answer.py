"""The short answer in a chatty response to a document or chart question: what the VQA metrics score.

The published protocol scores the stripped response as it is. kobench's reading also finds the answer
a response states ("정답은 1,234,000원입니다.", "Answer: 서울") and drops its copula, quotes and emphasis.
"""

from __future__ import annotations

import re

from kobench.extract.thinking import strip_thinking
from kobench.metrics.docvqa import parse_number
from kobench.normalize import WRAPPER_PAIRS, strip_final_stops

SHORT_ANSWER_VERSION = "1"

# The last answer cue decides: "정답은", "정답:", "최종 답:", "답변은", "The answer is", "Answer:".
_ANSWER_CUE = re.compile(
    r"(?:최종\s*)?(?:정답|답변|답)\s*(?:은|는|:|=|->|→)\s*(?:다음과\s*같습니다\s*[:.]?)?"
    r"|(?i:\b(?:final\s+)?answer\s*(?:is\s*:?|:|=))"
)
# Without an answer cue, "따라서/그러므로/결론적으로/즉 ..." introduces the conclusion.
_CONCLUSION_CUE = re.compile(r"(?:따라서|그러므로|결론적으로|즉(?![가-힣]))\s*,?\s*")
_TOPIC = re.compile(r"[은는]\s")
_SENTENCE_END = re.compile(r"\n|[.。!?](?=\s|$)")
_BOXED = re.compile(r"\\boxed\{([^{}]*)\}")
_COPULA = re.compile(r"(?:입니다|이다|이에요|예요|에요)$")
_WRAPS = (*WRAPPER_PAIRS, ("__", "__"))


def extract_short_answer(response: str) -> str:
    """The short answer a chatty response gives: kobench's robust extraction for document/chart VQA.

    1. Think blocks are removed (an unclosed one gives "": the answer was cut off).
    2. The last `\\boxed{...}` if any; else the sentence after the last answer cue ("정답은", "답:",
       "최종 답:", "Answer:", "The answer is"); else, after the last "따라서"/"그러므로"/"결론적으로"/"즉",
       that sentence, and when it ends in a copula, what follows its last topic particle ("따라서 총
       매출은 1,234,000원입니다" -> "1,234,000원입니다"); else the whole response.
    3. Then, repeatedly: trailing . 。 ! ? removed, a final copula (입니다, 이다, 이에요, 예요, 에요)
       removed, a final 요 removed only when a number remains ("3개요", but "필요" stays), and wrapping
       quotes, 「」, 『』, backticks and markdown bold removed, with stray * at the edges.
    Nothing else is cut: a response with no cue and several sentences stays whole (and scores 0).
    """
    text = strip_thinking(response)
    if text is None:
        return ""
    if boxed := _BOXED.findall(text):
        return _clean_answer(boxed[-1])
    cues = list(_ANSWER_CUE.finditer(text))
    if cues:
        return _clean_answer(_first_sentence(text[cues[-1].end() :]))
    conclusions = list(_CONCLUSION_CUE.finditer(text))
    if conclusions:
        sentence = _first_sentence(text[conclusions[-1].end() :])
        topics = list(_TOPIC.finditer(sentence))
        if topics and _COPULA.search(strip_final_stops(sentence)):
            sentence = sentence[topics[-1].end() :]
        return _clean_answer(sentence)
    return _clean_answer(text)


def _first_sentence(text: str) -> str:
    text = text.strip()
    end = _SENTENCE_END.search(text)
    return text[: end.start()] if end else text


def _clean_answer(text: str) -> str:
    while True:
        before = text
        text = strip_final_stops(text.strip()).strip("*").strip()
        text = _COPULA.sub("", text)
        if text.endswith("요") and parse_number(text[:-1]) is not None:
            text = text[:-1]
        for opening, closing in _WRAPS:
            if (
                len(text) > len(opening) + len(closing)
                and text.startswith(opening)
                and text.endswith(closing)
            ):
                text = text[len(opening) : -len(closing)]
                break
        if text == before:
            return text

"""The text in a chatty reading of an image: what the reading metrics (CER, character F1) score.

The published protocol scores the response as it is (NFC, whitespace collapsed). kobench's reading also
drops what announces or wraps the text: reasoning blocks, code fences, a preamble that names the text
("이미지의 텍스트는 다음과 같습니다:", "Text:"), and quotes or emphasis around the whole of it.
"""

from __future__ import annotations

import re

from kobench.extract.thinking import strip_thinking
from kobench.normalize import WRAPPER_PAIRS

READING_CLEANER_VERSION = "1"

# A line that is only a code fence marker, with an optional language tag.
_FENCE = re.compile(r"^[ \t]*```[ \t]*[\w+-]*[ \t]*$", re.MULTILINE)
_NOUN = r"(?:텍스트|글자|글씨|문구|문자)"
# A preamble that announces the reading, ending in a colon (or, for a full sentence, a period) and
# followed by the text. Each is anchored at the start and must name the text, so the text itself
# ("영업시간: 10:00", "주의: 미끄럼") is never taken for one.
_PREAMBLES = (
    # labels: "텍스트:", "추출된 텍스트:", "이미지의 글자:", "OCR 결과:", "인식 결과:"
    re.compile(
        r"(?:(?:이미지|사진|그림|영역|박스)\s*(?:의|에\s*있는|에서|속의?|안의?)?\s*)?"
        r"(?:(?:(?:인식|추출|판독)(?:된|한)|읽은|적힌|쓰인)\s*)?"
        rf"(?:{_NOUN}(?:\s*내용)?(?:\s*(?:인식\s*)?결과)?|OCR(?:\s*결과)?|(?:인식|판독|추출)\s*결과)(?:은|는)?\s*[:：]"
    ),
    # Korean sentences: "이미지의 텍스트는 다음과 같습니다:", "이미지에 적힌 글자는 다음과 같아요."
    re.compile(
        rf"[^\n:：]{{0,40}}{_NOUN}[^\n:：]{{0,30}}(?:다음과\s*같(?:습니다|아요|다)|다음(?:입니다|과\s*같이\s*"
        rf"(?:적혀|쓰여)\s*있습니다))\s*[:：.]?"
    ),
    # English: "The text in the image reads:", "Here is the extracted text:", "Text:", "Transcription:"
    re.compile(
        r"(?i:(?:the\s+)?(?:text|writing|words?)\b[^\n:]{0,50}?\b(?:reads?|says?|is|are)(?:\s+as\s+follows)?"
        r"|here\s+(?:is|are)\s+the\s+(?:\w+\s+){0,2}(?:text|transcription)[^\n:]{0,30}"
        r"|(?:(?:extracted|recognized|detected|ocr)\s+)?(?:text|transcription)|ocr(?:\s+result)?)\s*:"
    ),
)
# "Sure! The text reads: ..." -- skipped only together with a preamble that follows it.
_ACKNOWLEDGEMENT = re.compile(r"(?:(?i:sure|okay|ok|certainly|of\s+course)|네|물론(?:이죠|입니다))[!.,]*\s+")
# Wrapping pairs removed from a reading that they enclose entirely and do not occur inside.
_WRAPPERS = (*WRAPPER_PAIRS, ("**", "**"))


def clean_reading(response: str) -> str:
    """The text a chatty model read: kobench's robust extraction for reading tasks.

    In order: think blocks removed (an unclosed one gives ""), code fence marker lines removed (their
    content kept), one leading preamble that names the text ("이미지의 텍스트는 다음과 같습니다:",
    "텍스트:", "The text in the image reads:") removed only when text follows it, then a wrapping pair
    of quotes, 「」, 『』, backticks or markdown bold removed while it encloses the whole remainder and
    does not occur inside it. Nothing else is dropped: a trailing comment stays and costs CER, because
    it cannot be told apart from text in the image with certainty.
    """
    text = strip_thinking(response)
    if text is None:
        return ""
    text = _FENCE.sub("", text).strip()
    start = m.end() if (m := _ACKNOWLEDGEMENT.match(text)) else 0
    for preamble in _PREAMBLES:
        m = preamble.match(text, start)
        if m and text[m.end() :].strip():
            text = text[m.end() :].strip()
            break
    return _unwrap(text)


def _unwrap(text: str) -> str:
    while True:
        for opening, closing in _WRAPPERS:
            inner = text[len(opening) : -len(closing)]
            if (
                len(text) > len(opening) + len(closing)
                and text.startswith(opening)
                and text.endswith(closing)
                and opening not in inner
                and closing not in inner
            ):
                text = inner.strip()
                break
        else:
            return text

"""The `ocr-match` adapter: the classic text-VQA baseline (OCR the image, then match text).

`--model ocr-match` (languages kor+eng) or `--model ocr-match:kor`.

OCR: every image of the request is read as the `tesseract` adapter reads it (psm 7 for one line,
psm 6 for a block; see kobench.models.ocr); when that finds no text at all, the image is read again
as sparse text (psm 11). psm 3 (automatic layout) is not used: with the kor model it drops whole
lines of simple Korean pages.

Comparisons are made on NFKC, lower-cased text with whitespace removed; digit groups are joined
first ("1,234,000" and "1, 234,000" -> "1234000", "3.5" -> "35") on both sides.

"choice": each option's score (0-100) is rapidfuzz `partial_ratio` of its text against the OCR text
(plain `ratio` when the option is the longer). An option with numbers also scores each number
against the OCR's numbers (100 for an identical digit string, else 0.9 x `ratio`, the best OCR
number for each; averaged), and its score is the lower of the two. The best option's letter is the
answer, unless its score is under MIN_CHOICE_SCORE (70) or the runner-up is within TIE_MARGIN (3)
points: then the answer is "" (the baseline abstains rather than guesses).

"open": extractive. Key terms are the question's words without question words (무엇, 얼마, 어디,
언제, 누구, 몇, ...), endings (입니까, 인가요, ...), one final particle (은/는/이/가/을/를/의/에/...)
and filler (이미지, 사진, 적힌, ...). OCR lines are cut into segments at gaps wider than 1.5 line
heights (table cells, form columns). A key term is found in a segment when its `partial_ratio`
there (a term's unstripped form is tried as well) is at least MIN_TERM_SCORE (80); a segment scores
the length-weighted mean of its terms' scores (0 for terms not found). In the best segment (score
at least MIN_OPEN_SCORE, 50), the answer is the text after the last found key term, with leading
separators (: - = | ·) and a leading particle removed; if nothing follows the key, the next segment
on the same line; if none, the segment of the next line that overlaps the key segment horizontally
the most (else its first). Nothing found: "".

"read": as the tesseract adapter. "ground" is refused (the registry declares the kinds, so the
runner refuses grounding tasks before any work).
"""

from __future__ import annotations

import os
import re
import statistics
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kobench.models.ocr import (
    DEFAULT_LANG,
    PSM_SPARSE,
    OCREngine,
    OCRLine,
    OCRPage,
    compact,
    describe,
    load_images,
    read_text,
    refusal,
)
from kobench.types import Request, Response

if TYPE_CHECKING:
    from PIL import Image

RULES_VERSION = "1"  # bump when a rule below changes what the adapter answers
OCR_MATCH_KINDS = frozenset({"choice", "open", "read"})

MIN_CHOICE_SCORE = 70.0
TIE_MARGIN = 3.0
NUMBER_NEAR_FACTOR = 0.9
MIN_TERM_SCORE = 80.0
MIN_OPEN_SCORE = 50.0
SEGMENT_GAP = 1.5  # in line heights

QUESTION_WORDS = tuple("무엇 얼마 어디 언제 누구 누가 몇 어느 어떤 무슨 뭐 뭔 어떻게 왜".split())
# longest first: the first that ends a word is removed
ENDINGS = tuple("입니까 인가요 일까요 이에요 입니다 습니까 인가 인지 예요 이죠 이다 나요 니까".split())
PARTICLES = tuple("에서 으로 이란 이라 란 은 는 이 가 을 를 의 에 로 와 과 도 만".split())
FILLER = frozenset(
    "이미지 사진 그림 문서 화면 영수증 위 안 속 해당 다음 중 것 이 그 저 적힌 적혀 적혀있는 쓰인 쓰여 "
    "쓰여진 나와 나온 있는 있습니까 표시된 보이는 기재된 내용 글자 텍스트 무엇인가요".split()
)
_PUNCT = "?!.,\"'“”‘’()[]{}<>「」『』《》:;~…"
_LEADING = re.compile(r"^[\s:：\-=|·>•…]+")
_LEADING_PARTICLE = re.compile(r"^(은|는|이|가|:)(\s+|$)")
_DIGIT_SEP = re.compile(r"(?<=\d)(?:[,.]|,\s(?=\d{3}(?!\d)))(?=\d)")
_NUMBER = re.compile(r"\d+")


def _digits_joined(text: str) -> str:
    return _DIGIT_SEP.sub("", unicodedata.normalize("NFKC", text))


def _norm(text: str) -> str:
    return compact(_digits_joined(text))


def _contained(needle: str, hay: str) -> float:
    """How well `needle` occurs in `hay` (0-100): partial_ratio, or ratio when needle is the longer."""
    from rapidfuzz import fuzz

    if not needle or not hay:
        return 0.0
    if len(needle) > len(hay):
        return float(fuzz.ratio(needle, hay))
    return float(fuzz.partial_ratio(needle, hay))


# --- choice ----------------------------------------------------------------------------------------


def option_score(option: str, ocr_text: str) -> float:
    """0-100: how well the option's text (and its numbers) appear in the OCR text."""
    from rapidfuzz import fuzz

    norm = _norm(option)
    if not norm:
        return 0.0
    score = _contained(norm, _norm(ocr_text))
    numbers = _NUMBER.findall(_digits_joined(option))
    if numbers:
        found = set(_NUMBER.findall(_digits_joined(ocr_text)))
        per_number = [
            100.0 if n in found else max((NUMBER_NEAR_FACTOR * fuzz.ratio(n, m) for m in found), default=0.0)
            for n in numbers
        ]
        score = min(score, statistics.fmean(per_number))
    return score


def choose(options: Sequence[tuple[str, str]], ocr_text: str) -> tuple[str, list[float]]:
    """(answer letter or "" to abstain, each option's score)."""
    scores = [option_score(text, ocr_text) for _, text in options]
    if not scores:
        return "", scores
    ranked = sorted(scores, reverse=True)
    best = ranked[0]
    if best < MIN_CHOICE_SCORE or (len(ranked) > 1 and best - ranked[1] < TIE_MARGIN):
        return "", scores
    return options[scores.index(best)][0], scores


# --- open ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyTerm:
    stripped: str  # compared form (compact)
    original: str


def key_terms(question: str) -> list[KeyTerm]:
    """The question's content words: question words, endings, one final particle and filler removed."""
    terms = []
    for raw in unicodedata.normalize("NFKC", question).split():
        token = raw.strip(_PUNCT)
        if not token or token.startswith(QUESTION_WORDS) or token in FILLER:
            continue
        stripped = token
        for ending in ENDINGS:
            if stripped.endswith(ending) and len(stripped) > len(ending):
                stripped = stripped[: -len(ending)]
                break
        for particle in PARTICLES:
            if stripped.endswith(particle) and len(stripped) - len(particle) >= 2:
                stripped = stripped[: -len(particle)]
                break
        if stripped in FILLER or stripped.startswith(QUESTION_WORDS):
            continue
        terms.append(KeyTerm(compact(stripped), compact(token)))
    return terms


@dataclass(frozen=True)
class Segment:
    text: str
    x1: int
    x2: int


def segments(line: OCRLine) -> list[Segment]:
    """The line cut at gaps wider than SEGMENT_GAP line heights."""
    height = max(1, line.box[3] - line.box[1])
    groups = [[line.words[0]]]
    for word in line.words[1:]:
        if word.box[0] - groups[-1][-1].box[2] > SEGMENT_GAP * height:
            groups.append([word])
        else:
            groups[-1].append(word)
    return [
        Segment(line.text[g[0].start : g[-1].end], min(w.box[0] for w in g), max(w.box[2] for w in g))
        for g in groups
    ]


def _term_match(term: KeyTerm, text: str) -> tuple[float, int]:
    """(score, end offset in `text` of the match) for the better of the term's two forms."""
    from rapidfuzz import fuzz

    chars = [(i, c) for i, ch in enumerate(text) for c in unicodedata.normalize("NFKC", ch).lower()]
    chars = [(i, c) for i, c in chars if not c.isspace()]
    hay = "".join(c for _, c in chars)
    positions = [i for i, _ in chars]
    best = (0.0, 0)
    for form in dict.fromkeys((term.stripped, term.original)):
        if not form or not hay:
            continue
        if len(form) > len(hay):
            score, end = float(fuzz.ratio(form, hay)), len(hay)
        else:
            aligned = fuzz.partial_ratio_alignment(form, hay)
            score, end = float(aligned.score), aligned.dest_end
        # higher score wins; on a tie the longer form (the unstripped word, e.g. 단가 not 단)
        if score > best[0] or (score == best[0] and score > 0 and len(form) > len(term.stripped)):
            best = (score, positions[end - 1] + 1 if end > 0 and end <= len(positions) else len(text))
    return best


def extract_answer(question: str, pages: Sequence[OCRPage]) -> str:
    """The module docstring's "open" rule."""
    terms = key_terms(question)
    if not terms:
        return ""
    lines = [line for page in pages for line in page.lines if line.words]
    cut = [segments(line) for line in lines]
    weight = sum(len(t.stripped) for t in terms) or 1
    best: tuple[float, int, int, int] | None = None  # score, line, segment, key end
    for li, segs in enumerate(cut):
        for si, seg in enumerate(segs):
            found = [_term_match(t, seg.text) for t in terms]
            hits = [(s, t) for (s, _), t in zip(found, terms, strict=True) if s >= MIN_TERM_SCORE]
            score = sum(s * len(t.stripped) for s, t in hits) / weight
            ends = [end for s, end in found if s >= MIN_TERM_SCORE]
            if ends and (best is None or score > best[0]):
                best = (score, li, si, max(ends))
    if best is None or best[0] < MIN_OPEN_SCORE:
        return ""
    _, li, si, end = best
    seg = cut[li][si]
    rest = _tidy(seg.text[end:])
    if rest:
        return rest
    if si + 1 < len(cut[li]):
        return _tidy(cut[li][si + 1].text)
    if li + 1 < len(cut):
        below = cut[li + 1]
        overlaps = [max(0, min(seg.x2, s.x2) - max(seg.x1, s.x1)) for s in below]
        pick = overlaps.index(max(overlaps)) if max(overlaps) > 0 else 0
        return _tidy(below[pick].text)
    return ""


def _tidy(text: str) -> str:
    text = _LEADING.sub("", text)
    text = _LEADING_PARTICLE.sub("", text)
    return _LEADING.sub("", text).strip()


# --- the adapter -----------------------------------------------------------------------------------


def ocr_match_fingerprint(lang: str = DEFAULT_LANG, tessdata: str | os.PathLike[str] | None = None) -> str:
    from kobench.models.ocr import engine_fingerprint

    return f"ocr-match:{engine_fingerprint(lang, tessdata)}:{RULES_VERSION}"


class OCRMatchModel:
    """OCR, then answer by matching: options against the text, or the text after a question's key."""

    adapter = "ocr-match"
    kinds = OCR_MATCH_KINDS

    def __init__(self, lang: str = DEFAULT_LANG, tessdata: str | os.PathLike[str] | None = None) -> None:
        self.engine = OCREngine(lang, tessdata)
        self.lang = lang
        self.name = "ocr-match" if lang == DEFAULT_LANG else f"ocr-match:{lang}"
        self.fingerprint = f"ocr-match:{self.engine.fingerprint}:{RULES_VERSION}"
        self.settings: dict[str, Any] = {"lang": lang, "engine": "tesserocr", "rules": RULES_VERSION}

    def pages(self, images: Sequence[Image.Image]) -> list[OCRPage]:
        """Each image read by the psm rule; one with no text at all is read again as sparse text."""
        out = []
        for image in images:
            page = self.engine.read(image)
            if not page.lines and page.psm != PSM_SPARSE:
                page = self.engine.read(image, PSM_SPARSE)
            out.append(page)
        return out

    def generate(self, requests: Sequence[Request]) -> list[Response]:
        return [self._one(request) for request in requests]

    def _one(self, request: Request) -> Response:
        if request.kind not in self.kinds:
            return Response(text=None, error=refusal(self.adapter, request.kind))
        start = time.perf_counter()
        try:
            images = load_images(request)
            if request.kind == "read":
                text = read_text(self.engine, request, images)
            elif request.kind == "choice":
                if not request.options:
                    raise ValueError("a multiple-choice request without options")
                ocr = "\n".join(page.text for page in self.pages(images))
                text, _ = choose(request.options, ocr)
            else:
                text = extract_answer(request.question or request.prompt_text, self.pages(images))
        except Exception as exc:
            return Response(text=None, error=describe(exc))
        return Response(text=text, seconds=time.perf_counter() - start)

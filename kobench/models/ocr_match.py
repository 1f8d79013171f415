"""The `ocr-match` adapter: the classic text-VQA baseline (OCR the image, then match text).

`--model ocr-match` (languages kor+eng) or `--model ocr-match:kor`.

OCR ("choice" and "open"): every image is read as the `tesseract` adapter reads it (psm 7 for one
line, psm 6 for a block; see kobench.models.ocr) and, unless it is one line, also with psm 3
(automatic page layout); the answer may come from either reading. psm 6 reads plain text blocks
best, psm 3 forms and tables (on a rendered quotation form psm 6 lost most of the item table,
psm 3 read it whole; on sparse pages of short words psm 3 drops lines). When neither finds any
text, the image is read as sparse text (psm 11). Readings are cached per image, so the questions
about one page OCR it once.

Comparisons are made on NFKC, lower-cased text with whitespace removed; digit groups are joined
first ("1,234,000" and "1, 234,000" -> "1234000", "3.5" -> "35") on both sides.

"choice": each option's score (0-100) is rapidfuzz `partial_ratio` of its text against the OCR text
(plain `ratio` when the option is the longer). An option with numbers also scores each number
against the OCR's numbers (100 for an identical digit string, else 0.9 x `ratio` with the closest;
averaged), and its score is the lower of the two. The best option's letter is the answer, unless
its score is under MIN_CHOICE_SCORE (70) or the runner-up is within TIE_MARGIN (3) points: then
the answer is "" (the baseline abstains rather than guesses).

"open" (extractive), rules in order:
1. Key terms: the question's words without question words (무엇, 얼마, 어디, 언제, 누구, 몇, ...),
   endings (입니까, 인가요, ...), one final particle (은/는/이/가/을/를/의/에/에서/...), filler
   (이미지, 사진, 적힌, 가장, ...) and parenthesised asides (kept when nothing else is left);
   a quoted 'phrase' is one term.
2. Segments: each OCR line cut at gaps wider than 1.5 line heights (table cells, form columns).
3. Table lookup (a question "X의 Y" about a table): the row is the line most like one term (a
   quoted one first; at least the term threshold of rule 4, or, for a quoted item misread by OCR,
   at least 50 alike and 15 points ahead of any other line), not a line that holds the column
   term; the header is a line above it with 3+ words that holds the last other term at 90 or more.
   The answer is the row's words whose centres lie in the header word's column (bounded halfway
   to its neighbouring header words). Tried on every reading before rule 4.
4. Key and value: a term is found in a segment when its `partial_ratio` there (its unstripped form
   tried too) is at least MIN_TERM_SCORE (75, one misread character) for terms of 4+ characters
   and 100 for terms of 2-3 (a 3-character term one character off scores 67-80: 공급자 in
   공급가액), or, weaker, when the segment's first word (2+ characters) is part of the term (전화
   in 전화번호: score 100 x its share of the term, at least 50). Terms of one character are not
   keys. The best match ranks by score, +10 for each other term found on the same line, +5 for
   the question's last term (the head of "X의 Y"); over all readings the best rank wins. The
   answer is the text after the key, with leading non-letters (separators, bullets, table rules)
   and a particle removed; if nothing follows it in its segment, the next segment on the same
   line; if none, the segment of the next line that overlaps the key's segment most (else its
   first).
5. A question with 얼마 or 몇 wants a number: the answer is cut to its first number ("5,396,820",
   "7"), with periods in thousands groups made commas ("1.234.000" -> "1,234,000": OCR misreads
   commas so on scanned forms); with no number in it, nothing.
Nothing found: "".

"read": as the tesseract adapter. "ground" is refused (the registry declares the kinds, so the
runner refuses grounding tasks before any work).
"""

from __future__ import annotations

import hashlib
import os
import re
import statistics
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kobench.models.ocr import (
    DEFAULT_LANG,
    PSM_AUTO,
    PSM_LINE,
    PSM_SPARSE,
    OCREngine,
    OCRLine,
    OCRPage,
    Reader,
    compact,
    describe,
    read_text,
    refusal,
)
from kobench.normalize import nfkc
from kobench.types import ImageRef, Request, Response

if TYPE_CHECKING:
    from PIL import Image

RULES_VERSION = "4"  # bump when a rule below changes what the adapter answers
OCR_MATCH_KINDS = frozenset({"choice", "open", "read"})

MIN_CHOICE_SCORE = 70.0
TIE_MARGIN = 3.0
NUMBER_NEAR_FACTOR = 0.9
MIN_TERM_SCORE = 75.0  # a term of 4+ characters: one character misread; shorter terms must match exactly
MIN_LABEL_SHARE = 0.5
TABLE_MIN_SCORE = 90.0
QUOTED_ROW_SCORE = 50.0
QUOTED_ROW_MARGIN = 15.0
CONTEXT_BONUS = 10.0
HEAD_BONUS = 5.0
SEGMENT_GAP = 1.5  # in line heights

QUESTION_WORDS = tuple("무엇 얼마 어디 언제 누구 누가 몇 어느 어떤 무슨 뭐 뭔 어떻게 왜".split())
NUMBER_WORDS = ("얼마", "몇")
# the first that ends a word is removed
ENDINGS = tuple("입니까 인가요 일까요 이에요 입니다 습니까 인가 인지 예요 이죠 이다 나요 니까".split())
PARTICLES = tuple("에서 으로 이란 이라 란 은 는 이 가 을 를 의 에 로 와 과 도 만".split())
FILLER = frozenset(
    "이미지 사진 그림 문서 화면 위 안 속 해당 다음 중 것 이 그 저 적힌 적혀 적혀있는 쓰인 쓰여 쓰여진 "
    "나와 나온 있는 있습니까 표시된 보이는 기재된 내용 글자 텍스트 가장".split()
)
_PUNCT = "?!.,\"'“”‘’()[]{}<>「」『』《》:;~…"
_QUOTED = re.compile(r"['\"‘“「『]([^'\"’”」』]+)['\"’”」』]")
_ASIDE = re.compile(r"\([^()]*\)")
_LEADING = re.compile(r"^[^\w(（]+")  # separators, bullets, table rules: all but letters, digits, "("
_LEADING_PARTICLE = re.compile(r"^(은|는|이|가|:)(\s+|$)")
_DIGIT_SEP = re.compile(r"(?<=\d)(?:[,.]|,\s(?=\d{3}(?!\d)))(?=\d)")
_NUMBER = re.compile(r"\d+")
_NUMBER_TEXT = re.compile(r"\d(?:[\d,.]*\d)?")
_THOUSANDS = re.compile(r"\d{1,3}(?:[.,]\d{3})+")


def _digits_joined(text: str) -> str:
    return _DIGIT_SEP.sub("", nfkc(text))


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

        def closest(n: str) -> float:
            if n in found:
                return 100.0
            return max((NUMBER_NEAR_FACTOR * fuzz.ratio(n, m) for m in found), default=0.0)

        score = min(score, statistics.fmean(closest(n) for n in numbers))
    return score


def choose(options: Sequence[tuple[str, str]], ocr_text: str, row_id: str = "") -> tuple[str, list[float]]:
    """(answer letter, each option's score). The classic baseline answers every question: the best
    match when one option stands out; otherwise a uniform pick among the tied best options (or among
    all when none matches), seeded by the row id, so it falls back to exactly what chance would do."""
    scores = [option_score(text, ocr_text) for _, text in options]
    if not scores:
        return "", scores
    best = max(scores)
    if best < MIN_CHOICE_SCORE:
        candidates = list(range(len(options)))
    else:
        candidates = [i for i, score in enumerate(scores) if best - score < TIE_MARGIN]
    if len(candidates) == 1:
        return options[candidates[0]][0], scores
    digest = hashlib.sha256(f"ocr-match:{row_id}".encode()).digest()
    return options[candidates[int.from_bytes(digest[:8], "big") % len(candidates)]][0], scores


# --- open: key terms -------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyTerm:
    stripped: str  # compared form (compact)
    original: str  # the word as asked (compact), tried as well
    quoted: bool = False


def _strip_word(token: str) -> str | None:
    """The word without ending and particle; None for a question word or filler."""
    if not token or token.startswith(QUESTION_WORDS) or token in FILLER or token in PARTICLES:
        return None
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
        return None
    return stripped


def key_terms(question: str) -> list[KeyTerm]:
    """Rule 1 of the module docstring, in question order."""
    text = nfkc(question)
    quoted = [m.group(1) for m in _QUOTED.finditer(text)]
    text = _QUOTED.sub(" \x00 ", text)
    without_asides = _ASIDE.sub(" ", text)
    if any(_strip_word(t.strip(_PUNCT)) for t in without_asides.split() if t != "\x00"):
        text = without_asides
    terms = []
    for raw in text.replace("(", " ").replace(")", " ").split():
        if raw == "\x00":
            phrase = quoted.pop(0)
            terms.append(KeyTerm(compact(phrase), compact(phrase), quoted=True))
            continue
        token = raw.strip(_PUNCT)
        stripped = _strip_word(token)
        if stripped:
            terms.append(KeyTerm(compact(stripped), compact(token)))
    return terms


# --- open: lines, segments, matches -----------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    text: str
    x1: int
    x2: int
    line: OCRLine


def segments(line: OCRLine) -> list[Segment]:
    """The line cut at gaps wider than SEGMENT_GAP line heights."""
    height = max(1, line.box[3] - line.box[1])
    groups = [[0]]
    for i in range(1, len(line.words)):
        if line.words[i].box[0] - line.words[i - 1].box[2] > SEGMENT_GAP * height:
            groups.append([i])
        else:
            groups[-1].append(i)
    out = []
    for g in groups:
        words = [line.words[i] for i in g]
        text = line.text[words[0].start : words[-1].end]
        out.append(Segment(text, min(w.box[0] for w in words), max(w.box[2] for w in words), line))
    return out


@dataclass(frozen=True)
class Match:
    score: float
    start: int  # offsets in the searched text
    end: int


def _chars(text: str) -> tuple[str, list[int]]:
    """The compared form of `text` and, for each of its characters, its offset in `text`."""
    pairs = [(i, c) for i, ch in enumerate(text) for c in nfkc(ch).lower()]
    pairs = [(i, c) for i, c in pairs if not c.isspace()]
    return "".join(c for _, c in pairs), [i for i, _ in pairs]


def term_match(term: KeyTerm, text: str) -> Match:
    """The better of the term's two forms in `text` (on a tie the longer: 단가, not 단)."""
    from rapidfuzz import fuzz

    hay, positions = _chars(text)
    best = Match(0.0, 0, 0)
    for form in dict.fromkeys((term.stripped, term.original)):
        if not form or not hay:
            continue
        if len(form) > len(hay):
            score, lo, hi = float(fuzz.ratio(form, hay)), 0, len(hay)
        else:
            aligned = fuzz.partial_ratio_alignment(form, hay)
            score, lo, hi = float(aligned.score), aligned.dest_start, aligned.dest_end
        if hi <= lo:
            continue
        if score > best.score or (score == best.score and score > 0 and len(form) > len(term.stripped)):
            best = Match(score, positions[lo], positions[hi - 1] + 1)
    return best


def term_threshold(term: KeyTerm) -> float:
    return MIN_TERM_SCORE if len(term.stripped) >= 4 else 100.0


def label_match(term: KeyTerm, segment: Segment) -> Match:
    """The segment's first word as a part of the term (a form label: 전화 for 전화번호).

    The first word of the segment's text: Tesseract's own words split Korean ones (등 록 번호).
    """
    head = segment.text.split(maxsplit=1)[0] if segment.text.strip() else ""
    label = compact(head).strip(_PUNCT + "|")
    if len(label) < 2 or label not in term.stripped:
        return Match(0.0, 0, 0)
    share = len(label) / len(term.stripped)
    if share < MIN_LABEL_SHARE:
        return Match(0.0, 0, 0)
    start = segment.text.index(head)
    return Match(100.0 * share, start, start + len(head))


# --- open: the rules ---------------------------------------------------------------------------------


def _tidy(text: str) -> str:
    text = _LEADING.sub("", text)
    text = _LEADING_PARTICLE.sub("", text)
    return _LEADING.sub("", text).strip()


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> int:
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


def table_lookup(terms: Sequence[KeyTerm], page: OCRPage) -> str:
    """Rule 3: the cell in the row named by one term and the column named by the last other term."""
    lines = [line for line in page.lines if line.words]
    order = sorted(range(len(terms)), key=lambda i: not terms[i].quoted)
    for r in order:
        row_term = terms[r]
        column_terms = [t for i, t in enumerate(terms) if i != r and len(t.stripped) >= 2]
        if not column_terms or len(row_term.stripped) < 2:
            continue
        column_term = column_terms[-1]
        # a row names its item, not the column (that line is the header)
        rows = sorted(
            ((term_match(row_term, line.text).score, line.box[1], line) for line in lines
             if term_match(column_term, line.text).score < 100),
            key=lambda item: item[:2],
            reverse=True,
        )  # fmt: skip
        if not rows:
            continue
        score, _, row = rows[0]
        runner_up = rows[1][0] if len(rows) > 1 else 0.0
        # a quoted item is looked for even when misread: the clearly best line, at least half alike
        quoted_ok = row_term.quoted and score >= QUOTED_ROW_SCORE and score - runner_up >= QUOTED_ROW_MARGIN
        if score < term_threshold(row_term) and not quoted_ok:
            continue
        headers = []
        for line in lines:
            if len(line.words) < 3 or line.box[3] > row.box[1]:
                continue
            match = term_match(column_term, line.text)
            if match.score >= TABLE_MIN_SCORE:
                headers.append((match.score, line.box[1], line, match))
        if not headers:
            continue
        _, _, header, match = max(headers, key=lambda h: h[:2])  # the nearest above the row on a tie
        cell = [i for i, w in enumerate(header.words) if _overlap((w.start, w.end), (match.start, match.end))]
        if not cell:
            continue
        x1 = min(header.words[i].box[0] for i in cell)
        x2 = max(header.words[i].box[2] for i in cell)
        left = header.words[cell[0] - 1].box[2] if cell[0] > 0 else None
        right = header.words[cell[-1] + 1].box[0] if cell[-1] + 1 < len(header.words) else None
        lo = (left + x1) / 2 if left is not None else float("-inf")
        hi = (x2 + right) / 2 if right is not None else float("inf")
        picked = [w for w in row.words if lo <= (w.box[0] + w.box[2]) / 2 < hi]
        if picked:
            return row.text[picked[0].start : picked[-1].end]
    return ""


@dataclass(frozen=True)
class _Candidate:
    rank: float
    line: int
    segment: int
    end: int


def key_value(terms: Sequence[KeyTerm], page: OCRPage) -> tuple[float, str]:
    """Rule 4: (rank, the text after the best-matching key); (0, "") when no key is found."""
    cut = [segments(line) for line in page.lines if line.words]
    best: _Candidate | None = None
    for li, segs in enumerate(cut):
        found = [term_match(t, segs[0].line.text).score for t in terms]  # on the whole line
        for si, seg in enumerate(segs):
            for ti, term in enumerate(terms):
                if len(term.stripped) < 2:
                    continue
                match = term_match(term, seg.text)
                if match.score < term_threshold(term):
                    match = label_match(term, seg)
                    if match.score == 0:
                        continue
                context = sum(1 for tj, s in enumerate(found) if tj != ti and s >= term_threshold(terms[tj]))
                rank = match.score + CONTEXT_BONUS * context + (HEAD_BONUS if ti == len(terms) - 1 else 0.0)
                if best is None or rank > best.rank:
                    best = _Candidate(rank, li, si, match.end)
    if best is None:
        return 0.0, ""
    seg = cut[best.line][best.segment]
    rest = _tidy(seg.text[best.end :])
    if not rest and best.segment + 1 < len(cut[best.line]):
        rest = _tidy(cut[best.line][best.segment + 1].text)
    elif not rest and best.line + 1 < len(cut):
        below = cut[best.line + 1]
        overlaps = [_overlap((seg.x1, seg.x2), (s.x1, s.x2)) for s in below]
        pick = overlaps.index(max(overlaps)) if max(overlaps) > 0 else 0
        rest = _tidy(below[pick].text)
    return best.rank, rest


def extract_answer(question: str, pages: Sequence[OCRPage]) -> str:
    """The module docstring's "open" rules; `pages` in order of preference."""
    terms = key_terms(question)
    if not terms:
        return ""
    wants_number = any(w in question for w in NUMBER_WORDS)

    def shaped(answer: str) -> str:
        if not wants_number:
            return answer
        number = _NUMBER_TEXT.search(answer)
        if not number:
            return ""
        # thousands groups read with periods (a common misreading of commas in Korean forms)
        text = number.group(0)
        return text.replace(".", ",") if _THOUSANDS.fullmatch(text) else text

    for page in pages:
        answer = shaped(table_lookup(terms, page))
        if answer:
            return answer
    found = [(rank, shaped(answer)) for rank, answer in (key_value(terms, page) for page in pages)]
    found = [(rank, -i, answer) for i, (rank, answer) in enumerate(found) if answer]
    return max(found)[2] if found else ""


# --- the adapter -----------------------------------------------------------------------------------


def ocr_match_fingerprint(lang: str = DEFAULT_LANG, tessdata: str | os.PathLike[str] | None = None) -> str:
    from kobench.models.ocr import engine_fingerprint

    return f"ocr-match:{engine_fingerprint(lang, tessdata)}:{RULES_VERSION}"


COLOURFUL = 0.08  # share of strongly coloured pixels above which an image gets the light-text reading


def colour_share(image: Image.Image) -> float:
    """Share of pixels with strong colour (charts, coloured labels; not black-on-white documents)."""
    import numpy as np

    hsv = np.asarray(image.convert("RGB").resize((160, 120)).convert("HSV"))
    return float(((hsv[..., 1] > 90) & (hsv[..., 2] > 60)).mean())


def light_on_colour(image: Image.Image) -> Image.Image:
    """Light text inside coloured areas as black on white: the page background (flood-filled from
    the corner) is set aside, then every remaining near-white pixel is ink."""
    import numpy as np
    from PIL import Image as PILImage
    from PIL import ImageDraw

    work = image.convert("RGB").copy()
    ImageDraw.floodfill(work, (0, 0), (128, 128, 128), thresh=40)
    white = np.asarray(work).min(axis=2) > 200
    return PILImage.fromarray(np.where(white, 0, 255).astype(np.uint8)).convert("RGB")


class OCRMatchModel:
    """OCR, then answer by matching: options against the text, or the text after a question's key."""

    adapter = "ocr-match"
    kinds = OCR_MATCH_KINDS

    def __init__(self, lang: str = DEFAULT_LANG, tessdata: str | os.PathLike[str] | None = None) -> None:
        self.engine = OCREngine(lang, tessdata)
        self.reader = Reader(self.engine)
        self.lang = lang
        self.name = "ocr-match" if lang == DEFAULT_LANG else f"ocr-match:{lang}"
        self.fingerprint = f"ocr-match:{self.engine.fingerprint}:{RULES_VERSION}"
        self.settings: dict[str, Any] = {"lang": lang, "engine": "tesserocr", "rules": RULES_VERSION}
        self._light: dict[str, OCRPage] = {}

    def pages(self, request: Request) -> list[OCRPage]:
        """Each image's readings: the psm rule's and, unless it is one line, psm 3's (forms, tables) and
        psm 11's (sparse text: chart labels and values scattered over a figure, which the block modes
        drop)."""
        out = []
        for number in range(len(request.images) or 1):
            first = self.reader.read(request, number).page
            readings = [first]
            if first.psm != PSM_LINE or not first.lines:
                readings.append(self.reader.read(request, number, psm=PSM_AUTO).page)
                readings.append(self.reader.read(request, number, psm=PSM_SPARSE).page)
                readings.append(self._light_text(request.images[number]))
            out += [page for page in readings if page.lines]
        return out

    def _light_text(self, ref: ImageRef) -> OCRPage:
        """Light text on coloured areas (a pie chart's white percentages, labels on bars), which the
        other readings miss: only for images with enough colour, read as sparse text once per image."""
        digest = ref.sha256()
        if digest not in self._light:
            image = ref.load()
            self._light[digest] = (
                self.engine.read(light_on_colour(image), PSM_SPARSE)
                if colour_share(image) > COLOURFUL
                else OCRPage(width=image.width, height=image.height, psm=PSM_SPARSE, lines=())
            )
        return self._light[digest]

    def generate(self, requests: Sequence[Request]) -> Iterator[Response]:
        for request in requests:  # one page at a time: each answer is checkpointed as it comes
            yield self._one(request).answering(request.id)

    def _one(self, request: Request) -> Response:
        if request.kind not in self.kinds:
            return Response(text=None, error=refusal(self.adapter, request.kind))
        start = time.perf_counter()
        try:
            if request.kind == "read":
                text = read_text(self.reader, request)
            elif request.kind == "choice":
                if not request.options:
                    raise ValueError("a multiple-choice request without options")
                text, _ = choose(
                    request.options, "\n".join(page.text for page in self.pages(request)), request.id
                )
            else:
                text = extract_answer(request.question or request.prompt_text, self.pages(request))
        except Exception as exc:
            return Response(text=None, error=describe(exc))
        return Response(text=text, seconds=time.perf_counter() - start, finish_reason="stop")

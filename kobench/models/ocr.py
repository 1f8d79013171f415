"""The `tesseract` adapter: a classic OCR engine as a baseline for reading and grounding tasks.

`--model tesseract` (languages kor+eng) or `--model tesseract:kor` (any Tesseract language string).
One `tesserocr.PyTessBaseAPI` is created per model object and reused for every request.

Page-segmentation mode (psm), chosen per image (or per `region` crop) by `choose_psm`:
Tesseract's layout analysis (psm 6, no recognition, about 2 ms) finds the text lines; lines whose
vertical extents overlap by half or more count as one row (fragments of one line split by a wide
gap). One row -> psm 7 (single line); two or more -> psm 6 (uniform block); none found -> psm 7 when
the image is at least 3 times as wide as it is tall, else psm 6, and words under 50% confidence are
dropped (a blank strip read as a line otherwise yields a made-up syllable). When layout analysis
found lines but the chosen mode recognises nothing (psm 7 does so on some lines), the image is read
again as sparse text (psm 11). This adapter never uses psm 3 (Tesseract's default, automatic
layout): with the kor model it drops or garbles whole lines of plain Korean text (37% CER against
2% for psm 6 on 10 rendered 5-line pages); ocr-match adds a psm 3 reading for forms and tables.
When the median line is under 16 px tall the image is enlarged (at most 4x, and to 4000 px a
side) so lines are about 32 px tall, and a crop gets a 10 px border in its edge colour
(Tesseract misreads text touching the image edge). No other preprocessing: autocontrast,
upscaling and Tesseract's Sauvola or adaptive thresholding each made clean or scanned text worse
and hard photos no better.

Readings are cached per model (image sha256, region, psm; the last 16), so the rows that ask about
one page (grounding several phrases on it) OCR it once.

Kinds: "read" answers the text (lines joined by newlines, runs of spaces collapsed), cropped to
`region` when given; "ground" answers the 0-1 box "[x1, y1, x2, y2]" of `question` found among the
recognised words (see `find_phrase`), or "" when it is not found; other kinds are refused.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import statistics
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kobench.errors import BadInputError
from kobench.normalize import drop_spaces, nfkc
from kobench.types import Request, Response

if TYPE_CHECKING:
    from PIL import Image

# OpenMP reads this when tesserocr's library loads: one thread is about 4x faster a line (Tesseract
# threads within a line cost more than they gain). A user's own setting wins.
os.environ.setdefault("OMP_THREAD_LIMIT", "1")

DEFAULT_LANG = "kor+eng"
DEFAULT_TESSDATA_DIRS = (
    "/usr/share/tesseract-ocr/5/tessdata",
    "/usr/share/tesseract-ocr/4.00/tessdata",
    "/usr/share/tessdata",
)
TESSERACT_KINDS = frozenset({"read", "ground"})
KIND_NAMES = {"choice": "multiple-choice", "open": "open-question", "read": "reading", "ground": "grounding"}

PSM_AUTO = 3  # tesserocr.PSM.AUTO; ocr-match's second reading
PSM_BLOCK = 6  # tesserocr.PSM.SINGLE_BLOCK
PSM_LINE = 7  # tesserocr.PSM.SINGLE_LINE
PSM_SPARSE = 11  # tesserocr.PSM.SPARSE_TEXT

LINE_ASPECT = 3.0  # no line found: at least this wide per unit of height reads as one line
SMALL_LINE_PX = 16  # median line height under which the image is enlarged ...
TARGET_LINE_PX = 32  # ... to about this height
MAX_SCALE = 4
MAX_SIDE_PX = 4000  # never enlarged beyond this
CROP_BORDER_PX = 10
NO_LINE_MIN_CONF = 50.0  # word confidence (0-100) needed where layout analysis saw no text line
GROUND_MIN_SCORE = 70.0  # rapidfuzz ratio (0-100) a word sequence needs to count as the phrase
CACHED_READINGS = 2048  # readings kept per model: a few KB each, and the runner orders requests by
# prompt length, which scatters the questions about one page across the whole run

_LANG_RE = re.compile(r"^[A-Za-z0-9_]+(\+[A-Za-z0-9_]+)*$")
_SPACES = re.compile(r"\s+")


def refusal(adapter: str, kind: str) -> str:
    """The message for a request kind an adapter does not answer."""
    what = KIND_NAMES.get(kind, repr(kind))
    hint = "; use --model ocr-match for questions" if adapter == "tesseract" else ""
    return f"{adapter} cannot answer {what} tasks{hint}"


# --- Tesseract installation: language data, version, fingerprint -------------------------------


def _import_tesserocr() -> Any:
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")  # (again, in case it was removed since)
    try:
        import tesserocr
    except ImportError as exc:
        raise BadInputError(
            f"the tesseract and ocr-match adapters need tesserocr (pip install tesserocr): {exc}"
        ) from exc
    return tesserocr


def check_lang(lang: str) -> list[str]:
    if not _LANG_RE.fullmatch(lang):
        raise BadInputError(f"bad Tesseract language string {lang!r}; expected e.g. kor, eng or kor+eng")
    return lang.split("+")


def _package(code: str) -> str:
    return "tesseract-ocr-" + code.lower().replace("_", "-")


def resolve_tessdata(lang: str, tessdata: str | os.PathLike[str] | None = None) -> Path:
    """The folder with every `<code>.traineddata` that `lang` names.

    `tessdata` when given (no fallback), else $TESSDATA_PREFIX (the folder itself or its `tessdata`
    subfolder), else the first of DEFAULT_TESSDATA_DIRS that has all the files.
    """
    codes = check_lang(lang)
    if tessdata is not None:
        candidates = [Path(tessdata)]
    else:
        candidates = []
        prefix = os.environ.get("TESSDATA_PREFIX")
        if prefix:
            candidates += [Path(prefix), Path(prefix) / "tessdata"]
        candidates += [Path(p) for p in DEFAULT_TESSDATA_DIRS]
    for folder in candidates:
        if all((folder / f"{code}.traineddata").is_file() for code in codes):
            return folder
    missing = [c for c in codes if not any((f / f"{c}.traineddata").is_file() for f in candidates)]
    missing = missing or codes  # each file exists somewhere, but never all in one folder
    files = ", ".join(f"{c}.traineddata" for c in missing)
    looked = ", ".join(str(f) for f in candidates)
    packages = " ".join(_package(c) for c in missing)
    raise BadInputError(
        f"Tesseract language data {files} not found (looked in {looked}). Install it with "
        f"`apt-get install {packages}` (scripts/setup.sh installs tesseract-ocr-kor), or point "
        "TESSDATA_PREFIX at a folder that has it."
    )


def tesseract_version() -> str:
    return str(_import_tesserocr().PyTessBaseAPI.Version()).strip()


def traineddata_digest(lang: str, folder: Path) -> str:
    """First 12 hex digits of sha256 over the language files' bytes, in `lang` order."""
    digest = hashlib.sha256()
    for code in check_lang(lang):
        with open(folder / f"{code}.traineddata", "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:12]


def engine_fingerprint(lang: str = DEFAULT_LANG, tessdata: str | os.PathLike[str] | None = None) -> str:
    """'<tesseract version>:<lang>:<data digest>', known without creating a Tesseract API."""
    folder = resolve_tessdata(lang, tessdata)
    return f"{tesseract_version()}:{lang}:{traineddata_digest(lang, folder)}"


def tesseract_fingerprint(lang: str = DEFAULT_LANG, tessdata: str | os.PathLike[str] | None = None) -> str:
    return f"tesseract:{engine_fingerprint(lang, tessdata)}"


# --- Recognised text with boxes ------------------------------------------------------------------


Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class OCRWord:
    text: str
    box: Box  # pixels of the image given to `OCREngine.read`
    start: int  # character offsets of the word in its line's text
    end: int


@dataclass(frozen=True)
class OCRLine:
    text: str  # whitespace runs collapsed to one space
    box: Box
    words: tuple[OCRWord, ...]


@dataclass(frozen=True)
class OCRPage:
    width: int
    height: int
    psm: int
    lines: tuple[OCRLine, ...]

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)


def _clean(text: str | None) -> str:
    return _SPACES.sub(" ", text or "").strip()


def _text(source: Any, *level: int) -> str:
    """GetUTF8Text of an API or iterator; "" where tesserocr raises for an empty result."""
    try:
        return source.GetUTF8Text(*level) or ""
    except RuntimeError:
        return ""


def _union(boxes: Sequence[Box]) -> Box:
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def _rows(boxes: Sequence[Box]) -> int:
    """Number of rows: boxes whose vertical extents overlap by half the smaller height are one row."""
    rows: list[tuple[int, int]] = []
    for _, y1, _, y2 in sorted(boxes, key=lambda b: b[1]):
        for i, (r1, r2) in enumerate(rows):
            overlap = min(y2, r2) - max(y1, r1)
            if overlap >= 0.5 * max(1, min(y2 - y1, r2 - r1)):
                rows[i] = (min(r1, y1), max(r2, y2))
                break
        else:
            rows.append((y1, y2))
    return len(rows)


def _edge_colour(image: Image.Image) -> tuple[int, ...]:
    """The most common colour on the image's outer pixels (the background, usually)."""
    from collections import Counter

    rgb = image.convert("RGB")
    w, h = rgb.size
    pixels = rgb.load()
    step = max(1, (w + h) // 200)
    edge = [pixels[x, y] for x in range(0, w, step) for y in (0, h - 1)]
    edge += [pixels[x, y] for y in range(0, h, step) for x in (0, w - 1)]
    return Counter(edge).most_common(1)[0][0]


def crop_region(image: Image.Image, region: Sequence[float]) -> tuple[Image.Image, tuple[int, int]]:
    """Crop to a 0-1 box; returns the crop and its top-left corner. Raises ValueError for a bad box."""
    if len(region) != 4 or not all(isinstance(v, int | float) and math.isfinite(v) for v in region):
        raise ValueError(f"region {tuple(region)!r} is not four numbers")
    w, h = image.size
    x1, y1, x2, y2 = (min(1.0, max(0.0, float(v))) for v in region)
    left, top = math.floor(x1 * w), math.floor(y1 * h)
    right, bottom = math.ceil(x2 * w), math.ceil(y2 * h)
    if right - left < 1 or bottom - top < 1:
        raise ValueError(f"region {tuple(region)!r} is empty on a {w}x{h} image")
    return image.crop((left, top, right, bottom)), (left, top)


class OCREngine:
    """One Tesseract API object, reused for every image (creating one costs about 0.3 s)."""

    def __init__(self, lang: str = DEFAULT_LANG, tessdata: str | os.PathLike[str] | None = None) -> None:
        tesserocr = _import_tesserocr()
        self.lang = lang
        self.tessdata = resolve_tessdata(lang, tessdata)
        self.version = tesseract_version()
        self.fingerprint = f"{self.version}:{lang}:{traineddata_digest(lang, self.tessdata)}"
        self._tesserocr = tesserocr
        try:
            # tesserocr wants the folder with a trailing separator
            self.api = tesserocr.PyTessBaseAPI(path=str(self.tessdata) + os.sep, lang=lang)
        except RuntimeError as exc:
            raise BadInputError(f"Tesseract could not load {lang!r} from {self.tessdata}: {exc}") from exc
        self._lock = threading.Lock()

    def close(self) -> None:
        self.api.End()

    def _line_boxes(self, image: Image.Image) -> list[Box]:
        """Text-line boxes from layout analysis only (psm 6, no recognition)."""
        ril = self._tesserocr.RIL
        self.api.SetPageSegMode(PSM_BLOCK)
        self.api.SetImage(image)
        it = self.api.AnalyseLayout()
        boxes: list[Box] = []
        while it is not None:
            box = it.BoundingBox(ril.TEXTLINE)
            if box is not None:
                boxes.append(tuple(box))
            if not it.Next(ril.TEXTLINE):
                break
        return boxes

    def choose_psm(self, image: Image.Image) -> tuple[int, float]:
        """(psm, scale): the module docstring's rule."""
        psm, scale, _ = self._plan(image)
        return psm, scale

    def _plan(self, image: Image.Image) -> tuple[int, float, int]:
        """(psm, scale, number of text lines layout analysis found)."""
        boxes = self._line_boxes(image)
        w, h = image.size
        if not boxes:
            return (PSM_LINE if w >= LINE_ASPECT * h else PSM_BLOCK), 1.0, 0
        psm = PSM_LINE if _rows(boxes) == 1 else PSM_BLOCK
        scale = 1.0
        median = statistics.median(b[3] - b[1] for b in boxes)
        if 0 < median < SMALL_LINE_PX:
            scale = float(min(MAX_SCALE, math.ceil(TARGET_LINE_PX / median)))
            scale = max(1.0, min(scale, MAX_SIDE_PX / max(w, h)))
        return psm, scale, len(boxes)

    def read(self, image: Image.Image, psm: int | None = None, *, border: bool = False) -> OCRPage:
        """Recognise `image`; boxes in its own pixels. `psm` None: chosen by `choose_psm`.

        Where layout analysis found no text line, words Tesseract is less than NO_LINE_MIN_CONF
        sure of are dropped (a blank strip read as one line otherwise yields a made-up syllable).
        """
        with self._lock:
            original = image.size
            offset = 0
            if border:
                from PIL import ImageOps

                image = ImageOps.expand(image, CROP_BORDER_PX, fill=_edge_colour(image))
                offset = CROP_BORDER_PX
            chosen, scale, found = self._plan(image)
            if scale != 1.0:
                from PIL import Image as PILImage

                size = (round(image.width * scale), round(image.height * scale))
                image = image.resize(size, PILImage.Resampling.LANCZOS)
            min_conf = NO_LINE_MIN_CONF if found == 0 else 0.0
            tries = [psm] if psm is not None else [chosen, PSM_SPARSE] if found else [chosen]
            for psm in tries:
                self.api.SetPageSegMode(psm)
                self.api.SetImage(image)  # anew: a second Recognize on one image may keep the first's lines
                self.api.Recognize()
                lines = self._lines(scale, offset, original, min_conf)
                if lines:
                    break
            return OCRPage(width=original[0], height=original[1], psm=psm, lines=tuple(lines))

    def _lines(self, scale: float, offset: int, size: tuple[int, int], min_conf: float) -> list[OCRLine]:
        ril = self._tesserocr.RIL

        def to_original(box: Box) -> Box:
            x1, y1, x2, y2 = (v / scale - offset for v in box)
            w, h = size
            return (
                max(0, math.floor(x1)),
                max(0, math.floor(y1)),
                min(w, math.ceil(x2)),
                min(h, math.ceil(y2)),
            )

        grouped: list[tuple[str, Box, list[tuple[str, Box]]]] = []
        it = self.api.GetIterator()
        if it is None:
            return []
        new_line = True
        # With nothing recognised the iterator still yields one element, without text or boxes.
        for word in self._tesserocr.iterate_level(it, ril.WORD):
            new_line = new_line or word.IsAtBeginningOf(ril.TEXTLINE)
            text = _clean(_text(word, ril.WORD))
            box = word.BoundingBox(ril.WORD)
            if not text or box is None or word.Confidence(ril.WORD) < min_conf:
                continue
            if new_line or not grouped:
                line_box = to_original(word.BoundingBox(ril.TEXTLINE) or box)
                grouped.append((_clean(_text(word, ril.TEXTLINE)), line_box, []))
                new_line = False
            # a word box can stick out of its line (Hangul jamo, commas): clip it to the line
            x1, y1, x2, y2 = to_original(box)
            _, ly1, _, ly2 = grouped[-1][1]
            grouped[-1][2].append((text, (x1, max(y1, ly1), x2, min(y2, ly2))))
        # The page text spaces words as Tesseract decided (with the kor data's
        # preserve_interword_spaces=1, Korean syllables it split into words stay joined); the
        # iterator's line text puts a space between every two words. Take the page's where they agree.
        page_lines = [_clean(t) for t in _text(self.api).splitlines()]
        page_lines = [t for t in page_lines if t]
        page_keys = [compact(t) for t in page_lines]
        lines, cursor = [], 0
        for line_text, line_box, words in grouped:
            joined = compact("".join(t for t, _ in words))
            at = next((j for j in range(cursor, len(page_keys)) if page_keys[j] == joined), None)
            if at is not None:
                line_text, cursor = page_lines[at], at + 1
            elif compact(line_text) != joined:  # words were dropped: the line is what is left
                line_text = " ".join(t for t, _ in words)
            lines.append(_place_words(line_text, line_box, words))
        return lines


def _place_words(line_text: str, line_box: Box, words: list[tuple[str, Box]]) -> OCRLine:
    """Find each word's offsets in the line text (Tesseract joins some Korean words without a space)."""
    placed = []
    cursor = 0
    for text, box in words:
        at = line_text.find(text, cursor)
        if at < 0:  # the line text and the words disagree: rebuild the line from its words
            joined = " ".join(t for t, _ in words)
            return _place_words(joined, line_box, words) if joined != line_text else _spaced(words, line_box)
        placed.append(OCRWord(text, box, at, at + len(text)))
        cursor = at + len(text)
    return OCRLine(line_text, line_box, tuple(placed))


def _spaced(words: list[tuple[str, Box]], line_box: Box) -> OCRLine:
    placed, cursor = [], 0
    for text, box in words:
        placed.append(OCRWord(text, box, cursor, cursor + len(text)))
        cursor += len(text) + 1
    return OCRLine(" ".join(t for t, _ in words), line_box, tuple(placed))


# --- Finding a phrase among recognised words -----------------------------------------------------


def compact(text: str) -> str:
    """NFKC, lower case, no whitespace: the form phrases and options are compared in."""
    return drop_spaces(nfkc(text).lower())


@dataclass(frozen=True)
class PhraseMatch:
    score: float
    box: Box
    words: tuple[OCRWord, ...]


def find_phrase(page: OCRPage, phrase: str, min_score: float = GROUND_MIN_SCORE) -> PhraseMatch | None:
    """The run of consecutive words (in reading order, across line ends) most like `phrase`.

    Words and phrase are compared without spaces (Tesseract splits and joins Korean words freely),
    by rapidfuzz `fuzz.ratio` (normalised indel similarity, 0-100). Runs grow while their text is no
    longer than the phrase plus half of it. Best score wins, an earlier run on a tie; below `min_score`
    nothing is found.
    """
    from rapidfuzz import fuzz

    target = compact(phrase)
    if not target:
        return None
    words = [w for line in page.lines for w in line.words]
    texts = [compact(w.text) for w in words]
    limit = len(target) + max(1, len(target) // 2)
    best: tuple[float, int, int] | None = None
    for i in range(len(words)):
        joined = ""
        for j in range(i, len(words)):
            joined += texts[j]
            if len(joined) > limit and j > i:
                break
            score = fuzz.ratio(target, joined)
            if best is None or score > best[0]:
                best = (score, i, j)
    if best is None or best[0] < min_score:
        return None
    score, i, j = best
    run = tuple(words[i : j + 1])
    return PhraseMatch(score, _union([w.box for w in run]), run)


def format_box(box: Sequence[float]) -> str:
    return "[" + ", ".join(f"{v:.3f}" for v in box) + "]"


# --- Shared adapter plumbing ----------------------------------------------------------------------


def describe(exc: BaseException) -> str:
    """'Type: message', without object addresses (errors stay reproducible)."""
    return re.sub(r"<[^<>]* at 0x[0-9a-fA-F]+>", "<data>", f"{type(exc).__name__}: {exc}").strip()


@dataclass(frozen=True)
class Reading:
    page: OCRPage  # boxes in the pixels of the image read (the crop, with a region)
    size: tuple[int, int]  # the whole image
    offset: tuple[int, int]  # the crop's top-left corner in it


class Reader:
    """An engine and its recent readings: the several questions about one page OCR it once.

    Keyed by the image bytes' sha256, the region and the psm asked for (None: the rule).
    """

    def __init__(self, engine: OCREngine, size: int = CACHED_READINGS) -> None:
        self.engine = engine
        self._readings: OrderedDict[tuple, Reading] = OrderedDict()
        self._images: OrderedDict[str, Image.Image] = OrderedDict()
        self._size = size

    def read(
        self,
        request: Request,
        number: int = 0,
        *,
        region: Sequence[float] | None = None,
        psm: int | None = None,
    ) -> Reading:
        """Image `number` of the request (cropped to `region`) read with `psm` (None: the rule)."""
        refs = request.images
        if not refs:
            raise ValueError("the request has no image")
        try:
            digest = refs[number].sha256()
            key = (digest, tuple(region) if region is not None else None, psm)
            if key in self._readings:
                self._readings.move_to_end(key)
                return self._readings[key]
            image = self._images.get(digest) or refs[number].load()
        except Exception as exc:
            where = f"image {number + 1} of {len(refs)}"
            raise ValueError(f"{where} could not be decoded: {describe(exc)}") from exc
        self._remember(self._images, digest, image, 2)
        offset = (0, 0)
        crop = image
        if region is not None:
            crop, offset = crop_region(image, region)
        page = self.engine.read(crop, psm, border=region is not None)
        reading = Reading(page, image.size, offset)
        self._remember(self._readings, key, reading, self._size)
        return reading

    @staticmethod
    def _remember(store: OrderedDict, key: Any, value: Any, size: int) -> None:
        store[key] = value
        store.move_to_end(key)
        while len(store) > size:
            store.popitem(last=False)


def read_text(reader: Reader, request: Request) -> str:
    """Kind "read": the first image cropped to `region` when given, else every image's text."""
    if request.region is not None:
        return reader.read(request, region=request.region).page.text
    texts = (reader.read(request, n).page.text for n in range(len(request.images)))
    return "\n".join(t for t in texts if t) if request.images else reader.read(request).page.text


def ground(reader: Reader, request: Request) -> str:
    """Kind "ground": the phrase's 0-1 box in the first image, or "" when it is not found.

    Searched in the page as the psm rule reads it, then (unless found exactly) as sparse text
    (psm 11), which finds scattered text that a block reading merges or drops.
    """
    phrase = request.question or ""
    if not compact(phrase):
        raise ValueError("a grounding request needs the phrase to find in `question`")
    reading = reader.read(request, region=request.region)
    match = find_phrase(reading.page, phrase)
    if match is None or match.score < 100:
        sparse = reader.read(request, region=request.region, psm=PSM_SPARSE)
        found = find_phrase(sparse.page, phrase)
        if found is not None and (match is None or found.score > match.score):
            match = found
    if match is None:
        return ""
    (w, h), (left, top) = reading.size, reading.offset
    x1, y1, x2, y2 = match.box
    return format_box(((x1 + left) / w, (y1 + top) / h, (x2 + left) / w, (y2 + top) / h))


class TesseractModel:
    """Tesseract as a model: reads text ("read") and finds phrases ("ground")."""

    adapter = "tesseract"
    kinds = TESSERACT_KINDS

    def __init__(self, lang: str = DEFAULT_LANG, tessdata: str | os.PathLike[str] | None = None) -> None:
        self.engine = OCREngine(lang, tessdata)
        self.reader = Reader(self.engine)
        self.lang = lang
        self.name = "tesseract" if lang == DEFAULT_LANG else f"tesseract:{lang}"
        self.fingerprint = f"tesseract:{self.engine.fingerprint}"
        self.settings: dict[str, Any] = {"lang": lang, "engine": "tesserocr"}

    def generate(self, requests: Sequence[Request]) -> Iterator[Response]:
        for request in requests:  # one page at a time: each answer is checkpointed as it comes
            yield self._one(request).answering(request.id)

    def _one(self, request: Request) -> Response:
        if request.kind not in self.kinds:
            return Response(text=None, error=refusal(self.adapter, request.kind))
        start = time.perf_counter()
        try:
            text = read_text(self.reader, request) if request.kind == "read" else ground(self.reader, request)
        except Exception as exc:
            return Response(text=None, error=describe(exc))
        return Response(text=text, seconds=time.perf_counter() - start, finish_reason="stop")

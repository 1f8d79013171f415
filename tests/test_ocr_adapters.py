"""The baseline adapters (tesseract, ocr-match, chance) on text rendered with a Korean font.

The Tesseract tests run the real engine (tesserocr + the kor/eng language data); they are skipped,
with the reason, where either is missing.
"""

from __future__ import annotations

import io
import os
import re
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from PIL import Image, ImageDraw, ImageFont

from kobench.errors import BadInputError
from kobench.models.base import Model, in_request_order
from kobench.models.chance import ChanceModel
from kobench.models.registry import ModelOptions, parse_model_spec
from kobench.types import GenerationSettings, ImagePart, ImageRef, Message, Request, TextPart

if TYPE_CHECKING:
    from kobench.models.ocr import OCRPage

FONT = Path("/usr/share/fonts/truetype/nanum/NanumGothic.ttf")


def _tesseract_missing() -> str | None:
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")  # before tesserocr loads, as the adapter does
    try:
        import tesserocr  # noqa: F401
    except ImportError:
        return "tesserocr is not installed (pip install tesserocr)"
    from kobench.models.ocr import resolve_tessdata

    try:
        resolve_tessdata("kor+eng")
    except BadInputError as exc:
        return str(exc)
    if not FONT.is_file():
        return f"the test font {FONT} is missing (apt-get install fonts-nanum)"
    return None


MISSING = _tesseract_missing()
needs_tesseract = pytest.mark.skipif(MISSING is not None, reason=f"Tesseract not usable: {MISSING}")


# --- helpers -----------------------------------------------------------------------------------------

Box = tuple[float, float, float, float]


def render(
    items: list[tuple[int, int, str]], size: tuple[int, int], font_size: int = 30, font_path: Path = FONT
) -> tuple[Image.Image, list[Box]]:
    """White image with each (x, y, text) drawn in black; returns it and each text's 0-1 box."""
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(str(font_path), font_size)
    w, h = size
    boxes = []
    for x, y, text in items:
        x1, y1, x2, y2 = draw.textbbox((x, y), text, font=font)
        boxes.append((x1 / w, y1 / h, x2 / w, y2 / h))
        draw.text((x, y), text, font=font, fill="black")
    return image, boxes


def line_image(text: str, font_size: int = 30, pad: int = 20, font_path: Path = FONT) -> Image.Image:
    font = ImageFont.truetype(str(font_path), font_size)
    _, _, right, bottom = font.getbbox(text)
    image, _ = render([(pad, pad, text)], (right + 2 * pad, bottom + 2 * pad), font_size, font_path)
    return image


def png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def request(image: Image.Image | bytes | None, kind: str = "read", rid: str = "r", **hints) -> Request:
    parts: list = [TextPart("이미지를 보고 답하시오.")]
    if image is not None:
        data = image if isinstance(image, bytes) else png(image)
        parts.insert(0, ImagePart(ImageRef(data=data)))
    return Request(
        id=rid,
        messages=(Message("user", tuple(parts)),),
        generation=GenerationSettings(max_new_tokens=64),
        kind=kind,
        **hints,
    )


def cer(hypothesis: str, reference: str) -> float:
    from rapidfuzz.distance import Levenshtein

    return Levenshtein.distance(hypothesis, reference) / len(reference)


def iou(a: Box, b: Box) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def parse_box(text: str) -> Box:
    match = re.fullmatch(r"\[(\d\.\d{3}), (\d\.\d{3}), (\d\.\d{3}), (\d\.\d{3})\]", text)
    assert match, f"not a 0-1 box with 3 decimals: {text!r}"
    return tuple(float(v) for v in match.groups())  # type: ignore[return-value]


LINES = [
    "서울특별시 강남구 테헤란로 152",
    "합계금액 1,234,000원",
    "대한민국 부산광역시 해운대구",
    "주식회사 한빛상사 대표자 김민수",
    "전화 02-1234-5678",
    "2024년 3월 15일 발행",
]


@pytest.fixture(scope="module")
def tesseract():
    from kobench.models.ocr import TesseractModel

    return TesseractModel()


@pytest.fixture(scope="module")
def ocr_match():
    from kobench.models.ocr_match import OCRMatchModel

    return OCRMatchModel()


# --- tesseract: reading ------------------------------------------------------------------------------


@needs_tesseract
def test_tesseract_is_a_model_and_reads_lines_with_small_cer(tesseract) -> None:
    assert isinstance(tesseract, Model)
    responses = in_request_order(tesseract, [request(line_image(t), rid=str(i)) for i, t in enumerate(LINES)])
    rates = [cer(r.text, t) for r, t in zip(responses, LINES, strict=True)]
    total = sum(cer(r.text, t) * len(t) for r, t in zip(responses, LINES, strict=True)) / sum(map(len, LINES))
    print("per-line CER", [round(x, 3) for x in rates], "overall", round(total, 4))
    assert all(r.ok for r in responses)
    assert total < 0.05 and max(rates) < 0.15, [r.text for r in responses]
    assert cer(responses[0].text, LINES[0]) < 0.05


@needs_tesseract
def test_tesseract_reads_only_the_region(tesseract) -> None:
    texts = ["서울특별시 강남구 테헤란로 152", "대한민국 부산광역시 해운대구", "주식회사 한빛상사"]
    image, boxes = render([(30, 30 + 70 * i, t) for i, t in enumerate(texts)], (640, 260))
    x1, y1, x2, y2 = boxes[1]
    region = (x1 - 0.02, y1 - 0.03, x2 + 0.02, y2 + 0.03)
    whole, part = in_request_order(tesseract, [request(image), request(image, region=region)])
    assert whole.text.count("\n") == 2 and cer(whole.text, "\n".join(texts)) < 0.1
    assert "\n" not in part.text and cer(part.text, texts[1]) < 0.1, part.text
    assert "서울" not in part.text and "한빛" not in part.text


@needs_tesseract
def test_tesseract_reuses_one_api_object(tesseract, monkeypatch: pytest.MonkeyPatch) -> None:
    import tesserocr

    api = tesseract.engine.api

    def no_new_api(*args, **kwargs):
        raise AssertionError("a second PyTessBaseAPI was created")

    monkeypatch.setattr(tesserocr, "PyTessBaseAPI", no_new_api)
    for _ in range(2):
        (response,) = in_request_order(tesseract, [request(line_image(LINES[2]))])
        assert response.ok and tesseract.engine.api is api
    assert id(tesseract.engine.api) == id(api)


@needs_tesseract
def test_psm_is_a_line_for_one_line_and_a_block_for_several(tesseract) -> None:
    from kobench.models.ocr import PSM_BLOCK, PSM_LINE

    engine = tesseract.engine
    block, _ = render([(30, 30 + 60 * i, t) for i, t in enumerate(LINES[:3])], (640, 230))
    assert engine.choose_psm(line_image(LINES[0]))[0] == PSM_LINE
    assert engine.choose_psm(line_image("가나다"))[0] == PSM_LINE
    assert engine.choose_psm(block)[0] == PSM_BLOCK
    assert engine.read(block).psm == PSM_BLOCK and len(engine.read(block).lines) == 3
    # words of one line set far apart are still one line
    spread, _ = render([(20, 20, "품목"), (400, 20, "금액")], (560, 80))
    assert engine.choose_psm(spread)[0] == PSM_LINE
    # nothing found: a wide strip reads as a line, a square as a block
    assert engine.choose_psm(Image.new("RGB", (400, 40), "white"))[0] == PSM_LINE
    assert engine.choose_psm(Image.new("RGB", (200, 200), "white"))[0] == PSM_BLOCK


@needs_tesseract
def test_small_text_is_enlarged_before_reading(tesseract) -> None:
    image = line_image(LINES[2], font_size=9, pad=4)
    psm, scale = tesseract.engine.choose_psm(image)
    assert psm == 7 and scale > 1
    (response,) = in_request_order(tesseract, [request(image)])
    assert cer(response.text, LINES[2]) < 0.2, response.text


@needs_tesseract
def test_blank_images_read_as_nothing(tesseract) -> None:
    # tesserocr raises on an empty result and psm 7 made up a syllable on a blank strip
    blanks = [Image.new("RGB", size, "white") for size in ((300, 50), (300, 300), (1, 1))]
    responses = in_request_order(
        tesseract, [request(b, kind, question="가나") for b in blanks for kind in ("read", "ground")]
    )
    assert [(r.ok, r.text) for r in responses] == [(True, "")] * 6


@needs_tesseract
def test_a_line_psm_7_misses_is_read_as_sparse_text(tesseract) -> None:
    myeongjo = FONT.with_name("NanumMyeongjo.ttf")
    if not myeongjo.is_file():
        pytest.skip(f"{myeongjo} is missing")
    image = line_image("국립중앙박물관 관람 안내", 30, font_path=myeongjo)
    page = tesseract.engine.read(image)
    assert cer(page.text, "국립중앙박물관 관람 안내") < 0.1, page  # psm 7 returned nothing here (5.5.4)


# --- tesseract: grounding ----------------------------------------------------------------------------


@needs_tesseract
def test_tesseract_grounds_each_phrase_on_a_page(tesseract) -> None:
    phrases = ["서울특별시 강남구", "합계금액 1,234,000원", "대한민국 부산광역시"]
    image, boxes = render([(40, 40, phrases[0]), (400, 200, phrases[1]), (100, 380, phrases[2])], (800, 500))
    responses = in_request_order(
        tesseract, [request(image, "ground", str(i), question=p) for i, p in enumerate(phrases)]
    )
    for phrase, truth, response in zip(phrases, boxes, responses, strict=True):
        found = parse_box(response.text)
        assert iou(found, truth) > 0.5, (phrase, found, truth)
    # a phrase that is not there: no answer, no error
    (absent,) = in_request_order(tesseract, [request(image, "ground", question="제주특별자치도 서귀포시")])
    assert absent.ok and absent.text == ""


@needs_tesseract
def test_tesseract_grounds_a_part_of_a_line(tesseract) -> None:
    image, _ = render([(30, 30, "대한민국 부산광역시 해운대구")], (600, 100))
    font = ImageFont.truetype(str(FONT), 30)
    start = 30 + font.getlength("대한민국 ")
    x1, y1, x2, y2 = ImageDraw.Draw(image).textbbox((start, 30), "부산광역시", font=font)
    (response,) = in_request_order(tesseract, [request(image, "ground", question="부산광역시")])
    assert iou(parse_box(response.text), (x1 / 600, y1 / 100, x2 / 600, y2 / 100)) > 0.5


@needs_tesseract
def test_tesseract_refuses_questions(tesseract) -> None:
    image = line_image(LINES[0])
    choice = request(image, "choice", options=(("A", "서울"), ("B", "부산")))
    responses = in_request_order(
        tesseract, [choice, request(image, "open", question="주소는?"), request(image)]
    )
    assert not responses[0].ok and "ocr-match" in responses[0].error
    assert not responses[1].ok and "ocr-match" in responses[1].error
    assert responses[2].ok


@needs_tesseract
def test_bad_requests_fail_alone(tesseract, ocr_match) -> None:
    good = line_image(LINES[0])
    batch = [
        request(good, rid="a"),
        request(b"not an image", rid="b"),
        request(None, rid="c"),
        request(good, rid="d", region=(0.5, 0.5, 0.5, 0.9)),
        request(good, "ground", rid="e", question=""),
        request(good, rid="f"),
    ]
    responses = in_request_order(tesseract, batch)
    assert [r.ok for r in responses] == [True, False, False, False, False, True]
    assert "could not be decoded" in responses[1].error and "no image" in responses[2].error
    assert "region" in responses[3].error
    assert cer(responses[5].text, LINES[0]) < 0.05
    responses = in_request_order(ocr_match, [*batch[:3], request(good, "choice", rid="g", options=())])
    assert [r.ok for r in responses] == [True, False, False, False]


# --- ocr-match -------------------------------------------------------------------------------------

OPTIONS = (
    ("A", "부산광역시 해운대구"),
    ("B", "서울특별시 강남구"),
    ("C", "대구광역시 수성구"),
    ("D", "인천광역시 연수구"),
)


@needs_tesseract
def test_ocr_match_picks_the_printed_option_and_breaks_ties_like_chance(ocr_match) -> None:
    one, _ = render([(30, 60, "서울특별시 강남구")], (640, 160), 32)
    two, _ = render([(30, 30, "서울특별시 강남구"), (30, 110, "대구광역시 수성구")], (640, 200), 32)
    none, _ = render([(30, 60, "오늘의 날씨는 맑음")], (640, 160), 32)
    responses = in_request_order(
        ocr_match, [request(img, "choice", str(i), options=OPTIONS) for i, img in enumerate((one, two, none))]
    )
    assert responses[0].text == "B"
    assert responses[1].text in {"B", "C"}  # two options printed: a seeded pick between those two
    assert responses[2].text in {"A", "B", "C", "D"}  # nothing matches: a seeded pick among all
    again = in_request_order(
        ocr_match, [request(img, "choice", str(i), options=OPTIONS) for i, img in enumerate((two, none))]
    )
    assert [r.text for r in again] == [responses[1].text, responses[2].text]  # deterministic per row
    shuffled = (("A", OPTIONS[3][1]), ("B", OPTIONS[2][1]), ("C", OPTIONS[1][1]), ("D", OPTIONS[0][1]))
    (response,) = in_request_order(ocr_match, [request(one, "choice", options=shuffled)])
    assert response.text == "C"


@needs_tesseract
def test_ocr_match_compares_numbers_by_digits(ocr_match) -> None:
    image, _ = render([(30, 40, "결제금액 56,780원")], (500, 120))
    options = (("A", "56,870원"), ("B", "5,678원"), ("C", "56780원"), ("D", "65,780원"))
    (response,) = in_request_order(ocr_match, [request(image, "choice", options=options)])
    assert response.text == "C"


@needs_tesseract
def test_ocr_match_answers_a_key_value_question(ocr_match) -> None:
    form, _ = render([(30, 30, "공급가액 1,234,000"), (30, 100, "상호 한빛상사")], (520, 170))
    keyed, _ = render([(30, 30, "주소"), (30, 90, "부산광역시 해운대구")], (520, 160))
    responses = in_request_order(
        ocr_match,
        [
            request(form, "open", "a", question="공급가액은 얼마입니까?"),
            request(form, "open", "b", question="상호는 무엇입니까?"),
            request(keyed, "open", "c", question="주소는 어디입니까?"),
            request(form, "open", "d", question="전화번호는 무엇입니까?"),
        ],
    )
    texts = [r.text for r in responses]
    assert re.sub(r"\D", "", texts[0]) in {"1234000", "11234000"}, texts  # Tesseract may read "1," as "11"
    assert cer(texts[0], "1,234,000") <= 0.25, texts
    assert texts[1] == "한빛상사" and cer(texts[2], "부산광역시 해운대구") < 0.1 and texts[3] == "", texts


@needs_tesseract
def test_ocr_match_reads_and_refuses_grounding(ocr_match) -> None:
    image = line_image(LINES[0])
    read, grounding = in_request_order(
        ocr_match, [request(image), request(image, "ground", question="강남구")]
    )
    assert cer(read.text, LINES[0]) < 0.05
    assert not grounding.ok and "grounding" in grounding.error
    _, _, entry = parse_model_spec("ocr-match")
    assert entry.kinds is not None and "ground" not in entry.kinds and "choice" in entry.kinds


def test_key_terms_drop_question_words_endings_and_particles() -> None:
    from kobench.models.ocr_match import key_terms

    def stripped(question: str) -> list[str]:
        return [t.stripped for t in key_terms(question)]

    assert stripped("공급가액은 얼마입니까?") == ["공급가액"]
    assert stripped("이 영수증에 적힌 단가는 무엇인가요?") == ["영수증", "단가"]
    assert stripped("발행일이 언제입니까") == ["발행일"]
    terms = key_terms("품명 '무선 마우스'의 단가는 얼마입니까?")
    assert [(t.stripped, t.quoted) for t in terms] == [("품명", False), ("무선마우스", True), ("단가", False)]
    assert stripped("세액(부가가치세)은 얼마입니까?") == ["세액"]  # an aside is dropped ...
    assert stripped("(부가가치세)는 얼마입니까?") == ["부가가치세"]  # ... unless nothing else is left
    assert key_terms("단가는?")[0].original == "단가는"  # the unstripped form is tried as well


def _page(rows: list[list[tuple[str, int]]], height: int = 30, pitch: int = 50) -> OCRPage:
    """An OCR page built by hand: each row a list of (word, left x); 20 px per character."""
    from kobench.models.ocr import OCRLine, OCRPage, OCRWord

    lines = []
    for r, row in enumerate(rows):
        y1, words, text = 20 + r * pitch, [], ""
        for word, x in row:
            text += (" " if text else "") + word
            words.append(
                OCRWord(word, (x, y1, x + 20 * len(word), y1 + height), len(text) - len(word), len(text))
            )
        box = (words[0].box[0], y1, words[-1].box[2], y1 + height)
        lines.append(OCRLine(text, box, tuple(words)))
    return OCRPage(width=1000, height=40 + pitch * len(rows), psm=6, lines=tuple(lines))


def test_open_rules_on_a_hand_built_page() -> None:
    from kobench.models.ocr_match import extract_answer

    table = _page(
        [
            [("거래명세서", 300)],
            [("전화", 20), ("02-1234-5678", 120)],
            [("번호", 20), ("품명", 120), ("수량", 420), ("단가", 560), ("금액", 720)],
            [("1", 30), ("무선", 120), ("마우스", 220), ("5", 440), ("29,500", 540), ("147,500", 700)],
            [("2", 30), ("종이컵", 120), ("2", 440), ("15.500", 540), ("31,000", 700)],
            [("합계금액:", 20), ("178.500원", 220)],
            [("주소", 20)],
            [("부산광역시", 20), ("해운대구", 130)],
        ]
    )
    ask = lambda q: extract_answer(q, [table])  # noqa: E731
    assert ask("품명 '무선 마우스'의 단가는 얼마입니까?") == "29,500"  # row x column
    assert ask("품명 '무선 마우스'의 금액은 얼마입니까?") == "147,500"
    assert ask("품명 '종이컵'의 수량은 얼마입니까?") == "2"
    assert ask("품명 '종이컵'의 단가는 얼마입니까?") == "15,500"  # thousands read with a period
    assert ask("합계금액은 얼마입니까?") == "178,500"  # after the key; a number for 얼마
    assert ask("전화번호는 무엇입니까?") == "02-1234-5678"  # the label 전화 is part of 전화번호
    assert ask("주소는 어디입니까?") == "부산광역시 해운대구"  # nothing after the key: the next line
    assert ask("대표자는 누구입니까?") == ""
    assert ask("무엇입니까?") == ""


@needs_tesseract
def test_ocr_match_reads_a_page_once_for_many_questions(ocr_match, monkeypatch: pytest.MonkeyPatch) -> None:
    form, _ = render([(30, 30, "공급가액 7,654,000"), (30, 100, "상호 다온유통")], (520, 170))
    calls = []
    real = ocr_match.engine.read
    monkeypatch.setattr(ocr_match.engine, "read", lambda *a, **k: calls.append(k) or real(*a, **k))
    questions = ["공급가액은 얼마입니까?", "상호는 무엇입니까?", "공급가액은?"]
    responses = in_request_order(
        ocr_match, [request(form, "open", str(i), question=q) for i, q in enumerate(questions)]
    )
    assert [r.text for r in responses][1] == "다온유통"
    assert len(calls) == 3  # the psm rule's reading, psm 3's and psm 11's, once for three questions


# --- chance ----------------------------------------------------------------------------------------


def test_chance_is_deterministic_per_row_and_spreads_over_letters() -> None:
    letters = tuple((letter, f"보기 {letter}") for letter in "ABCD")
    requests = [request(None, "choice", f"row-{i}", options=letters) for i in range(400)]
    model = ChanceModel(seed=0)
    assert isinstance(model, Model)
    answers = [r.text for r in in_request_order(model, requests)]
    again = [r.text for r in in_request_order(ChanceModel(seed=0), list(reversed(requests)))][::-1]
    one_by_one = [in_request_order(model, [r])[0].text for r in requests[:50]]
    assert answers == again and answers[:50] == one_by_one
    counts = Counter(answers)
    assert set(counts) == set("ABCD")
    assert all(0.15 <= counts[x] / 400 <= 0.35 for x in "ABCD"), counts
    other_seed = [r.text for r in in_request_order(ChanceModel(seed=1), requests)]
    assert other_seed != answers
    assert model.fingerprint == "chance:0:1" and ChanceModel(7).fingerprint == "chance:7:1"


def test_chance_boxes_and_empty_answers() -> None:
    model = ChanceModel()
    kinds = ["ground", "ground", "read", "open"]
    responses = in_request_order(
        model, [request(None, k, f"id{i}", question="x") for i, k in enumerate(kinds)]
    )
    for response in responses[:2]:
        x1, y1, x2, y2 = parse_box(response.text)
        assert 0 <= x1 < x2 <= 1 and 0 <= y1 < y2 <= 1
    assert responses[0].text != responses[1].text
    assert [r.text for r in responses[2:]] == ["", ""]
    (no_options,) = in_request_order(model, [request(None, "choice")])
    assert no_options.ok and no_options.text == ""


# --- registry and fingerprints -----------------------------------------------------------------------


def test_model_spec_without_target() -> None:
    assert parse_model_spec("chance")[:2] == ("chance", "")
    assert parse_model_spec("chance:3")[:2] == ("chance", "3")
    assert parse_model_spec("tesseract")[:2] == ("tesseract", "")
    adapter, target, entry = parse_model_spec("tesseract:kor")
    assert (adapter, target) == ("tesseract", "kor") and not entry.needs_target
    assert entry.kinds == frozenset({"read", "ground"})
    assert parse_model_spec("hf:./model")[:2] == ("hf", "./model")
    assert parse_model_spec("hf:./model")[2].needs_target and parse_model_spec("hf:x")[2].kinds is None
    with pytest.raises(BadInputError, match=r"'hf' adapter needs a target.*hf:\./model"):
        parse_model_spec("hf")
    with pytest.raises(BadInputError, match="needs a target"):
        parse_model_spec("hf:")
    with pytest.raises(BadInputError, match="unknown model adapter 'gguf'"):
        parse_model_spec("gguf")
    with pytest.raises(BadInputError, match="expected ADAPTER"):
        parse_model_spec(":x")
    entry = parse_model_spec("chance:x")[2]
    with pytest.raises(BadInputError, match="seed"):
        entry.fingerprint("x", ModelOptions())
    assert (
        entry.load("5", ModelOptions()).fingerprint == entry.fingerprint("5", ModelOptions()) == "chance:5:1"
    )


@needs_tesseract
def test_fingerprints_are_stable_and_name_the_tesseract_version(tesseract, ocr_match) -> None:
    import tesserocr

    from kobench.models.ocr import TesseractModel

    version = tesserocr.PyTessBaseAPI.Version()
    assert re.fullmatch(r"tesseract:\d+\.\d+\.\d+:kor\+eng:[0-9a-f]{12}", tesseract.fingerprint)
    assert tesseract.fingerprint == f"tesseract:{version}:kor+eng:{tesseract.fingerprint[-12:]}"
    assert tesseract.settings == {"lang": "kor+eng", "engine": "tesserocr"}
    options = ModelOptions()
    entry = parse_model_spec("tesseract")[2]
    assert entry.fingerprint("", options) == tesseract.fingerprint == TesseractModel().fingerprint
    assert entry.fingerprint("kor+eng", options) == tesseract.fingerprint
    korean_only = entry.fingerprint("kor", options)
    assert korean_only.startswith(f"tesseract:{version}:kor:") and korean_only != tesseract.fingerprint
    match_entry = parse_model_spec("ocr-match")[2]
    assert match_entry.fingerprint("", options) == ocr_match.fingerprint
    assert ocr_match.fingerprint.startswith(f"ocr-match:{version}:kor+eng:")
    with pytest.raises(BadInputError, match="language string"):
        entry.fingerprint("kor;rm", options)


@needs_tesseract
def test_korean_only_model_loads_from_the_registry() -> None:
    entry = parse_model_spec("tesseract:kor")[2]
    model = entry.load("kor", ModelOptions())
    assert model.name == "tesseract:kor" and model.settings["lang"] == "kor"
    (response,) = in_request_order(model, [request(line_image(LINES[2]))])
    assert cer(response.text, LINES[2]) < 0.1


def test_missing_language_data_names_the_file_and_the_package(tmp_path: Path) -> None:
    from kobench.models.ocr import resolve_tessdata

    with pytest.raises(BadInputError) as info:
        resolve_tessdata("kor+eng", tmp_path)
    message = str(info.value)
    assert "kor.traineddata" in message and "apt-get install tesseract-ocr-kor" in message
    assert str(tmp_path) in message
    (tmp_path / "kor.traineddata").write_bytes(b"x")
    (tmp_path / "eng.traineddata").write_bytes(b"y")
    assert resolve_tessdata("kor+eng", tmp_path) == tmp_path

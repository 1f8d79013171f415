"""kobizdoc-synth: generated Korean business documents (견적서, 거래명세서, 영수증) with questions.

Every document is drawn with PIL in the layout of a real Korean form: a title, supplier and buyer
blocks (상호, 사업자등록번호, 대표자, 주소, 전화), a date, a ruled item table (품명, 규격/단위,
수량, 단가, 금액) and totals (공급가액, 세액 = 10% VAT rounded down, 합계금액). About a third are
"scanned" (a slight rotation, sensor noise, JPEG 75). Each question's accepted answers are printed
in the document as they are written there. Deterministic from the seed; document i does not depend
on how many documents are generated, so a test can build a prefix with a small ``n``.

``build_documents`` returns the structured documents (what the images show), so the arithmetic can
be checked independently of the pictures.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from kobench.synth import korean_text as kt
from kobench.synth.common import encode, image_cell, korean_fonts, write_splits

DOCUMENT_GENERATOR_VERSION = "1"
KINDS = ("견적서", "거래명세서", "영수증")
DEFAULT_COUNT = 36  # 12 of each kind
QUESTIONS_PER_DOCUMENT = 5

INK = (20, 20, 20)
HEADER_FILL = (232, 232, 232)
STAMP_RED = (205, 35, 40)
# (업태, 종목) pairs printed in the supplier block
TRADES = (
    ("도소매", "사무용품"),
    ("서비스", "소프트웨어 개발"),
    ("제조", "전자부품"),
    ("도소매", "식품"),
    ("서비스", "광고, 인쇄"),
    ("도소매", "전자제품"),
    ("서비스", "시설 관리"),
    ("건설", "실내 건축"),
)
NOTES = {
    "견적서": (
        "견적 유효기간: 견적일로부터 30일",
        "납기: 발주 후 7일 이내",
        "결제 조건: 납품 후 익월 말 현금 결제",
        "위 금액은 부가가치세가 포함된 금액입니다.",
        "설치 및 운반비 포함",
    ),
    "거래명세서": (
        "입금 계좌: 국민은행 (예금주: {company})",
        "반품은 수령 후 7일 이내에 가능합니다.",
        "물품 수령 후 이상이 있으면 연락 바랍니다.",
        "월말 일괄 청구",
    ),
    "영수증": ("위 금액을 정히 영수함.", "현금 결제", "카드 결제 (일시불)", "계좌 이체 완료"),
}


# --- structured documents ---------------------------------------------------------------------


@dataclass(frozen=True)
class Party:
    company: str
    business_number: str
    ceo: str
    address: str
    phone: str
    trade: tuple[str, str]  # (업태, 종목)


@dataclass(frozen=True)
class LineItem:
    name: str
    unit: str
    quantity: int
    unit_price: int
    amount: int  # as printed; quantity * unit_price


@dataclass(frozen=True)
class BizDocument:
    """One document: the values printed on it, and how it is drawn."""

    doc_id: str
    kind: str  # 견적서 | 거래명세서 | 영수증
    number: str
    date: tuple[int, int, int]
    date_text: str  # the date as printed
    supplier: Party
    buyer: Party
    items: tuple[LineItem, ...]
    supply_total: int  # 공급가액
    vat: int  # 세액
    total: int  # 합계금액
    note: str
    stamp: bool
    scanned: bool
    width: int
    body_font: str  # a label from common.KOREAN_FONTS
    title_font: str
    won_suffix: bool  # totals printed as "1,234,000원" rather than "1,234,000"


def _party(rng: random.Random, avoid: str = "") -> Party:
    company = kt.company_name(rng)
    while _core(company) == _core(avoid):
        company = kt.company_name(rng)
    return Party(
        company,
        kt.business_number(rng),
        kt.person_name(rng),
        kt.address(rng),
        kt.phone(rng),
        rng.choice(TRADES),
    )


def _core(company: str) -> str:
    """The company name without its legal form: (주)한빛테크 -> 한빛테크."""
    for form in ("주식회사", "(주)"):
        company = company.replace(form, "")
    return company.strip()


def _items(rng: random.Random) -> tuple[LineItem, ...]:
    while True:
        chosen = rng.sample(kt.ITEMS, rng.randint(3, 7))
        items = []
        for name, unit, low, high in chosen:
            step = 1000 if low >= 100_000 else 500 if low >= 10_000 else 100
            price = rng.randrange(low, high + 1, step)
            quantity = (
                rng.randint(1, 2)
                if unit in ("식", "건")
                else rng.choice((rng.randint(1, 10), rng.randint(5, 40)))
            )
            items.append(LineItem(name, unit, quantity, price, quantity * price))
        prices = sorted(item.unit_price for item in items)
        amounts = sorted(item.amount for item in items)
        if prices[-1] != prices[-2] and amounts[-1] != amounts[-2]:  # the comparative has one answer
            return tuple(items)


def build_document(seed: int, index: int) -> BizDocument:
    """Document ``index`` of the set generated from ``seed`` (independent of the set's size)."""
    rng = random.Random(f"kobizdoc/{seed}/{index}")
    kind = KINDS[index % 3]
    scan_offset = random.Random(f"kobizdoc/{seed}/scan").randrange(3)
    ymd = kt.date(rng)
    style = 0 if kind == "견적서" and rng.random() < 0.6 else rng.randrange(3)
    supplier = _party(rng)
    buyer = _party(rng, avoid=supplier.company)
    items = _items(rng)
    supply = sum(item.amount for item in items)
    vat = supply // 10
    y, m, d = ymd
    number = {
        "견적서": f"Q{y}{m:02d}{d:02d}-{rng.randint(1, 99):02d}",
        "거래명세서": f"{rng.randint(1, 9999):04d}",
        "영수증": f"{rng.randint(1, 999):03d}",
    }[kind]
    fonts = {label for _, label in korean_fonts()}
    body = rng.choice([f for f in ("gothic", "barun-gothic", "myeongjo") if f in fonts] or sorted(fonts))
    title = rng.choice([f for f in ("gothic-bold", "myeongjo-bold") if f in fonts] or [body])
    return BizDocument(
        doc_id=f"kobizdoc-{index:03d}",
        kind=kind,
        number=number,
        date=ymd,
        date_text=kt.format_date(ymd, style),
        supplier=supplier,
        buyer=buyer,
        items=items,
        supply_total=supply,
        vat=vat,
        total=supply + vat,
        note=rng.choice(NOTES[kind]).format(company=_core(supplier.company)),
        stamp=rng.random() < 0.55,
        scanned=(index // 3) % 3 == scan_offset,
        width=rng.choice((860, 900, 940)),
        body_font=body,
        title_font=title,
        won_suffix=rng.random() < 0.5,
    )


def build_documents(seed: int = 0, n: int = DEFAULT_COUNT) -> list[BizDocument]:
    return [build_document(seed, i) for i in range(n)]


# --- drawing -----------------------------------------------------------------------------------


_MYEONGJO_SIZE_FIX = {17: 16, 20: 19, 21: 22}


@lru_cache(maxsize=64)
def _font(label: str, size: int) -> Any:
    from PIL import ImageFont

    paths = {lab: path for path, lab in korean_fonts()}
    if label == "myeongjo":  # Debian's NanumMyeongjo hints "7" into a slash at these sizes
        size = _MYEONGJO_SIZE_FIX.get(size, size)
    return ImageFont.truetype(str(paths.get(label) or next(iter(paths.values()))), size)


class _Page:
    def __init__(self, doc: BizDocument) -> None:
        from PIL import Image, ImageDraw

        self.doc = doc
        self.width = doc.width
        self.height = round(doc.width * 1.414)
        self.img = Image.new("RGB", (self.width, self.height), (255, 255, 255))
        self.draw = ImageDraw.Draw(self.img)
        self.margin = 56
        self.stamp_at: tuple[float, float] | None = None

    def font(self, size: int, bold: bool = False) -> Any:
        return _font(self.doc.title_font if bold else self.doc.body_font, size)

    def text(
        self,
        xy: tuple[float, float],
        s: str,
        size: int = 17,
        anchor: str = "la",
        bold: bool = False,
        fill: tuple[int, int, int] = INK,
    ) -> float:
        """Draw text; returns its width."""
        font = self.font(size, bold)
        self.draw.text(xy, s, font=font, fill=fill, anchor=anchor)
        return self.draw.textlength(s, font=font)

    def fit(self, s: str, width: float, size: int) -> int:
        while size > 11 and self.draw.textlength(s, font=self.font(size)) > width:
            size -= 1
        return size

    def wrap(self, s: str, width: float, size: int) -> list[str]:
        font = self.font(size)
        lines: list[str] = []
        for word in s.split(" "):
            if lines and self.draw.textlength(f"{lines[-1]} {word}", font=font) <= width:
                lines[-1] = f"{lines[-1]} {word}"
            else:
                lines.append(word)
        return lines

    def rect(
        self, box: tuple[float, float, float, float], fill: tuple[int, int, int] | None = None, width: int = 1
    ) -> None:
        self.draw.rectangle(box, outline=INK, fill=fill, width=width)

    def cell(
        self,
        box: tuple[float, float, float, float],
        s: str,
        size: int = 16,
        align: str = "center",
        fill: tuple[int, int, int] | None = None,
        bold: bool = False,
    ) -> None:
        x0, y0, x1, y1 = box
        self.rect(box, fill=fill)
        if not s:
            return
        size = self.fit(s, x1 - x0 - 16, size)
        mid = (y0 + y1) / 2
        if align == "left":
            self.text((x0 + 7, mid), s, size, "lm", bold)
        elif align == "right":
            self.text((x1 - 7, mid), s, size, "rm", bold)
        else:
            self.text(((x0 + x1) / 2, mid), s, size, "mm", bold)

    def vertical_label(self, box: tuple[float, float, float, float], s: str, size: int = 16) -> None:
        x0, y0, x1, y1 = box
        self.rect(box, fill=HEADER_FILL)
        step = min(size + 6, (y1 - y0 - 8) / max(len(s), 1))
        top = (y0 + y1) / 2 - step * (len(s) - 1) / 2
        for k, ch in enumerate(s):
            self.text(((x0 + x1) / 2, top + k * step), ch, size, "mm")

    def title(self, y: float, s: str, subtitle: str = "") -> float:
        spaced = " ".join(s)
        size = 42
        w = self.text((self.width / 2, y), spaced, size, "ma", bold=True)
        line_y = y + size + 10
        self.draw.line((self.width / 2 - w / 2 - 10, line_y, self.width / 2 + w / 2 + 10, line_y), INK, 2)
        self.draw.line(
            (self.width / 2 - w / 2 - 10, line_y + 4, self.width / 2 + w / 2 + 10, line_y + 4), INK, 1
        )
        if subtitle:
            self.text((self.width / 2 + w / 2 + 18, y + size - 16), subtitle, 15, "la")
        return line_y + 24

    def party_block(
        self, x0: float, y0: float, x1: float, party: Party, label: str, wide: bool, stamp: bool
    ) -> float:
        """The supplier/buyer block with a vertical label; returns the bottom y."""
        row_h, size, key_w = 36, 16, 122 if wide else 86
        inner = x0 + 32
        rows: list[list[tuple[str, str]]]
        if wide:
            rows = [
                [("사업자등록번호", party.business_number)],
                [("상호", party.company), ("성명", party.ceo)],
                [("사업장 주소", party.address)],
                [("업태", party.trade[0]), ("종목", party.trade[1])],
                [("전화", party.phone)],
            ]
        else:
            rows = [
                [("등록번호", party.business_number)],
                [("상호", party.company)],
                [("성명", party.ceo)],
                [("주소", party.address)],
                [("전화", party.phone)],
            ]
        y = y0
        for row in rows:
            value_w = (x1 - inner) - key_w * len(row)
            shares = [value_w] if len(row) == 1 else [value_w * 0.58, value_w * 0.42]
            lines = self.wrap(row[0][1], shares[0] - 12, size - 1) if row[0][0].endswith("주소") else [""]
            height = row_h if len(lines) <= 1 else 12 + 21 * len(lines)
            x = inner
            for (key, value), share in zip(row, shares, strict=True):
                self.cell((x, y, x + key_w, y + height), key, 15, fill=HEADER_FILL)
                x += key_w
                box = (x, y, x + share, y + height)
                if key.endswith("주소") and len(lines) > 1:
                    self.rect(box)
                    for k, line in enumerate(lines):
                        self.text((x + 7, y + 6 + 21 * k), line, size - 1)
                elif key == "성명":
                    self.cell(box, value, size, align="left")
                    seal_x = x + share - 24
                    self.text((seal_x, y + height / 2), "(인)", 14, "mm")
                    if stamp and label.startswith("공급자"):
                        self.stamp_at = (seal_x, y + height / 2)
                else:
                    self.cell(box, value, size, align="left")
                x += share
            y += height
        self.vertical_label((x0, y0, inner, y), label)
        return y

    def item_table(self, y0: float, first_col: str, rows: int) -> float:
        doc = self.doc
        x0, x1 = self.margin, self.width - self.margin
        spec = "규격" if doc.kind == "견적서" else "단위"
        fixed = [(first_col, 58), ("품명", 0), (spec, 70), ("수량", 62), ("단가", 112), ("금액", 128)]
        name_w = (x1 - x0) - sum(w for _, w in fixed)
        widths = [w or name_w for _, w in fixed]
        edges = [x0]
        for w in widths:
            edges.append(edges[-1] + w)
        row_h = 34
        for k, (label, _) in enumerate(fixed):
            self.cell((edges[k], y0, edges[k + 1], y0 + row_h), label, 16, fill=HEADER_FILL)
        y = y0 + row_h
        m, d = doc.date[1], doc.date[2]
        for r in range(rows):
            if r < len(doc.items):
                item = doc.items[r]
                first = str(r + 1) if first_col == "번호" else f"{m}/{d}"
                values = [
                    first,
                    item.name,
                    item.unit,
                    f"{item.quantity:,}",
                    f"{item.unit_price:,}",
                    f"{item.amount:,}",
                ]
            else:
                values = [""] * 6
            aligns = ["center", "left", "center", "right", "right", "right"]
            for k, value in enumerate(values):
                self.cell((edges[k], y, edges[k + 1], y + row_h), value, 16, align=aligns[k])
            y += row_h
        self.rect((x0, y0, x1, y), width=2)
        return y

    def rows_to_fill(self, y: float, below: float, rng: random.Random) -> int:
        """Item rows (filled and blank, as on a printed form) that leave room for what follows."""
        room = int((self.height - self.margin - below - y) / 34) - 1  # minus the header row
        return max(len(self.doc.items) + 1, room - rng.randint(0, 4))

    def money(self, amount: int) -> str:
        return kt.won(amount) if self.doc.won_suffix else f"{amount:,}"

    def totals_rows(self, y0: float) -> float:
        """공급가액 / 세액 / 합계금액 as three full-width rows under the item table."""
        x0, x1 = self.margin, self.width - self.margin
        row_h = 34
        y = y0
        for label, amount in (
            ("공급가액", self.doc.supply_total),
            ("세액", self.doc.vat),
            ("합계금액", self.doc.total),
        ):
            split = x1 - 240
            self.cell((x0, y, split, y + row_h), label, 16, fill=HEADER_FILL, bold=label == "합계금액")
            self.cell((split, y, x1, y + row_h), self.money(amount), 17, align="right")
            y += row_h
        self.rect((x0, y0, x1, y), width=2)
        return y

    def totals_line(self, y0: float) -> float:
        """공급가액 | v | 세액 | v | 합계 | v in one row."""
        x0, x1 = self.margin, self.width - self.margin
        label_w = 82
        value_w = ((x1 - x0) - 3 * label_w) / 3
        x = x0
        for label, amount in (
            ("공급가액", self.doc.supply_total),
            ("세액", self.doc.vat),
            ("합계금액", self.doc.total),
        ):
            self.cell((x, y0, x + label_w, y0 + 38), label, 15, fill=HEADER_FILL)
            self.cell(
                (x + label_w, y0, x + label_w + value_w, y0 + 38), self.money(amount), 17, align="right"
            )
            x += label_w + value_w
        self.rect((x0, y0, x1, y0 + 38), width=2)
        return y0 + 38

    def note(self, y: float) -> float:
        x0, x1 = self.margin, self.width - self.margin
        self.cell((x0, y, x0 + 86, y + 40), "비고", 16, fill=HEADER_FILL)
        self.cell((x0 + 86, y, x1, y + 40), self.doc.note, 16, align="left")
        return y + 40


def _draw_quotation(page: _Page, rng: random.Random) -> None:
    doc = page.doc
    m = page.margin
    y = page.title(48, "견적서")
    left_w = page.width * 0.42
    page.text((m, y + 8), f"견적번호: {doc.number}", 16)
    page.text((m, y + 40), f"견적일자: {doc.date_text}", 17)
    w = page.text(
        (m, y + 92), f"{doc.buyer.company} 귀하", page.fit(f"{doc.buyer.company} 귀하", left_w - m - 10, 22)
    )
    page.draw.line((m, y + 124, m + w + 6, y + 124), INK, 1)
    page.text((m, y + 146), "아래와 같이 견적합니다.", 17)
    bottom = page.party_block(left_w, y, page.width - m, doc.supplier, "공급자", False, doc.stamp)
    y = max(bottom, y + 180) + 20
    # 합계금액 in words and figures, as on every Korean quotation
    x1 = page.width - m
    page.cell((m, y, m + 150, y + 46), "합계금액", 17, fill=HEADER_FILL, bold=True)
    words = f"일금 {kt.korean_amount(doc.total)}원정 (₩{doc.total:,})"
    page.cell((m + 150, y, x1, y + 46), words, 19, align="left")
    page.text((x1, y + 52), "(부가세 포함)", 14, "ra")
    y += 78
    y = page.item_table(y, "번호", page.rows_to_fill(y, 102 + 18 + 40 + 26 + 20, rng))
    y = page.totals_rows(y) + 18
    y = page.note(y) + 26
    page.text((m, y), f"담당자: {kt.person_name(rng)}  (연락처: {doc.supplier.phone})", 15)


def _draw_statement(page: _Page, rng: random.Random) -> None:
    doc = page.doc
    m = page.margin
    y = page.title(48, "거래명세서", "(공급받는자 보관용)")
    page.text((m, y), f"거래일자: {doc.date_text}", 17)
    page.text((page.width - m, y), f"No. {doc.number}", 16, "ra")
    y += 36
    half = (page.width - 2 * m - 16) / 2
    b1 = page.party_block(m, y, m + half, doc.supplier, "공급자", False, doc.stamp)
    b2 = page.party_block(m + half + 16, y, page.width - m, doc.buyer, "공급받는자", False, False)
    y = max(b1, b2) + 22
    page.text((m, y), f"합계금액: {kt.won(doc.total)} (VAT 포함)", 18, bold=True)
    y += 38
    y = page.item_table(y, "월/일", page.rows_to_fill(y, 38 + 18 + 40 + 34 + 20, rng))
    y = page.totals_line(y) + 18
    y = page.note(y) + 34
    page.text((page.width - m, y), "인수자:                (인)", 16, "ra")


def _draw_receipt(page: _Page, rng: random.Random) -> None:
    doc = page.doc
    m = page.margin
    x1 = page.width - m
    y = page.title(48, "영수증", "(공급받는자용)")
    page.text((m, y), f"No. {doc.number}", 16)
    y += 34
    w = page.text((m, y), f"{doc.buyer.company} 귀하", 22)
    page.draw.line((m, y + 32, m + w + 6, y + 32), INK, 1)
    y += 52
    y = page.party_block(m, y, x1, doc.supplier, "공급자", True, doc.stamp)
    # 작성년월일 | 공급대가총액 | 비고
    widths = (0.32, 0.40, 0.28)
    x = m
    for k, (label, value) in enumerate(
        (("작성년월일", doc.date_text), ("공급대가총액", kt.won(doc.total)), ("비고", ""))
    ):
        cw = (x1 - m) * widths[k]
        page.cell((x, y, x + cw, y + 32), label, 15, fill=HEADER_FILL)
        page.cell((x, y + 32, x + cw, y + 70), value, 17)
        x += cw
    page.rect((m, y, x1, y + 70), width=2)
    y += 84
    page.text((page.width / 2, y), "위 금액을 정히 영수(청구)함.", 17, "ma")
    y += 40
    y = page.item_table(y, "월/일", page.rows_to_fill(y, 102 + 18 + 40, rng))
    y = page.totals_rows(y) + 18
    y = page.note(y)


def _stamp(page: _Page, rng: random.Random) -> None:
    """A red seal over (인), blended by multiplication so the ink under it stays legible."""
    from PIL import Image, ImageChops, ImageDraw

    if page.stamp_at is None:
        return
    cx, cy = page.stamp_at
    cx += rng.uniform(-6, 6)
    cy += rng.uniform(-4, 4)
    r = 30
    layer = Image.new("RGB", page.img.size, (255, 255, 255))
    draw = ImageDraw.Draw(layer)
    colour = tuple(min(255, c + rng.randint(0, 30)) for c in STAMP_RED)
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=colour, width=3)
    core = _core(page.doc.supplier.company)[:4]
    draw.text(
        (cx, cy - 8), core, font=_font("gothic-bold", 15 if len(core) <= 3 else 12), fill=colour, anchor="mm"
    )
    draw.text((cx, cy + 11), "대표이사", font=_font("gothic-bold", 10), fill=colour, anchor="mm")
    layer = layer.rotate(rng.uniform(-15, 15), center=(cx, cy), fillcolor=(255, 255, 255))
    page.img = ImageChops.multiply(page.img, layer)


def _scan(img: Any, rng: random.Random) -> Any:
    """Mild scan realism: a slight rotation, paper tone, sensor noise (JPEG 75 is applied on encoding)."""
    import numpy as np
    from PIL import Image

    angle = rng.uniform(0.3, 1.0) * rng.choice((-1, 1))
    img = img.rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=(238, 236, 230))
    noise = np.random.default_rng(rng.randrange(2**32)).normal(0.0, 7.0, (img.height, img.width, 1))
    arr = np.asarray(img, dtype=np.float32) * rng.uniform(0.90, 0.96) + 6.0 + noise
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


def render_document(doc: BizDocument) -> bytes:
    """The document's image, encoded (PNG for clean documents, JPEG 75 for scanned ones)."""
    rng = random.Random(f"kobizdoc-render/{doc.doc_id}/{doc.number}/{doc.total}")
    page = _Page(doc)
    {"견적서": _draw_quotation, "거래명세서": _draw_statement, "영수증": _draw_receipt}[doc.kind](page, rng)
    if doc.stamp:
        _stamp(page, rng)
    if doc.scanned:
        return encode(_scan(page.img, rng), "JPEG", quality=75)
    return encode(page.img, "PNG")


def image_name(doc: BizDocument) -> str:
    return f"{doc.doc_id}.{'jpg' if doc.scanned else 'png'}"


# --- questions ---------------------------------------------------------------------------------


def _money_answers(amount: int) -> list[str]:
    return [kt.won(amount), f"{amount:,}"]


def _date_answers(doc: BizDocument) -> list[str]:
    return list(dict.fromkeys([doc.date_text, kt.format_date(doc.date, 0)]))


def _company_answers(company: str) -> list[str]:
    return list(dict.fromkeys([company, _core(company)]))


_DATE_LABEL = {"견적서": "견적일자", "거래명세서": "거래일자", "영수증": "작성년월일"}


def _field_question(doc: BizDocument, rng: random.Random, avoid: set[str]) -> tuple[str, list[str], str]:
    s = doc.supplier
    pool = {
        "company": (f"이 {doc.kind}에서 공급자의 상호는 무엇입니까?", _company_answers(s.company)),
        "buyer": ("이 문서를 받는 쪽(공급받는자)의 상호는 무엇입니까?", _company_answers(doc.buyer.company)),
        "date": (f"이 {doc.kind}의 {_DATE_LABEL[doc.kind]}는 언제입니까?", _date_answers(doc)),
        "bn": ("공급자의 사업자등록번호는 무엇입니까?", [s.business_number]),
        "ceo": ("공급자의 대표자 성명은 무엇입니까?", [s.ceo]),
        "phone": ("공급자의 전화번호는 무엇입니까?", [s.phone]),
    }
    key = rng.choice([k for k in pool if k not in avoid])
    avoid.add(key)
    question, answers = pool[key]
    return question, answers, key


def _table_question(doc: BizDocument, rng: random.Random, avoid: set[str]) -> tuple[str, list[str]]:
    item = rng.choice(doc.items)
    kind = rng.choice([k for k in ("quantity", "price", "amount") if k not in avoid])
    avoid.add(kind)
    if kind == "quantity":
        return f"품명 '{item.name}'의 수량은 얼마입니까?", [
            f"{item.quantity:,}",
            f"{item.quantity:,}{item.unit}",
        ]
    if kind == "price":
        return f"품명 '{item.name}'의 단가는 얼마입니까?", _money_answers(item.unit_price)
    return f"품명 '{item.name}'의 금액은 얼마입니까?", _money_answers(item.amount)


def document_questions(doc: BizDocument) -> list[dict[str, Any]]:
    """Five questions (without the image): field, table, total, comparative, and a fifth in rotation."""
    rng = random.Random(f"kobizdoc-questions/{doc.doc_id}/{doc.total}")
    index = int(doc.doc_id.rsplit("-", 1)[1])
    used_fields: set[str] = set()
    used_table: set[str] = set()
    out: list[tuple[str, list[str], str, str]] = []
    question, answers, _ = _field_question(doc, rng, used_fields)
    out.append((question, answers, "field", "text"))
    question, answers = _table_question(doc, rng, used_table)
    out.append((question, answers, "table", "number"))
    total_kind = rng.choice(("total", "total", "vat", "supply"))
    total_q = {
        "total": f"이 {doc.kind}의 합계금액은 얼마입니까?",
        "vat": "세액(부가가치세)은 얼마입니까?",
        "supply": "공급가액은 얼마입니까?",
    }[total_kind]
    amount = {"total": doc.total, "vat": doc.vat, "supply": doc.supply_total}[total_kind]
    out.append((total_q, _money_answers(amount), "total", "number"))
    fifth = index // 3 % 3
    if fifth == 0:
        n = len(doc.items)
        out.append((f"이 {doc.kind}에 기재된 품목은 몇 개입니까?", [f"{n}개", str(n)], "count", "number"))
    elif fifth == 1:
        question, answers, _ = _field_question(doc, rng, used_fields)
        out.append((question, answers, "field", "text"))
    else:
        question, answers = _table_question(doc, rng, used_table)
        out.append((question, answers, "table", "number"))
    if rng.random() < 0.5:
        top = max(doc.items, key=lambda item: item.unit_price)
        out.append(("단가가 가장 비싼 품목은 무엇입니까?", [top.name], "compare", "text"))
    else:
        top = max(doc.items, key=lambda item: item.amount)
        out.append(("금액이 가장 큰 품목은 무엇입니까?", [top.name], "compare", "text"))
    return [
        {
            "id": f"{doc.doc_id}-q{k}",
            "question": q,
            "answers": a,
            "category": doc.kind,
            "question_type": qt,
            "answer_type": at,
        }
        for k, (q, a, qt, at) in enumerate(out)
    ]


def kobizdoc_rows(seed: int = 0, n: int = DEFAULT_COUNT) -> list[dict[str, Any]]:
    rows = []
    for doc in build_documents(seed, n):
        image = image_cell(render_document(doc), image_name(doc))
        for q in document_questions(doc):
            rows.append(
                {
                    "id": q["id"],
                    "image": image,
                    "question": q["question"],
                    "answers": q["answers"],
                    "category": q["category"],
                    "question_type": q["question_type"],
                    "answer_type": q["answer_type"],
                }
            )
    return rows


def generate_kobizdoc(
    root: Path, hub_id: str = "kobench/kobizdoc-synth", seed: int = 0, n: int = DEFAULT_COUNT
) -> Path:
    """Write the set as ROOT/<hub_id>/data/test-00000-of-00001.parquet; returns ROOT/<hub_id>."""
    return write_splits(Path(root), hub_id, {"test": kobizdoc_rows(seed, n)})

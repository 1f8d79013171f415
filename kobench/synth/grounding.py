"""ko-ocr-grounding-synth: find the box of a given Korean text on a page, generated (no download).

Pages look like notices, forms, signs and receipts: a title (sometimes on a coloured header bar),
labelled lines, a footer, in several fonts and sizes, with borders, rules and table cells. Every
text block of a page is a query, one row each: 4-6 blocks a page, 5 on average, so 40 pages make
200 rows. A query appears exactly once on its page (no block repeats or contains another), and its
box is the tight box of the block's ink in the final image, in 0-1 (`width` and `height` give the
page in pixels for absolute coordinates). Half the pages are "clean" (PNG, flat paper), half
"noisy" (a scan: paper texture, rotation within 1.5 degrees, blur, noise, JPEG quality 65-75).
Deterministic from the seed; one random stream per page, so a shorter set (``pages``) is a prefix
of the full one.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from kobench.normalize import nfc
from kobench.synth import korean_text as kt
from kobench.synth.common import encode, image_cell, korean_fonts, write_splits
from kobench.synth.ocr import (
    RGB,
    Canvas,
    add_noise,
    blur,
    fonts_for,
    label_boxes,
    load_font,
    normalise,
    paper,
    text_width,
    warp,
)

GROUNDING_GENERATOR_VERSION = "1"
PAGES = 40
PAGE_KINDS = ("notice", "form", "sign", "receipt")
# text blocks a page: 4-6, five on average, so 40 pages make 200 rows whatever the seed
BLOCKS = (4, 6, 5, 5, 6, 4, 5, 5, 6, 4, 5, 5, 4, 6, 5, 5)
BOLD = ("gothic-bold", "myeongjo-bold", "square")
# (size range in px per role; the smallest a clean page gets is 18 px)
SIZES = {
    "notice": {"title": (36, 52), "subtitle": (22, 28), "body": (22, 30), "footer": (20, 26)},
    "form": {"title": (34, 46), "subtitle": (22, 26), "body": (20, 26), "footer": (20, 24)},
    "sign": {"title": (60, 92), "subtitle": (26, 34), "body": (28, 38), "footer": (20, 24)},
    "receipt": {"title": (30, 40), "subtitle": (20, 24), "body": (19, 23), "footer": (18, 21)},
}
MIN_SIZE = 18
HEADER_COLOURS = ((25, 50, 110), (20, 95, 70), (130, 25, 35), (40, 90, 170), (200, 90, 20), (60, 60, 70))
SIGN_SCHEMES = (  # (background, title colour, text colour, frame colour)
    ((250, 208, 40), (15, 15, 15), (15, 15, 15), (15, 15, 15)),
    ((255, 255, 255), (200, 20, 30), (30, 30, 30), (200, 20, 30)),
    ((25, 80, 160), (255, 255, 255), (255, 255, 255), (255, 255, 255)),
    ((20, 115, 70), (255, 255, 255), (240, 240, 240), (255, 255, 255)),
)


@dataclass
class Block:
    role: str
    text: str
    font_path: str
    size: int
    colour: RGB = (20, 20, 20)
    align: str = "left"
    x: int = 0
    baseline: int = 0

    @property
    def font(self) -> Any:
        return load_font(self.font_path, self.size)

    @property
    def width(self) -> int:
        return text_width(self.font, self.text)

    @property
    def ascent(self) -> int:
        return self.font.getmetrics()[0]

    @property
    def descent(self) -> int:
        return self.font.getmetrics()[1]


def _unique(texts: list[str]) -> bool:
    return all(sum(other.count(text) for other in texts) == 1 for text in texts)


def _blocks(rng: random.Random, kind: str, count: int) -> list[tuple[str, str]]:
    while True:
        blocks = kt.page_blocks(rng, kind, count)
        texts = [nfc(text) for _, text in blocks]
        if _unique(texts) and fonts_for("".join(texts)):
            return [(role, text) for (role, _), text in zip(blocks, texts, strict=True)]


def _font_for(rng: random.Random, role: str, text: str) -> str:
    choices = fonts_for(text, korean_fonts())
    bold = [path for path, label in choices if label in BOLD]
    if role == "title" and bold:
        return rng.choice(bold)
    return rng.choice([path for path, _ in choices])


def _fit(block: Block, room: int) -> None:
    while block.width > room and block.size > MIN_SIZE:
        block.size -= 1


def _layout(rng: random.Random, kind: str, count: int) -> tuple[Image.Image, list[Block]]:
    """Choose page size, fonts and positions, draw the page's furniture and return it ready for text."""
    pairs = _blocks(rng, kind, count)
    body_font = _font_for(rng, "body", "".join(text for _, text in pairs))
    sizes = {role: rng.randint(*span) for role, span in SIZES[kind].items()}  # one body size a page
    blocks = []
    for role, text in pairs:
        path = _font_for(rng, role, text) if role in ("title", "footer") or rng.random() < 0.15 else body_font
        blocks.append(Block(role, text, path, sizes[role]))
    if kind == "sign":
        width, height = rng.randint(900, 1100), rng.randint(620, 800)
    elif kind == "receipt":
        width, height = rng.randint(460, 600), 0
    else:
        width = rng.randint(760, 960)
        height = round(width * (rng.uniform(1.0, 1.35) if kind == "notice" else rng.uniform(0.75, 1.05)))
    margin = round(width * rng.uniform(0.07, 0.1))
    for block in blocks:
        _fit(block, width - 2 * margin - (60 if kind == "form" else 0))
    width = max(width, max(b.width for b in blocks) + 2 * margin + (60 if kind == "form" else 0))

    furniture: list[tuple[str, tuple, dict]] = []  # drawn on the page before the text
    background: RGB = (255, 255, 255)
    frame: tuple[int, RGB, int] = (0, background, 0)  # a sign's border: inset, colour, line width
    y = margin
    title, rest = blocks[0], blocks[1:]
    footer, body = rest[-1], rest[:-1]
    if kind == "sign":
        background, title_colour, text_colour, frame_colour = rng.choice(SIGN_SCHEMES)
        frame = (round(margin * 0.4), frame_colour, rng.randint(8, 16))  # drawn once the height is known
        title.colour = title_colour
        for block in rest:
            block.colour = text_colour
    else:
        background = rng.choice(((255, 255, 255), (252, 252, 250), (250, 250, 246)))
        title.colour = rng.choice(((15, 15, 15), (25, 50, 110), (130, 25, 35)))
        for block in rest:
            block.colour = rng.choice(((15, 15, 15), (35, 35, 35), (50, 50, 55)))
    header = kind == "notice" and rng.random() < 0.6
    if header:
        bar = round(title.size * rng.uniform(2.0, 2.6))
        colour = rng.choice(HEADER_COLOURS)
        furniture.append(("rectangle", (0, 0, width, bar), {"fill": colour}))
        title.colour = (255, 255, 255)
        title.align = rng.choice(("center", "left"))
        title.baseline = (bar + title.ascent - title.descent) // 2
        y = bar + margin
    else:
        title.align = "center" if kind != "receipt" or rng.random() < 0.8 else "left"
        if kind == "sign":
            y = round(height * rng.uniform(0.14, 0.22))
        title.baseline = y + title.ascent
        y = title.baseline + title.descent
        if kind in ("notice", "form") and rng.random() < 0.6:
            y += round(title.size * 0.35)
            furniture.append(
                (
                    "line",
                    ((margin, y), (width - margin, y)),
                    {"fill": (60, 60, 60), "width": rng.randint(2, 3)},
                )
            )
        y += round(title.size * rng.uniform(0.5, 0.9))
    for block in body:
        block.align = "center" if kind == "sign" else "left"
        gap = round(block.size * {"notice": 1.6, "receipt": 0.6}.get(kind, 1.1) * rng.uniform(0.8, 1.3))
        if kind == "form":
            cell = block.ascent + block.descent + 2 * round(block.size * 0.6)
            furniture.append(
                (
                    "rectangle",
                    (margin, y, width - margin, y + cell),
                    {"outline": (70, 70, 70), "width": rng.choice((1, 2))},
                )
            )
            block.x = margin + round(block.size * 0.6)
            block.baseline = y + round(block.size * 0.6) + block.ascent
            y += cell - rng.choice((0, 0, 1))  # table rows share their borders
        else:
            if kind == "receipt" and block is body[0]:
                furniture.append(("dashes", (margin, y, width - margin), {}))
                y += round(block.size * 0.6)
            block.baseline = y + gap // 2 + block.ascent
            y = block.baseline + block.descent + gap // 2
    footer.align = rng.choice(("center", "right")) if kind != "receipt" else "center"
    if kind == "receipt":
        furniture.append(("dashes", (margin, y + footer.size // 2, width - margin), {}))
        y += footer.size * 2
    else:
        y += round(footer.size * 1.2)
    needed = y + footer.ascent + footer.descent + margin
    height = max(height, needed)
    if kind in ("notice", "sign") and height > needed:
        y = height - margin - footer.ascent - footer.descent - (round(margin * 0.4) if kind == "sign" else 0)
    footer.baseline = y + footer.ascent
    if kind == "sign":
        inset, colour, line = frame
        furniture.append(
            ("rectangle", (inset, inset, width - inset, height - inset), {"outline": colour, "width": line})
        )
    if kind == "notice" and not header and rng.random() < 0.4:
        inset = round(margin * 0.45)
        furniture.append(
            (
                "rectangle",
                (inset, inset, width - inset, height - inset),
                {"outline": (90, 90, 90), "width": rng.randint(1, 3)},
            )
        )
    for block in blocks:
        if block.align == "center":
            block.x = (width - block.width) // 2
        elif block.align == "right":
            block.x = width - margin - block.width
        elif block.x == 0:
            block.x = margin
    page = Image.new("RGB", (width, height), background)
    draw = ImageDraw.Draw(page)
    for shape, xy, kwargs in furniture:
        if shape == "dashes":
            x1, yy, x2 = xy
            for x in range(x1, x2, 12):
                draw.line(((x, yy), (min(x + 6, x2), yy)), fill=(90, 90, 90), width=1)
        else:
            getattr(draw, shape)(xy, **kwargs)
    return page, blocks


def grounding_page(index: int, seed: int = 0) -> list[dict[str, Any]]:
    """The rows (one per text block) of one page of ko-ocr-grounding-synth."""
    rng = random.Random(f"ko-ocr-grounding-synth/{GROUNDING_GENERATOR_VERSION}/{seed}/{index}")
    level = ("clean", "noisy")[index % 2]
    kind = PAGE_KINDS[(index // 2) % len(PAGE_KINDS)]
    page_id = f"page-{index:03d}"
    page, blocks = _layout(rng, kind, BLOCKS[index % len(BLOCKS)])
    background = np.asarray(page).astype(np.float32)
    if level == "noisy":  # yellowed paper with blotches and grain, added to the drawn page
        tint = (rng.randint(-12, 0), rng.randint(-14, -2), rng.randint(-30, -8))
        background += paper(*page.size, tint, rng, rng.uniform(2, 5), rng.uniform(1, 2.5))
    canvas = Canvas(background)
    for k, block in enumerate(blocks, start=1):
        canvas.draw_text(block.x, block.baseline, block.text, block.font, block.colour, k)
    image, labels = canvas.image(), canvas.labels
    fmt, quality = "PNG", 90
    if level == "noisy":
        surround = (rng.randint(170, 215),) * 3
        image, labels, _ = warp(image, labels, rng.uniform(-1.5, 1.5), rng.uniform(0.0, 0.008), rng, surround)
        image = add_noise(blur(image, rng.uniform(0.3, 0.6)), rng.uniform(3, 6), rng)
        fmt, quality = "JPEG", rng.randint(65, 75)
    boxes = label_boxes(labels, len(blocks))
    width, height = image.size
    data = encode(image, fmt, quality)
    ext = "png" if fmt == "PNG" else "jpg"
    return [
        {
            "id": f"grd-{index:03d}-{k}",
            "image": image_cell(data, f"{page_id}.{ext}"),
            "text": block.text,
            "box": normalise(box, width, height),
            "width": width,
            "height": height,
            "level": level,
            "page": page_id,
        }
        for k, (block, box) in enumerate(zip(blocks, boxes, strict=True))
    ]


def grounding_rows(seed: int = 0, pages: int = PAGES) -> list[dict[str, Any]]:
    return [row for index in range(pages) for row in grounding_page(index, seed)]


def generate_ko_ocr_grounding(
    root: Path, hub_id: str = "kobench/ko-ocr-grounding-synth", seed: int = 0, pages: int = PAGES
) -> Path:
    """Write ko-ocr-grounding-synth (split "test", one row per text block of `pages` pages)."""
    return write_splits(Path(root), hub_id, {"test": grounding_rows(seed, pages)})

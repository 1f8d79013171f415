"""ko-ocr-synth: Korean text reading at three levels of image quality, generated (no download).

Every row is a rendered image of realistic Korean text (sentences, names, addresses, phone numbers,
amounts, dates, items) with its exact transcription and the box of every word, measured from the
ink actually drawn. Three levels of roughly equal size:

- clean: dark text on a plain light background, 28-40 px, no distortion (a screenshot), PNG;
- noisy: a scan or flat photo: paper tint and texture, rotation within 2 degrees, mild blur and
  noise, lower contrast, 18-26 px, JPEG quality 60-75;
- hard: a phone photo: rotation of 4-8 degrees and/or perspective, uneven lighting, blur, stronger
  noise, low contrast or coloured paper, 14-20 px, JPEG quality 40-55, sometimes a pen line or a
  stain across the text.

About a quarter of the rows are "region" rows: the image holds several lines and `box` marks the
one line to read. Geometric distortions move the boxes too: every word's ink is tracked through
the warp in a label map, so a box is the tight axis-aligned box of the word's pixels in the final
image (never larger than the box of the four transformed corners of the word's box before the warp).

Deterministic from the seed (same seed, same bytes); each row has its own random stream, so a
shorter set (``per_level``) is a prefix of the full one. The shared rendering helpers here are also
used by kobench.synth.grounding.
"""

from __future__ import annotations

import functools
import json
import math
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from kobench.normalize import nfc
from kobench.synth import korean_text as kt
from kobench.synth.common import encode, image_cell, korean_fonts, write_splits

OCR_GENERATOR_VERSION = "1"
LEVELS = ("clean", "noisy", "hard")
ROWS_PER_LEVEL = 60

Box = tuple[int, int, int, int]
RGB = tuple[int, int, int]

# ---------------------------------------------------------------- fonts and glyph coverage


@functools.cache
def load_font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size)


@functools.cache
def _notdef(path: str) -> tuple[tuple[int, int], bytes]:
    mask = load_font(path, 32).getmask("\uffff")  # a noncharacter: every font draws its .notdef
    return mask.size, bytes(mask)


@functools.cache
def has_glyph(path: str, char: str) -> bool:
    """Does the font draw this character (not its empty or tofu .notdef glyph)?"""
    if char.isspace():
        return True
    mask = load_font(path, 32).getmask(char)
    data = bytes(mask)
    return any(data) and (mask.size, data) != _notdef(path)


def covers(path: str, text: str) -> bool:
    return all(has_glyph(path, char) for char in set(text))


def fonts_for(text: str, fonts: Sequence[tuple[Path, str]] | None = None) -> list[tuple[str, str]]:
    """(path, label) of the Korean fonts that draw every character of `text`, in a fixed order."""
    return [(str(path), label) for path, label in (fonts or korean_fonts()) if covers(str(path), text)]


# ---------------------------------------------------------------- drawing text with a label map


class Canvas:
    """An RGB float image plus a label map: label k marks the pixels of ink of text item k."""

    def __init__(self, background: np.ndarray) -> None:
        self.rgb = background.astype(np.float32)
        self.labels = np.zeros(self.rgb.shape[:2], dtype=np.uint8)

    @property
    def size(self) -> tuple[int, int]:
        return self.rgb.shape[1], self.rgb.shape[0]

    def draw_word(
        self, x: float, baseline: float, word: str, font: ImageFont.FreeTypeFont, colour: RGB, label: int = 0
    ) -> None:
        left, top, right, bottom = font.getbbox(word, anchor="ls")
        mask = Image.new("L", (right - left + 4, bottom - top + 4), 0)
        ImageDraw.Draw(mask).text((2 - left, 2 - top), word, font=font, fill=255, anchor="ls")
        ink = np.asarray(mask)
        x0, y0 = round(x) + left - 2, round(baseline) + top - 2
        height, width = ink.shape
        if x0 < 0 or y0 < 0 or x0 + width > self.size[0] or y0 + height > self.size[1]:
            raise ValueError(f"text {word!r} does not fit the canvas")
        alpha = (ink.astype(np.float32) / 255.0)[..., None]
        region = self.rgb[y0 : y0 + height, x0 : x0 + width]
        region *= 1.0 - alpha
        region += alpha * np.asarray(colour, dtype=np.float32)
        if label:
            self.labels[y0 : y0 + height, x0 : x0 + width][ink > 0] = label

    def draw_text(
        self,
        x: float,
        baseline: float,
        text: str,
        font: ImageFont.FreeTypeFont,
        colour: RGB,
        labels: Sequence[int] | int = 0,
    ) -> None:
        """Draw a line word by word at its natural spacing; `labels` is one per word or one for all."""
        words = list(re.finditer(r"\S+", text))
        per_word = [labels] * len(words) if isinstance(labels, int) else list(labels)
        for match, label in zip(words, per_word, strict=True):
            self.draw_word(
                x + font.getlength(text[: match.start()]), baseline, match.group(), font, colour, label
            )

    def image(self) -> Image.Image:
        return Image.fromarray(np.clip(np.rint(self.rgb), 0, 255).astype(np.uint8), "RGB")


def text_width(font: ImageFont.FreeTypeFont, text: str) -> int:
    return math.ceil(font.getlength(text))


def label_boxes(labels: np.ndarray, count: int) -> list[Box]:
    """Tight pixel box (x1, y1, x2 exclusive, y2 exclusive) of labels 1..count; every label must be there."""
    boxes = []
    for label in range(1, count + 1):
        hit = labels == label
        rows, cols = np.flatnonzero(hit.any(axis=1)), np.flatnonzero(hit.any(axis=0))
        if not len(rows):
            raise ValueError(f"text item {label} left the image")
        boxes.append((int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1))
    return boxes


def union(boxes: Sequence[Box]) -> Box:
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def normalise(box: Sequence[float], width: int, height: int) -> list[float]:
    x1, y1, x2, y2 = box
    return [round(x1 / width, 5), round(y1 / height, 5), round(x2 / width, 5), round(y2 / height, 5)]


# ---------------------------------------------------------------- backgrounds and degradations


def paper(
    width: int, height: int, colour: RGB, rng: random.Random, texture: float = 0.0, grain: float = 0.0
) -> np.ndarray:
    """A background: a flat colour, plus low-frequency blotches (`texture`) and fibre grain (`grain`)."""
    out = np.empty((height, width, 3), dtype=np.float32)
    out[:] = colour
    nrng = np.random.default_rng(rng.getrandbits(63))
    if texture:
        cell = rng.randint(24, 64)
        small = nrng.normal(0.0, 1.0, (height // cell + 2, width // cell + 2)).astype(np.float32)
        blotch = Image.fromarray(small, "F").resize((width, height), Image.Resampling.BICUBIC)
        out += texture * np.asarray(blotch)[..., None]
    if grain:
        out += nrng.normal(0.0, grain, (height, width, 1)).astype(np.float32)
    return out


def homography(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The 3x3 projective map taking four points `src` to four points `dst`."""
    rows, rhs = [], []
    for (x, y), (u, v) in zip(src, dst, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        rhs += [u, v]
    h = np.linalg.solve(np.asarray(rows, dtype=np.float64), np.asarray(rhs, dtype=np.float64))
    return np.append(h, 1.0).reshape(3, 3)


def apply_h(h: np.ndarray, points: np.ndarray) -> np.ndarray:
    pts = np.c_[points, np.ones(len(points))] @ h.T
    return pts[:, :2] / pts[:, 2:]


def warp(
    image: Image.Image,
    labels: np.ndarray,
    angle: float,
    jitter: float,
    rng: random.Random,
    surround: RGB,
    pad: int = 6,
) -> tuple[Image.Image, np.ndarray, np.ndarray]:
    """Rotate by `angle` degrees and move each corner by up to `jitter` of the side (perspective);
    the output grows to hold everything, the uncovered part painted `surround`. Returns the new
    image, the new label map and the 3x3 map from old to new pixel coordinates."""
    width, height = image.size
    src = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float64)
    moved = src + np.array(
        [[rng.uniform(-jitter, jitter) * width, rng.uniform(-jitter, jitter) * height] for _ in range(4)]
    )
    theta = math.radians(angle)
    rot = np.array([[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]])
    centre = np.array([width / 2, height / 2])
    dst = (moved - centre) @ rot.T + centre
    lo = dst.min(axis=0) - pad
    dst -= lo
    out_w, out_h = (math.ceil(v) + pad for v in dst.max(axis=0))
    forward = homography(src, dst)
    inverse = np.linalg.inv(forward)
    coeffs = tuple((inverse / inverse[2, 2]).flatten()[:8])
    new_image = image.transform(
        (out_w, out_h), Image.Transform.PERSPECTIVE, coeffs, Image.Resampling.BICUBIC, fillcolor=surround
    )
    new_labels = Image.fromarray(labels, "L").transform(
        (out_w, out_h), Image.Transform.PERSPECTIVE, coeffs, Image.Resampling.NEAREST, fillcolor=0
    )
    return new_image, np.asarray(new_labels).copy(), forward


def corner_box(h: np.ndarray, box: Box) -> Box:
    """Axis-aligned box of the four transformed corners of `box` (a bound on the warped ink)."""
    x1, y1, x2, y2 = box
    pts = apply_h(h, np.array([[x1, y1], [x2, y1], [x2, y2], [x1, y2]], dtype=np.float64))
    return (
        math.floor(pts[:, 0].min()),
        math.floor(pts[:, 1].min()),
        math.ceil(pts[:, 0].max()),
        math.ceil(pts[:, 1].max()),
    )


def lighting(image: Image.Image, depth: float, rng: random.Random) -> Image.Image:
    """Uneven light: brightness falls linearly by `depth` across a random direction, plus a soft spot."""
    width, height = image.size
    arr = np.asarray(image).astype(np.float32)
    angle = rng.uniform(0, 2 * math.pi)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    ramp = xx * math.cos(angle) + yy * math.sin(angle)
    ramp = (ramp - ramp.min()) / max(float(ramp.max() - ramp.min()), 1.0)
    factor = 1.0 - depth * ramp
    cx, cy = rng.uniform(0, width), rng.uniform(0, height)
    radius = rng.uniform(0.3, 0.8) * max(width, height)
    factor += rng.uniform(0.0, 0.12) * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * radius**2))
    arr *= factor[..., None]
    return Image.fromarray(np.clip(np.rint(arr), 0, 255).astype(np.uint8), "RGB")


def add_noise(image: Image.Image, sigma: float, rng: random.Random) -> Image.Image:
    """Sensor noise: gaussian, mostly shared by the channels (luma) with some colour noise."""
    arr = np.asarray(image).astype(np.float32)
    nrng = np.random.default_rng(rng.getrandbits(63))
    luma = nrng.normal(0.0, sigma, (*arr.shape[:2], 1))
    chroma = nrng.normal(0.0, sigma * 0.4, arr.shape)
    arr += (luma + chroma).astype(np.float32)
    return Image.fromarray(np.clip(np.rint(arr), 0, 255).astype(np.uint8), "RGB")


def blur(image: Image.Image, radius: float) -> Image.Image:
    return image.filter(ImageFilter.GaussianBlur(radius)) if radius > 0 else image


def pen_line(image: Image.Image, band: Box, rng: random.Random) -> None:
    """A thin line (pen stroke, crease, ruled line) across the text band."""
    draw = ImageDraw.Draw(image)
    x1, y1, x2, y2 = band
    ya, yb = rng.uniform(y1, y2), rng.uniform(y1, y2)
    colour = rng.choice(((40, 60, 160), (90, 90, 90), (150, 40, 40), (60, 60, 60)))
    draw.line(
        [(x1 - rng.randint(0, 30), ya), (x2 + rng.randint(0, 30), yb)],
        fill=colour,
        width=rng.choice((1, 1, 2)),
    )


def stain(image: Image.Image, band: Box, rng: random.Random) -> Image.Image:
    """A translucent brownish stain (coffee, water) over part of the text."""
    width, height = image.size
    overlay = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(overlay)
    x1, y1, x2, y2 = band
    cx, cy = rng.uniform(x1, x2), rng.uniform(y1, y2)
    rx, ry = rng.uniform(0.5, 1.5) * (y2 - y1 + 10), rng.uniform(0.4, 1.0) * (y2 - y1 + 10)
    if rng.random() < 0.5:
        draw.ellipse((cx - rx, cy - ry, cx + rx, cy + ry), fill=rng.randint(50, 90))
    else:
        draw.ellipse(
            (cx - rx, cy - ry, cx + rx, cy + ry), outline=rng.randint(90, 140), width=rng.randint(2, 5)
        )
    overlay = overlay.filter(ImageFilter.GaussianBlur(rng.uniform(1.5, 4.0)))
    tint = Image.new("RGB", (width, height), rng.choice(((150, 105, 50), (120, 90, 60), (170, 140, 90))))
    return Image.composite(tint, image, overlay)


# ---------------------------------------------------------------- the ko-ocr-synth rows


@dataclass
class Style:
    size: int
    background: RGB
    ink: RGB
    texture: float = 0.0
    grain: float = 0.0
    angle: float = 0.0
    jitter: float = 0.0
    surround: RGB = (255, 255, 255)
    light: float = 0.0
    blur: float = 0.0
    noise: float = 0.0
    pen_line: bool = False
    stain: bool = False
    fmt: str = "PNG"
    quality: int = 90


def _mix(a: Sequence[float], b: Sequence[float], t: float) -> RGB:
    r, g, bl = (round(x + (y - x) * t) for x, y in zip(a, b, strict=True))
    return r, g, bl


def _style(level: str, rng: random.Random) -> Style:
    if level == "clean":
        background = rng.choice(
            (
                (255, 255, 255),
                (255, 255, 255),
                (250, 250, 250),
                (248, 247, 242),
                (242, 244, 248),
                (245, 245, 245),
            )
        )
        ink = rng.choice(((0, 0, 0), (20, 20, 20), (35, 35, 40), (20, 30, 80), (50, 50, 50)))
        return Style(size=rng.randint(28, 40), background=background, ink=ink)
    if level == "noisy":
        background = (rng.randint(230, 248), rng.randint(226, 244), rng.randint(205, 238))
        ink = _mix(rng.choice(((10, 10, 10), (20, 25, 60), (40, 30, 30))), background, rng.uniform(0.2, 0.4))
        return Style(
            size=rng.randint(18, 26),
            background=background,
            ink=ink,
            texture=rng.uniform(2, 6),
            grain=rng.uniform(1, 3),
            angle=rng.uniform(-2, 2),
            surround=tuple(max(0, c - rng.randint(15, 40)) for c in background),
            blur=rng.uniform(0.35, 0.7),
            noise=rng.uniform(3, 6),
            fmt="JPEG",
            quality=rng.randint(60, 75),
        )
    # coloured paper with fairly dark ink, or grey/white paper with faded (low-contrast) ink
    if rng.random() < 0.5:
        background = rng.choice(
            ((250, 236, 160), (214, 234, 205), (250, 214, 214), (205, 222, 245), (200, 178, 140))
        )
        fade = rng.uniform(0.15, 0.3)
    else:
        background = rng.choice(((222, 222, 215), (238, 236, 228), (190, 190, 185), (245, 245, 242)))
        fade = rng.uniform(0.35, 0.5)
    ink = _mix(rng.choice(((10, 10, 10), (20, 30, 110), (120, 20, 20), (20, 70, 30))), background, fade)
    mode = rng.choice(("rotate", "rotate", "perspective", "both"))
    angle = rng.choice((-1, 1)) * rng.uniform(4, 8) if mode != "perspective" else rng.uniform(-2, 2)
    jitter = rng.uniform(0.03, 0.07) if mode != "rotate" else rng.uniform(0.0, 0.015)
    return Style(
        size=rng.randint(14, 20),
        background=background,
        ink=ink,
        texture=rng.uniform(4, 10),
        grain=rng.uniform(2, 5),
        angle=angle,
        jitter=jitter,
        surround=rng.choice(((110, 80, 55), (60, 60, 65), (150, 150, 150), (90, 100, 110))),
        light=rng.uniform(0.25, 0.45),
        blur=rng.uniform(0.7, 1.2),
        noise=rng.uniform(7, 12),
        pen_line=rng.random() < 0.35,
        stain=rng.random() < 0.25,
        fmt="JPEG",
        quality=rng.randint(40, 55),
    )


def _region_lines(rng: random.Random) -> tuple[list[str], int]:
    while True:
        lines = [kt.ocr_line(rng) for _ in range(rng.randint(3, 5))]
        target = rng.randrange(len(lines))
        if sum(line.count(lines[target]) for line in lines) == 1:
            return lines, target


def _paragraph_lines(rng: random.Random) -> list[str]:
    while True:
        lines = kt.wrap_words(kt.ocr_paragraph(rng, rng.randint(1, 3)), rng.randint(16, 32))
        if 2 <= len(lines) <= 4 and all(6 <= len(line) <= 40 for line in lines):
            return lines


def degrade(
    image: Image.Image, labels: np.ndarray, style: Style, band: Box, rng: random.Random
) -> tuple[Image.Image, np.ndarray]:
    """Occluders, geometry, lighting, blur and noise of a style (the label map follows the geometry)."""
    if style.pen_line:
        pen_line(image, band, rng)
    if style.stain:
        image = stain(image, band, rng)
    if style.angle or style.jitter:
        image, labels, _ = warp(image, labels, style.angle, style.jitter, rng, style.surround)
    if style.light:
        image = lighting(image, style.light, rng)
    image = blur(image, style.blur)
    if style.noise:
        image = add_noise(image, style.noise, rng)
    return image, labels


def ocr_row(level: str, index: int, seed: int = 0) -> dict[str, Any]:
    """One row of ko-ocr-synth (its own random stream: rows do not depend on one another)."""
    rng = random.Random(f"ko-ocr-synth/{OCR_GENERATOR_VERSION}/{seed}/{level}/{index}")
    row_id = f"ocr-{level}-{index:03d}"
    kind = ("line", "paragraph", rng.choice(("line", "paragraph")), "region")[index % 4]
    while True:
        if kind == "line":
            lines, target = [kt.ocr_line(rng)], None
        elif kind == "paragraph":
            lines, target = _paragraph_lines(rng), None
        else:
            lines, target = _region_lines(rng)
        choices = fonts_for("".join(lines))
        if choices:
            break
    font_path, font_label = rng.choice(choices)
    style = _style(level, rng)
    font = load_font(font_path, style.size)
    ascent, descent = font.getmetrics()
    pitch = round(style.size * rng.uniform(1.5, 1.85))
    margin_x = rng.randint(round(style.size * 0.6), round(style.size * 2.5))
    margin_y = rng.randint(round(style.size * 0.5), round(style.size * 1.5))
    width = max(text_width(font, line) for line in lines) + 2 * margin_x
    height = ascent + descent + (len(lines) - 1) * pitch + 2 * margin_y
    canvas = Canvas(paper(width, height, style.background, rng, style.texture, style.grain))

    targets = range(len(lines)) if target is None else [target]
    words: list[str] = []
    line_labels: dict[int, list[int]] = {}
    for i in targets:
        line_words = lines[i].split()
        line_labels[i] = list(range(len(words) + 1, len(words) + len(line_words) + 1))
        words += line_words
    if len(words) > 255:
        raise ValueError("too many words for the label map")
    for i, line in enumerate(lines):
        canvas.draw_text(
            margin_x, margin_y + ascent + i * pitch, line, font, style.ink, line_labels.get(i, 0)
        )
    band = union(label_boxes(canvas.labels, len(words)))
    image, labels = degrade(canvas.image(), canvas.labels, style, band, rng)
    boxes = label_boxes(labels, len(words))
    width, height = image.size

    box = None
    if target is not None:
        pad = max(2, round(style.size * 0.15))
        x1, y1, x2, y2 = union(boxes)
        box = normalise(
            (max(0, x1 - pad), max(0, y1 - pad), min(width, x2 + pad), min(height, y2 + pad)), width, height
        )
    ext = "png" if style.fmt == "PNG" else "jpg"
    text = "\n".join(lines) if target is None else lines[target]
    return {
        "id": row_id,
        "image": image_cell(encode(image, style.fmt, style.quality), f"{row_id}.{ext}"),
        "text": nfc(text),
        "level": level,
        "layout": "line" if kind == "region" else kind,
        "font": font_label,
        "box": box,
        "words": json.dumps(
            [{"text": w, "box": normalise(b, width, height)} for w, b in zip(words, boxes, strict=True)],
            ensure_ascii=False,
        ),
    }


def ocr_rows(seed: int = 0, per_level: int = ROWS_PER_LEVEL) -> list[dict[str, Any]]:
    return [ocr_row(level, i, seed) for level in LEVELS for i in range(per_level)]


def generate_ko_ocr(
    root: Path, hub_id: str = "kobench/ko-ocr-synth", seed: int = 0, per_level: int = ROWS_PER_LEVEL
) -> Path:
    """Write ko-ocr-synth (split "test", `per_level` rows per level) and return the dataset folder."""
    return write_splits(Path(root), hub_id, {"test": ocr_rows(seed, per_level)})

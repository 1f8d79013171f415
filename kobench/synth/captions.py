"""ko-caption-synth: Korean image captioning on drawn scenes, generated (no download).

Every image is a PIL drawing of simple, recognisable objects (공, 상자, 삼각형, 별, 하트, 나무, 집,
자동차, 꽃, 해, 구름) in named colours, counted 1-4 and placed left / right / in the middle / at the
top / at the bottom, on a plain, grass, sky or night background. Three layouts:

- single: one kind of object (e.g. 빨간 공 두 개 on the left of a white background);
- pair: two kinds, in opposite halves (왼쪽에 빨간 공 두 개, 오른쪽에 파란 자동차 한 대);
- landscape: a house, one to three trees and the sun (sometimes clouds) on grass under a sky.

Each image has five reference captions that say the same thing in different words: word order,
particles, synonyms (공/동그란 공, 자동차/차, 해/태양), verbs (있다, 놓여 있다, 그려져 있다,
보인다), endings (있다. / 있습니다. / 있는 그림이다. / 모습이다.) and detail (one short caption
without background or positions). Every caption names every object's colour and count with a native
Korean numeral and its counter (두 개, 한 대, 세 그루, 한 채, 네 송이), and particles agree with the
final consonant of the word before them (``josa``).

Rows carry ``objects`` ("ball:red:2:left;car:blue:1:right"), a machine-readable account of what
was drawn, so tests can check the captions against the picture. Deterministic from the seed (same
seed, same bytes); each row has its own random stream, so a shorter set is a prefix of the full one.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from kobench.synth.common import encode, image_cell, write_splits

CAPTION_GENERATOR_VERSION = "1"
DEFAULT_COUNT = 150
REFERENCES = 5
WIDTH, HEIGHT = 384, 288
SCALE = 3  # drawn at 3x and box-filtered down: anti-aliased edges at the price of a bigger canvas
LAYOUTS = ("single", "pair", "single", "pair", "landscape")  # by row index: 60 / 60 / 30 of 150

RGB = tuple[int, int, int]
Box = tuple[float, float, float, float]

# ---------------------------------------------------------------- Korean particles


_PARTICLES = {  # either form -> (after a final consonant, after a vowel)
    "이": ("이", "가"),
    "가": ("이", "가"),
    "을": ("을", "를"),
    "를": ("을", "를"),
    "은": ("은", "는"),
    "는": ("은", "는"),
    "과": ("과", "와"),
    "와": ("과", "와"),
    "으로": ("으로", "로"),
    "로": ("으로", "로"),
    "이다": ("이다", "다"),
    "다": ("이다", "다"),
}
_RIEUL = 8  # index of ㄹ among the final consonants: ㄹ takes 로, not 으로


def final_consonant(word: str) -> int:
    """Index (0 = none, 1-27) of the final consonant (batchim) of the last Hangul syllable of `word`."""
    for char in reversed(word):
        if "가" <= char <= "힣":
            return (ord(char) - 0xAC00) % 28
    raise ValueError(f"no Hangul syllable in {word!r} to attach a particle to")


def josa(word: str, particle: str) -> str:
    """`word` with the form of `particle` that agrees with it: josa("사과", "을") == "사과를"."""
    with_final, without = _PARTICLES[particle]
    final = final_consonant(word)
    if with_final == "으로":
        return word + ("로" if final in (0, _RIEUL) else "으로")
    return word + (with_final if final else without)


NATIVE = {1: "한", 2: "두", 3: "세", 4: "네"}  # before a counter: 두 개, 세 그루
BARE = {1: "하나", 2: "둘", 3: "셋", 4: "넷"}  # without one: 해 하나

# ---------------------------------------------------------------- what can be drawn and said


@dataclass(frozen=True)
class Verb:
    plain: str  # 있다
    polite: str  # 있습니다
    adnominal: str  # 있는 (그림이다)
    linking: str  # 있고


def _aux(lead: str) -> Verb:
    return Verb(f"{lead}있다", f"{lead}있습니다", f"{lead}있는", f"{lead}있고")


IS, PLACED, DRAWN, STANDS, FLOATS, BLOOMS = (
    _aux(""),
    _aux("놓여 "),
    _aux("그려져 "),
    _aux("서 "),
    _aux("떠 "),
    _aux("피어 "),
)
SEEN = Verb("보인다", "보입니다", "보이는", "보이고")
COMMON_VERBS = (IS, DRAWN, SEEN)  # true of any object: used where one verb covers two groups


@dataclass(frozen=True)
class Colour:
    rgb: RGB
    words: tuple[str, ...]  # before a noun: 빨간 공, 빨간색 공


COLOURS = {
    "red": Colour((220, 40, 40), ("빨간", "빨간색")),
    "blue": Colour((40, 90, 220), ("파란", "파란색")),
    "yellow": Colour((250, 210, 30), ("노란", "노란색")),
    "green": Colour((30, 150, 60), ("초록색",)),
    "purple": Colour((140, 60, 190), ("보라색",)),
    "orange": Colour((245, 135, 30), ("주황색",)),
    "black": Colour((30, 30, 30), ("검은", "검은색", "검정")),
    "white": Colour((250, 250, 250), ("흰", "하얀", "흰색")),
    "pink": Colour((245, 140, 185), ("분홍색",)),
    "brown": Colour((150, 95, 50), ("갈색",)),
}
ALL_COLOURS = tuple(COLOURS)


@dataclass(frozen=True)
class Kind:
    nouns: tuple[str, ...]  # the last word is the head noun ("동그란 공" -> 공)
    counters: tuple[str, ...]  # "" counts bare: 해 하나
    aspect: float  # width / height of the drawing
    verbs: tuple[Verb, ...]
    colours: tuple[str, ...]
    max_count: int


KINDS = {
    "ball": Kind(("공", "동그란 공", "둥근 공"), ("개",), 1.0, (IS, PLACED, DRAWN, SEEN), ALL_COLOURS, 4),
    "box": Kind(("상자", "네모난 상자", "박스"), ("개",), 1.0, (IS, PLACED, DRAWN, SEEN), ALL_COLOURS, 4),
    "triangle": Kind(("삼각형", "세모"), ("개",), 1.1, (IS, DRAWN, SEEN), ALL_COLOURS, 4),
    "star": Kind(("별",), ("개",), 1.05, (IS, DRAWN, SEEN), ALL_COLOURS, 4),
    "heart": Kind(("하트",), ("개",), 1.1, (IS, DRAWN, SEEN), ALL_COLOURS, 4),
    "tree": Kind(("나무",), ("그루",), 0.75, (IS, STANDS, DRAWN, SEEN), ("green",), 4),
    "house": Kind(
        ("집",),
        ("채",),
        0.95,
        (IS, STANDS, DRAWN, SEEN),
        ("red", "blue", "yellow", "green", "purple", "orange", "white", "pink", "brown"),
        3,
    ),
    "car": Kind(("자동차", "차", "승용차"), ("대",), 2.0, (IS, STANDS, DRAWN, SEEN), ALL_COLOURS, 4),
    "flower": Kind(
        ("꽃",),
        ("송이",),
        0.6,
        (IS, BLOOMS, DRAWN, SEEN),
        ("red", "blue", "yellow", "purple", "orange", "white", "pink"),
        4,
    ),
    "sun": Kind(("해", "태양"), ("",), 1.0, (FLOATS, IS, DRAWN, SEEN), ("yellow", "orange", "red"), 1),
    "cloud": Kind(("구름",), ("점", "개"), 1.7, (FLOATS, IS, DRAWN, SEEN), ("white",), 3),
}


@dataclass(frozen=True)
class Background:
    rgb: RGB
    short: tuple[str, ...]  # 흰 배경 (왼쪽에), 흰 배경의 (왼쪽에)
    on: tuple[str, ...]  # 흰 배경에 ... (opens a sentence)
    picture: tuple[str, ...]  # ... 흰 배경의 그림(이다)
    name: str  # 배경은 흰색이다
    kinds: tuple[str, ...]  # what is drawn on it
    hides: tuple[str, ...]  # colours that would not show on it
    spots: tuple[str, ...]  # positions used on it


_SHAPES = ("ball", "box", "triangle", "star", "heart")
_EVERYWHERE = ("left", "right", "center", "top", "bottom")
SKY_RGB: RGB = (182, 222, 248)
GRASS_RGB: RGB = (140, 200, 95)
BACKGROUNDS = {
    "white": Background(
        (255, 255, 255),
        ("흰 배경", "하얀 바탕"),
        ("흰 배경에", "하얀 바탕에", "흰색 배경 위에"),
        ("흰 배경의 그림", "하얀 바탕의 그림"),
        "흰색",
        (*_SHAPES, "tree", "house", "car", "flower", "sun"),
        ("white",),
        _EVERYWHERE,
    ),
    "gray": Background(
        (214, 214, 214),
        ("회색 배경", "회색 바탕"),
        ("회색 배경에", "회색 바탕 위에"),
        ("회색 배경의 그림",),
        "회색",
        (*_SHAPES, "tree", "house", "car", "flower", "sun"),
        ("white",),
        _EVERYWHERE,
    ),
    "sky": Background(
        SKY_RGB,
        ("하늘색 배경", "하늘색 바탕"),
        ("하늘색 배경에", "하늘색 바탕 위에"),
        ("하늘색 배경의 그림",),
        "하늘색",
        tuple(KINDS),
        (),
        _EVERYWHERE,
    ),
    # sky above, grass below; things stand on the grass, so only side-by-side places
    "grass": Background(
        GRASS_RGB,
        ("잔디밭", "풀밭"),
        ("잔디밭에", "풀밭 위에"),
        ("잔디밭을 배경으로 한 그림", "풀밭 그림"),
        "잔디밭",
        ("ball", "box", "tree", "house", "car", "flower"),
        ("green",),
        ("left", "right", "center"),
    ),
    # dark with small stars: no drawn stars (they would blur the count), no black
    "night": Background(
        (22, 26, 62),
        ("밤하늘", "어두운 밤하늘"),
        ("밤하늘에", "어두운 밤하늘에", "별이 총총한 밤하늘에"),
        ("밤하늘을 배경으로 한 그림", "밤하늘 그림"),
        "밤하늘",
        ("ball", "box", "triangle", "heart"),
        ("black",),
        _EVERYWHERE,
    ),
}
POSITIONS = {
    "left": ("왼쪽", "왼편"),
    "right": ("오른쪽", "오른편"),
    "center": ("가운데", "중앙"),
    "top": ("위쪽", "윗부분"),
    "bottom": ("아래쪽", "아랫부분"),
}
# where a group goes, as fractions of the image (x0, y0, x1, y1)
REGIONS = {
    "left": (0.04, 0.08, 0.48, 0.92),
    "right": (0.52, 0.08, 0.96, 0.92),
    "center": (0.22, 0.1, 0.78, 0.9),
    "top": (0.06, 0.05, 0.94, 0.47),
    "bottom": (0.06, 0.53, 0.94, 0.95),
}
GROUND = (0.47, 0.96)  # on grass, groups stand in this band (the horizon is at half height)


@dataclass(frozen=True)
class Group:
    kind: str
    colour: str
    count: int
    position: str
    in_row: bool = False  # drawn side by side in one row (what 나란히 says)

    def spec(self) -> str:
        return f"{self.kind}:{self.colour}:{self.count}:{self.position}"


@dataclass(frozen=True)
class Scene:
    layout: str
    background: str
    groups: tuple[Group, ...]

    def objects(self) -> str:
        return ";".join(group.spec() for group in self.groups)


# ---------------------------------------------------------------- planning a scene


def _colour_for(kind: str, background: str, rng: random.Random, taken: Sequence[str] = ()) -> str:
    hidden = () if kind == "tree" else BACKGROUNDS[background].hides  # a tree has its trunk and outline
    return rng.choice([c for c in KINDS[kind].colours if c not in hidden and c not in taken])


def _count(kind: str, rng: random.Random) -> int:
    return rng.randint(1, KINDS[kind].max_count)


def plan_scene(layout: str, rng: random.Random) -> Scene:
    if layout == "landscape":
        house_side = rng.choice(("left", "right"))
        groups = [
            Group("house", _colour_for("house", "grass", rng), 1, house_side),
            Group("tree", "green", rng.randint(1, 3), "right" if house_side == "left" else "left"),
            Group("sun", rng.choice(KINDS["sun"].colours), 1, "top"),
        ]
        clouds = rng.choice((0, 0, 1, 2))
        if clouds:
            groups.append(Group("cloud", "white", clouds, "top"))
        return Scene(layout, "grass", tuple(groups))
    background = rng.choice(tuple(BACKGROUNDS))
    bg = BACKGROUNDS[background]
    if layout == "single":
        kind = rng.choice(bg.kinds)
        # the sun is not set low; 가운데 counts twice (a lone object is most often drawn in the middle)
        spots = bg.spots if kind != "sun" else tuple(p for p in bg.spots if p != "bottom")
        place = rng.choice((*spots, "center"))
        group = Group(kind, _colour_for(kind, background, rng), _count(kind, rng), place)
        return Scene(layout, background, (group,))
    first, second = rng.sample(bg.kinds, 2)
    if len(KINDS[second].colours) < len(KINDS[first].colours):  # the choosier kind picks first (tree: green)
        colour = _colour_for(second, background, rng)
        colours = (_colour_for(first, background, rng, (colour,)), colour)
    else:
        colour = _colour_for(first, background, rng)
        colours = (colour, _colour_for(second, background, rng, (colour,)))
    airborne = {"sun", "cloud"} & {first, second}
    if "left" not in bg.spots or "top" not in bg.spots:
        places = ("left", "right")
    elif airborne and len(airborne) == 1:  # the sun or a cloud goes above the other thing
        places = ("top", "bottom") if first in airborne else ("bottom", "top")
    else:
        places = rng.choice((("left", "right"), ("right", "left"), ("top", "bottom"), ("bottom", "top")))
    groups = tuple(
        Group(kind, c, _count(kind, rng), place)
        for kind, c, place in zip((first, second), colours, places, strict=True)
    )
    return Scene(layout, background, groups)


# ---------------------------------------------------------------- drawing


def _shade(rgb: RGB, factor: float) -> RGB:
    r, g, b = (round(c * factor) for c in rgb)
    return r, g, b


def _tint(rgb: RGB, amount: float) -> RGB:
    r, g, b = (round(c + (255 - c) * amount) for c in rgb)
    return r, g, b


def _line(box: Box) -> int:
    """Outline width on the big canvas: thin, but visible after the downscale."""
    return max(SCALE, round(0.025 * min(box[2] - box[0], box[3] - box[1])))


def _fit(points: Sequence[tuple[float, float]], box: Box) -> list[tuple[float, float]]:
    """Stretch a polygon's bounds onto `box`."""
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    x0, y0, x1, y1 = box
    sx, sy = (x1 - x0) / (max(xs) - min(xs)), (y1 - y0) / (max(ys) - min(ys))
    return [(x0 + (x - min(xs)) * sx, y0 + (y - min(ys)) * sy) for x, y in points]


def _lobes(draw: ImageDraw.ImageDraw, lobes: Sequence[Box], fill: RGB, edge: RGB, width: int) -> None:
    """A bumpy outline (tree crown, cloud): every lobe grown by `width` in the edge colour, then filled."""
    for x0, y0, x1, y1 in lobes:
        draw.ellipse((x0 - width, y0 - width, x1 + width, y1 + width), fill=edge)
    for lobe in lobes:
        draw.ellipse(lobe, fill=fill)


WINDOW: RGB = (205, 230, 248)
TRUNK: RGB = (105, 70, 40)
DOOR: RGB = (95, 62, 38)
STEM: RGB = (90, 165, 70)
WHEEL: RGB = (70, 70, 76)


def draw_ball(draw: ImageDraw.ImageDraw, box: Box, rgb: RGB) -> None:
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    draw.ellipse(box, fill=rgb, outline=_shade(rgb, 0.55), width=_line(box))
    draw.ellipse((x0 + 0.2 * w, y0 + 0.18 * h, x0 + 0.42 * w, y0 + 0.34 * h), fill=_tint(rgb, 0.55))


def draw_box(draw: ImageDraw.ImageDraw, box: Box, rgb: RGB) -> None:
    x0, y0, x1, y1 = box
    d = 0.24 * (x1 - x0)
    edge, width = _shade(rgb, 0.55), _line(box)
    # lid lit, side shaded, each distinct from the front: a white lid is shaded, a black side is lit
    lid = _tint(rgb, 0.35) if sum(rgb) < 600 else _shade(rgb, 0.9)
    side = _shade(rgb, 0.75) if sum(rgb) > 150 else _tint(rgb, 0.2)
    draw.polygon(
        [(x0, y0 + d), (x0 + d, y0), (x1, y0), (x1 - d, y0 + d)],
        fill=lid,
        outline=edge,
        width=width,
    )
    draw.polygon(
        [(x1 - d, y0 + d), (x1, y0), (x1, y1 - d), (x1 - d, y1)],
        fill=side,
        outline=edge,
        width=width,
    )
    draw.rectangle((x0, y0 + d, x1 - d, y1), fill=rgb, outline=edge, width=width)


def draw_triangle(draw: ImageDraw.ImageDraw, box: Box, rgb: RGB) -> None:
    x0, y0, x1, y1 = box
    draw.polygon(
        [((x0 + x1) / 2, y0), (x1, y1), (x0, y1)], fill=rgb, outline=_shade(rgb, 0.55), width=_line(box)
    )


def draw_star(draw: ImageDraw.ImageDraw, box: Box, rgb: RGB) -> None:
    points = []
    for k in range(10):
        radius = 1.0 if k % 2 == 0 else 0.45
        angle = -math.pi / 2 + k * math.pi / 5
        points.append((radius * math.cos(angle), radius * math.sin(angle)))
    draw.polygon(_fit(points, box), fill=rgb, outline=_shade(rgb, 0.55), width=_line(box))


def draw_heart(draw: ImageDraw.ImageDraw, box: Box, rgb: RGB) -> None:
    points = []
    for k in range(72):
        t = 2 * math.pi * k / 72
        x = 16 * math.sin(t) ** 3
        y = -(13 * math.cos(t) - 5 * math.cos(2 * t) - 2 * math.cos(3 * t) - math.cos(4 * t))
        points.append((x, y))
    draw.polygon(_fit(points, box), fill=rgb, outline=_shade(rgb, 0.55), width=_line(box))


def draw_tree(draw: ImageDraw.ImageDraw, box: Box, rgb: RGB) -> None:
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    cx = (x0 + x1) / 2
    width = _line(box)
    draw.rectangle(
        (cx - 0.1 * w, y0 + 0.5 * h, cx + 0.1 * w, y1), fill=TRUNK, outline=_shade(TRUNK, 0.6), width=width
    )
    crown = [
        (x0 + 0.06 * w, y0 + 0.14 * h, x1 - 0.06 * w, y0 + 0.66 * h),
        (x0, y0 + 0.3 * h, x0 + 0.56 * w, y0 + 0.7 * h),
        (x1 - 0.56 * w, y0 + 0.3 * h, x1, y0 + 0.7 * h),
        (cx - 0.3 * w, y0, cx + 0.3 * w, y0 + 0.42 * h),
    ]
    _lobes(draw, crown, rgb, _shade(rgb, 0.55), width)


def draw_house(draw: ImageDraw.ImageDraw, box: Box, rgb: RGB) -> None:
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    edge, width = _shade(rgb, 0.55), _line(box)
    eave = y0 + 0.42 * h
    draw.rectangle((x0 + 0.1 * w, eave, x1 - 0.1 * w, y1), fill=rgb, outline=edge, width=width)
    draw.polygon(
        [(x0, eave), ((x0 + x1) / 2, y0), (x1, eave)], fill=_shade(rgb, 0.6), outline=edge, width=width
    )
    draw.rectangle((x0 + 0.22 * w, y1 - 0.34 * h, x0 + 0.42 * w, y1), fill=DOOR, outline=edge, width=width)
    wx0, wy0, wx1, wy1 = x0 + 0.56 * w, eave + 0.12 * h, x0 + 0.8 * w, eave + 0.34 * h
    draw.rectangle((wx0, wy0, wx1, wy1), fill=WINDOW, outline=edge, width=width)
    draw.line([((wx0 + wx1) / 2, wy0), ((wx0 + wx1) / 2, wy1)], fill=edge, width=width)
    draw.line([(wx0, (wy0 + wy1) / 2), (wx1, (wy0 + wy1) / 2)], fill=edge, width=width)


def draw_car(draw: ImageDraw.ImageDraw, box: Box, rgb: RGB) -> None:
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    edge, width = _shade(rgb, 0.55), _line(box)
    cabin = [
        (x0 + 0.2 * w, y0 + 0.42 * h),
        (x0 + 0.32 * w, y0),
        (x0 + 0.68 * w, y0),
        (x0 + 0.82 * w, y0 + 0.42 * h),
    ]
    draw.polygon(cabin, fill=rgb, outline=edge, width=width)
    draw.polygon(
        [
            (x0 + 0.29 * w, y0 + 0.34 * h),
            (x0 + 0.36 * w, y0 + 0.12 * h),
            (x0 + 0.48 * w, y0 + 0.12 * h),
            (x0 + 0.48 * w, y0 + 0.34 * h),
        ],
        fill=WINDOW,
    )
    draw.polygon(
        [
            (x0 + 0.53 * w, y0 + 0.34 * h),
            (x0 + 0.53 * w, y0 + 0.12 * h),
            (x0 + 0.65 * w, y0 + 0.12 * h),
            (x0 + 0.73 * w, y0 + 0.34 * h),
        ],
        fill=WINDOW,
    )
    draw.rounded_rectangle(
        (x0, y0 + 0.38 * h, x1, y0 + 0.8 * h), radius=0.14 * h, fill=rgb, outline=edge, width=width
    )
    # one silhouette: paint over the body's top edge where the cabin sits on it
    draw.rectangle((x0 + 0.25 * w, y0 + 0.35 * h, x0 + 0.77 * w, y0 + 0.38 * h + width + 1), fill=rgb)
    draw.ellipse((x1 - 0.07 * w, y0 + 0.47 * h, x1 - 0.02 * w, y0 + 0.58 * h), fill=(255, 236, 140))
    r = 0.2 * h
    for cx in (x0 + 0.24 * w, x0 + 0.76 * w):
        cy = y1 - r
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=WHEEL, outline=(35, 35, 38), width=width)
        draw.ellipse((cx - 0.4 * r, cy - 0.4 * r, cx + 0.4 * r, cy + 0.4 * r), fill=(190, 190, 196))


def draw_flower(draw: ImageDraw.ImageDraw, box: Box, rgb: RGB) -> None:
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    cx, r = (x0 + x1) / 2, w / 2
    cy = y0 + r
    width = _line(box)
    draw.line([(cx, cy), (cx, y1)], fill=STEM, width=max(width, round(0.08 * w)))
    draw.ellipse((cx, y0 + 0.66 * h, cx + 0.42 * w, y0 + 0.78 * h), fill=STEM)
    petal = 0.45 * r
    for k in range(6):
        angle = k * math.pi / 3 + math.pi / 6
        px, py = cx + 0.55 * r * math.cos(angle), cy + 0.55 * r * math.sin(angle)
        draw.ellipse(
            (px - petal, py - petal, px + petal, py + petal), fill=rgb, outline=_shade(rgb, 0.6), width=width
        )
    middle = (200, 90, 30) if rgb == COLOURS["yellow"].rgb else (255, 225, 120)
    draw.ellipse((cx - 0.36 * r, cy - 0.36 * r, cx + 0.36 * r, cy + 0.36 * r), fill=middle)


def draw_sun(draw: ImageDraw.ImageDraw, box: Box, rgb: RGB) -> None:
    x0, y0, x1, y1 = box
    w = x1 - x0
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    for k in range(12):
        angle = k * math.pi / 6
        c, s = math.cos(angle), math.sin(angle)
        draw.line(
            [(cx + 0.4 * w * c, cy + 0.4 * w * s), (cx + 0.5 * w * c, cy + 0.5 * w * s)],
            fill=rgb,
            width=max(SCALE, round(0.045 * w)),
        )
    r = 0.31 * w
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=rgb, outline=_shade(rgb, 0.8), width=_line(box))


def draw_cloud(draw: ImageDraw.ImageDraw, box: Box, rgb: RGB) -> None:
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    lobes = [
        (x0, y0 + 0.45 * h, x1, y1),
        (x0 + 0.08 * w, y0 + 0.28 * h, x0 + 0.48 * w, y0 + 0.92 * h),
        (x0 + 0.28 * w, y0, x0 + 0.74 * w, y0 + 0.78 * h),
        (x0 + 0.55 * w, y0 + 0.22 * h, x0 + 0.94 * w, y0 + 0.88 * h),
    ]
    _lobes(draw, lobes, rgb, (196, 204, 216), _line(box))


PAINTERS: dict[str, Callable[[ImageDraw.ImageDraw, Box, RGB], None]] = {
    "ball": draw_ball,
    "box": draw_box,
    "triangle": draw_triangle,
    "star": draw_star,
    "heart": draw_heart,
    "tree": draw_tree,
    "house": draw_house,
    "car": draw_car,
    "flower": draw_flower,
    "sun": draw_sun,
    "cloud": draw_cloud,
}


def _paint_background(draw: ImageDraw.ImageDraw, background: str, horizon: float, rng: random.Random) -> None:
    width, height = WIDTH * SCALE, HEIGHT * SCALE
    if background == "grass":
        top = round(horizon * height)
        draw.rectangle((0, 0, width, top), fill=SKY_RGB)
        draw.rectangle((0, top, width, height), fill=GRASS_RGB)
        for _ in range(40):  # tufts, so the green reads as grass
            x, y = rng.uniform(0, width), rng.uniform(top + 8 * SCALE, height)
            size = rng.uniform(3, 6) * SCALE
            draw.line([(x - size, y - size), (x, y), (x + size, y - size)], fill=(100, 170, 70), width=SCALE)
        return
    draw.rectangle((0, 0, width, height), fill=BACKGROUNDS[background].rgb)
    if background == "night":
        for _ in range(rng.randint(35, 55)):
            x, y, r = rng.uniform(0, width), rng.uniform(0, height), rng.uniform(0.6, 1.4) * SCALE
            draw.ellipse((x - r, y - r, x + r, y + r), fill=(245, 245, 210))


def _cells(region: Box, count: int, aspect: float, rng: random.Random) -> tuple[list[Box], bool]:
    """`count` object boxes (image pixels) in a grid over `region`, the grid that gives the largest
    objects, each jittered in its cell; and whether they stand in one row."""
    x0, y0, x1, y1 = region
    rw, rh = x1 - x0, y1 - y0
    best = (0.0, 1, count)
    for rows in range(1, count + 1):
        cols = math.ceil(count / rows)
        size = min(rh / rows, rw / cols / aspect)
        if size > best[0] + 1e-9:
            best = (size, rows, cols)
    size, rows, cols = best
    cw, ch = rw / cols, rh / rows
    boxes = []
    for k in range(count):
        row, col = divmod(k, cols)
        in_this_row = cols if row < rows - 1 else count - cols * (rows - 1)
        cx = x0 + (cols - in_this_row) * cw / 2 + (col + 0.5) * cw  # a short last row is centred
        cy = y0 + (row + 0.5) * ch
        oh = min(size * rng.uniform(0.68, 0.86), 0.5 * HEIGHT)  # a lone object does not fill the frame
        ow = oh * aspect
        cx += (cw - ow) / 2 * rng.uniform(-0.7, 0.7)
        cy += (ch - oh) / 2 * rng.uniform(-0.7, 0.7)
        boxes.append((cx - ow / 2, cy - oh / 2, cx + ow / 2, cy + oh / 2))
    return boxes, rows == 1 and count > 1


def _region(position: str, background: str) -> Box:
    fx0, fy0, fx1, fy1 = REGIONS[position]
    if background == "grass":
        fy0, fy1 = GROUND
    return fx0 * WIDTH, fy0 * HEIGHT, fx1 * WIDTH, fy1 * HEIGHT


def _landscape_boxes(scene: Scene, rng: random.Random) -> list[list[Box]]:
    house, trees, _sun, *clouds = scene.groups
    base = HEIGHT * rng.uniform(0.84, 0.92)
    hw = WIDTH * rng.uniform(0.27, 0.33)
    hx = WIDTH * rng.uniform(0.2, 0.28)
    hx = hx if house.position == "left" else WIDTH - hx
    out = [[(hx - hw / 2, base - hw / KINDS["house"].aspect, hx + hw / 2, base)]]
    span = (0.54 * WIDTH, 0.96 * WIDTH) if trees.position == "right" else (0.04 * WIDTH, 0.46 * WIDTH)
    cell = (span[1] - span[0]) / trees.count
    tree_boxes = []
    for k in range(trees.count):
        th = min(HEIGHT * rng.uniform(0.36, 0.46), cell * 0.92 / KINDS["tree"].aspect)
        tw = th * KINDS["tree"].aspect
        tx = span[0] + (k + 0.5) * cell + (cell - tw) / 2 * rng.uniform(-0.6, 0.6)
        ty = base + HEIGHT * rng.uniform(-0.04, 0.03)
        tree_boxes.append((tx - tw / 2, ty - th, tx + tw / 2, ty))
    out.append(tree_boxes)
    sun_left = rng.random() < 0.5
    d = HEIGHT * rng.uniform(0.2, 0.25)
    sx, sy = WIDTH * (0.13 if sun_left else 0.87), HEIGHT * rng.uniform(0.13, 0.16)
    out.append([(sx - d / 2, sy - d / 2, sx + d / 2, sy + d / 2)])
    for group in clouds:  # across the top, clear of the sun
        lo, hi = (0.3 * WIDTH, 0.96 * WIDTH) if sun_left else (0.04 * WIDTH, 0.7 * WIDTH)
        cell = (hi - lo) / group.count
        cloud_boxes = []
        for k in range(group.count):
            cw = min(WIDTH * rng.uniform(0.17, 0.22), cell * 0.9)
            ch = cw / KINDS["cloud"].aspect
            cx = lo + (k + 0.5) * cell + (cell - cw) / 2 * rng.uniform(-0.6, 0.6)
            cy = HEIGHT * rng.uniform(0.1, 0.2)
            cloud_boxes.append((cx - cw / 2, cy - ch / 2, cx + cw / 2, cy + ch / 2))
        out.append(cloud_boxes)
    return out


def render(scene: Scene, rng: random.Random) -> tuple[Image.Image, Scene]:
    """Draw the scene; returns the image and the scene with each group's row arrangement filled in."""
    image = Image.new("RGB", (WIDTH * SCALE, HEIGHT * SCALE))
    draw = ImageDraw.Draw(image)
    if scene.layout == "landscape":
        _paint_background(draw, "grass", rng.uniform(0.48, 0.56), rng)
        placed = _landscape_boxes(scene, rng)
        groups = scene.groups
    else:
        _paint_background(draw, scene.background, 0.5, rng)
        placed, grouped = [], []
        for group in scene.groups:
            boxes, in_row = _cells(
                _region(group.position, scene.background), group.count, KINDS[group.kind].aspect, rng
            )
            placed.append(boxes)
            grouped.append(Group(group.kind, group.colour, group.count, group.position, in_row))
        groups = tuple(grouped)
    for group, boxes in zip(scene.groups, placed, strict=True):
        for box in boxes:
            big = (box[0] * SCALE, box[1] * SCALE, box[2] * SCALE, box[3] * SCALE)
            PAINTERS[group.kind](draw, big, COLOURS[group.colour].rgb)
    small = image.resize((WIDTH, HEIGHT), Image.Resampling.BOX)
    return small, Scene(scene.layout, scene.background, groups)


# ---------------------------------------------------------------- captions


class _Words:
    """How one caption names one group; chosen once per caption, so a caption is consistent."""

    def __init__(self, group: Group, rng: random.Random, wording: int = 0) -> None:
        kind = KINDS[group.kind]
        self.group = group
        self.adj = rng.choice(COLOURS[group.colour].words)
        self.noun = rng.choice(kind.nouns)
        self.head = self.noun.split()[-1]
        counter = rng.choice(kind.counters)
        if counter == "개" and group.count == 1 and rng.random() < 0.3:
            counter = ""  # 빨간 공 하나
        self.counted = counter != ""
        self.count = f"{NATIVE[group.count]} {counter}" if counter else BARE[group.count]
        self.full = f"{self.adj} {self.noun} {self.count}"  # 빨간 공 두 개
        # 두 개의 빨간 공; a bare numeral does not go first ("하나의 해" reads as translated)
        self.pre = f"{self.count}의 {self.adj} {self.noun}" if self.counted else self.full
        self.subj = f"{josa(f'{self.adj} {self.noun}', '이')} {self.count}"  # 빨간 공이 두 개
        # one caption says 왼쪽 ... 오른쪽 or 왼편 ... 오른편, never a mix: `wording` picks for all its groups
        self.pos = POSITIONS[group.position][wording] if group.position else ""
        self.verb = rng.choice(kind.verbs)


def _verbs_on(words: _Words, background: str) -> Verb:
    # nothing lies on the night sky: 놓여 있다 and 서 있다 would be false there
    if background == "night" and words.verb in (PLACED, STANDS):
        return IS
    return words.verb


def _end(verb: Verb, rng: random.Random) -> str:
    return rng.choice((verb.plain, verb.polite))


def _copula(word: str, rng: random.Random) -> str:
    return rng.choice((josa(word, "이다"), f"{word}입니다"))


def _single_captions(scene: Scene, rng: random.Random) -> tuple[str, list[str]]:
    bg = BACKGROUNDS[scene.background]
    (group,) = scene.groups

    def say() -> tuple[_Words, Verb, str]:
        w = _Words(group, rng, rng.randrange(2))
        return w, _verbs_on(w, scene.background), rng.choice(bg.short)

    w = _Words(group, rng)
    short = f"{josa(w.full, '이')} {rng.choice((DRAWN, IS)).plain}."
    options = []
    w, v, place = say()
    options.append(f"{place}의 {w.pos}에 {josa(w.full, '이')} {_end(v, rng)}.")
    w, v, place = say()
    options.append(f"{w.pos}에는 {w.subj} {_end(v, rng)}.")
    w, v, place = say()
    options.append(f"{w.pos}에 {josa(w.pre, '이')} {v.adnominal} {_copula(rng.choice(bg.picture), rng)}.")
    w, v, place = say()
    side_by_side = "나란히 " if group.in_row else ""
    options.append(f"{josa(w.full, '이')} {place} {w.pos}에 {side_by_side}{v.adnominal} 모습이다.")
    w, v, place = say()
    options.append(f"그림의 {w.pos}에는 {josa(w.full, '이')} {v.linking}, 배경은 {_copula(bg.name, rng)}.")
    w, v, place = say()
    options.append(f"{rng.choice(bg.on)} 보이는 것은 {w.pos}의 {_copula(w.full, rng)}.")
    return short, options


def _pair_captions(scene: Scene, rng: random.Random) -> tuple[str, list[str]]:
    bg = BACKGROUNDS[scene.background]
    first, second = scene.groups

    def say() -> tuple[_Words, _Words, Verb]:
        wording = rng.randrange(2)
        return _Words(first, rng, wording), _Words(second, rng, wording), rng.choice(COMMON_VERBS)

    a, b, v = say()
    short = f"{josa(a.full, '와')} {josa(b.full, '이')} {v.plain}."
    options = []
    a, b, v = say()
    va, vb = _verbs_on(a, scene.background), _verbs_on(b, scene.background)
    options.append(
        f"{rng.choice(bg.short)}의 {a.pos}에는 {josa(a.full, '이')} {va.linking}, "
        f"{b.pos}에는 {josa(b.full, '이')} {_end(vb, rng)}."
    )
    a, b, v = say()
    options.append(f"{a.pos}에는 {a.subj}, {b.pos}에는 {b.subj} {_end(v, rng)}.")
    a, b, v = say()
    options.append(
        f"{rng.choice(bg.on)} {josa(a.full, '와')} {josa(b.full, '이')} 있는데, "
        f"{josa(a.head, '은')} {a.pos}에, {josa(b.head, '은')} {b.pos}에 있다."
    )
    a, b, v = say()
    options.append(
        f"{a.pos}에 {a.full}, {b.pos}에 {josa(b.full, '이')} {v.adnominal} "
        f"{_copula(rng.choice(bg.picture), rng)}."
    )
    a, b, v = say()
    va, vb = _verbs_on(a, scene.background), _verbs_on(b, scene.background)
    options.append(
        f"{b.pos}에 {josa(b.pre, '이')} {vb.linking}, {a.pos}에는 {josa(a.pre, '이')} "
        f"{va.adnominal} 모습이다."
    )
    return short, options


def _landscape_captions(scene: Scene, rng: random.Random) -> tuple[str, list[str]]:
    house_group, tree_group, sun_group, *cloud_groups = scene.groups

    def say() -> tuple[_Words, _Words, str, str]:
        wording = rng.randrange(2)
        house, trees = _Words(house_group, rng, wording), _Words(tree_group, rng, wording)
        sun = _Words(sun_group, rng)
        sky = josa(sun.full, "와") + " " + _Words(cloud_groups[0], rng).full if cloud_groups else sun.full
        return house, trees, sky, rng.choice(("잔디밭", "풀밭"))

    h, t, sky, grass = say()
    short = f"{josa(h.full, '와')} {t.full}, {josa(sky, '이')} 있는 풍경이다."
    options = []
    h, t, sky, grass = say()
    options.append(
        f"{grass} {h.pos}에 {josa(h.full, '이')} 있고, {t.pos}에는 {josa(t.full, '이')} 서 있으며, "
        f"하늘에는 {josa(sky, '이')} 떠 있다."
    )
    h, t, sky, grass = say()
    options.append(
        f"하늘에 {josa(sky, '이')} 떠 있고 그 아래 {grass}에 {josa(h.full, '와')} {josa(t.full, '이')} "
        f"있는 그림입니다."
    )
    h, t, sky, grass = say()
    options.append(
        f"{t.pos}의 {josa(t.full, '와')} {h.pos}의 {h.full}, 그리고 하늘의 {josa(sky, '이')} "
        f"그려진 시골 풍경이다."
    )
    h, t, sky, grass = say()
    options.append(
        f"{josa(sky, '이')} 떠 있는 하늘 아래, {h.pos}에는 {h.subj}, {t.pos}에는 {t.subj} 있습니다."
    )
    h, t, sky, grass = say()
    options.append(
        f"{josa(h.full, '이')} 있는 {grass} 풍경으로, 집 {t.pos}에 {josa(t.full, '이')} 서 있고 "
        f"하늘에는 {josa(sky, '이')} {_end(SEEN, rng)}."
    )
    return short, options


def captions(scene: Scene, rng: random.Random) -> list[str]:
    """Five paraphrases: the short one (no background, no places) and four longer ones, shuffled."""
    write = {"single": _single_captions, "pair": _pair_captions, "landscape": _landscape_captions}
    short, options = write[scene.layout](scene, rng)
    chosen = [short, *rng.sample(options, REFERENCES - 1)]
    if len(set(chosen)) != REFERENCES:
        raise AssertionError(f"duplicate captions for {scene.objects()}: {chosen}")
    rng.shuffle(chosen)
    return chosen


# ---------------------------------------------------------------- rows


def caption_row(index: int, seed: int = 0) -> dict[str, Any]:
    """Row `index` of ko-caption-synth (its own random stream: rows do not depend on one another)."""
    rng = random.Random(f"ko-caption-synth/{CAPTION_GENERATOR_VERSION}/{seed}/{index}")
    row_id = f"cap-{index + 1:04d}"
    image, scene = render(plan_scene(LAYOUTS[index % len(LAYOUTS)], rng), rng)
    return {
        "id": row_id,
        "image": image_cell(encode(image, "PNG"), f"{row_id}.png"),
        "references": captions(scene, rng),
        "layout": scene.layout,
        "n_objects": sum(group.count for group in scene.groups),
        "objects": scene.objects(),
    }


def caption_rows(seed: int = 0, n: int = DEFAULT_COUNT) -> list[dict[str, Any]]:
    return [caption_row(i, seed) for i in range(n)]


def generate_ko_caption(
    root: Path, hub_id: str = "kobench/ko-caption-synth", seed: int = 0, n: int = DEFAULT_COUNT
) -> Path:
    """Write ko-caption-synth (split "test", `n` rows) and return the dataset folder ROOT/<hub_id>."""
    return write_splits(Path(root), hub_id, {"test": caption_rows(seed, n)})

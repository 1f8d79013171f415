"""The box in a response to a grounding question, in the model's coordinate convention, as a 0-1 Box.

Models answer in their own convention:

- "normalized": 0-1 fractions of the image width and height (the seed's ground truth);
- "qwen2vl": a 0-1000 grid, as Qwen2-VL writes `<|box_start|>(x1,y1),(x2,y2)<|box_end|>`;
- "pixels": absolute pixels, as Qwen2.5-VL writes them. The width and height must be those of the
  image the model saw (after the processor's resizing), not necessarily the file's.

The published protocol takes the first bracketed list of four numbers (`parse_box_protocol`, then
`to_normalized`); kobench's reading takes the one box a response gives in any common form (`parse_box`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from kobench.extract.thinking import strip_thinking
from kobench.metrics.boxes import Box

BOX_PARSER_VERSION = "1"

CONVENTIONS = ("normalized", "qwen2vl", "pixels")
# How far (as a fraction of the range) a coordinate may overshoot the range and still be read (then
# clipped): models write 1001 on the 0-1000 grid or -1 in pixels; anything beyond is not this convention.
RANGE_TOLERANCE = 0.01


def _extent(convention: str, width: float | None, height: float | None) -> tuple[float, float]:
    """The (x, y) size of the convention's coordinate range."""
    if convention == "normalized":
        return 1.0, 1.0
    if convention == "qwen2vl":
        return 1000.0, 1000.0
    if convention == "pixels":
        if not width or not height or width <= 0 or height <= 0:
            raise ValueError("the 'pixels' convention needs the image width and height")
        return float(width), float(height)
    raise ValueError(f"unknown box convention {convention!r}; expected one of {CONVENTIONS}")


def to_normalized(
    values: Sequence[float], convention: str, width: float | None = None, height: float | None = None
) -> Box:
    """Four coordinates in `convention` as a 0-1 Box (divided by the range; no clipping, no checks)."""
    if len(values) != 4:
        raise ValueError(f"a box has 4 coordinates, got {len(values)}")
    ex, ey = _extent(convention, width, height)
    x1, y1, x2, y2 = (float(v) for v in values)
    return x1 / ex, y1 / ey, x2 / ex, y2 / ey


_NUM = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_SEP = r"\s*,\s*"
# The seed's protocol: a bracketed list of exactly four numbers.
_BRACKET4 = re.compile(rf"\[\s*({_NUM}){_SEP}({_NUM}){_SEP}({_NUM}){_SEP}({_NUM})\s*\]")
_PAREN4 = re.compile(rf"\(\s*({_NUM}){_SEP}({_NUM}){_SEP}({_NUM}){_SEP}({_NUM})\s*\)")
# Two corner points: "(x1, y1), (x2, y2)", "[[x1, y1], [x2, y2]]", "(x1,y1) to (x2,y2)",
# "(x1, y1)에서 (x2, y2)까지"; Qwen2-VL's <|box_start|>(x1,y1),(x2,y2)<|box_end|> is of this form.
_POINT = rf"[(\[]\s*({_NUM}){_SEP}({_NUM})\s*[)\]]"
_POINTS = re.compile(rf"{_POINT}\s*(?:,|-|–|~|(?i:to|and)|부터|에서)?\s*{_POINT}")
# Named coordinates in order, "x1=10, y1=20, x2=30, y2=40" or JSON "x_min": 10, ...
_KEY = r"[\"']?{}[\"']?\s*[=:]\s*({})"
_NAMED = tuple(
    re.compile(r"[\s,;]*".join(_KEY.format(name, _NUM) for name in names), re.IGNORECASE)
    for names in (("x1", "y1", "x2", "y2"), ("x_?min", "y_?min", "x_?max", "y_?max"))
)
_FORMATS = (_BRACKET4, _PAREN4, _POINTS, *_NAMED)


def parse_box_protocol(text: str) -> list[float] | None:
    """The seed's parse: the first `[a, b, c, d]` list of four numbers in the text, as is, else None."""
    m = _BRACKET4.search(text)
    return [float(g) for g in m.groups()] if m else None


def parse_box(
    text: str, convention: str, width: float | None = None, height: float | None = None
) -> Box | None:
    """kobench's robust box parse: the one box a response gives, as a 0-1 Box, or None. Never a guess.

    Rules, in order:
    1. Think blocks are ignored; a think block that never closes gives None.
    2. Every box in these forms is collected: `[x1, y1, x2, y2]` (also inside JSON such as
       `{"bbox_2d": [...]}` or `{"bbox": [...]}`), `(x1, y1, x2, y2)`, two corner points
       `(x1, y1), (x2, y2)` or `[[x1, y1], [x2, y2]]` (Qwen's `<|box_start|>...<|box_end|>` included),
       and named coordinates in order, `x1=.., y1=.., x2=.., y2=..` or `xmin/ymin/xmax/ymax` with
       `=` or `:`.
    3. No box -> None; several boxes with different coordinates -> None (the same box repeated is one).
    4. The box must be well formed: x2 < x1 or y2 < y1 -> None (x2 == x1 is kept: a zero-area box,
       IoU 0). Each coordinate must lie within the convention's range give or take RANGE_TOLERANCE of
       it (0.01 of 1, 10 of 1000, 1% of the width/height in pixels), else None; so an answer on the
       wrong scale (1000-grid values under "normalized") is rejected, not rescaled.
    5. Converted with `to_normalized`, and small overshoots clipped to 0-1.
    """
    ex, ey = _extent(convention, width, height)
    visible = strip_thinking(text)
    if visible is None:
        return None
    found = {tuple(float(g) for g in m.groups()) for regex in _FORMATS for m in regex.finditer(visible)}
    if len(found) != 1:
        return None
    x1, y1, x2, y2 = next(iter(found))
    if x2 < x1 or y2 < y1:
        return None
    for value, extent in ((x1, ex), (y1, ey), (x2, ex), (y2, ey)):
        if not -RANGE_TOLERANCE * extent <= value <= (1 + RANGE_TOLERANCE) * extent:
            return None
    box = to_normalized((x1, y1, x2, y2), convention, width, height)
    return (
        min(max(box[0], 0.0), 1.0),
        min(max(box[1], 0.0), 1.0),
        min(max(box[2], 0.0), 1.0),
        min(max(box[3], 0.0), 1.0),
    )

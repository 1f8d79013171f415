"""Built-in demo data: Korean multiple-choice questions about generated images (no download).

The questions ask for the colour, the shape or the number of shapes drawn, so a real model can
answer them and a random one cannot. Deterministic from the seed; written in the Hub's parquet
layout so it loads through the same code path as a real benchmark.
"""

from __future__ import annotations

import io
import random
from pathlib import Path

DEMO_GENERATOR_VERSION = "1"

_COLOURS = {
    "빨간색": (220, 40, 40),
    "파란색": (40, 80, 220),
    "초록색": (40, 170, 70),
    "노란색": (235, 200, 30),
    "보라색": (140, 60, 190),
    "검은색": (20, 20, 20),
}
_SHAPES = ["원", "사각형", "삼각형"]
_LETTERS = "ABCD"


def _draw(shape: str, colour: tuple[int, int, int], count: int, rng: random.Random) -> bytes:
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (224, 224), (250, 250, 245))
    draw = ImageDraw.Draw(img)
    slots = [(20 + 68 * (i % 3), 20 + 68 * (i // 3)) for i in range(9)]
    for x, y in rng.sample(slots, count):
        box = (x, y, x + 50, y + 50)
        if shape == "원":
            draw.ellipse(box, fill=colour)
        elif shape == "사각형":
            draw.rectangle(box, fill=colour)
        else:
            draw.polygon([(x + 25, y), (x, y + 50), (x + 50, y + 50)], fill=colour)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def _question(
    kind: str, colour: str, shape: str, count: int, rng: random.Random
) -> tuple[str, list[str], str]:
    if kind == "colour":
        wrong = rng.sample([c for c in _COLOURS if c != colour], 3)
        return "그림에 있는 도형은 무슨 색입니까?", [colour, *wrong], colour
    if kind == "shape":
        pool = [*_SHAPES, "별"]
        wrong = [s for s in pool if s != shape]
        return "그림에 그려진 도형의 모양은 무엇입니까?", [shape, *wrong], shape
    answer = f"{count}개"
    wrong = rng.sample([f"{n}개" for n in range(1, 7) if n != count], 3)
    return "그림에 도형이 몇 개 있습니까?", [answer, *wrong], answer


def demo_rows(n: int = 40, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        colour = rng.choice(list(_COLOURS))
        shape = rng.choice(_SHAPES)
        count = rng.randint(1, 6)
        kind = ("colour", "shape", "count")[i % 3]
        question, options, answer = _question(kind, colour, shape, count, rng)
        rng.shuffle(options)
        image = _draw(shape, _COLOURS[colour], count, rng)
        rows.append(
            {
                "question_id": f"demo-{i:03d}",
                "question": question,
                **{f"choice_{c}": opt for c, opt in zip("abcd", options, strict=True)},
                "answer": _LETTERS[options.index(answer)],
                "data_type": kind,
                "image": {"bytes": image, "path": f"demo-{i:03d}.png"},
            }
        )
    return rows


def write_demo_dataset(root: Path, hub_id: str, split: str, seed: int = 0) -> Path:
    """Write the demo set as ROOT/<owner>/<name>/data/<split>-00000-of-00001.parquet."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = root / hub_id / "data"
    target = folder / f"{split}-00000-of-00001.parquet"
    if target.exists():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    pq.write_table(pa.Table.from_pylist(demo_rows(seed=seed)), tmp)
    tmp.replace(target)
    return target


GENERATORS = {"demo-mc": write_demo_dataset}

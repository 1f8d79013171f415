"""Generated Korean captioning benchmark ko-caption-synth: schema, determinism, Korean particles, and
captions checked against what was drawn (colours, counts and places read back from the pixels).

The word tables here are written independently of the generator's, so a generator that drops a colour,
a numeral or a counter from a caption fails."""

from __future__ import annotations

import io
import re
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
np = pytest.importorskip("numpy")
Image = pytest.importorskip("PIL.Image")

PARQUET = "data/test-00000-of-00001.parquet"
COLUMNS = ["id", "image", "references", "layout", "n_objects", "objects"]
COLOUR_WORDS = {
    "red": ("빨간",),
    "blue": ("파란",),
    "yellow": ("노란",),
    "green": ("초록",),
    "purple": ("보라",),
    "orange": ("주황",),
    "black": ("검은", "검정"),
    "white": ("흰", "하얀"),
    "pink": ("분홍",),
    "brown": ("갈색",),
}
NOUNS = {
    "ball": ("공",),
    "box": ("상자", "박스"),
    "triangle": ("삼각형", "세모"),
    "star": ("별",),
    "heart": ("하트",),
    "tree": ("나무",),
    "house": ("집",),
    "car": ("자동차", "차"),
    "flower": ("꽃",),
    "sun": ("해", "태양"),
    "cloud": ("구름",),
}
COUNTERS = {"tree": ("그루",), "house": ("채",), "car": ("대",), "flower": ("송이",), "cloud": ("점", "개")}
NUMERALS = {1: "한", 2: "두", 3: "세", 4: "네"}
BARE = {1: "하나", 2: "둘", 3: "셋", 4: "넷"}
NUMERALS_BACK = {v: k for k, v in NUMERALS.items()}
COUNTED = re.compile(r"(?<![가-힣])([한두세네]) (?:개|대|그루|채|송이|점)")  # not "배경으로 한 그림"
BACKGROUND_WHITE = re.compile(
    r"(흰|하얀|흰색) (배경|바탕)|배경은 흰색"
)  # the background's colour, not an object's


def _objects(row: dict[str, Any]) -> list[tuple[str, str, int, str]]:
    out = []
    for part in row["objects"].split(";"):
        kind, colour, count, position = part.split(":")
        out.append((kind, colour, int(count), position))
    return out


def _count_pattern(kind: str, count: int) -> str:
    counters = "|".join(COUNTERS.get(kind, ("개",)))
    return rf"(?<![가-힣]){NUMERALS[count]} (?:{counters})|{BARE[count]}"


@pytest.fixture(scope="module")
def caption_data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, list[dict[str, Any]]]:
    from kobench.synth.captions import generate_ko_caption

    folder = generate_ko_caption(tmp_path_factory.mktemp("captions"), "kobench/ko-caption-synth", seed=0)
    assert folder.name == "ko-caption-synth"
    table = pq.read_table(folder / PARQUET)
    return table.schema, table.to_pylist()


def test_particles_follow_the_final_consonant() -> None:
    from kobench.synth.captions import final_consonant, josa

    cases = [
        ("사과", "을", "사과를"),
        ("책", "을", "책을"),
        ("공", "이", "공이"),
        ("차", "가", "차가"),
        ("차", "이", "차가"),  # either form of a pair names it
        ("꽃", "과", "꽃과"),
        ("나무", "와", "나무와"),
        ("나무", "과", "나무와"),
        ("상자", "은", "상자는"),
        ("집", "는", "집은"),
        ("두 개", "이", "두 개가"),
        ("한 점", "가", "한 점이"),
        ("연필", "으로", "연필로"),  # ㄹ takes 로
        ("집", "로", "집으로"),
        ("흰색", "이다", "흰색이다"),
        ("두 그루", "이다", "두 그루다"),
    ]
    assert [josa(word, particle) for word, particle, _ in cases] == [want for _, _, want in cases]
    assert final_consonant("빨간 공") == final_consonant("공") == 21  # ㅇ
    with pytest.raises(ValueError, match="no Hangul"):
        josa("TV", "이")


def test_schema_and_breakdown(caption_data: tuple[Any, list[dict[str, Any]]]) -> None:
    schema, rows = caption_data
    assert schema.names == COLUMNS
    assert schema.field("image").type == pa.struct([("bytes", pa.binary()), ("path", pa.string())])
    assert schema.field("references").type == pa.list_(pa.string())
    assert schema.field("n_objects").type == pa.int64()
    assert len(rows) == 150
    assert [row["id"] for row in rows] == [f"cap-{k:04d}" for k in range(1, 151)]
    assert Counter(row["layout"] for row in rows) == {"single": 60, "pair": 60, "landscape": 30}
    kinds = Counter()
    for row in rows:
        objects = _objects(row)
        kinds.update(kind for kind, *_ in objects)
        assert row["n_objects"] == sum(count for _, _, count, _ in objects)
        assert len(objects) == {"single": 1, "pair": 2}.get(row["layout"], len(objects))
        assert len({kind for kind, *_ in objects}) == len(objects)
        for kind, colour, count, position in objects:
            assert kind in NOUNS and colour in COLOUR_WORDS and 1 <= count <= 4, row["objects"]
            assert position in ("left", "right", "center", "top", "bottom"), row["objects"]
    assert set(kinds) == set(NOUNS)  # every kind of object appears somewhere


def test_references_name_every_colour_count_and_object(
    caption_data: tuple[Any, list[dict[str, Any]]],
) -> None:
    _, rows = caption_data
    lengths = []
    for row in rows:
        refs = row["references"]
        assert len(refs) == 5 and len(set(refs)) == 5, row["id"]
        objects = _objects(row)
        colours = {colour for _, colour, _, _ in objects}
        for ref in refs:
            lengths.append(len(ref))
            assert ref == unicodedata.normalize("NFC", ref) and ref == ref.strip()
            assert ref.endswith(".") and ref.count(".") == 1, ref  # one sentence
            assert not re.search(r"\d", ref), ref  # counts are written as Korean numerals
            assert not re.search(r"\s{2}| [,.]", ref), ref
            for kind, colour, _, _ in objects:
                assert any(word in ref for word in COLOUR_WORDS[colour]), (row["objects"], ref)
                assert any(noun in ref for noun in NOUNS[kind]), (row["objects"], ref)
            needed = Counter(_count_pattern(kind, count) for kind, _, count, _ in objects)
            for pattern, times in needed.items():
                assert len(re.findall(pattern, ref)) >= times, (row["objects"], ref, pattern)
            # no colour that was not drawn (the white of "흰 배경" belongs to the background)
            bare = BACKGROUND_WHITE.sub("", ref)
            said = {c for c, words in COLOUR_WORDS.items() if any(word in bare for word in words)}
            assert said <= colours, (row["objects"], ref)
            said_counts = {NUMERALS_BACK[n] for n in re.findall(COUNTED, ref)}
            assert said_counts <= {count for _, _, count, _ in objects}, (row["objects"], ref)
        # paraphrases, not one template: a short caption and a longer one, and several endings
        assert max(map(len, refs)) >= 1.3 * min(map(len, refs)), refs
        assert len({ref.rsplit(" ", 1)[-1] for ref in refs}) >= 2, refs
    assert min(lengths) >= 10 and max(lengths) <= 120


def test_pair_captions_put_each_object_on_its_side(caption_data: tuple[Any, list[dict[str, Any]]]) -> None:
    _, rows = caption_data
    side = {
        "left": ("왼쪽", "왼편"),
        "right": ("오른쪽", "오른편"),
        "top": ("위쪽", "윗부분"),
        "bottom": ("아래쪽", "아랫부분"),
    }
    checked = 0
    for row in (r for r in rows if r["layout"] == "pair"):
        (ka, _, _, pa_), (kb, _, _, pb) = _objects(row)
        for ref in row["references"]:
            if not any(word in ref for word in side[pa_]):
                continue  # the short caption leaves places out
            nouns_a, nouns_b = "|".join(NOUNS[ka]), "|".join(NOUNS[kb])
            # every caption that places things names A's side before A, or says "A는 <A's side>에"
            near = rf"({'|'.join(side[pa_])})[^,]*?({nouns_a})|({nouns_a})[은는] ({'|'.join(side[pa_])})"
            assert re.search(near, ref), (row["objects"], ref)
            assert re.search(
                rf"({'|'.join(side[pb])})[^,]*?({nouns_b})|({nouns_b})[은는] ({'|'.join(side[pb])})", ref
            ), (row["objects"], ref)
            checked += 1
    assert checked >= 200


def test_deterministic_and_seeded(tmp_path: Path, caption_data: tuple[Any, list[dict[str, Any]]]) -> None:
    from kobench.synth.captions import CAPTION_GENERATOR_VERSION, generate_ko_caption

    assert CAPTION_GENERATOR_VERSION == "1"
    hub = "kobench/ko-caption-synth"
    one = (generate_ko_caption(tmp_path / "a", hub, seed=0, n=8) / PARQUET).read_bytes()
    two = (generate_ko_caption(tmp_path / "b", hub, seed=0, n=8) / PARQUET).read_bytes()
    other = (generate_ko_caption(tmp_path / "c", hub, seed=1, n=8) / PARQUET).read_bytes()
    assert one == two
    assert one != other
    _, full = caption_data
    assert pq.read_table(tmp_path / "a" / hub / PARQUET).to_pylist() == full[:8]  # a prefix of the full set


def test_registered() -> None:
    from kobench.synth.captions import CAPTION_GENERATOR_VERSION, generate_ko_caption
    from kobench.synth.registry import generators

    assert generators()["ko-caption-synth"] == (
        "kobench/ko-caption-synth",
        CAPTION_GENERATOR_VERSION,
        generate_ko_caption,
    )


def _pixels(row: dict[str, Any]) -> Any:
    image = Image.open(io.BytesIO(row["image"]["bytes"]))
    assert image.format == "PNG" and image.size == (384, 288) and image.mode == "RGB"
    return np.asarray(image).astype(np.int32)


def test_images_decode_and_differ(caption_data: tuple[Any, list[dict[str, Any]]]) -> None:
    _, rows = caption_data
    assert len({row["image"]["bytes"] for row in rows}) == len(rows)
    assert all(row["image"]["path"] == f"{row['id']}.png" for row in rows)
    for row in rows[:30]:
        pixels = _pixels(row)
        packed = (pixels[..., 0] << 16) | (pixels[..., 1] << 8) | pixels[..., 2]
        assert len(np.unique(packed)) > 10, row["id"]  # drawn, anti-aliased


def _mask(pixels: Any, colour: str) -> Any:
    from kobench.synth.captions import COLOURS

    return (np.abs(pixels - np.asarray(COLOURS[colour].rgb)).sum(axis=2)) < 30


def _unique_colour_objects(row: dict[str, Any]) -> list[tuple[str, str, int, str]]:
    objects = _objects(row)
    colours = Counter(colour for _, colour, _, _ in objects)
    return [obj for obj in objects if colours[obj[1]] == 1]


def test_objects_are_drawn_where_the_captions_put_them(
    caption_data: tuple[Any, list[dict[str, Any]]],
) -> None:
    _, rows = caption_data
    checked = Counter()
    for row in rows:
        pixels = _pixels(row)
        height, width = pixels.shape[:2]
        for kind, colour, count, position in _unique_colour_objects(row):
            ys, xs = np.nonzero(_mask(pixels, colour))
            assert len(xs) >= 150 * count, (row["id"], kind, colour)
            inside = {
                "left": xs < width / 2,
                "right": xs >= width / 2,
                "top": ys < height / 2,
                "bottom": ys >= height / 2,
                "center": (xs > 0.2 * width) & (xs < 0.8 * width),
            }[position]
            assert inside.mean() > 0.95, (row["id"], row["objects"], kind, inside.mean())
            checked[position] += 1
    assert min(checked.values()) >= 5 and len(checked) == 5, checked


def test_drawn_count_matches_the_caption_count(caption_data: tuple[Any, list[dict[str, Any]]]) -> None:
    ndimage = pytest.importorskip("scipy.ndimage")
    _, rows = caption_data
    solid = ("ball", "box", "triangle", "star", "heart", "car", "house", "tree")  # one blob of colour each
    checked = 0
    for row in rows:
        pixels = _pixels(row)
        for kind, colour, count, _ in _unique_colour_objects(row):
            if kind not in solid:
                continue
            labels, _ = ndimage.label(_mask(pixels, colour))
            sizes = np.bincount(labels.ravel())[1:]
            assert int((sizes >= 60).sum()) == count, (row["id"], row["objects"], kind, sorted(sizes))
            checked += 1
    assert checked >= 100

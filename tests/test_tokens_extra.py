"""`kobench tokens`, extended: the built-in Korean corpus (the Constitution, as the konlpy wheel ships it),
tiktoken encodings from a local ranks file, visual tokens per image at each model's own resolution settings,
and the measurements as efficiency results (tokens.json) that the leaderboard reads.

Reference numbers come from outside the code under test: hand-computed BPE merges on a ranks file written
here, Qwen2-VL's published smart-resize rule and its image processor's own patch grid, the fixtures' fixed
image token counts, and InternVL's tiling worked out by hand."""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
import shutil
from pathlib import Path

import pytest

from kobench.efficiency import load_efficiency
from kobench.errors import BadInputError
from kobench.report.token_efficiency import Corpus, TokenCount, count_tokens, load_tokenizer, measure

CORPORA = Path(__file__).resolve().parents[1] / "kobench" / "data" / "corpora"


# --- 1. The built-in corpus ---


def test_the_builtin_corpus_is_the_constitution_and_its_digest_is_source_mds() -> None:
    from kobench.report.builtin_corpus import builtin_corpus, builtin_corpus_bytes, builtin_corpus_sha256

    corpus = builtin_corpus()
    assert corpus.name == "constitution"
    assert corpus.texts[0] == "대한민국헌법"
    assert len(corpus.texts) > 300 and all(text == text.strip() and text for text in corpus.texts)
    hangul = sum("가" <= c <= "힣" for text in corpus.texts for c in text)
    assert hangul > 10_000 and hangul / corpus.characters > 0.8
    assert any(text.startswith("제1조 ① 대한민국은 민주공화국이다.") for text in corpus.texts)

    source = (CORPORA / "SOURCE.md").read_text(encoding="utf-8")
    (named,) = set(re.findall(r"\b[0-9a-f]{64}\b", source))
    data = (CORPORA / "constitution-ko.txt").read_bytes()
    assert hashlib.sha256(data).hexdigest() == named == builtin_corpus_sha256()
    assert builtin_corpus_bytes() == data  # what the package resources give is the file itself
    assert "konlpy-0.6.0-py2.py3-none-any.whl" in source
    assert "konlpy/data/corpus/kolaw/constitution.txt" in source and "Article 7" in source


# --- 2. tiktoken encodings from a local ranks file ---

GA, NA = "가".encode(), "나".encode()  # EA B0 80, EB 82 98
# Merges after the 256 single bytes (rank = byte value), in rank order.
MERGES = [GA[:2], GA, NA[:2], NA, GA + NA, b"ab", b"oW"]


def _ranks_file(path: Path, merges: list[bytes] = MERGES) -> Path:
    ranks = [bytes([b]) for b in range(256)] + merges
    lines = [f"{base64.b64encode(token).decode()} {rank}" for rank, token in enumerate(ranks)]
    path.write_text("\n".join(lines) + "\n", encoding="ascii")
    return path


@pytest.fixture()
def ranks(tmp_path: Path) -> Path:
    return _ranks_file(tmp_path / "o200k_base.tiktoken")


def test_tiktoken_counts_by_hand(ranks: Path) -> None:
    pytest.importorskip("tiktoken")
    name, tokenizer = load_tokenizer(f"tiktoken:{ranks}")
    assert name == "o200k_base"
    # "가나": EA+B0, +80 (가), EB+82, +98 (나), 가+나: one token. " 가": the space alone (no merge with it),
    # then 가: two. "abc": ab, c. "2024": digits, three and one, no merges. 년: three bytes.
    assert count_tokens(tokenizer, ["가나 가"]) == 1 + 2
    assert count_tokens(tokenizer, ["abc", "2024년"]) == 2 + (4 + 3)
    assert tokenizer(["가나"], add_special_tokens=False)["input_ids"] == [[256 + 4]]
    # a special token's text is counted as the text it is: 13 bytes, no merges among them
    assert count_tokens(tokenizer, ["<|endoftext|>"]) == 13
    assert not tokenizer.published and tokenizer.sha256 == hashlib.sha256(ranks.read_bytes()).hexdigest()


def test_the_encoding_name_chooses_the_split_regex(ranks: Path) -> None:
    pytest.importorskip("tiktoken")
    # o200k_base splits "HelloWorld" at the capital (Hello | World); cl100k_base keeps one piece, where the
    # merge "oW" applies: 10 bytes, or 9 tokens with the merge.
    _, o200k = load_tokenizer(f"tiktoken:o200k_base={ranks}")
    name, cl100k = load_tokenizer(f"tiktoken:cl100k_base={ranks}")
    assert name == "cl100k_base" and cl100k.name == "cl100k_base"
    assert count_tokens(o200k, ["HelloWorld"]) == 10
    assert count_tokens(cl100k, ["HelloWorld"]) == 9
    (count,) = measure({"cl100k_base": cl100k}, [Corpus("hand", ("가나 가", "abc"))])
    assert count.tokens == 3 + 2 and count.per_1k_characters == pytest.approx(1000 * 5 / 6)


def test_tiktoken_specs_that_cannot_load_say_why(tmp_path: Path, ranks: Path) -> None:
    pytest.importorskip("tiktoken")
    other = _ranks_file(tmp_path / "mine.tiktoken")
    with pytest.raises(BadInputError, match=r"cannot tell the encoding.*o200k_base or cl100k_base"):
        load_tokenizer(f"tiktoken:{other}")
    assert load_tokenizer(f"tiktoken:o200k_base={other}")[0] == "o200k_base"
    with pytest.raises(BadInputError, match=r"unknown tiktoken encoding 'p50k_base'; choose o200k_base"):
        load_tokenizer(f"tiktoken:p50k_base={other}")
    with pytest.raises(BadInputError, match="no ranks file"):
        load_tokenizer(f"tiktoken:{tmp_path / 'cl100k_base.tiktoken'}")
    short = tmp_path / "short.tiktoken"
    short.write_text(f"{base64.b64encode(b'a').decode()} 0\n", encoding="ascii")
    with pytest.raises(BadInputError, match="255 of the 256 single bytes have no rank"):
        load_tokenizer(f"tiktoken:cl100k_base={short}")
    broken = tmp_path / "broken.tiktoken"
    broken.write_text(ranks.read_text(encoding="ascii") + "not-base64!\n", encoding="ascii")
    with pytest.raises(BadInputError, match=r"line 264: not `base64\(token\) rank`"):
        load_tokenizer(f"tiktoken:o200k_base={broken}")
    with pytest.raises(BadInputError, match=r"tiktoken:\[NAME=\]PATH"):
        load_tokenizer("openai:gpt-4o")


def test_an_edited_ranks_file_is_read_anew(tmp_path: Path) -> None:
    pytest.importorskip("tiktoken")
    path = _ranks_file(tmp_path / "o200k_base.tiktoken")
    _, before = load_tokenizer(f"tiktoken:{path}")
    _ranks_file(path, merges=[])  # no merges now: "가나" is 6 bytes
    _, after = load_tokenizer(f"tiktoken:{path}")
    assert (count_tokens(before, ["가나"]), count_tokens(after, ["가나"])) == (1, 6)


# --- 3. Visual tokens per image ---

SIZES = [(448, 448), (896, 896), (1280, 720)]


def _smart_resize(height: int, width: int, factor: int, min_pixels: int, max_pixels: int) -> tuple[int, int]:
    """Qwen2-VL's published resize rule (its model card and qwen-vl-utils): both sides multiples of
    `factor` (patch x merge), the area kept within [min_pixels, max_pixels], the aspect ratio kept."""
    h = max(factor, round(height / factor) * factor)
    w = max(factor, round(width / factor) * factor)
    if h * w > max_pixels:
        beta = math.sqrt(height * width / max_pixels)
        h, w = math.floor(height / beta / factor) * factor, math.floor(width / beta / factor) * factor
    elif h * w < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h, w = math.ceil(height * beta / factor) * factor, math.ceil(width * beta / factor) * factor
    return h, w


def _qwen_by_hand(folder: Path) -> list[int]:
    """Visual tokens per size from the folder's saved processor settings: (H/patch/merge) x
    (W/patch/merge)."""
    settings = json.loads((folder / "processor_config.json").read_text(encoding="utf-8"))["image_processor"]
    patch, merge = settings["patch_size"], settings["merge_size"]
    low, high = settings["size"]["shortest_edge"], settings["size"]["longest_edge"]  # min / max pixels
    expected = []
    for width, height in SIZES:
        h, w = _smart_resize(height, width, patch * merge, low, high)
        expected.append((h // patch // merge) * (w // patch // merge))
    return expected


def _grid_tokens(folder: Path) -> list[int]:
    """The image processor's own patch grid: t x h x w patches, merge² of them to a token."""
    from PIL import Image
    from transformers import AutoProcessor

    processor = AutoProcessor.from_pretrained(folder).image_processor
    found = []
    for width, height in SIZES:
        grid = processor(images=[Image.new("RGB", (width, height))], return_tensors="pt")["image_grid_thw"][0]
        found.append(math.prod(grid.tolist()) // processor.merge_size**2)
    return found


@pytest.mark.slow
def test_qwen2_vl_visual_tokens_follow_its_resize_rule(tiny_qwen2_vl: Path, tmp_path: Path) -> None:
    from kobench.models.visual_tokens import DEFAULT_IMAGE_SIZES, visual_tokens

    assert list(DEFAULT_IMAGE_SIZES) == SIZES
    found = visual_tokens(f"hf:{tiny_qwen2_vl}")
    assert [(v.width, v.height) for v in found] == SIZES and all(v.note is None for v in found)
    # the fixture: 4 px patches merged 2x2, 256 to 1024 pixels; 1280x720 resizes to 40x24: 10 x 6 / ... = 15
    assert [v.tokens for v in found] == _qwen_by_hand(tiny_qwen2_vl) == _grid_tokens(tiny_qwen2_vl)
    assert [v.tokens for v in found] == [16, 16, 15]

    # Qwen2-VL-Instruct's own settings (14 px patches, 2x2 merge, 3,136 to 12,845,056 pixels): the same
    # processor class with the checkpoint's numbers.
    real = tmp_path / "qwen2-vl-real-settings"
    shutil.copytree(tiny_qwen2_vl, real)
    path = real / "processor_config.json"
    saved = json.loads(path.read_text(encoding="utf-8"))
    for part in ("image_processor", "video_processor"):
        saved[part].update(patch_size=14, size={"shortest_edge": 3136, "longest_edge": 12845056})
    path.write_text(json.dumps(saved), encoding="utf-8")
    found = [v.tokens for v in visual_tokens(str(real))]
    assert found == _qwen_by_hand(real) == _grid_tokens(real) == [256, 1024, 26 * 46]


@pytest.mark.slow
def test_llava_and_gemma3_write_their_fixed_counts(tiny_llava: Path, tmp_path: Path) -> None:
    from model_fixtures import build_gemma3

    from kobench.models.visual_tokens import visual_tokens

    # LLaVA: every image resized and cropped to 32 px, 8 px patches: (32/8)² = 16, the CLS one dropped.
    assert [v.tokens for v in visual_tokens(f"hf:{tiny_llava}")] == [(32 // 8) ** 2] * 3
    # Gemma 3: mm_tokens_per_image soft tokens whatever the size (4 in the fixture).
    gemma = build_gemma3(tmp_path / "gemma3")
    assert [v.tokens for v in visual_tokens(f"hf:{gemma}", SIZES[:2])] == [4, 4]


def _internvl_config(folder: Path, **overrides) -> Path:
    """An InternVL3 config.json as the checkpoints ship it (448 px tiles of 14 px patches, pixel shuffle
    0.5, at most 12 tiles and a thumbnail): read only, its code never runs."""
    folder.mkdir(parents=True, exist_ok=True)
    config = {
        "model_type": "internvl_chat",
        "auto_map": {"AutoConfig": "configuration_internvl_chat.InternVLChatConfig"},
        "force_image_size": 448,
        "downsample_ratio": 0.5,
        "max_dynamic_patch": 12,
        "min_dynamic_patch": 1,
        "use_thumbnail": True,
        "vision_config": {"image_size": 448, "patch_size": 14},
        **overrides,
    }
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    return folder


def test_internvl_visual_tokens_are_tiles_times_tokens_per_tile(tmp_path: Path) -> None:
    pytest.importorskip("transformers")
    from kobench.models.visual_tokens import visual_tokens

    # (448/14)² = 1024 patches, a quarter of them after the shuffle: 256 a tile. 448²: one tile, no
    # thumbnail; 896²: 2x2 tiles + thumbnail; 1280x720 (16:9): 2:1 is the closest ratio, and 4x2 ties 2x1
    # and wins (the image has over half of 8 tiles' pixels): 8 tiles + thumbnail.
    found = visual_tokens(str(_internvl_config(tmp_path / "InternVL3-2B")))
    assert [v.tokens for v in found] == [256 * 1, 256 * 5, 256 * 9]
    # without a thumbnail, at most 4 tiles: 1, 4, and 1280x720 as 2x1
    fewer = _internvl_config(tmp_path / "few", max_dynamic_patch=4, use_thumbnail=False)
    assert [v.tokens for v in visual_tokens(str(fewer))] == [256, 256 * 4, 256 * 2]


@pytest.mark.slow
def test_the_internvl_fixture_counts_what_its_model_writes(tmp_path: Path) -> None:
    from model_fixtures import build_internvl_chat

    from kobench.models.visual_tokens import visual_tokens

    folder = build_internvl_chat(tmp_path / "InternVL3-1B")
    # 28 px tiles of 14 px patches, shuffled: 1 token a tile. 448²: 3x3 (the largest 1:1 grid of at most 12,
    # the image having the pixels) + thumbnail; 1280x720: 4x2 + thumbnail, as above.
    assert [v.tokens for v in visual_tokens(str(folder), SIZES)] == [10, 10, 9]


@pytest.mark.slow
def test_a_config_without_an_image_token_is_unknown(tmp_path: Path) -> None:
    from model_fixtures import build_hyperclovax_seed_vision

    from kobench.models.visual_tokens import NO_IMAGE_TOKEN, visual_tokens

    folder = build_hyperclovax_seed_vision(tmp_path / "HyperCLOVAX-SEED-Vision-Instruct-3B")
    with pytest.raises(BadInputError, match="--trust-remote-code"):
        visual_tokens(str(folder))
    found = visual_tokens(str(folder), SIZES[:1], trust_remote_code=True)
    assert found[0].tokens is None and found[0].note == NO_IMAGE_TOKEN
    assert NO_IMAGE_TOKEN == "unknown: the config names no image token"
    with pytest.raises(BadInputError, match="reads text only"):
        visual_tokens("tiktoken:o200k_base.tiktoken")


def test_image_sizes_parse_and_the_table_shows_unknowns() -> None:
    from kobench.models.visual_tokens import VisualTokens, parse_image_sizes
    from kobench.report.token_report import visual_tokens_table

    assert parse_image_sizes("448x448, 1280×720") == [(448, 448), (1280, 720)]
    with pytest.raises(BadInputError, match="'448' is not WIDTHxHEIGHT"):
        parse_image_sizes("448")
    text = visual_tokens_table(
        {
            "qwen": [VisualTokens(448, 448, 256), VisualTokens(1280, 720, 1196)],
            "hcx": [VisualTokens(448, 448, None, "unknown: the config names no image token")],
        }
    )
    lines = text.splitlines()
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in lines[:4]]
    assert cells[0] == ["model", "448×448", "1280×720"]
    assert cells[2:] == [["qwen", "256", "1196"], ["hcx", "?", ""]]
    assert lines[-1] == "? hcx: unknown: the config names no image token"


# --- 4. Efficiency results ---


def _results(ranks: Path):
    from kobench.models.visual_tokens import VisualTokens
    from kobench.report.token_results import token_results

    name, tokenizer = load_tokenizer(f"tiktoken:{ranks}")
    corpus = Corpus("constitution", ("가나 가", "abc"))
    counts = [
        TokenCount(name, "constitution", 5, corpus.characters, 4),
        TokenCount("qwen", "constitution", 8, 6, 4),
    ]
    visual = {
        "qwen": [VisualTokens(448, 448, 256)],
        "Org/hcx": [VisualTokens(448, 448, None, "unknown: the config names no image token")],
    }
    specs = {name: f"tiktoken:{ranks}", "qwen": "hf:./qwen", "Org/hcx": "hf:Org/hcx"}
    return token_results(
        specs, {name: tokenizer}, counts, [corpus], visual, created_at="2026-12-01T00:00:00Z"
    )


def test_token_results_are_one_efficiency_result_per_model(ranks: Path) -> None:
    pytest.importorskip("tiktoken")
    o200k, qwen, hcx = _results(ranks)
    assert [r.model for r in (o200k, qwen, hcx)] == ["o200k_base", "qwen", "Org/hcx"]
    assert all(r.kind == "tokens" for r in (o200k, qwen, hcx))
    chars, morphemes = o200k.values
    assert (chars.metric, chars.benchmark, chars.value) == (
        "tokens_per_1k_characters",
        "Tokens / 1k chars (constitution)",
        pytest.approx(1000 * 5 / 6),
    )
    assert (morphemes.metric, morphemes.benchmark, morphemes.value) == (
        "tokens_per_1k_morphemes",
        "Tokens / 1k morphemes (constitution)",
        1000 * 5 / 4,
    )
    for value in (chars, morphemes):
        assert (value.unit, value.direction, value.n) == ("tokens", "lower", 2)
        assert value.conditions == {"corpus": "constitution", "characters": 6, "morphemes": 4}
    assert o200k.environment["tokenizer"] == "tiktoken.Encoding"
    assert o200k.environment["encoding"] == "o200k_base" and o200k.environment["published_ranks"] is False
    assert o200k.environment["tiktoken"] and o200k.environment["transformers"]
    visual = qwen.values[-1]
    assert (visual.metric, visual.benchmark, visual.value, visual.n) == (
        "visual_tokens_per_image",
        "Visual tokens (448×448)",
        256,
        1,
    )
    assert visual.conditions == {"width": 448, "height": 448} and visual.direction == "lower"
    (unknown,) = hcx.values
    assert unknown.value is None and unknown.note == "unknown: the config names no image token"


def test_written_results_load_back_and_the_leaderboard_reads_them(ranks: Path, tmp_path: Path) -> None:
    pytest.importorskip("tiktoken")
    from typer.testing import CliRunner

    from kobench.cli import app
    from kobench.report.inputs import load_inputs
    from kobench.report.leaderboard import render_table
    from kobench.report.token_results import folder_name, write_token_results

    results = _results(ranks)
    paths = write_token_results(results, tmp_path / "tokens")
    assert [p.relative_to(tmp_path / "tokens").as_posix() for p in paths] == [
        "o200k_base/tokens.json",
        "qwen/tokens.json",
        "Org--hcx/tokens.json",
    ]
    assert [load_efficiency(p) for p in paths] == results
    _, measured = load_inputs([p.parent for p in paths])
    text = render_table([], efficiency=measured)
    rows = {
        cells[1]: cells[2:]
        for line in text.splitlines()
        if line.startswith("|") and not line.startswith("|-")
        for cells in [[c.strip() for c in line.strip("|").split("|")]]
    }
    assert rows["Benchmark"] == ["o200k_base", "qwen", "Org/hcx"]
    assert rows["Tokens / 1k chars (constitution) ↓"] == ["**833.3**", "1333.3", "–"]
    assert rows["Tokens / 1k morphemes (constitution) ↓"] == ["**1250.0**", "2000.0", "–"]
    assert rows["Visual tokens (448×448) ↓"] == ["–", "256.0", "–"]  # unknown for Org/hcx: no value
    done = CliRunner().invoke(app, ["table", *(str(p.parent) for p in paths)])
    assert done.exit_code == 0, done.output
    assert "Visual tokens (448×448)" in done.output
    assert folder_name("../a b/c") == "--a_b--c" and folder_name("..") == "model"
    with pytest.raises(BadInputError, match="would share the folder"):
        write_token_results([results[0], results[0].model_copy(update={"model": "o200k base"})], tmp_path)


def test_the_builtin_corpus_measures_with_a_tiktoken_encoding(ranks: Path) -> None:
    pytest.importorskip("tiktoken")
    pytest.importorskip("kiwipiepy")
    from kobench.report.builtin_corpus import builtin_corpus
    from kobench.report.token_results import token_results

    name, tokenizer = load_tokenizer(f"tiktoken:{ranks}")
    corpus = builtin_corpus()
    (count,) = measure({name: tokenizer}, [corpus])
    assert count.tokens == sum(len(tokenizer.encoding.encode_ordinary(text)) for text in corpus.texts)
    assert count.characters == corpus.characters and count.morphemes > 5_000
    (result,) = token_results({name: f"tiktoken:{ranks}"}, {name: tokenizer}, [count], [corpus])
    assert result.values[0].n == len(corpus.texts) and result.values[0].benchmark.endswith("(constitution)")


@pytest.mark.slow
def test_token_report_measures_tables_and_writes_each_model(
    ranks: Path, tiny_llava: Path, tmp_path: Path
) -> None:
    pytest.importorskip("tiktoken")
    from kobench.report.token_report import token_report

    corpus = Corpus("hand", ("가나 가", "abc"))
    report = token_report(
        [f"hf:{tiny_llava}", f"tiktoken:{ranks}"],
        [corpus],
        image_sizes=[(448, 448)],
        reference="o200k_base",
        output=tmp_path / "out",
    )
    assert [c.model for c in report.counts] == [tiny_llava.name, "o200k_base"]
    assert list(report.visual) == [tiny_llava.name]  # a tiktoken encoding has no images
    assert report.visual[tiny_llava.name][0].tokens == 16
    tables = report.text.split("\n\n")
    assert len(tables) == 2 and "× o200k_base" in tables[0] and "| 448×448 " in tables[1]
    assert [p.parent.name for p in report.paths] == [tiny_llava.name, "o200k_base"]
    llava = load_efficiency(report.paths[0])
    assert [v.benchmark for v in llava.values] == [
        "Tokens / 1k chars (hand)",
        "Tokens / 1k morphemes (hand)",
        "Visual tokens (448×448)",
    ]
    assert llava.spec == f"hf:{tiny_llava}"
    tokenizer_class = type(load_tokenizer(f"hf:{tiny_llava}")[1]).__name__
    assert llava.environment["tokenizer"] == tokenizer_class and llava.environment["tiktoken"]
    assert [v.metric for v in load_efficiency(report.paths[1]).values] == [
        "tokens_per_1k_characters",
        "tokens_per_1k_morphemes",
    ]
    with pytest.raises(BadInputError, match="have the same name 'o200k_base'"):
        token_report([f"tiktoken:{ranks}", f"tiktoken:o200k_base={ranks}"], [corpus])

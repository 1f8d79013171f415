"""Morpheme tokenisation and the n-gram caption metrics, checked against pycocoevalcap and by hand.

CIDEr-D takes its IDF from the scored set, so the checks run on a realistic set: a few hundred generated
scenes (object, colour, count, place, action) with five differently worded Korean references each.
`caption_set` is shared with test_meteor.py and test_embedding.py.
"""

from __future__ import annotations

import math
import random
import tracemalloc
import unicodedata

import numpy as np
import pytest

pytest.importorskip("kiwipiepy", reason="caption metrics need kiwipiepy")
pytest.importorskip("pycocoevalcap", reason="caption metrics need pycocoevalcap")

from kobench.metrics.captioning import (
    CorpusScore,
    bleu_from_parts,
    bleu_parts,
    ngram_scores,
    resample_ci,
)
from kobench.metrics.morphemes import MorphemeTokenizer, default_tokenizer

ANIMALS = "고양이 강아지 새 말 오리 토끼".split()
VEHICLES = "자전거 버스 자동차 트럭 오토바이 기차".split()
THINGS = "우산 사과 의자 가방 풍선 상자 꽃병 접시".split()
# (adjective form, noun form)
COLOURS = [(c, c + "색") for c in "빨간 파란 노란 하얀 검은".split()]
COLOURS += [(c, c) for c in "초록색 분홍색 회색 갈색 주황색".split()]
COUNTS = "한 두 세 네 다섯 여섯".split()
PLACES = [*"공원 거리 부엌 해변 시장 운동장 주차장 거실 강가 기차역 숲속 마당".split(), "다리 위", "식당 앞"]
TIMES = "맑은 날 | 비 오는 날 | 이른 아침 | 늦은 저녁 | 눈 내리는 날".split(" | ")
ACTIONS = {
    "마리": ["자고 있다", "앉아 있다", "뛰어놀고 있다", "쉬고 있다"],
    "대": ["서 있다", "지나가고 있다", "세워져 있다"],
    "개": ["놓여 있다", "보인다", "있다"],
}
TEMPLATES = [
    "{place}에 {colour} {obj} {count} {unit}{i_ga} {action}.",
    "{colour} {obj}{i_ga} {place}에서 {action}.",
    "{time} {place}의 모습이다. {colour} {obj} {count} {unit}{i_ga} 보인다.",
    "{place}에 {obj}{i_ga} {count} {unit} {action}.",
    "{count} {unit}의 {colour} {obj}{i_ga} {place}에 {action}.",
    "{colour} {obj}{eul_reul} 찍은 사진이다. 배경은 {place}이다.",
    "{time}, {place} 풍경 속에 {colour} {obj}{i_ga} {action}.",
    "사진 속 {obj}{eun_neun} {colour_noun}이고 {place}에 {action}.",
]


def _has_final(word: str) -> bool:
    last = word[-1]
    return "가" <= last <= "힣" and (ord(last) - 0xAC00) % 28 != 0


def _scene(rng: random.Random) -> dict[str, str]:
    unit = rng.choice(list(ACTIONS))
    obj = rng.choice({"마리": ANIMALS, "대": VEHICLES, "개": THINGS}[unit])
    colour, colour_noun = rng.choice(COLOURS)
    final = _has_final(obj)
    return {
        "obj": obj,
        "unit": unit,
        "colour": colour,
        "colour_noun": colour_noun,
        "count": rng.choice(COUNTS),
        "place": rng.choice(PLACES),
        "time": rng.choice(TIMES),
        "action": rng.choice(ACTIONS[unit]),
        # particles follow the last word: counters (마리, 대, 개) all end in a vowel
        "i_ga": "이" if final else "가",
        "eul_reul": "을" if final else "를",
        "eun_neun": "은" if final else "는",
    }


def _caption(rng: random.Random, scene: dict[str, str], template: int | None = None) -> str:
    chosen = TEMPLATES[rng.randrange(len(TEMPLATES)) if template is None else template]
    fields = dict(scene)
    if "{unit}{i_ga}" in chosen:
        fields["i_ga"] = "가"  # the particle attaches to the counter here
    return chosen.format(**fields)


def caption_set(n: int, seed: int = 0) -> tuple[list[list[str]], list[str], list[str]]:
    """(references, paraphrases, unrelated captions) for n generated images, 5 references each.

    A paraphrase describes the same scene with a template none of its references used; an unrelated
    caption describes a scene with another object, colour and place.
    """
    rng = random.Random(seed)
    refs, paraphrases, unrelated = [], [], []
    for _ in range(n):
        scene = _scene(rng)
        templates = rng.sample(range(len(TEMPLATES)), 6)
        refs.append([_caption(rng, scene, t) for t in templates[:5]])
        paraphrases.append(_caption(rng, scene, templates[5]))
        other = _scene(rng)
        while any(other[k] == scene[k] for k in ("obj", "colour", "place")):
            other = _scene(rng)
        unrelated.append(_caption(rng, other))
    return refs, paraphrases, unrelated


def tokenize_set(refs: list[list[str]], *predictions: list[str]) -> tuple[list[list[str]], ...]:
    """Morphemes of the references and of each prediction list, one tokenizer call for all."""
    texts = [r for rs in refs for r in rs] + [p for ps in predictions for p in ps]
    flat = default_tokenizer().tokenize(texts)
    out, at = [], 0
    for rs in refs:
        out.append(flat[at : at + len(rs)])
        at += len(rs)
    tok_preds = []
    for ps in predictions:
        tok_preds.append(flat[at : at + len(ps)])
        at += len(ps)
    return (out, *tok_preds)


@pytest.fixture(scope="module")
def realistic() -> tuple[list[list[str]], list[str], list[str]]:
    """300 images x 5 references, as morphemes: (references, paraphrases, unrelated)."""
    refs, para, unrel = caption_set(300)
    return tokenize_set(refs, para, unrel)  # type: ignore[return-value]


# --- tokenisation ---


def test_tokenizer_keeps_hangul_and_drops_punctuation() -> None:
    tok = default_tokenizer()
    texts = ["고양이가 소파에서 잔다!!", "「빨간」 버스, 3대… ★ 😀", "ㅋㅋㅋ ＡＢＣ Hello WORLD 漢字", "ㅎㅎ"]
    out = tok.tokenize(texts)
    first = out[0].split()
    assert first[:4] == ["고양이", "가", "소파", "에서"]
    assert not any(t in "!!." for t in first)
    second = out[1].split()
    assert {"빨갛", "버스", "3"} <= set(second) or {"빨간", "버스", "3"} <= set(second)
    assert not set(second) & {"「", "」", ",", "…", "★", "😀"}
    third = out[2].split()
    # Kiwi tags laughter jamo and fullwidth Latin as symbols: they are kept, Latin is lower-cased
    assert {"ㅋㅋㅋ", "hello", "world", "漢字"} <= set(third)
    assert any(unicodedata.normalize("NFKC", t) == "abc" for t in third)
    # a multi-word title is split into its words (Kiwi's multi-word dictionary is off)
    assert tok.tokenize(["해리 포터와 마법사의 돌을 읽는 아이"])[0].split()[:2] == ["해리", "포터"]
    # every text with Hangul keeps Hangul
    for text, tokens in zip(texts, out, strict=True):
        assert any("가" <= ch <= "힣" or "ㄱ" <= ch <= "ㅣ" for ch in tokens), (text, tokens)


def test_tokenizer_is_deterministic_batched_and_nfc() -> None:
    refs, para, _ = caption_set(20, seed=3)
    texts = [r for rs in refs for r in rs][:60] + para
    tok = default_tokenizer()
    batch = tok.tokenize(texts)
    assert batch == tok.tokenize(texts)
    assert batch == [tok.tokenize([t])[0] for t in texts]
    # decomposed (NFD) input is the same caption
    assert tok.tokenize([unicodedata.normalize("NFD", texts[0])]) == [batch[0]]
    assert tok.tokenize(["", "   ", "!!", texts[0]]) == ["", "", "", batch[0]]
    # a separate instance (its own Kiwi, created in the background) agrees
    fresh = MorphemeTokenizer()
    fresh.warm_up()
    assert fresh.tokenize(texts[:5]) == batch[:5]


def test_tokenizer_signature_names_the_installed_versions() -> None:
    from importlib import metadata

    sig = default_tokenizer().signature()
    assert sig.startswith("kiwi-morph@1(")
    assert f"kiwipiepy={metadata.version('kiwipiepy')}" in sig
    assert f"model={metadata.version('kiwipiepy_model')}" in sig


# --- n-gram metrics ---


def test_scorers_get_index_keyed_dicts(monkeypatch: pytest.MonkeyPatch) -> None:
    from pycocoevalcap.cider import cider

    seen = {}
    original = cider.Cider.compute_score

    def spy(self: object, gts: dict, res: dict) -> object:
        seen["gts"], seen["res"] = gts, res
        return original(self, gts, res)

    monkeypatch.setattr(cider.Cider, "compute_score", spy)
    refs = [["고양이 가  자 ㄴ다 ", "", "고양이"], ["버스 가 서 있 다"], ["사과"]]
    ngram_scores(refs, ["고양이 가", "", " 사과  두 개 "])
    assert seen["gts"] == {"0": ["고양이 가 자 ㄴ다", "고양이"], "1": ["버스 가 서 있 다"], "2": ["사과"]}
    assert seen["res"] == {"0": ["고양이 가"], "1": [""], "2": ["사과 두 개"]}
    assert list(seen["gts"]) == ["0", "1", "2"]


def test_per_unit_scores_follow_their_images(realistic: tuple) -> None:
    refs, para, _ = realistic
    base = ngram_scores(refs, para)
    assert set(base) == {"cider_d", "bleu_1", "bleu_2", "bleu_3", "bleu_4", "rouge_l"}
    perm = np.random.default_rng(1).permutation(len(refs))
    shuffled = ngram_scores([refs[i] for i in perm], [para[i] for i in perm])
    for name, score in base.items():
        assert len(score.per_unit) == len(refs)
        assert shuffled[name].per_unit == pytest.approx([score.per_unit[i] for i in perm], abs=1e-12)
        assert shuffled[name].value == pytest.approx(score.value, abs=1e-12)
    # the corpus values are pycocoevalcap's own, in its scale
    assert 0 < base["bleu_4"].value < 1 and 0.3 < base["cider_d"].value < 10
    assert base["cider_d"].value == pytest.approx(np.mean(base["cider_d"].per_unit))


def test_paraphrase_beats_unrelated_caption_on_every_ngram_metric(realistic: tuple) -> None:
    refs, para, unrel = realistic
    good, bad = ngram_scores(refs, para), ngram_scores(refs, unrel)
    for name in good:
        assert good[name].value > bad[name].value + 0.05, name


def test_bleu_1_by_hand() -> None:
    # Image 0: hypothesis "a b x" (3 words), references of 4 and 2 words, both 1 away from 3: BleuScorer's
    # "closest" takes the shorter, 2. Unigram matches a, b (and the bigram "a b"). Image 1: all 3 words
    # match, reference length 3. Corpus unigrams: 5 matches / 6 guesses; hypothesis length 6 > reference
    # length 5, so no brevity penalty: BLEU-1 = 5/6. (A tie broken towards 4 would give 7 and a penalty.)
    refs, preds = [["a b c d", "a b"], ["x y z"]], ["a b x", "x y z"]
    assert ngram_scores(refs, preds)["bleu_1"].value == pytest.approx(5 / 6, abs=1e-9)
    parts = bleu_parts(refs, preds)
    assert parts[0].tolist() == [2, 1, 0, 0, 3, 2, 1, 0, 3, 2]
    assert parts[1].tolist() == [3, 2, 1, 0, 3, 2, 1, 0, 3, 3]
    # with a short hypothesis the brevity penalty applies: 1 match / 1 guess, lengths 1 vs 4
    short = ngram_scores([["a b c d"]], ["a"])["bleu_1"].value
    assert short == pytest.approx(math.exp(1 - 4 / 1), abs=1e-9)


def test_bleu_from_parts_reproduces_pycocoevalcap(realistic: tuple) -> None:
    refs, para, unrel = realistic
    # half the predictions cut short so the brevity penalty is active, one empty, some unrelated
    preds = [" ".join(p.split()[: max(1, len(p.split()) // 2)]) if i % 2 else p for i, p in enumerate(para)]
    preds[5] = ""
    preds[7:40] = unrel[7:40]
    from pycocoevalcap.bleu.bleu import Bleu

    gts = {str(i): r for i, r in enumerate(refs)}
    res = {str(i): [p] for i, p in enumerate(preds)}
    expected, _ = Bleu(4).compute_score(gts, res, verbose=0)
    parts = bleu_parts(refs, preds)
    assert parts.shape == (len(refs), 10)
    assert bleu_from_parts(parts.sum(axis=0)) == pytest.approx(expected, abs=1e-9)
    assert parts[:, 8].sum() < parts[:, 9].sum()  # the penalty case really is exercised
    assert bleu_from_parts(bleu_parts(refs, para).sum(axis=0)) == pytest.approx(
        [ngram_scores(refs, para)[f"bleu_{k}"].value for k in range(1, 5)], abs=1e-9
    )


def test_empty_prediction_scores_zero_and_leaves_the_others_alone(realistic: tuple) -> None:
    refs, para, _ = realistic
    refs, para = refs[:50], para[:50]
    with_empty = [*para[:3], "", *para[4:]]
    base, scores = ngram_scores(refs, para), ngram_scores(refs, with_empty)
    for name, score in scores.items():
        assert score.per_unit[3] == 0.0, name
        if name in ("cider_d", "rouge_l"):  # means of per-image scores; CIDEr's IDF comes from references
            others = [s for i, s in enumerate(score.per_unit) if i != 3]
            assert others == pytest.approx([s for i, s in enumerate(base[name].per_unit) if i != 3])
    # BLEU counts the empty caption as length 0 against its shortest reference
    row = bleu_parts(refs, with_empty)[3]
    assert row[:9].tolist() == [0] * 9 and row[9] == min(len(r.split()) for r in refs[3])


def test_bad_inputs_name_the_image() -> None:
    with pytest.raises(ValueError, match="image 1"):
        ngram_scores([["a b"], []], ["a", "b"])
    with pytest.raises(ValueError, match="image 0"):
        ngram_scores([["", "  "]], ["a"])
    with pytest.raises(ValueError, match="aligned"):
        ngram_scores([["a"]], ["a", "b"])
    with pytest.raises(ValueError, match="no images"):
        ngram_scores([], [])


# --- bootstrap ---


def test_resample_ci_matches_a_direct_bootstrap() -> None:
    # statistic = ratio of sums; with few rows one chunk holds all resamples, so the draws are the same
    rng = np.random.default_rng(5)
    parts = np.column_stack([rng.integers(0, 10, 40), rng.integers(1, 10, 40)]).astype(float)
    low, high = resample_ci(parts, lambda s: s[0] / s[1], n_resamples=500, seed=3)
    idx = np.random.default_rng(3).integers(0, 40, size=(500, 40))
    direct = parts[idx, 0].sum(axis=1) / parts[idx, 1].sum(axis=1)
    assert (low, high) == pytest.approx(tuple(np.quantile(direct, [0.025, 0.975])), abs=1e-12)


def test_resample_ci_of_corpus_bleu(realistic: tuple) -> None:
    refs, para, _ = realistic
    parts = bleu_parts(refs, para)
    value = ngram_scores(refs, para)["bleu_4"].value
    low, high = resample_ci(parts, lambda s: bleu_from_parts(s)[3], n_resamples=200)
    assert low < value < high and high - low < 0.2
    assert resample_ci(parts, lambda s: bleu_from_parts(s)[3], n_resamples=200) == (low, high)


def test_resample_ci_memory_is_bounded() -> None:
    parts = np.random.default_rng(0).integers(0, 20, size=(5000, 10)).astype(float)
    tracemalloc.start()
    try:
        resample_ci(parts, lambda s: s[0] / s[4], n_resamples=1000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # all indices at once: 5000 x 1000 x 8 B = 40 MB, and as many again per intermediate array
    assert peak < 60e6


def test_corpus_score_is_frozen() -> None:
    score = CorpusScore(1.0, [1.0])
    with pytest.raises(AttributeError):
        score.value = 2.0  # type: ignore[misc]

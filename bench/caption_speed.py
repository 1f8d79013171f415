"""kobench's Korean caption metrics beside pycocoevalcap's English pipeline, same captions, one run.

    python bench/caption_speed.py [--n 5000] [--refs 5] [--seed 0] [--repeat 1]

Builds n generated images with `--refs` Korean reference captions and one prediction each, then times
(a) kobench: kiwipiepy morphemes for references + predictions, `ngram_scores` (CIDEr-D, BLEU-1..4,
ROUGE-L by pycocoevalcap's scorers) and METEOR through `Meteor().score` (`-l other`, pipelined), and
(b) what a COCO script does: pycocoevalcap's PTBTokenizer (Java) on the raw strings, then Cider, Bleu(4),
Rouge and pycocoevalcap's own Meteor (`-l en -norm`, one round trip per image). Prints each stage for
both, the totals and the ratio kobench / english (below 1.00 = kobench is faster). With --repeat, the
two pipelines alternate and each stage's fastest time is kept (less noise on a shared machine).
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from typing import Any

OBJECTS = "고양이 강아지 자전거 버스 우산 사과 기차 의자 책상 꽃병 풍선 오토바이 트럭 소파".split()
OBJECTS += "피자 케이크 가방 접시".split()
COLOURS = "빨간 파란 노란 초록색 검은 하얀 회색 분홍색 갈색 주황색".split()
COUNTS = "한 두 세 네 다섯".split()
PLACES = "공원 거리 부엌 해변 시장 운동장 주차장 거실 강가 기차역 식당 숲속".split()
PEOPLE = "남자 여자 아이 노인 학생 요리사".split()
DOING = ["웃고 있다", "걷고 있다", "사진을 찍고 있다", "이야기하고 있다", "기다리고 있다"]
TEMPLATES = [
    "{p}에 {c} {o} {n} 개가 놓여 있다.",
    "{c} {o}{i} {p}에서 보인다.",
    "{p}에서 {h}{hi} {c} {o} 옆에서 {d}.",
    "{n} 개의 {c} {o}{i} {p}에 있다.",
    "{h} 한 명이 {p}에서 {o}{r} 보며 {d}.",
    "{p} 한가운데에 {c} {o}{i} 있다.",
    "{p}의 모습, {c} {o} {n} 개가 있다.",
    "사진 속 {o}{e} {c} 색이고 {p}에 있다!",
]


def _particle(word: str, with_final: str, without: str) -> str:
    last = ord(word[-1]) - 0xAC00
    return with_final if 0 <= last < 11172 and last % 28 else without


def captions(n: int, n_refs: int, seed: int) -> tuple[list[list[str]], list[str]]:
    """n images: n_refs references describing one scene, and a prediction describing it in other words."""
    rng = random.Random(seed)
    refs, preds = [], []
    for _ in range(n):
        o, h = rng.choice(OBJECTS), rng.choice(PEOPLE)
        scene = {
            "o": o,
            "c": rng.choice(COLOURS),
            "n": rng.choice(COUNTS),
            "p": rng.choice(PLACES),
            "h": h,
            "d": rng.choice(DOING),
            "i": _particle(o, "이", "가"),
            "r": _particle(o, "을", "를"),
            "e": _particle(o, "은", "는"),
            "hi": _particle(h, "이", "가"),
        }
        refs.append([rng.choice(TEMPLATES).format(**scene) for _ in range(n_refs)])
        preds.append(rng.choice(TEMPLATES).format(**scene))
    return refs, preds


def timed(label: str, times: dict[str, float], fn: Callable[[], Any]) -> Any:
    start = time.perf_counter()
    out = fn()
    times[label] = time.perf_counter() - start
    return out


def kobench_pipeline(refs: list[list[str]], preds: list[str]) -> tuple[dict[str, float], dict[str, float]]:
    from kobench.metrics.captioning import ngram_scores
    from kobench.metrics.meteor import Meteor
    from kobench.metrics.morphemes import MorphemeTokenizer

    times: dict[str, float] = {}
    tokenizer = MorphemeTokenizer()
    timed("kiwi start", times, lambda: tokenizer.tokenize(["준비"]))  # creates Kiwi (once per process)
    flat = timed("tokenize", times, lambda: tokenizer.tokenize([r for rs in refs for r in rs] + preds))
    k = len(refs[0])
    tok_refs = [flat[i * k : (i + 1) * k] for i in range(len(refs))]
    tok_preds = flat[len(refs) * k :]
    scores = timed("cider/bleu/rouge", times, lambda: ngram_scores(tok_refs, tok_preds))

    def meteor() -> float:
        with Meteor() as m:
            return m.score(tok_refs, tok_preds)[0].value

    values = {name: s.value for name, s in scores.items()}
    values["meteor"] = timed("meteor", times, meteor)
    return times, values


def english_pipeline(refs: list[list[str]], preds: list[str]) -> tuple[dict[str, float], dict[str, float]]:
    from pycocoevalcap.bleu.bleu import Bleu
    from pycocoevalcap.cider.cider import Cider
    from pycocoevalcap.meteor.meteor import Meteor
    from pycocoevalcap.rouge.rouge import Rouge
    from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer

    times: dict[str, float] = {}
    gts_raw = {i: [{"caption": r} for r in rs] for i, rs in enumerate(refs)}
    res_raw = {i: [{"caption": p}] for i, p in enumerate(preds)}
    times["kiwi start"] = 0.0
    gts, res = timed(
        "tokenize", times, lambda: (PTBTokenizer().tokenize(gts_raw), PTBTokenizer().tokenize(res_raw))
    )

    def ngrams() -> dict[str, float]:
        cider, _ = Cider().compute_score(gts, res)
        bleu, _ = Bleu(4).compute_score(gts, res, verbose=0)
        rouge, _ = Rouge().compute_score(gts, res)
        return {"cider_d": cider, **{f"bleu_{k + 1}": b for k, b in enumerate(bleu)}, "rouge_l": rouge}

    values = timed("cider/bleu/rouge", times, ngrams)

    def meteor() -> float:
        scorer = Meteor()
        try:
            return scorer.compute_score(gts, res)[0]
        finally:
            del scorer  # its __del__ stops the jar

    values["meteor"] = timed("meteor", times, meteor)
    return times, values


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--refs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    refs, preds = captions(args.n, args.refs, args.seed)
    kob: dict[str, float] = {}
    eng: dict[str, float] = {}
    for _ in range(args.repeat):
        times, kob_values = kobench_pipeline(refs, preds)
        kob = {stage: min(t, kob.get(stage, t)) for stage, t in times.items()}
        times, eng_values = english_pipeline(refs, preds)
        eng = {stage: min(t, eng.get(stage, t)) for stage, t in times.items()}
    print(f"{args.n} images x {args.refs} Korean references + 1 prediction each (seed {args.seed})")
    print(f"fastest of {args.repeat} run(s) per stage")
    print(f"{'stage':18} {'kobench':>9} {'english':>9}")
    for stage in kob:
        print(f"{stage:18} {kob[stage]:8.2f}s {eng[stage]:8.2f}s")
    total_k, total_e = sum(kob.values()), sum(eng.values())
    print(f"{'total':18} {total_k:8.2f}s {total_e:8.2f}s   ratio kobench/english = {total_k / total_e:.2f}")
    print("scores (kobench on morphemes | english pipeline on PTB tokens; not comparable, for sanity):")
    for name in kob_values:
        print(f"  {name:9} {kob_values[name]:7.4f} | {float(eng_values[name]):7.4f}")


if __name__ == "__main__":
    main()

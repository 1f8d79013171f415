"""Answer extraction speed: kobench's Korean-aware extractor against the published first-character
parser, on the same responses, in one run.  python bench/extract_speed.py"""

from __future__ import annotations

import time

from kobench.extract.choice import extract_choice
from kobench.extract.protocol import first_char

OPTIONS = [("A", "사과"), ("B", "배"), ("C", "포도"), ("D", "귤")]
RESPONSES = [
    "B",
    "정답은 B입니다.",
    "(C) 포도",
    "답: D",
    "The answer is A.",
    "<think>A? C?</think>정답은 C",
    "A는 틀렸고 C도 아니므로 따라서 정답은 B입니다.",
    "사과",
    "잘 모르겠습니다.",
    "정답은 B " * 500,
]


def timed(fn, rounds: int) -> float:
    start = time.perf_counter()
    for _ in range(rounds):
        for text in RESPONSES:
            fn(text, OPTIONS)
    return (time.perf_counter() - start) / (rounds * len(RESPONSES))


def main() -> None:
    rounds = 200
    kob, proto = timed(extract_choice, rounds), timed(first_char, rounds)
    print(f"kobench extractor   {kob * 1e6:9.1f} µs/response")
    print(
        f"first-char parser   {proto * 1e6:9.1f} µs/response   ratio kobench/first-char = {kob / proto:.0f}"
    )


if __name__ == "__main__":
    main()

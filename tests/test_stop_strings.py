"""The stop-string gate answers exactly as transformers' StopStringCriteria on every row it is given."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import torch
from transformers import AutoTokenizer, StopStringCriteria

from kobench.models.stops import StopStrings

STOPS = ["ASSISTANT:", "\n", "정답", "입니다."]


def _rows(tokenizer, rng: random.Random) -> list[list[int]]:
    """Token rows cut at every length from texts that hold a stop string: the stop ends inside the newest
    token, just before it, or a few tokens back; plus rows of random ids."""
    words = ["사과", "고양이", "answer", " B", "번", "ASS", "IST", "ANT", ":", "정", "답", "입니다", ".", " "]
    rows = []
    for _ in range(60):
        text = "".join(rng.choice(words) for _ in range(rng.randint(1, 5)))
        text += rng.choice(STOPS) + "".join(rng.choice(words) for _ in range(rng.randint(0, 2)))
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        rows += [ids[:end] for end in range(1, len(ids) + 1)]
    vocab = len(tokenizer)
    rows += [[rng.randrange(vocab) for _ in range(rng.randint(1, 12))] for _ in range(300)]
    return rows


@pytest.mark.slow
def test_the_gate_stops_exactly_where_the_checker_does(tiny_llava: Path) -> None:
    tokenizer = AutoTokenizer.from_pretrained(tiny_llava)
    gate, checker = StopStrings(tokenizer, STOPS), StopStringCriteria(tokenizer, STOPS)
    assert gate.can_end is not None, "this transformers' checker table is not the layout the gate reads"
    assert 0 < int(gate.can_end.sum()) < gate.can_end.numel() // 2  # it skips most tokens, not all

    pad = tokenizer.pad_token_id
    stopped = 0
    for rows in _batches(_rows(tokenizer, random.Random(7)), 8):
        width = max(map(len, rows))
        ids = torch.tensor([[pad] * (width - len(row)) + row for row in rows])  # left-padded, as generate's
        expected = checker(ids, None)
        assert torch.equal(gate(ids, None), expected), [tokenizer.decode(row) for row in rows]
        stopped += int(expected.sum())
    assert stopped > 50  # the rows do end in stop strings, so the equality covers stopping too


def test_a_batch_that_cannot_stop_does_not_reach_the_checker(tiny_llava: Path) -> None:
    tokenizer = AutoTokenizer.from_pretrained(tiny_llava)
    gate = StopStrings(tokenizer, ["ASSISTANT:"])
    calls = []
    inner = gate.checker
    gate.checker = lambda ids, scores, **kw: calls.append(ids) or inner(ids, scores, **kw)
    never = int(torch.nonzero(~gate.can_end)[0])
    ids = torch.full((4, 6), never)
    assert not gate(ids, None).any() and calls == []
    ends = tokenizer("안녕 ASSISTANT:", add_special_tokens=False)["input_ids"]
    row = torch.tensor([ends])
    assert gate(row, None).tolist() == [True] and len(calls) == 1


def _batches(rows: list[list[int]], size: int) -> list[list[list[int]]]:
    return [rows[i : i + size] for i in range(0, len(rows), size)]

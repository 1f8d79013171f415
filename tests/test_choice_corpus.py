"""The choice extractor over a labelled corpus of natural responses (tests/fixtures/choice_corpus.jsonl).

Each row was labelled by reading the response as a person would, not by running the extractor; more than
half are quoted from published model outputs (the `source` field names where). Recall is the share of rows
labelled with a letter that are read as that letter; a wrong letter is a different letter, or any letter
where the row commits to no single option. Recall must be at least 99% and there must be no wrong letter."""

from __future__ import annotations

import json
from pathlib import Path

from kobench.extract.choice import extract_choice

CORPUS = Path(__file__).parent / "fixtures" / "choice_corpus.jsonl"


def _rows() -> list[dict]:
    with CORPUS.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def test_corpus_is_large_distinct_and_mostly_quoted() -> None:
    rows = _rows()
    assert len(rows) >= 300
    assert len({row["response"] for row in rows}) == len(rows)
    assert sum(not row["source"].startswith("constructed") for row in rows) >= 100
    for row in rows:
        letters = [letter for letter, _ in row["options"]]
        assert row["expected"] is None or row["expected"] in letters, row


def test_recall_and_wrong_letters() -> None:
    rows = _rows()
    labelled = [row for row in rows if row["expected"] is not None]
    read, misses, wrong = 0, [], []
    for row in rows:
        got = extract_choice(row["response"], [tuple(option) for option in row["options"]])
        if got is not None and got != row["expected"]:
            wrong.append((row["expected"], got, row["response"][:160], row["source"]))
        elif row["expected"] is not None and got == row["expected"]:
            read += 1
        elif row["expected"] is not None:
            misses.append((row["expected"], row["response"][:160], row["source"]))
    recall = read / len(labelled)
    report = f"recall {read}/{len(labelled)} = {recall:.3f}, wrong letters {len(wrong)}"
    print(report)
    detail = "\n".join(f"  wrong (expected {e}, got {g}): {r!r}  [{s}]" for e, g, r, s in wrong)
    detail += "\n" + "\n".join(f"  miss (expected {e}): {r!r}  [{s}]" for e, r, s in misses)
    assert not wrong and recall >= 0.99, f"{report}\n{detail}"

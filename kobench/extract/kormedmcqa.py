"""KorMedMCQA-V's published answer reading (GitHub baeseongsu/kormedmcqa_v, commit 9c6c6ce; the files are
unchanged since tag v1.0.0 = 78c1c5c): kormedeval/evaluation/evaluator.py scores
`dataset.extract_answer(clean_text)` where `clean_text` is `extract_thinking_and_summary(generated_text)[1]`
(kormedeval/utils.py) and `extract_answer` is `KorMedMCQAVDataset._extract_answer` with the letters A-E
(kormedeval/datasets/kormedmcqa_v.py). It never guesses: what it cannot read is None and scores 0.

Rule by rule, as there:
1. Reasoning: the first of these tag pairs that both occur in the text cuts it to what follows the first
   closing tag, stripped: `◁think▷…◁/think▷`, `...thinking...` … `....thinking....`, `[THINK]…[/THINK]`.
   `<think>` is not among them (the docstring lists it; the code does not).
2. JSON: the first fenced ```json {…}``` block (case-insensitive) is the only candidate; without one,
   every shortest `{…}` (across lines). From the last candidate back, the first that `json.loads`, else
   `ast.literal_eval`, reads as a dict with a non-null "정답" (then "answer") whose `str()` holds, as its
   first character of the class `[A|B|C|D|E]` (case-insensitive; the `|` is in the class), a letter A-E.
   A `|` found first fails that key.
3. Else the first `\\boxed{X}` (case-insensitive) with X of that class: its letter, or None for `|`.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Sequence
from typing import Any

LETTERS = ("A", "B", "C", "D", "E")
# The published pattern is "|".join(letters) inside a character class: "[A|B|C|D|E]", which matches "|" too.
_CLASS = "[" + "|".join(LETTERS) + "]"
_FENCE = re.compile(r"```json\s*(\{.*?\})\s*```", re.DOTALL | re.IGNORECASE)
_BLOCK = re.compile(r"\{.*?\}", re.DOTALL)
_CHOICE = re.compile(f"({_CLASS})", re.IGNORECASE)
_BOXED = re.compile(r"\\boxed\{(" + _CLASS + r")\}", re.IGNORECASE)
# kormedeval/utils.py thinking_patterns, in its order (the second pair as the code writes it).
_THINKING = (
    ("\u25c1think\u25b7", "\u25c1/think\u25b7"),
    ("...thinking...", "....thinking...."),
    ("[THINK]", "[/THINK]"),
)


def without_thinking(text: str) -> str:
    """extract_thinking_and_summary's clean text: after the first closing tag of the first pair found."""
    for opening, closing in _THINKING:
        if opening in text and closing in text:
            return text[text.index(closing) + len(closing) :].strip()
    return text


def _parsed(block: str) -> Any:
    try:
        return json.loads(block)
    except Exception:  # the published code catches everything, then tries a Python literal
        try:
            return ast.literal_eval(block)
        except Exception:
            return None


def _letter(value: Any) -> str | None:
    found = _CHOICE.search(str(value))
    return _kept(found.group(1)) if found else None


def _kept(char: str) -> str | None:
    """The class's character as a letter: upper-cased, None for the "|" the class also holds."""
    letter = char.upper()
    return letter if letter in LETTERS else None


def _from_json(text: str) -> str | None:
    fenced = _FENCE.search(text)
    blocks = [fenced.group(1)] if fenced else _BLOCK.findall(text)
    for block in reversed(blocks):  # the last block wins: an echoed prompt's example comes first
        parsed = _parsed(block)
        if not isinstance(parsed, dict):
            continue
        for key in ("정답", "answer"):
            if parsed.get(key) is not None:
                letter = _letter(parsed[key])
                if letter is not None:
                    return letter
    return None


def kormedmcqa_json(response: str, options: Sequence[tuple[str, str]]) -> str | None:
    """KorMedMCQA-V's protocol parser: the letter its evaluator credits, or None (see the module's rules).
    The letters are always A-E, as the published CHOICE_KEYS, whatever options the row shows."""
    text = without_thinking(response) if response else ""
    if not text:
        return None
    letter = _from_json(text)
    if letter is not None:
        return letter
    boxed = _BOXED.search(text)
    return _kept(boxed.group(1)) if boxed else None

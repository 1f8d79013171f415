"""Published answer parsers, reproduced rule for rule (each cites its source).

Each parser maps (response, present options) to the letter the published evaluation would credit,
or None where it credits nothing. A row is right under the protocol iff the parser returns the
answer letter, which is exactly when the published code scores it 1.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

Options = Sequence[tuple[str, str]]
ProtocolParser = Callable[[str, Options], "str | None"]


def first_char(response: str, options: Options) -> str | None:
    """K-SEED and K-DTCBench (lmms-eval seedbench/ko_utils.py and dtcbench/utils.py, NCSOFT, PR #575):
    the first character of the stripped output, compared case-insensitively with the answer."""
    pred = response.strip()[:1].upper()
    return pred if pred in {letter for letter, _ in options} else None


def mmstar_original(response: str, options: Options) -> str | None:
    """K-MMStar, NCSOFT's original `exact_match_ko` (lmms-eval mmstar/utils.py before 2025):
    lower-cased, newlines to spaces, stripped; then the first character, or the character after
    a leading `(`, `옵션 ` or `정답은 `."""
    predict = response.lower().replace("\n", " ").strip()
    if predict.startswith("("):
        candidate = predict[1:2]
    elif predict.startswith("옵션 "):
        candidate = predict[3:4]
    elif predict.startswith("정답은 "):
        candidate = predict[4:5]
    else:
        candidate = predict[:1]
    candidate = candidate.upper()
    return candidate if candidate in {letter for letter, _ in options} else None


# MMBench's heuristic matcher (lmms-eval mmbench/mmbench_evals.py, can_infer_option / can_infer_text),
# the stage before its GPT matcher and random fallback, which kobench does not reproduce.
_MMBENCH_AFFIXES = [
    ("", "."),
    ("", ","),
    ("", ":"),
    ("", ")"),
    ("", ")."),
    ("(", ")"),
    ("(", ")."),
    (":", ""),
    (":", ","),
    (":", "."),
    (":", ")"),
    (":", ")."),
]


def _mmbench_option(answer: str) -> str | None:
    letters = "ABCDE"  # the published code always looks at five letters
    if "Failed to obtain answer via API" in answer:
        return None
    tokens = [t.strip() for t in answer.split()]

    def hits(prefix: str = "", suffix: str = "") -> list[str]:
        return [c for c in letters if prefix + c + suffix in tokens]

    bare = hits()
    # A lone "A" in a longer answer may be the English article, so the bare match is skipped then.
    if len(bare) == 1 and not ("A" in tokens and len(tokens) > 3):
        return bare[0]
    for prefix, suffix in _MMBENCH_AFFIXES:
        found = hits(prefix, suffix)
        if len(found) == 1:
            return found[0]
    return None


def _mmbench_text(answer: str, options: Options) -> str | None:
    lowered = answer.lower()
    # The published matcher only builds choices from A-D.
    found = [letter for letter, text in options if letter in "ABCD" and str(text).lower() in lowered]
    return found[0] if len(found) == 1 else None


def mmbench_heuristic(response: str, options: Options) -> str | None:
    """K-MMBench: MMBench's rule-based matcher only (no GPT stage, no random fallback)."""
    return _mmbench_option(response) or _mmbench_text(response, options)


def exact_letter(response: str, options: Options) -> str | None:
    """K-Viscuit (run_vqa.py of ddehun/k-viscuit): the stripped output must be exactly one letter."""
    pred = response.strip()
    return pred if pred in {letter for letter, _ in options} else None


PROTOCOL_PARSERS: dict[str, ProtocolParser] = {
    "first-char": first_char,
    "mmstar-original": mmstar_original,
    "mmbench-heuristic": mmbench_heuristic,
    "exact-letter": exact_letter,
}
PROTOCOL_PARSER_VERSION = "1"

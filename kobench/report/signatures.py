"""Signatures (sacrebleu-style): `task|data:…|split:…|prompt:…|gen:…|parser:…|metric:…|agg:…|unit:…`.

Two numbers are comparable when every part both signatures have agrees. A part only one of them has (a
results file written before kobench recorded it) is *unknown*, not a difference: it is shown, and never
makes two numbers incomparable on its own.
"""

from __future__ import annotations

import re

# A signature part is "key:value"; the first part is the task name. Values may hold "|" (stop strings
# such as <|im_end|>), so a piece that does not start like a key continues the previous part.
_KEY = re.compile(r"^[A-Za-z][\w.-]*:")
UNKNOWN = "unknown"


def signature_parts(signature: str) -> dict[str, str]:
    """{"task": name, "data": "sha256:..", "prompt": "2025-07", ...} from a "|"-joined signature."""
    pieces = signature.split("|")
    parts: list[str] = [pieces[0]]
    for piece in pieces[1:]:
        if _KEY.match(piece):
            parts.append(piece)
        else:
            parts[-1] += "|" + piece
    out = {"task": parts[0]}
    for n, part in enumerate(parts[1:], start=1):
        key, _, value = part.partition(":")
        out[key if key not in out else f"{key}#{n}"] = value
    return out


def signature_differences(baseline: str, candidate: str) -> list[str]:
    """["prompt: 2025-07 -> 2025-06", ...]: the parts both signatures have that differ, in order."""
    if baseline == candidate:
        return []
    a, b = signature_parts(baseline), signature_parts(candidate)
    return [f"{key}: {a[key]} -> {b[key]}" for key in a if key in b and a[key] != b[key]]


def signature_unknowns(baseline: str, candidate: str) -> list[str]:
    """["unit: unknown -> row", ...]: the parts only one signature has (an older results file)."""
    a, b = signature_parts(baseline), signature_parts(candidate)
    return [
        f"{key}: {a.get(key, UNKNOWN)} -> {b.get(key, UNKNOWN)}"
        for key in dict.fromkeys([*a, *b])
        if (key in a) != (key in b)
    ]


def signatures_agree(a: str, b: str) -> bool:
    """Comparable: every part both have is the same (parts only one has are unknown, not different)."""
    return not signature_differences(a, b)

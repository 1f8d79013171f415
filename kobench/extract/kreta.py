"""KRETA's published answer parser, reproduced up to the point where it guesses.

Source: GitHub tabtoyou/KRETA (commit c273302ade2c330f7afb7794cbbdd1ab0a3e0106; eval/ last changed in
d552fa1), eval/evaluate.py `kotextvqa_process_results` -> `get_multi_choice_info` +
`parse_multi_choice_response` (MMMU-Pro's multiple-choice parser with a leading "Answer:" stage), scored
`parsed_pred == answer`. When none of its stages finds a letter it returns `random.choice(all_choices)`;
`kreta_noguess` returns None there instead, so those rows are unparsed (scored wrong, counted). As the
published parser returns a letter for every other response, the protocol pipeline's unparsed rows are
exactly the rows the published evaluation would have guessed, and a published score is, in expectation,
the `kreta-noguess` accuracy plus a quarter of that unparsed share (one of four letters drawn at random).
"""

from __future__ import annotations

from collections.abc import Sequence

ANSWER_TAG = "Answer:"
# Stripped from both ends, one mark after the other in this order, before the letter forms are looked for.
EDGE_MARKS = (",", ".", "!", "?", ";", ":", "'")
# The letter forms, tried in this order; the first form that any letter takes is the one used.
LETTER_FORMS = ("({})", "{} ", "{}.")
# The option-text stage runs only on responses of more than this many whitespace-separated words.
MIN_WORDS_FOR_TEXT = 5


def _tagged(response: str, letters: Sequence[str]) -> str | None:
    """The one letter that occurs (anywhere, as a substring) after the last "Answer:", if just one does."""
    at = response.rfind(ANSWER_TAG)
    if at < 0:
        return None
    tail = response[at + len(ANSWER_TAG) :].strip()
    present = [letter for letter in letters if letter in tail]
    return present[0] if len(present) == 1 else None


def _padded(response: str) -> str:
    for mark in EDGE_MARKS:
        response = response.strip(mark)
    return f" {response} "


def _latest(candidates: list[str], positions: list[int]) -> str:
    """The candidate at the largest position; on a tie the first (numpy.argmax, as published)."""
    best = max(range(len(candidates)), key=lambda i: (positions[i], -i))
    return candidates[best]


def kreta_noguess(response: str, options: Sequence[tuple[str, str]]) -> str | None:
    """The letter KRETA's evaluate.py credits, or None where it would draw one at random.

    1. After the last "Answer:" (case-sensitive), stripped: the letters A-D found anywhere in it; exactly
       one found is the answer ("Answer: **B**" is B; "Answer: Based on C" holds B and C and falls through).
    2. Else the response, stripped of `, . ! ? ; : '` at both ends (one mark after another) and padded
       with a space each side, is searched for "(X)", then (none found) "X ", then "X.", each letter in
       turn: every letter of the first form found is a candidate.
    3. Else, on more than five words, each option whose text (non-empty) occurs in it, case-insensitively.
    Several candidates: the one whose "(X)" (if the brackets found them), " X " (the two other letter
    forms; -1 when only "X " or "X." occurs) or option text occurs last; a tie goes to the first letter.
    The letters are the options given, in order (KRETA always has A-D)."""
    letters = [letter for letter, _ in options]
    tagged = _tagged(response, letters)
    if tagged is not None:
        return tagged
    text = _padded(response)
    for form in LETTER_FORMS:
        candidates = [letter for letter in letters if form.format(letter) in text]
        if candidates:
            marker = "({})" if form == "({})" else " {} "
            return _latest(candidates, [text.rfind(marker.format(c)) for c in candidates])
    if len(text.split()) <= MIN_WORDS_FOR_TEXT:
        return None  # the published code guesses here
    lowered = text.lower()
    named = [(letter, str(body).lower()) for letter, body in options if body]
    candidates = [letter for letter, body in named if body in lowered]
    if not candidates:
        return None  # ... and here
    found = dict(named)
    return _latest(candidates, [lowered.rfind(found[c]) for c in candidates])

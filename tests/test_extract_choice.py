"""Tests for kobench.extract.choice: which single option a free-form response commits to (or None)."""

from __future__ import annotations

import pytest

from kobench.extract.choice import EXTRACTOR_NAME, EXTRACTOR_VERSION, extract_choice

FRUITS = [("A", "사과"), ("B", "배"), ("C", "포도"), ("D", "귤")]
# Option texts that contain each other: "사과" must not be read as "사과나무" or the other way round.
NESTED = [("A", "사과"), ("B", "사과나무"), ("C", "포도"), ("D", "귤")]
FIVE = [("A", "하나"), ("B", "둘"), ("C", "셋"), ("D", "넷"), ("E", "다섯")]
THREE = [("A", "서울"), ("B", "부산"), ("C", "대구")]
ANIMALS = [("A", "cat"), ("B", "dog"), ("C", "bird"), ("D", "fish")]
# Two options whose texts are equal after case-folding: answering with that text names neither.
TWINS = [("A", "Apple"), ("B", "apple"), ("C", "pear"), ("D", "plum")]

LONG_KO = (
    "이미지를 보면 과일이 바구니에 담겨 있습니다. A는 색이 맞지 않아 틀렸고, C도 모양이 달라서 아니므로 "
    "제외합니다. D는 크기가 너무 작습니다. 따라서 정답은 B입니다."
)
LONG_EN = (
    "Let's look at each option. A shows a red fruit, which does not match. B looks plausible. "
    "D is too small. After comparing A, B and D carefully:\nFinal answer: C"
)

CASES = [
    # Bare letters and formats
    ("B", FRUITS, "B", "bare"),
    ("b", FRUITS, "B", "bare-lower"),
    ("(B)", FRUITS, "B", "parens"),
    ("B.", FRUITS, "B", "dot"),
    ("B)", FRUITS, "B", "close-paren"),
    ("[B]", FRUITS, "B", "brackets"),
    ("**B**", FRUITS, "B", "bold"),
    ("`C`", FRUITS, "C", "code"),
    ("Ｂ", FRUITS, "B", "fullwidth"),
    ("Ｂ．", FRUITS, "B", "fullwidth-dot"),
    ("  D  \n", FRUITS, "D", "whitespace"),
    ('"B"', FRUITS, "B", "double-quotes"),
    ("'C'", FRUITS, "C", "single-quotes"),
    ("(b)", FRUITS, "B", "parens-lower"),
    ("②", FRUITS, "B", "circled-2"),
    ("④번", FRUITS, "D", "circled-4-beon"),
    ("정답은 ③입니다", FRUITS, "C", "circled-in-sentence"),
    ("⑤", FRUITS, None, "circled-beyond-options"),
    ("B번", FRUITS, "B", "beon"),
    ("Ⓑ", FRUITS, "B", "circled-letter"),
    ("- B", FRUITS, "B", "bullet"),
    ("### 정답\nB", FRUITS, "B", "heading"),
    # Korean phrasings
    ("정답은 B입니다", FRUITS, "B", "ko-jeongdap-eun"),
    ("정답은 B입니다.", FRUITS, "B", "ko-jeongdap-eun-dot"),
    ("정답: B", FRUITS, "B", "ko-jeongdap-colon"),
    ("답: B", FRUITS, "B", "ko-dap-colon"),
    ("답은 (B)", FRUITS, "B", "ko-dap-eun-parens"),
    ("B번입니다", FRUITS, "B", "ko-beon-imnida"),
    ("B가 정답입니다", FRUITS, "B", "ko-ga-jeongdap"),
    ("정답은 B번 배입니다", FRUITS, "B", "ko-beon-with-text"),
    ("B) 배", FRUITS, "B", "ko-label-text"),
    ("제 답은 B예요", FRUITS, "B", "ko-je-dap-yeyo"),
    ("보기 B", FRUITS, "B", "ko-bogi"),
    ("선택지 B", FRUITS, "B", "ko-seontaekji"),
    ("옵션 B", FRUITS, "B", "ko-option"),
    ("정답은 보기 C입니다.", FRUITS, "C", "ko-jeongdap-bogi"),
    ("**정답: D**", FRUITS, "D", "ko-bold-statement"),
    ("B가 맞습니다.", FRUITS, "B", "ko-matseumnida"),
    ("최종 답: D", FRUITS, "D", "ko-final"),
    ("정답은 A가 아니라 B입니다.", FRUITS, "B", "ko-not-a-but-b"),
    ("A는 정답이 아닙니다. 정답은 C입니다.", FRUITS, "C", "ko-negated-then-stated"),
    ("C\n\n설명: 포도는 보라색이기 때문입니다.", FRUITS, "C", "ko-letter-then-explanation"),
    ("B입니다. A는 사과이고 C는 포도이므로 답이 될 수 없습니다.", FRUITS, "B", "ko-answer-then-reasons"),
    ("B라고 생각합니다.", FRUITS, "B", "ko-rago-saenggak"),
    ("A가 정답이라고 생각할 수 있지만 실제 정답은 B입니다.", FRUITS, "B", "ko-concession"),
    ("선택: C", FRUITS, "C", "ko-seontaek-colon"),
    # English phrasings
    ("The answer is B", FRUITS, "B", "en-answer-is"),
    ("Answer: B", FRUITS, "B", "en-answer-colon"),
    ("The correct option is (B).", FRUITS, "B", "en-correct-option"),
    ("I choose B", FRUITS, "B", "en-i-choose"),
    ("Option B", FRUITS, "B", "en-option"),
    ("B is correct", FRUITS, "B", "en-is-correct"),
    ("A is correct.", FRUITS, "A", "en-a-is-correct"),
    ("The answer is A because the fruit is red.", FRUITS, "A", "en-a-because"),
    ("I think it's D.", FRUITS, "D", "en-its"),
    ("**Answer:** C", FRUITS, "C", "en-bold-answer"),
    ("The answer is B, not C.", FRUITS, "B", "en-b-not-c"),
    ("I would not choose A. The answer is D.", FRUITS, "D", "en-not-choose"),
    ("Answer: A. A red apple is shown.", FRUITS, "A", "en-a-then-article-sentence"),
    ("B is the correct answer.", FRUITS, "B", "en-is-the-correct-answer"),
    ("I think A.", FRUITS, "A", "en-i-think"),
    ("Is it B? No. It is C.", FRUITS, "C", "en-question-then-answer"),
    # Reasoning followed by a final answer
    (LONG_KO, FRUITS, "B", "reason-ko-final"),
    (LONG_EN, FRUITS, "C", "reason-en-final-answer"),
    ("A가 정답처럼 보이지만 색이 다릅니다. 따라서 정답은 D입니다.", FRUITS, "D", "reason-hedge-then-final"),
    ("정답은 A입니다. 다시 보니 틀렸네요. 최종 답: C", FRUITS, "C", "reason-self-correct-final"),
    ("So the answer is D.", FRUITS, "D", "reason-so"),
    ("The image shows a pear. So B.", FRUITS, "B", "reason-so-letter"),
    ("B is wrong, so the answer is C", FRUITS, "C", "reason-en-wrong-then-answer"),
    ("Step by step... \\boxed{C}", FRUITS, "C", "reason-boxed"),
    ("A. 사과: 색이 다름\nB. 배: 맞음\nC. 포도: 아님\n정답은 B", FRUITS, "B", "reason-listed-then-stated"),
    # Think blocks
    ("<think>A일까? C일까? 정답은 A</think>B", FRUITS, "B", "think-closed"),
    ("<think>\n정답은 A인 것 같다\n</think>\n\n정답은 C입니다.", FRUITS, "C", "think-closed-korean"),
    ("<think>Maybe A. The answer is A", FRUITS, None, "think-unclosed"),
    ("<think>정답은 B입니다", FRUITS, None, "think-unclosed-ko"),
    ("A는 아니고 C가 맞는 것 같다.</think>C", FRUITS, "C", "think-close-only"),
    ("<think>let me think about B</think>", FRUITS, None, "think-nothing-after"),
    ("<THINK>B</THINK> Answer: D", FRUITS, "D", "think-uppercase-tags"),
    # The option's text instead of its letter
    ("배", FRUITS, "B", "text-bare"),
    ("정답은 포도입니다", FRUITS, "C", "text-jeongdap"),
    ("포도가 정답입니다.", FRUITS, "C", "text-ga-jeongdap"),
    ("'귤'", FRUITS, "D", "text-quoted"),
    ("사과", NESTED, "A", "text-nested-short"),
    ("사과나무", NESTED, "B", "text-nested-long"),
    ("정답은 사과나무입니다.", NESTED, "B", "text-nested-long-sentence"),
    ("정답은 사과입니다.", NESTED, "A", "text-nested-short-sentence"),
    ("DOG", ANIMALS, "B", "text-casefold"),
    ("The answer is a bird.", ANIMALS, "C", "text-en-article"),
    ("A dog.", ANIMALS, "B", "text-article-not-letter"),
    ("apple", TWINS, None, "text-duplicate-options"),
    ("빨간 사과", FRUITS, None, "text-not-exact"),
    ("사과 또는 배", FRUITS, None, "text-two-options"),
    # Korean particles glued to letters
    ("B를 선택합니다", FRUITS, "B", "particle-reul"),
    ("(B)를", FRUITS, "B", "particle-parens-reul"),
    ("답은 (C)를 골랐습니다", FRUITS, "C", "particle-golla"),
    ("B와 C", FRUITS, None, "particle-wa-two"),
    ("B와 C 중에서 C를 선택합니다.", FRUITS, "C", "particle-wa-then-choose"),
    ("A입니다", FRUITS, "A", "particle-imnida"),
    ("D요", FRUITS, "D", "particle-yo"),
    ("C로 답하겠습니다.", FRUITS, "C", "particle-ro-dap"),
    ("B를 선택하지 않겠습니다.", FRUITS, None, "particle-negated-choice"),
    # False positives
    ("A cat is sitting on the mat.", FRUITS, None, "fp-article"),
    ("A red apple is on the table.", FRUITS, None, "fp-article-adjective"),
    ("Answer: A dog", FRUITS, None, "fp-article-after-cue"),
    ("So A cat is here.", FRUITS, None, "fp-article-after-so"),
    ("BANANA", FRUITS, None, "fp-inside-word"),
    ("CD player", FRUITS, None, "fp-cd"),
    ("I", FRUITS, None, "fp-pronoun"),
    ("I don't know.", FRUITS, None, "fp-pronoun-sentence"),
    ("A, B, C 모두 아니다", FRUITS, None, "fp-all-listed"),
    ("A4 용지에 적힌 글자입니다.", FRUITS, None, "fp-a4"),
    ("모르겠습니다.", FRUITS, None, "refusal-ko"),
    ("I cannot determine the answer from this image.", FRUITS, None, "refusal-en"),
    ("2번", FRUITS, None, "plain-digit-not-mapped"),
    # Ambiguous or self-contradicting
    ("A\nB", FRUITS, None, "ambig-two-lines"),
    ("A 또는 B", FRUITS, None, "ambig-or"),
    ("정답은 B와 C입니다.", FRUITS, None, "ambig-two-stated"),
    ("The answer is A or B.", FRUITS, None, "ambig-en-or"),
    ("정답은 A입니다. 정답은 C입니다.", FRUITS, None, "ambig-two-statements"),
    ("A. 사과\nB. 배\nC. 포도\nD. 귤", FRUITS, None, "ambig-options-echoed"),
    ("A: 사과, B: 배", FRUITS, None, "ambig-labels-one-line"),
    ("(A) 사과 (B) 배 (C) 포도 (D) 귤", FRUITS, None, "ambig-parens-echoed-one-line"),
    ("A. 사과 B. 배 C. 포도", FRUITS, None, "ambig-dots-echoed-one-line"),
    ("Therefore, B and C.", FRUITS, None, "ambig-therefore-two"),
    # Conservative: "B and C" is read as one list naming two letters, even though "C is wrong" follows.
    ("The answer is B and C is wrong.", FRUITS, None, "ambig-and-list"),
    ("정답은 B일까요?", FRUITS, None, "ambig-question"),
    # Repeated letter
    ("B. B입니다", FRUITS, "B", "repeat-same"),
    ("정답: B\n\nB가 정답인 이유는 배가 노랗기 때문입니다.", FRUITS, "B", "repeat-with-reason"),
    # Five options A-E, three options A-C
    ("E", FIVE, "E", "five-bare-e"),
    ("정답은 E입니다.", FIVE, "E", "five-stated-e"),
    ("⑤", FIVE, "E", "five-circled-5"),
    ("다섯", FIVE, "E", "five-text"),
    ("D", THREE, None, "three-d-invalid"),
    ("정답은 D입니다", THREE, None, "three-d-stated-invalid"),
    ("④", THREE, None, "three-circled-4-invalid"),
    ("C", THREE, "C", "three-c"),
    ("부산", THREE, "B", "three-text"),
    # Version 2 forms: a gloss, spaced brackets, a reason, emphasis, a pointing symbol, invisible characters
    ("B (배)", FRUITS, "B", "v2-letter-gloss"),
    ("B (and maybe C)", FRUITS, None, "v2-gloss-naming-another-letter"),
    ("A (very) nice cat is sitting.", ANIMALS, None, "v2-article-with-parentheses"),
    ("( B )", FRUITS, "B", "v2-spaced-parens"),
    ("[ C ]", FRUITS, "C", "v2-spaced-brackets"),
    ("C since the animal has feathers.", ANIMALS, "C", "v2-letter-since"),
    ("B as well as C are wrong.", ANIMALS, None, "v2-as-well-as"),
    ("Definitely B!", ANIMALS, "B", "v2-emphatic"),
    ("Definitely not B.", ANIMALS, None, "v2-emphatic-negated"),
    ("The correct one is clearly C.", ANIMALS, "C", "v2-correct-one"),
    ("→ B", FRUITS, "B", "v2-arrow"),
    ("✅ B", FRUITS, "B", "v2-check-mark"),
    ("A가 아니라 C입니다", FRUITS, "C", "v2-ko-not-a-but-c"),
    ("Not B but D.", ANIMALS, "D", "v2-not-but"),
    ("Option (A) is wrong", FRUITS, None, "v2-label-taken-back"),
    ("\ufeffB\u200b", FRUITS, "B", "v2-bom-zero-width"),
    ("The answer is b.", ANIMALS, "B", "v2-lowercase-after-cue"),
    ("The answer is a dog.", FRUITS, None, "v2-article-after-cue"),
    ("### ANSWER\nB", FRUITS, "B", "v2-answer-heading"),
    ("No, the car is larger.", [("A", "Yes"), ("B", "No")], "B", "v2-opens-with-no"),
    ("No idea.", [("A", "Yes"), ("B", "No")], None, "v2-no-idea"),
    ("최대오차(E) = 2\n\nD", FRUITS, "D", "v2-name-in-parens-not-a-label"),
    ("Therefore, the answer is <|begin_of_box|>B<|end_of_box|>", FRUITS, "B", "v2-special-tokens"),
    ("The best answer is: $\\boxed{\\text{(B) 25\\%}}$.", FRUITS, "B", "v2-latex-text"),
]


@pytest.mark.parametrize(
    ("response", "options", "expected"),
    [pytest.param(r, o, e, id=i) for r, o, e, i in CASES],
)
def test_extract_choice(response: str, options: list[tuple[str, str]], expected: str | None) -> None:
    assert extract_choice(response, options) == expected


def test_table_is_large_and_ids_unique() -> None:
    ids = [case[3] for case in CASES]
    assert len(ids) >= 90
    assert len(set(ids)) == len(ids)


def test_result_is_none_or_a_given_letter() -> None:
    for response, options, _, case_id in CASES:
        result = extract_choice(response, options)
        assert result is None or result in {letter for letter, _ in options}, case_id


@pytest.mark.parametrize("response", [None, "", " ", "\n\t  \n", "**", "<think></think>", "。"])
def test_empty_gives_none(response: str | None) -> None:
    assert extract_choice(response, FRUITS) is None


def test_no_options_gives_none() -> None:
    assert extract_choice("B", []) is None


def test_lowercase_letters_in_options_come_back_uppercase() -> None:
    assert extract_choice("정답은 B입니다", [("a", "사과"), ("b", "배")]) == "B"


def test_letter_wins_over_option_text_of_another_option() -> None:
    # The letter is what the response states; the text after it is not cross-checked.
    assert extract_choice("정답은 B번 사과입니다", FRUITS) == "B"


def test_same_answer_whether_or_not_wrapped_in_think_block() -> None:
    for response, options, expected, case_id in CASES:
        if "<think" in response.lower() or "</think" in response.lower():
            continue
        wrapped = f"<think>Option A? Option D? 정답은 A</think>\n{response}"
        assert extract_choice(wrapped, options) == expected, case_id


def test_long_repetitive_output() -> None:
    # Degenerate generations (the same phrase until max_new_tokens); bench/extract_speed.py times these.
    assert extract_choice("정답은 B " * 5000, FRUITS) == "B"
    assert extract_choice("A와 " * 5000 + "C", FRUITS) is None


def test_identity() -> None:
    assert EXTRACTOR_NAME == "kobench-choice"
    assert EXTRACTOR_VERSION == "2"


# Ten options (KoBALT): the options are in the question, so only the letters are known.
TEN = [(letter, "") for letter in "ABCDEFGHIJ"]
EIGHT = [(letter, "") for letter in "ABCDEFGH"]


@pytest.mark.parametrize(
    "response,expected",
    [
        ("정답은 I입니다.", "I"),
        ("정답은 J입니다.", "J"),
        ("(I)", "I"),
        ("I", "I"),
        ("J번", "J"),
        ("I think the answer is J.", "J"),  # the pronoun names nothing
        ("I'd say C.", "C"),
        ("I believe it is D.", "D"),
        ("Answer: I", "I"),
        ("I is correct.", "I"),
        ("따라서 정답은 I와 J입니다.", None),  # two stated answers
        ("A는 틀렸고 I도 아니므로, 정답은 H입니다.", "H"),
        ("I think so.", None),
        ("⑨", "I"),
        ("⑩번", "J"),
        ("I.", "I"),
        ("I. 가상의 표현 1-9", "I"),
    ],
)
def test_ten_options_read_i_and_j(response: str, expected: str | None) -> None:
    assert extract_choice(response, TEN) == expected


@pytest.mark.parametrize("response", ["정답은 I입니다.", "(I)", "I. 가상의 표현", "정답은 J입니다."])
def test_eight_options_never_read_i_or_j(response: str) -> None:
    assert extract_choice(response, EIGHT) is None

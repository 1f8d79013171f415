"""IFEval-Ko: IFEval's checks (kobench.metrics.ifeval_checks) on hand-labelled responses, against an
independent re-implementation of lm-eval's instructions.py and utils.py (tests/ifeval_reference.py) on
several hundred generated responses, and the task run end to end from a synthetic local mirror of
allganize/IFEval-Ko (tests/fixtures_ko_ifeval.py) with hand-computed accuracies."""

from __future__ import annotations

import itertools
import json
import unicodedata
from pathlib import Path

import ifeval_reference as ref
import pytest
from fixtures_ko_ifeval import REPEAT, ROWS, kwargs_struct, write_ko_ifeval
from scripted_model import ScriptedModel, register

from kobench.api import evaluate
from kobench.metrics.ifeval import follow_instructions, loose_variants, row_instructions
from kobench.metrics.ifeval_checks import (
    AS_PUBLISHED,
    INSTRUCTIONS,
    InstructionError,
    Rules,
    instruction_args,
)
from kobench.metrics.ifeval_text import count_sentences, count_words, detect_language, missing_package
from kobench.results import load_results

HAS_LANGDETECT = missing_package("langdetect") is None
needs_langdetect = pytest.mark.skipif(not HAS_LANGDETECT, reason="langdetect is not installed")
KOBENCH = Rules(particles_attach=True)


def check(instruction_id: str, args: dict, response: str, rules: Rules = AS_PUBLISHED) -> tuple[bool, bool]:
    followed = follow_instructions(row_instructions([instruction_id], [kwargs_struct(args)]), response, rules)
    return followed.strict[0], followed.loose[0]


# (instruction, arguments, response, followed strictly, followed loosely): written and labelled by hand.
LABELLED = [
    ("punctuation:no_comma", {}, "쉼표 없이 씁니다.", True, True),
    ("punctuation:no_comma", {}, "사과, 배, 감", False, False),
    ("startend:quotation", {}, '"따옴표 안의 답"', True, True),
    ("startend:quotation", {}, "따옴표 없는 답", False, False),
    ("startend:quotation", {}, '"답"\n설명 한 줄', False, True),  # loose: the last line removed
    ("detectable_format:title", {}, "<<봄의 노래>>\n본문", True, True),
    ("detectable_format:title", {}, "<<  >> 빈 제목", False, False),
    ("detectable_format:json_format", {}, '```json\n{"가": 1}\n```', True, True),
    ("detectable_format:json_format", {}, '다음과 같습니다.\n{"가": 1}', False, True),
    ("detectable_format:json_format", {}, "{가: 1}", False, False),
    ("detectable_format:constrained_response", {}, "제 답변은 아마도입니다.", True, True),
    ("detectable_format:constrained_response", {}, "My answer is yes.", False, False),  # the Korean options
    ("detectable_format:number_bullet_lists", {"num_bullets": 2}, "* 하나\n* 둘", True, True),
    (
        "detectable_format:number_bullet_lists",
        {"num_bullets": 2},
        "- 가\n- 나\n- 다\n- 라\n- 마\n- 바",
        False,
        False,
    ),
    ("detectable_format:number_bullet_lists", {"num_bullets": 2}, "목록:\n* 하나\n- 둘\n- 끝", False, True),
    ("detectable_format:number_highlighted_sections", {"num_highlights": 2}, "*가* 와 **나**", True, True),
    ("detectable_format:number_highlighted_sections", {"num_highlights": 2}, "*가* 와 ** **", False, False),
    (
        "detectable_format:multiple_sections",
        {"section_spliter": "섹션", "num_sections": 2},
        "섹션 1\n가\n섹션 2\n나",
        True,
        True,
    ),
    (
        "detectable_format:multiple_sections",
        {"section_spliter": "섹션", "num_sections": 3},
        "섹션 1 가 섹션 2 나",
        False,
        False,
    ),
    (
        "detectable_format:multiple_sections",
        {"section_spliter": "SECTION", "num_sections": 1},
        "SECTION 1\n가",
        True,
        True,
    ),
    ("length_constraints:number_paragraphs", {"num_paragraphs": 2}, "가\n***\n나", True, True),
    ("length_constraints:number_paragraphs", {"num_paragraphs": 2}, "가\n***\n***\n나", False, False),
    ("length_constraints:number_paragraphs", {"num_paragraphs": 2}, "***\n가\n***\n나\n***", True, True),
    (
        "length_constraints:nth_paragraph_first_word",
        {"num_paragraphs": 2, "nth_paragraph": 2, "first_word": "그러나"},
        "가.\n\n그러나, 나.",
        True,
        True,
    ),
    # Korean glues particles to words: "그러나는" is not the word "그러나" for IFEval's first-word check.
    (
        "length_constraints:nth_paragraph_first_word",
        {"num_paragraphs": 2, "nth_paragraph": 2, "first_word": "그러나"},
        "가.\n\n그러나는 나.",
        False,
        False,
    ),
    (
        "length_constraints:nth_paragraph_first_word",
        {"num_paragraphs": 2, "nth_paragraph": 1, "first_word": "첫째"},
        '"첫째" 문단\n\n둘째 문단\n\n셋째',
        False,
        True,
    ),
    (
        "length_constraints:number_words",
        {"num_words": 5, "relation": "at least"},
        "하나 둘 셋 넷 다섯",
        True,
        True,
    ),
    (
        "length_constraints:number_words",
        {"num_words": 6, "relation": "less than"},
        "3.5%는 작은 수다",
        True,
        True,
    ),  # 3|5|는|작은|수다
    (
        "length_constraints:number_words",
        {"num_words": 5, "relation": "less than"},
        "3.5%는 작은 수다",
        False,
        False,
    ),
    (
        "length_constraints:number_sentences",
        {"num_sentences": 3, "relation": "at least"},
        "가요. 나요! 다요?",
        True,
        True,
    ),
    (
        "length_constraints:number_sentences",
        {"num_sentences": 2, "relation": "less than"},
        "첫 문장입니다. 둘째 문장입니다.",
        False,
        False,
    ),
    (
        "length_constraints:number_sentences",
        {"num_sentences": 2, "relation": "less than"},
        "한 문장뿐입니다.",
        True,
        True,
    ),
    ("keywords:existence", {"keywords": ["바다", "등대"]}, "등대가 바다를 비춘다.", True, True),
    ("keywords:existence", {"keywords": ["바다", "등대"]}, "등대만 있다.", False, False),
    ("keywords:existence", {"keywords": ["Seoul"]}, "I love SEOUL", True, True),  # case-insensitive
    (
        "keywords:frequency",
        {"keyword": "김치", "frequency": 2, "relation": "at least"},
        "김치찌개와 김치",
        True,
        True,
    ),
    (
        "keywords:frequency",
        {"keyword": "김치", "frequency": 2, "relation": "less than"},
        "김치찌개와 김치",
        False,
        False,
    ),
    ("keywords:forbidden_words", {"forbidden_words": ["사과"]}, "배를 먹었다.", True, True),
    ("keywords:forbidden_words", {"forbidden_words": ["사과"]}, "사과 한 개", False, False),
    (
        "keywords:forbidden_words",
        {"forbidden_words": ["사과"]},
        "사과를 먹었다.",
        True,
        True,
    ),  # \b...\b misses it
    (
        "detectable_content:number_placeholders",
        {"num_placeholders": 2},
        "[이름]님, [주소]로 보냅니다.",
        True,
        True,
    ),
    ("detectable_content:number_placeholders", {"num_placeholders": 2}, "[이름]님께", False, False),
    ("detectable_content:postscript", {"postscript_marker": "P.S."}, "본문\nP.S. 추신입니다.", True, True),
    ("detectable_content:postscript", {"postscript_marker": "P.P.S"}, "본문\np. p. s 추신", True, True),
    ("detectable_content:postscript", {"postscript_marker": "P.S."}, "본문\n추신: 없음", False, False),
    ("detectable_content:postscript", {"postscript_marker": "추신:"}, "본문\n추신: 있음", True, True),
    ("combination:two_responses", {}, "답 하나\n******\n답 둘", True, True),
    ("combination:two_responses", {}, "같은 답\n******\n같은 답", False, False),
    ("combination:two_responses", {}, "가\n******\n\n******\n나", False, False),
    ("combination:repeat_prompt", {"prompt_to_repeat": REPEAT}, f"{REPEAT}\n김치입니다.", True, True),
    ("combination:repeat_prompt", {"prompt_to_repeat": REPEAT}, f"네.\n{REPEAT}\n김치입니다.", False, True),
    (
        "startend:end_checker",
        {"end_phrase": "다른 질문이 있나요?"},
        '답입니다. 다른 질문이 있나요?"',
        True,
        True,
    ),
    (
        "startend:end_checker",
        {"end_phrase": "다른 질문이 있나요?"},
        "다른 질문이 있나요? 감사합니다.",
        False,
        False,
    ),
    (
        "startend:end_checker",
        {"end_phrase": "다른 질문이 있나요?"},
        "답. 다른 질문이 있나요?\n**끝**",
        False,
        True,
    ),
]


@pytest.mark.parametrize("instruction_id,args,response,strict,loose", LABELLED)
def test_hand_labelled_responses(instruction_id, args, response, strict, loose) -> None:
    assert check(instruction_id, args, response) == (strict, loose)


def test_every_check_has_a_labelled_pass_and_fail() -> None:
    labelled = {(i, s) for i, _, _, s, _ in LABELLED}
    languages = {"language:response_language", "change_case:english_capital", "change_case:english_lowercase"}
    for instruction_id in set(INSTRUCTIONS) - languages - {"keywords:letter_frequency"}:
        assert (instruction_id, True) in labelled and (instruction_id, False) in labelled, instruction_id


def test_letter_frequency_counts_the_letter_case_blind() -> None:
    args = {"letter": "a", "let_frequency": 3, "let_relation": "at least"}
    assert check("keywords:letter_frequency", args, "A banana") == (True, True)
    assert check("keywords:letter_frequency", args, "김밥 a") == (False, False)


@needs_langdetect
def test_language_checks_hand_labelled() -> None:
    ko = {"language": "ko"}
    assert check("language:response_language", ko, "설날에는 떡국을 먹고 세배를 합니다.") == (True, True)
    assert check("language:response_language", ko, "On New Year's Day we eat rice cake soup.") == (
        False,
        False,
    )
    assert check("language:response_language", ko, "12345 !!!") == (True, True)  # no features: followed
    assert check("change_case:english_capital", {}, "THIS IS WRITTEN IN CAPITAL LETTERS ONLY") == (True, True)
    assert check("change_case:english_capital", {}, "This is not all capitals") == (False, False)
    assert check("change_case:english_lowercase", {}, "this is written in lower case only") == (True, True)
    assert check("change_case:english_lowercase", {}, "이것은 한국어입니다") == (False, False)  # not islower


def test_an_empty_response_follows_nothing() -> None:
    assert check("punctuation:no_comma", {}, "") == (False, False)
    assert check("punctuation:no_comma", {}, "  \n ") == (False, False)


def test_kobench_counts_a_forbidden_word_with_a_particle() -> None:
    args = {"forbidden_words": ["사과"]}
    assert check("keywords:forbidden_words", args, "사과를 먹었다.") == (True, True)
    assert check("keywords:forbidden_words", args, "사과를 먹었다.", KOBENCH) == (False, False)
    assert check("keywords:forbidden_words", args, "풋사과", KOBENCH) == (True, True)  # inside a word: not it


def test_loose_variants_are_lm_evals_eight_in_order() -> None:
    assert loose_variants("*첫* 줄\n가운데\n*끝*") == [
        "*첫* 줄\n가운데\n*끝*",
        "첫 줄\n가운데\n끝",
        "가운데\n*끝*",
        "*첫* 줄\n가운데",
        "가운데",
        "가운데\n끝",
        "첫 줄\n가운데",
        "가운데",
    ]


def test_counting_is_as_documented() -> None:
    assert count_words("안녕하세요, 반갑습니다! 3.5%") == 4
    assert count_words("") == 0
    assert count_sentences("안녕하세요. 반갑습니다! 오늘은 어때요?") == 3
    assert count_sentences("Dr. Kim은 3.5%를 말했다. 그렇다.") == 2
    assert count_sentences("") == 0


@needs_langdetect
def test_language_detection_is_seeded() -> None:
    text = "짧다 ok"
    assert len({detect_language(text) for _ in range(20)}) == 1


@pytest.mark.parametrize(
    "instruction_id,kwargs,why",
    [
        ("keywords:existence", {}, "no keywords"),
        ("keywords:existence", {"keywords": []}, "no keywords"),  # lm-eval drops falsy values
        ("length_constraints:number_words", {"num_words": 0, "relation": "less than"}, "no num_words"),
        ("length_constraints:number_words", {"num_words": 10, "relation": "at most"}, "is not one of"),
        (
            "keywords:letter_frequency",
            {"letter": "가", "let_frequency": 2, "let_relation": "at least"},
            "Latin",
        ),
        (
            "change_case:capital_word_frequency",
            {"capital_frequency": 2, "capital_relation": "at least"},
            "nltk",
        ),
        ("length_constraints:number_letters", {"num_letters": 100}, "unknown instruction"),
        (
            "length_constraints:nth_paragraph_first_word",
            {"num_paragraphs": 2, "nth_paragraph": 3, "first_word": "가"},
            "out of range",
        ),
        ("keywords:existence", {"keywords": ["(괄호"]}, "no regular expression"),
    ],
)
def test_instructions_ifeval_would_draw_at_random_are_refused(instruction_id, kwargs, why) -> None:
    with pytest.raises(InstructionError, match=why):
        instruction_args(instruction_id, kwargs)


def test_a_row_needs_one_kwargs_per_instruction() -> None:
    with pytest.raises(InstructionError, match="one mapping per instruction"):
        row_instructions(["punctuation:no_comma", "startend:quotation"], [{}])
    with pytest.raises(InstructionError, match="not a list"):
        row_instructions([], [])
    # Hub rows carry every argument name, null where unused, and parquet may give 3.0 for an int64 3.
    assert row_instructions(
        ["length_constraints:number_words"], [kwargs_struct({"num_words": 3.0, "relation": "less than"})]
    ) == [("length_constraints:number_words", {"num_words": 3, "relation": "less than"})]


# --- against the independent re-implementation of lm-eval's checks ------------------------------------

CONFIGS = [
    ("punctuation:no_comma", {}),
    ("startend:quotation", {}),
    ("detectable_format:title", {}),
    ("detectable_format:json_format", {}),
    ("detectable_format:constrained_response", {}),
    ("combination:two_responses", {}),
    ("detectable_format:number_bullet_lists", {"num_bullets": 2}),
    ("detectable_format:number_bullet_lists", {"num_bullets": 3}),
    ("detectable_format:number_highlighted_sections", {"num_highlights": 1}),
    ("detectable_format:number_highlighted_sections", {"num_highlights": 3}),
    ("detectable_format:multiple_sections", {"section_spliter": "섹션", "num_sections": 2}),
    ("detectable_format:multiple_sections", {"section_spliter": " SECTION ", "num_sections": 1}),
    ("length_constraints:number_paragraphs", {"num_paragraphs": 2}),
    ("length_constraints:number_paragraphs", {"num_paragraphs": 3}),
    (
        "length_constraints:nth_paragraph_first_word",
        {"num_paragraphs": 2, "nth_paragraph": 2, "first_word": "그러나"},
    ),
    (
        "length_constraints:nth_paragraph_first_word",
        {"num_paragraphs": 3, "nth_paragraph": 1, "first_word": "First"},
    ),
    ("length_constraints:number_words", {"num_words": 8, "relation": "at least"}),
    ("length_constraints:number_words", {"num_words": 8, "relation": "less than"}),
    ("length_constraints:number_sentences", {"num_sentences": 2, "relation": "at least"}),
    ("length_constraints:number_sentences", {"num_sentences": 3, "relation": "less than"}),
    ("keywords:existence", {"keywords": ["바다", "seoul"]}),
    ("keywords:frequency", {"keyword": " 김치 ", "frequency": 2, "relation": "at least"}),
    ("keywords:frequency", {"keyword": "the", "frequency": 2, "relation": "less than"}),
    ("keywords:forbidden_words", {"forbidden_words": ["사과", "apple", "사과"]}),
    ("keywords:letter_frequency", {"letter": "e", "let_frequency": 3, "let_relation": "at least"}),
    ("detectable_content:number_placeholders", {"num_placeholders": 2}),
    ("detectable_content:postscript", {"postscript_marker": "P.S."}),
    ("detectable_content:postscript", {"postscript_marker": "P.P.S"}),
    ("detectable_content:postscript", {"postscript_marker": "추신"}),
    ("combination:repeat_prompt", {"prompt_to_repeat": REPEAT}),
    ("startend:end_checker", {"end_phrase": "다른 질문이 있나요?"}),
    ("startend:end_checker", {"end_phrase": "Is there anything else I can help with?"}),
]
LANGUAGE_CONFIGS = [
    ("language:response_language", {"language": "ko"}),
    ("language:response_language", {"language": "en"}),
    ("change_case:english_capital", {}),
    ("change_case:english_lowercase", {}),
]


def generated_responses() -> list[str]:
    """Varied responses: Korean and English, markdown, preambles and trailing lines that only the loose
    variants remove, JSON in fences, quotes, sections, paragraphs, bullets, postscripts, empty ones."""
    bodies = [
        "바다가 보이는 마을에 등대가 있다. 밤마다 불빛이 바다를 비춘다.",
        "Seoul is the capital. The city never sleeps, and the food is great.",
        "사과를 먹었다, 그리고 배도 먹었다.",
        "김치찌개와 김치전 그리고 김치.",
        "*강조한 부분*과 **굵은 글씨** 그리고 *또 하나*",
        "* 걷기\n* 수영\n- 자전거",
        "섹션 1\n공원 청소\n섹션 2\n말벗 봉사",
        "SECTION 1 intro SECTION 2 body",
        "첫째 단락.\n***\n둘째 단락.\n***\n셋째 단락.",
        "재택근무는 편하다.\n\n그러나, 소통이 어렵다.",
        "First paragraph here.\n\nSecond one.\n\nThird.",
        '{"평일": "09:00-18:00", "주말": null}',
        '```json\n{"a": [1, 2]}\n```',
        '"가는 말이 고와야 오는 말이 곱다"',
        "<<가을 산행>>\n단풍이 물든 산길.",
        "제 답변은 예입니다.",
        "답 하나\n******\n답 둘",
        "[이름]님, [주소]로 보냅니다.",
        "본문입니다.\nP.S. 고맙습니다.\nP.P.S 또 만나요.",
        "본문\n추신 건강하세요",
        f"{REPEAT}\n김치, 불고기, 비빔밥.",
        "답입니다. 다른 질문이 있나요?",
        "Here you go. Is there anything else I can help with?",
        "THE END IS NEAR AND EVERYONE KNOWS IT",
        "the quick brown fox jumps over the lazy dog",
        "설날에는 가족이 모여 떡국을 먹습니다.",
        "3.5%는 작은 수다. Dr. Kim은 그렇게 말했다.",
        "",
        "   \n  ",
        "e e e eee",
        "Seoul 근처의 바다는 푸르다.",
        "apple 한 개와 사과 한 개, 그리고 풋사과.",
    ]
    wrappers = [
        lambda b: b,
        lambda b: f"물론입니다! 답은 다음과 같습니다.\n{b}",
        lambda b: f"{b}\n도움이 되었기를 바랍니다.",
        lambda b: f"**요약**\n{b}\n*끝*",
        lambda b: b.replace(".", ".\n"),
    ]
    return list(dict.fromkeys(w(b) for b in bodies for w in wrappers))


def _compare(configs) -> int:
    responses = generated_responses()
    compared = 0
    for (instruction_id, args), response in itertools.product(configs, responses):
        kwargs = [kwargs_struct(args)]
        followed = follow_instructions(row_instructions([instruction_id], kwargs), response)
        expected_strict = ref.test_instruction_following_strict(
            [instruction_id], kwargs, "프롬프트", response
        )
        expected_loose = ref.test_instruction_following_loose([instruction_id], kwargs, "프롬프트", response)
        assert list(followed.strict) == expected_strict[1], (instruction_id, args, response)
        assert list(followed.loose) == expected_loose[1], (instruction_id, args, response)
        compared += 1
    return compared


def test_checks_agree_with_the_reference_on_generated_responses() -> None:
    assert len(generated_responses()) >= 100
    assert _compare(CONFIGS) >= 100 * len(CONFIGS)


@needs_langdetect
def test_language_checks_agree_with_the_reference() -> None:
    assert _compare(LANGUAGE_CONFIGS) >= 100


def test_rows_of_several_instructions_agree_with_the_reference() -> None:
    responses = generated_responses()
    for n, (_, prompt, instructions) in enumerate(r for r in ROWS if r[0] != 1017):
        ids = [i for i, _ in instructions]
        kwargs = [kwargs_struct(a) for _, a in instructions]
        for response in responses[n::7]:
            followed = follow_instructions(row_instructions(ids, kwargs), response)
            assert (all(followed.strict), list(followed.strict)) == ref.test_instruction_following_strict(
                ids, kwargs, prompt, response
            )
            assert (all(followed.loose), list(followed.loose)) == ref.test_instruction_following_loose(
                ids, kwargs, prompt, response
            )


# --- end to end --------------------------------------------------------------------------------------

NFD_KIMCHI = unicodedata.normalize("NFD", "겨울에는 김치찌개와 김치전, 그리고 갓 담근 김치가 최고다.")
# key -> (response, per instruction (protocol strict, protocol loose, kobench strict, kobench loose)).
SCRIPT = {
    1001: ("<think>음, 쉼표는 안 되지만, 생각 중</think>서울의 봄은 따뜻하고 벚꽃이 핀다.", [(0, 0, 1, 1)]),
    1002: (
        "<<가을 산행>>\n단풍이 물든 산길을 걷는다.\nP.S. 다음에도 함께 가요.",
        [(1, 1, 1, 1), (1, 1, 1, 1)],
    ),
    1003: (
        "바다가 보이는 마을에 오래된 등대가 서 있다. 밤마다 불빛이 바다를 비춘다. "
        "어부들은 새벽에 배를 띄운다.",
        [(1, 1, 1, 1), (1, 1, 1, 1)],
    ),
    1004: ("추천 운동은 다음과 같습니다.\n* 걷기\n* 수영\n* 자전거\n- 즐거운 주말 되세요", [(0, 1, 0, 1)]),
    1005: ('다음은 이용 시간입니다.\n```json\n{"평일": "09:00-18:00"}\n```', [(0, 1, 0, 1)]),
    1006: (
        "우리 가게에서는 신선한 사과를 매일 아침 들여옵니다 달콤한 배와 향긋한 복숭아도 있습니다 "
        "손님들은 제철 과일을 고르며 즐거워합니다 가격도 저렴하고 품질도 좋아서 단골이 많습니다 "
        "꼭 한번 들러 보세요",
        [(1, 1, 0, 0), (1, 1, 1, 1)],  # 사과를: forbidden for kobench only; 27 words
    ),
    1007: ('"가는 말이 고와야 오는 말이 곱다"\n이 속담을 좋아합니다.', [(0, 1, 0, 1)]),
    1008: ("제 답변은 예입니다.", [(1, 1, 1, 1)]),
    1009: ("*공책*과 *필기구*를 준비하세요. 다른 질문이 있나요?\n(끝)", [(1, 1, 1, 1), (0, 1, 0, 1)]),
    1010: ("", [(0, 0, 0, 0)]),  # an empty answer: unparsed, follows nothing
    1011: (f"네, 알겠습니다.\n{REPEAT}\n김치, 불고기, 비빔밥입니다.", [(0, 1, 0, 1)]),
    1012: ("섹션 1\n동네 공원 청소\n섹션 2\n어르신 말벗 봉사", [(1, 1, 1, 1)]),
    1013: ("첫째 단락입니다.\n***\n둘째 단락입니다.\n***\n셋째 단락입니다.", [(1, 1, 1, 1)]),
    1014: ("재택근무는 출퇴근 시간을 줄여 준다.\n\n그러나, 소통이 어렵다.", [(1, 1, 1, 1)]),
    1015: ("이름: [이름]\n새 주소로 이사합니다.", [(0, 0, 0, 0)]),
    1016: (NFD_KIMCHI, [(0, 0, 1, 1)]),  # conjoining jamo: kobench reads it NFC-composed
    1017: ("설날에는 가족이 모여 떡국을 먹고 세배를 합니다.", [(1, 1, 1, 1)]),
    1018: ('"봄, 꽃이 피는 계절"', [(0, 0, 0, 0), (1, 1, 1, 1)]),
}


def _expected(keys, column: int) -> tuple[float, float]:
    """(prompt-level, instruction-level) accuracy in percent over the rows `keys`, from the hand labels."""
    rows = [[flags[column] for flags in SCRIPT[k][1]] for k in keys]
    return 100 * sum(all(r) for r in rows) / len(rows), 100 * sum(map(sum, rows)) / sum(map(len, rows))


def test_script_labels_every_instruction_of_the_mirror() -> None:
    assert {key: len(instructions) for key, _, instructions in ROWS} == {
        k: len(v[1]) for k, v in SCRIPT.items()
    }


def test_run_scores_strict_and_loose_as_hand_computed(monkeypatch, tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    write_ko_ifeval(mirror)
    prompts = {str(key): prompt for key, prompt, _ in ROWS}
    asked = []

    def answer(request):
        asked.append(request.id)
        assert request.prompt_text == prompts[request.id]  # the prompt as it is, nothing around it
        return SCRIPT[int(request.id)][0]

    register(monkeypatch, ScriptedModel(answer))
    result = evaluate("scripted:x", "ko-ifeval", data_dir=mirror, use_cache=False, output=tmp_path / "out")
    task = result.tasks["ko-ifeval"]
    scored = [key for key in SCRIPT if HAS_LANGDETECT or key != 1017]
    assert task.modality == "text" and task.category == "Instruction Following"
    assert task.n == len(scored) and task.n_failed == len(SCRIPT) - len(scored)
    assert sorted(map(int, asked)) == scored  # a row that cannot be checked is never asked
    assert task.primary_metric == "prompt_level_strict_acc"
    for pipeline, first in (("protocol", 0), ("kobench", 2)):
        metrics = task.pipelines[pipeline].metrics
        strict, loose = _expected(scored, first), _expected(scored, first + 1)
        assert metrics["prompt_level_strict_acc"].value == pytest.approx(strict[0])
        assert metrics["inst_level_strict_acc"].value == pytest.approx(strict[1])
        assert metrics["prompt_level_loose_acc"].value == pytest.approx(loose[0])
        assert metrics["inst_level_loose_acc"].value == pytest.approx(loose[1])
        assert task.pipelines[pipeline].n_unparsed == 1  # the empty answer
        signature = task.pipelines[pipeline].signature
        assert "sentences:kiwi(" in signature and "-not-punkt" in signature and "langdetect:" in signature
    if HAS_LANGDETECT:  # the numbers of the table above, by hand
        protocol = task.pipelines["protocol"].metrics
        assert protocol["prompt_level_strict_acc"].value == pytest.approx(100 * 8 / 18)
        assert protocol["inst_level_strict_acc"].value == pytest.approx(100 * 13 / 23)
        assert protocol["prompt_level_loose_acc"].value == pytest.approx(100 * 13 / 18)
        assert protocol["inst_level_loose_acc"].value == pytest.approx(100 * 18 / 23)
        kobench = task.pipelines["kobench"].metrics
        assert kobench["prompt_level_strict_acc"].value == pytest.approx(100 * 9 / 18)
        assert kobench["inst_level_strict_acc"].value == pytest.approx(100 * 14 / 23)
    samples = [json.loads(line) for line in (tmp_path / "out" / "samples" / "ko-ifeval.jsonl").open()]
    by_key = {int(s["id"]): s for s in samples}
    for key in scored:
        flags = SCRIPT[key][1]
        assert by_key[key]["protocol"]["strict"] == [bool(f[0]) for f in flags]
        assert by_key[key]["protocol"]["loose"] == [bool(f[1]) for f in flags]
        assert by_key[key]["kobench"]["strict"] == [bool(f[2]) for f in flags]


def test_ko_ifeval_has_its_place_in_the_text_table(monkeypatch, tmp_path: Path) -> None:
    from kobench.report.leaderboard import render_table

    mirror = tmp_path / "mirror"
    write_ko_ifeval(mirror)
    register(monkeypatch, ScriptedModel(lambda r: SCRIPT[int(r.id)][0]))
    evaluate("scripted:x", "ko-ifeval", data_dir=mirror, use_cache=False, output=tmp_path / "out")
    demo = load_results(Path(__file__).parents[1] / "results" / "demo" / "chance" / "results.json")
    table = render_table([load_results(tmp_path / "out" / "results.json"), demo])
    image, text = table.split("**Text benchmarks**")
    assert "ko-ifeval" in text and "Instruction Following" in text and "ko-ifeval" not in image


def test_runs_on_the_tiny_text_model(tmp_path: Path) -> None:
    from kobench.testing.tiny_models import build_tiny_text_lm

    mirror = tmp_path / "mirror"
    write_ko_ifeval(mirror)
    folder = build_tiny_text_lm(tmp_path / "lm")
    result = evaluate(
        f"hf:{folder}",
        "ko-ifeval",
        data_dir=mirror,
        use_cache=False,
        output=tmp_path / "out",
        max_new_tokens=8,
    )
    task = result.tasks["ko-ifeval"]
    assert task.n + task.n_failed == len(ROWS)
    assert task.pipelines["protocol"].metrics["inst_level_loose_acc"].value is not None

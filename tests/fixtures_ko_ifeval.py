"""A synthetic local mirror of IFEval-Ko (allganize/IFEval-Ko, split train) in the schema its dataset card
documents (Hub commit 54199e3, README.md dataset_info): `key` (int64), `prompt` (string),
`instruction_id_list` (a list of strings) and `kwargs`, a list with one struct per instruction whose fields
are every argument name IFEval uses, null where an instruction does not take it (capital_frequency,
capital_relation, let_frequency, let_relation and letter are null in every row: the card types them
'null'). The file is laid out as the Hub's, DATA_DIR/allganize/IFEval-Ko/data/train-00000-of-00001.parquet.
Every prompt here is made up; no row of IFEval-Ko is copied.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmark_copies import write_parquet

HUB_ID = "allganize/IFEval-Ko"
# The struct's fields, in the card's (alphabetical) order.
KWARG_FIELDS = (
    "capital_frequency",
    "capital_relation",
    "end_phrase",
    "first_word",
    "forbidden_words",
    "frequency",
    "keyword",
    "keywords",
    "language",
    "let_frequency",
    "let_relation",
    "letter",
    "nth_paragraph",
    "num_bullets",
    "num_highlights",
    "num_paragraphs",
    "num_placeholders",
    "num_sections",
    "num_sentences",
    "num_words",
    "postscript_marker",
    "prompt_to_repeat",
    "relation",
    "section_spliter",
)
REPEAT = "한국의 전통 음식 세 가지를 소개해 주세요."

# (key, prompt, [(instruction id, its arguments)]): made-up Korean prompts, one or more instructions each.
ROWS: tuple[tuple[int, str, list[tuple[str, dict[str, Any]]]], ...] = (
    (
        1001,
        "서울의 봄 풍경을 묘사하는 짧은 글을 쓰세요. 쉼표를 사용하지 마세요.",
        [("punctuation:no_comma", {})],
    ),
    (
        1002,
        "가을 산행에 대한 시를 쓰세요. <<제목>>처럼 이중 꺾쇠괄호로 감싼 제목을 넣고, "
        "끝에 P.S.로 시작하는 추신을 붙이세요.",
        [("detectable_format:title", {}), ("detectable_content:postscript", {"postscript_marker": "P.S."})],
    ),
    (
        1003,
        "'바다'와 '등대'라는 단어를 넣어 어촌 마을을 다섯 문장 미만으로 소개하세요.",
        [
            ("keywords:existence", {"keywords": ["바다", "등대"]}),
            ("length_constraints:number_sentences", {"num_sentences": 5, "relation": "less than"}),
        ],
    ),
    (
        1004,
        "주말에 할 수 있는 운동을 마크다운 글머리 기호(* 항목) 정확히 3개로 추천하세요.",
        [("detectable_format:number_bullet_lists", {"num_bullets": 3})],
    ),
    (1005, "도서관의 이용 시간을 JSON 형식으로만 답하세요.", [("detectable_format:json_format", {})]),
    (
        1006,
        "과일 가게를 소개하는 글을 20단어 이상으로 쓰되 '사과'라는 단어는 쓰지 마세요.",
        [
            ("keywords:forbidden_words", {"forbidden_words": ["사과"]}),
            ("length_constraints:number_words", {"num_words": 20, "relation": "at least"}),
        ],
    ),
    (1007, "좋아하는 속담 하나를 답변 전체를 큰따옴표로 감싸 쓰세요.", [("startend:quotation", {})]),
    (
        1008,
        "지하철이 버스보다 빠른가요? 다음 중 하나로 답하세요: "
        "('제 답변은 예입니다.', '제 답변은 아니요입니다.', '제 답변은 아마도입니다.')",
        [("detectable_format:constrained_response", {})],
    ),
    (
        1009,
        "새 학기 준비물을 설명하세요. *강조* 표시를 두 군데 이상 하고 "
        "'다른 질문이 있나요?'라는 문장으로 끝내세요.",
        [
            ("detectable_format:number_highlighted_sections", {"num_highlights": 2}),
            ("startend:end_checker", {"end_phrase": "다른 질문이 있나요?"}),
        ],
    ),
    (
        1010,
        "여름 휴가지를 두 가지 다르게 추천하고, 두 답변은 별표 여섯 개(******)로만 구분하세요.",
        [("combination:two_responses", {})],
    ),
    (
        1011,
        f"먼저 다음 요청을 그대로 반복한 뒤 답하세요. 요청: {REPEAT}",
        [("combination:repeat_prompt", {"prompt_to_repeat": REPEAT})],
    ),
    (
        1012,
        "봉사 활동 계획을 두 섹션으로 쓰고 각 섹션을 '섹션 1', '섹션 2'처럼 시작하세요.",
        [("detectable_format:multiple_sections", {"section_spliter": "섹션", "num_sections": 2})],
    ),
    (
        1013,
        "환경 보호에 대해 마크다운 구분선 ***으로 나눈 세 단락으로 쓰세요.",
        [("length_constraints:number_paragraphs", {"num_paragraphs": 3})],
    ),
    (
        1014,
        "재택근무의 장단점을 두 단락으로 쓰세요. 단락은 빈 줄로 나누고 둘째 단락은 '그러나'로 시작하세요.",
        [
            (
                "length_constraints:nth_paragraph_first_word",
                {"num_paragraphs": 2, "nth_paragraph": 2, "first_word": "그러나"},
            )
        ],
    ),
    (
        1015,
        "이사 안내문 양식을 만들고 [이름] 같은 자리 표시자를 두 개 이상 넣으세요.",
        [("detectable_content:number_placeholders", {"num_placeholders": 2})],
    ),
    (
        1016,
        "겨울철 음식을 소개하며 '김치'라는 단어를 세 번 이상 쓰세요.",
        [("keywords:frequency", {"keyword": "김치", "frequency": 3, "relation": "at least"})],
    ),
    (
        1017,
        "한국의 명절 하나를 설명하세요. 답변 전체를 한국어로만 쓰세요.",
        [("language:response_language", {"language": "ko"})],
    ),
    (
        1018,
        "좋아하는 계절을 쉼표 없이 큰따옴표 안에 쓰세요.",
        [("punctuation:no_comma", {}), ("startend:quotation", {})],
    ),
)


def kwargs_struct(args: dict[str, Any]) -> dict[str, Any]:
    """One instruction's kwargs as the Hub stores them: every field, null where unused."""
    unknown = set(args) - set(KWARG_FIELDS)
    if unknown:
        raise ValueError(f"not an IFEval-Ko kwargs field: {sorted(unknown)}")
    return {field: args.get(field) for field in KWARG_FIELDS}


def ko_ifeval_rows() -> list[dict[str, Any]]:
    return [
        {
            "key": key,
            "prompt": prompt,
            "instruction_id_list": [i for i, _ in instructions],
            "kwargs": [kwargs_struct(args) for _, args in instructions],
        }
        for key, prompt, instructions in ROWS
    ]


def write_ko_ifeval(root: Path) -> Path:
    """The mirror under `root` (DATA_DIR); returns the parquet file."""
    return write_parquet(root, HUB_ID, "train", ko_ifeval_rows())

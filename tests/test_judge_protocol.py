"""Judge protocols: byte-exact messages (against lmms-eval's own construction, re-typed here) and the
verdict parsers, which refuse anything that is not a verdict."""

from __future__ import annotations

import pytest

from kobench.families import resolve_tasks
from kobench.judge.messages import judge_messages
from kobench.judge.verdicts import parse_binary, parse_score_1_10, parse_two_scores

# lmms-eval 0.7.3, lmms_eval/tasks/llava-in-the-wild/rule_ko.json, "llava_bench_conv" (the same text for
# every category), copied from the file as published.
RULE_KO = "두 인공지능 어시스턴트의 성능을 [질문]에 대한 응답에 기반하여 평가하세요. 해당 [질문]은 특정 이미지를 보고 생성되었습니다. `유용성`, `관련성`, `정확성`, `세부 수준`, `한국어 생성능력`을 기준으로 응답을 평가하세요. 각각의 어시스턴트에게 1에서 10까지의 전반적인 점수를 부여하며, 높은 점수일수록 더 나은 전반적인 성능을 나타냅니다.\n\n# 단계\n\n1. 제공된 이미지 [설명]을 검토하세요.\n2. 각 어시스턴트의 응답을 다음 기준으로 분석하세요:\n   - `유용성`: 응답이 사용자의 질문을 얼마나 잘 해결하는가?\n   - `관련성`: 응답이 사용자의 질문에 얼마나 적절한가?\n   - `정확성`: 응답에서 제공한 정보가 얼마나 정확한가?\n   - `세부 수준`: 응답이 과하지 않게 충분히 자세한가?\n   - `한국어 생성능력`: 생성된 한국어 문장이 자연스럽고 문법적으로 올바른가?\n3. 분석에 기반하여 각 어시스턴트에게 1에서 10까지의 점수를 부여하세요.\n4. 두 점수를 공백으로 구분하여 한 줄로 제공하세요.\n5. 점수에 대한 이유를 강조하면서 포괄적인 평가를 제공하고, 편견을 피하며 응답의 순서가 판단에 영향을 미치지 않도록 하세요.\n\n# 출력 형식\n\n- 첫 번째 줄: `어시스턴트1_점수 어시스턴트2_점수` (예: `8 9`)\n- 두 번째 줄: `유용성`, `관련성`, `정확성`, `세부 수준`, `한국어 생성능력` 기준으로 점수를 설명하는 자세한 문단을 제공합니다.\n\n# 주의사항\n\n- 평가 시 잠재적 편견을 방지하여 객관성을 확보하세요.\n- 분석과 설명에서 일관성과 명확성을 유지하세요."  # noqa: E501 (the published string, one line)
SYSTEM_KO = "당신은 답변의 품질을 확인하는 유용하고 정확한 어시스턴트입니다."


def lmms_eval_content(captions, question: str, ans1: str, ans2: str) -> str:
    """utils_ko.llava_process_results, re-typed: the message lmms-eval sends."""
    context = "\n".join(captions) if isinstance(captions, list) else captions
    role, prompt = "어시스턴트", RULE_KO
    return (
        f"[설명]\n{context}\n\n[질문]\n{question}\n\n[{role} 1]\n{ans1}\n\n[{role} 1 끝]\n\n"
        f"[{role} 2]\n{ans2}\n\n[{role} 2 끝]\n\n[System]\n{prompt}\n\n"
    )


@pytest.mark.parametrize(
    "captions", [["식탁 위에 김치찌개가 있다.", "숟가락 두 개."], "한 줄 설명", ["하나"]]
)
def test_k_llava_w_messages_are_byte_exact(captions) -> None:
    spec = resolve_tasks(["k-llava-w"])[0]
    row = {
        "question": "이 음식의 이름은?\n자세히.",
        "gpt_answer": "김치찌개입니다.",
        "caption": captions,
        "category": "conv",
        "question_id": 3,
    }
    prediction = "  김치찌개 {{ not a template }} 입니다.\n\n"
    messages = judge_messages(spec.judge, row, prediction)
    assert messages[0] == {"role": "system", "content": SYSTEM_KO}
    assert messages[1]["role"] == "user"
    assert messages[1]["content"] == lmms_eval_content(
        captions, row["question"], row["gpt_answer"], prediction
    )
    assert messages[1]["content"].endswith("유지하세요.\n\n")
    assert spec.judge.temperature == 0.2 and spec.judge.max_tokens == 1024
    assert spec.judge.default_model == "gpt-4o-2024-11-20"


def test_complex_ocr_judge_message_is_the_seed_prompt() -> None:
    spec = resolve_tasks(["ko-ocr-complex"])[0]
    messages = judge_messages(spec.judge, {"question": "2023년 매출은?", "answer": "120억 원"}, "120억원")
    seed = (
        "다음은 시각 질문 응답 데이터입니다.\n\n질문: {q}\n\n정답 응답: {gt}\n모델의 예측 응답: {pred}\n\n"
        "모델의 예측이 정답과 의미상 같은 내용을 담고 있나요?\n의미가 같으면 1, 다르면 0만 출력하세요. "
        "다른 설명은 하지 마세요.\n\n답:"
    )
    assert messages == [
        {"role": "user", "content": seed.format(q="2023년 매출은?", gt="120억 원", pred="120억원")}
    ]
    assert spec.judge.temperature == 0.0 and spec.judge.system is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("8 9", (8.0, 9.0)),
        ("8 9\n어시스턴트 1은 ...", (8.0, 9.0)),
        ("7.5 6", (7.5, 6.0)),
        ("8,9", (8.0, 9.0)),
        ("8, 9", (8.0, 9.0)),
        ("  10 3  \n", (10.0, 3.0)),
        ("8 9 10", None),
        ("8", None),
        ("점수: 8 9", None),
        ("어시스턴트 1: 8, 어시스턴트 2: 9", None),
        ("", None),
        ("-1 -1", None),
        ("8 11", None),
    ],
)
def test_parse_two_scores(text: str, expected) -> None:
    assert parse_two_scores(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1", 1),
        ("0", 0),
        (" 1\n", 1),
        ("1.", 1),
        ("**0**", 0),
        ("1\n설명", 1),
        ("10", None),
        ("예", None),
        ("1 또는 0", None),
        ("", None),
        ("답: 1", None),
    ],
)
def test_parse_binary(text: str, expected) -> None:
    assert parse_binary(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7", 7.0),
        ("7/10", 7.0),
        ("점수: 8", 8.0),
        ("Score: 7.5", 7.5),
        ("9점", 9.0),
        ("0", None),
        ("11", None),
        ("7 8", None),
        ("좋음", None),
    ],
)
def test_parse_score_1_10(text: str, expected) -> None:
    assert parse_score_1_10(text) == expected

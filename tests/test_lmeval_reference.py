"""Sanity tests of tests/lmeval_reference.py (the lm-eval v0.4.9.2 reference), with expectations written
by hand from lm-eval's task YAML and code rather than recomputed by the module under test."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from lmeval_reference import (
    TASKS,
    click_subtask_docs,
    reference_choice_scores,
    reference_loglikelihood,
    reference_requests,
)


def _kmmlu(i: int, answer: int) -> dict[str, Any]:
    return {
        "question": f"  {i}번 질문  ",  # surrounding spaces: the template strips them
        "A": f"a{i}",
        "B": f"b{i}",
        "C": f"c{i}",
        "D": f"d{i}",
        "answer": answer,
        "Category": "Accounting",
        "Human Accuracy": 0.5,
    }


DEV = [_kmmlu(i, answer) for i, answer in enumerate([1, 2, 3, 4, 2])]


def test_kmmlu_two_shot_context_by_hand() -> None:
    # random.Random(1234).sample(dev, 2) draws dev[3] then dev[0] for the first doc.
    assert random.Random(1234).sample(range(5), 2) == [3, 0]
    test = [_kmmlu(9, 3)]
    [(pairs, gold)] = reference_requests("kmmlu", test, DEV, num_fewshot=2)
    expected = (
        "3번 질문\nA. a3\nB. b3\nC. c3\nD. d3\n정답： D\n\n"
        "0번 질문\nA. a0\nB. b0\nC. c0\nD. d0\n정답： A\n\n"
        "9번 질문\nA. a9\nB. b9\nC. c9\nD. d9\n정답："
    )
    assert "\uff1a" in expected  # the full-width colon of the YAML
    assert pairs == [(expected, " A"), (expected, " B"), (expected, " C"), (expected, " D")]
    assert gold == 2  # answer 3 -> "{{answer-1}}" = "2" -> the int 2


def _shots(context: str, delimiter: str = "\n\n") -> list[str]:
    return context.split(delimiter)[:-1]


def test_seed_is_reproducible_and_docs_advance_the_generator() -> None:
    test = [_kmmlu(9, 1), _kmmlu(9, 1)]  # the same doc twice: only the generator's state differs
    first = reference_requests("kmmlu", test, DEV, num_fewshot=2)
    assert first == reference_requests("kmmlu", test, DEV, num_fewshot=2, seed=1234)
    ctx0, ctx1 = first[0][0][0][0], first[1][0][0][0]
    # second draw of Random(1234): dev[0], dev[4]
    assert [s.split("\n")[0] for s in _shots(ctx0)] == ["3번 질문", "0번 질문"]
    assert [s.split("\n")[0] for s in _shots(ctx1)] == ["0번 질문", "4번 질문"]
    other = reference_requests("kmmlu", test, DEV, num_fewshot=2, seed=7)
    assert other[0][0][0][0] != ctx0


def _haerae(i: int, answer: str, **extra: Any) -> dict[str, Any]:
    return {"query": f"질문{i}", "answer": answer, **extra}


def test_haerae_draws_from_its_test_split_and_drops_the_doc_itself() -> None:
    docs = [_haerae(0, "(A)"), _haerae(1, "(B)"), _haerae(2, "(C)")]
    out = reference_requests("haerae", docs, None, num_fewshot=2)
    # Random(1234).sample(docs, 3) gives [1, 0, 2], then [0, 2, 1], then [0, 1, 2]; each doc is removed.
    assert out[0][0][0][0] == "질문1 (B)\n\n질문2 (C)\n\n질문0"
    assert out[1][0][0][0] == "질문0 (A)\n\n질문2 (C)\n\n질문1"
    assert out[2][0][0][0] == "질문0 (A)\n\n질문1 (B)\n\n질문2"
    assert [gold for _, gold in out] == [0, 1, 2]  # "(B)" -> choices.index("(B)")
    assert [cont for _, cont in out[0][0]] == [" (A)", " (B)", " (C)", " (D)", " (E)"]


def test_haerae_doc_holding_nan_is_not_dropped_from_its_own_shots() -> None:
    # lm-eval compares fresh Arrow-made dicts, where NaN != NaN: such a doc can be its own example.
    # Random(1234).sample(docs, 2) draws [1, 0] then [0, 1]: doc 1 gets itself as its one shot.
    docs = [_haerae(0, "(A)", score=float("nan")), _haerae(1, "(B)", score=float("nan"))]
    out = reference_requests("haerae", docs, None, num_fewshot=1)
    assert out[1][0][0][0] == "질문0 (A)\n\n질문1"
    docs = [_haerae(0, "(A)", score=1.0), _haerae(1, "(B)", score=1.0)]
    out = reference_requests("haerae", docs, None, num_fewshot=1)
    assert out[1][0][0][0] == "질문0 (A)\n\n질문1"  # drawn [0, 1]: doc 1 removed, doc 0 kept
    assert out[0][0][0][0] == "질문1 (B)\n\n질문0"


def test_kobest_boolq_keeps_the_templates_trailing_space() -> None:
    train = [
        {"paragraph": "p0", "question": "q0", "label": 0},
        {"paragraph": "p1", "question": "q1", "label": 1},
    ]
    test = [{"paragraph": "pt", "question": "qt", "label": 0}]
    [(pairs, gold)] = reference_requests("kobest_boolq", test, train, num_fewshot=1)
    # Random(1234).sample(train, 1) = [train[1]]; its int label shows the choice text, after two spaces
    # (the template's own trailing space, then the target delimiter).
    context = "p1 질문: q1 답변:  예\n\npt 질문: qt 답변: "
    assert pairs == [(context, " 아니오"), (context, " 예")]
    assert gold == 0


def test_kobest_hellaswag_copa_sentineg_wic_by_hand() -> None:
    raw = {"context": "c", "ending_1": "e1", "ending_2": "e2", "ending_3": "e3", "ending_4": "e4", "label": 2}
    train = {**raw, "context": "t"}
    [(pairs, gold)] = reference_requests("kobest_hellaswag", [raw], [train], num_fewshot=1)
    # process_docs builds query and choices; the int label shows the choice text ending_3.
    assert pairs[0] == ("문장: t e3\n\n문장: c", " e1") and len(pairs) == 4 and gold == 2
    # v0.4.9.2 drops a shot equal to the doc whatever split it comes from (only the n+1 draw depends on
    # the split): 2 shots asked, both train docs drawn, the copy of the test doc removed, 1 shot left.
    [(pairs, _)] = reference_requests("kobest_hellaswag", [raw], [dict(raw), train], num_fewshot=2)
    assert pairs[0][0] == "문장: t e3\n\n문장: c"

    copa = {"premise": "비가 왔다", "question": "결과", "alternative_1": "젖었다", "alternative_2": "말랐다"}
    [(pairs, gold)] = reference_requests("kobest_copa", [{**copa, "label": 1}], [{**copa, "label": 0}], 1)
    # A str target (the alternative's text) shows as is; gold = choices.index(text).
    assert pairs == [("비가 왔다  그래서 젖었다\n\n비가 왔다  그래서", " 젖었다"), (pairs[0][0], " 말랐다")]
    assert gold == 1

    [(pairs, gold)] = reference_requests("kobest_sentineg", [{"sentence": "좋다", "label": 1}], None, 0)
    assert pairs == [("문장: 좋다 긍부정:", " 부정"), ("문장: 좋다 긍부정:", " 긍정")] and gold == 1

    wic = {"word": "배", "context_1": "배가 아프다", "context_2": "배를 탔다", "label": 0}
    [(pairs, gold)] = reference_requests("kobest_wic", [wic], None, 0)
    assert pairs[1] == ("문장1: 배가 아프다 문장2: 배를 탔다 두 문장에서 배가 같은 뜻으로 쓰였나?", " 예")
    assert gold == 0

    with pytest.raises(ValueError):
        reference_requests("kobest_wic", [wic], None, 1)  # KoBEST shots come from train: must be given


def test_click_csat_offers_five_choices_and_subtasks_overlap() -> None:
    csat = {
        "id": "CSAT_korean_22_40",
        "paragraph": "",
        "question": "무엇인가?",
        "choices": ["가", "나", "다", "라", "마"],
        "answer": "마",
    }
    [(pairs, gold)] = reference_requests("click", [csat], None, 0)
    prompt = (
        "주어진 질문을 천천히 읽고, 적절한 정답을 A, B, C, D 중에 골라 알파벳 하나로 답하시오.\n\n"
        "질문: 무엇인가?\n보기:\nA:가, B: 나, C: 다, D: 라\n정답:"
    )
    assert pairs == [(prompt, f" {letter}") for letter in "ABCDE"]
    assert gold == 4  # the fifth choice, which the prompt never shows

    docs = [
        csat,
        {"id": "Kedu_12_3", "question": "q"},
        {"id": "Kedu_16_1", "question": "다음 대화에서"},
        {"id": "KIIP_economy_1", "question": "q"},
        {"id": "PSAT_law_2", "question": "q"},
    ]
    subs = click_subtask_docs(docs)
    assert len(subs) == 11
    names = {d["id"]: sorted(n for n, kept in subs.items() if d in kept) for d in docs}
    assert names == {
        "CSAT_korean_22_40": ["click_lang_function", "click_lang_text"],
        "Kedu_12_3": ["click_lang_grammar"],
        "Kedu_16_1": ["click_lang_function"],
        "KIIP_economy_1": ["click_cul_economy"],
        "PSAT_law_2": ["click_cul_law"],
    }


def test_every_task_builds_requests() -> None:
    assert set(TASKS) == {
        "kmmlu",
        "haerae",
        "click",
        "kobest_boolq",
        "kobest_copa",
        "kobest_hellaswag",
        "kobest_sentineg",
        "kobest_wic",
    }
    with pytest.raises(ValueError):
        reference_requests("kmmlu_hard", [_kmmlu(0, 1)], DEV, 0)


def test_choice_scores_acc_and_acc_norm_differ() -> None:
    # acc: argmax(-5, -6) = 0; acc_norm: argmax(-5/1, -6/4) = 1 (length of "BBBB", not of " BBBB").
    assert reference_choice_scores([-5.0, -6.0], ["A", "BBBB"], gold=1) == {"acc": 0.0, "acc_norm": 1.0}
    assert reference_choice_scores([-5.0, -6.0], ["A", "BBBB"], gold=0) == {"acc": 1.0, "acc_norm": 0.0}
    assert reference_choice_scores([-1.0, -1.0], ["A", "B"], gold=0) == {"acc": 1.0, "acc_norm": 1.0}  # ties
    assert reference_choice_scores([-1.0, -2.0], ["A", "B"], gold=-100) == {"acc": 0.0, "acc_norm": 0.0}


# --- reference_loglikelihood against a token-by-token loop over a tiny random model ---


@pytest.fixture(scope="module")
def tiny_lm(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any]:
    pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    from kobench.testing.tiny_models import build_tiny_text_lm

    folder: Path = build_tiny_text_lm(tmp_path_factory.mktemp("tiny-text-lm"))
    tokenizer = transformers.AutoTokenizer.from_pretrained(folder)
    model = transformers.AutoModelForCausalLM.from_pretrained(folder).eval()
    assert tokenizer.bos_token_id is None  # so the empty context is stood in for by EOS
    return model, tokenizer


def _hand_loop(
    model: Any, context_ids: list[int], continuation_ids: list[int], window: int
) -> tuple[float, bool]:
    """One forward pass per continuation token, each on the tokens before it (the last `window` tokens)."""
    import torch

    tokens = context_ids + continuation_ids
    total, greedy = 0.0, True
    with torch.no_grad():
        for k in range(len(continuation_ids)):
            pos = len(tokens) - len(continuation_ids) + k
            prefix = tokens[:pos][-window:]
            logits = model(torch.tensor([prefix])).logits[0, -1]
            logprobs = torch.log_softmax(logits, dim=-1)
            total += float(logprobs[tokens[pos]])
            greedy = greedy and int(logprobs.argmax()) == tokens[pos]
    return total, greedy


@pytest.mark.slow
def test_loglikelihood_matches_a_hand_loop(tiny_lm: tuple[Any, Any]) -> None:
    model, tok = tiny_lm
    window = model.config.max_position_embeddings
    # The context's trailing space moves to the continuation before encoding.
    ctx, cont = "질문: 한국의 수도는? 답변: ", " 서울"
    ctx_ids = tok.encode("질문: 한국의 수도는? 답변:")
    cont_ids = tok.encode("질문: 한국의 수도는? 답변:  서울")[len(ctx_ids) :]
    ll, greedy = reference_loglikelihood(model, tok, ctx, cont)
    want_ll, want_greedy = _hand_loop(model, ctx_ids, cont_ids, window)
    assert ll == pytest.approx(want_ll, abs=1e-4) and greedy == want_greedy
    assert reference_loglikelihood(model, tok, "질문: 한국의 수도는? 답변:", "  서울")[0] == pytest.approx(ll)

    # The empty context: EOS (no BOS here) is the one context token.
    ll, _ = reference_loglikelihood(model, tok, "", " 안녕하세요")
    want_ll, _ = _hand_loop(
        model, [tok.eos_token_id], tok.encode(" 안녕하세요", add_special_tokens=False), window
    )
    assert ll == pytest.approx(want_ll, abs=1e-4)

    # Too long for the model: only the last max_length + 1 tokens count (the hand loop sees the same window).
    long_ctx = "대한민국의 수도는 서울입니다. " * 300
    ctx_ids = tok.encode(long_ctx.rstrip())
    assert len(ctx_ids) > window + 10
    cont_ids = tok.encode(long_ctx.rstrip() + " 부산")[len(ctx_ids) :]
    ll, _ = reference_loglikelihood(model, tok, long_ctx, "부산")
    want_ll, _ = _hand_loop(model, ctx_ids, cont_ids, window)
    assert ll == pytest.approx(want_ll, abs=1e-3)


@pytest.mark.slow
def test_loglikelihood_greedy_flag(tiny_lm: tuple[Any, Any]) -> None:
    import torch

    model, tok = tiny_lm
    found = 0
    for ctx in ["안녕하세요", "대한민국의 수도는", "정답：", "문장: 좋다", "a", "서울"]:
        ctx_ids = tok.encode(ctx)
        with torch.no_grad():
            best = int(model(torch.tensor([ctx_ids])).logits[0, -1].argmax())
        cont = tok.decode([best])
        if tok.encode(ctx + cont)[len(ctx_ids) :] != [best]:
            continue  # the greedy token does not round-trip through the text: try another context
        found += 1
        ll, greedy = reference_loglikelihood(model, tok, ctx, cont)
        assert greedy
        assert ll == pytest.approx(_hand_loop(model, ctx_ids, [best], 10_000)[0], abs=1e-4)
        with torch.no_grad():
            second = int(model(torch.tensor([ctx_ids])).logits[0, -1].topk(2).indices[1])
        if tok.encode(ctx + tok.decode([second]))[len(ctx_ids) :] == [second]:
            assert not reference_loglikelihood(model, tok, ctx, tok.decode([second]))[1]
    assert found, "no context whose greedy next token round-trips; pick other contexts"

"""KorMedMCQA-V as its authors run it (GitHub baeseongsu/kormedmcqa_v @ 9c6c6ce): the request parts of
`format_user_prompt`, the answer and uid of `load_data`, and the answer reading of `extract_answer` after
`extract_thinking_and_summary`, each checked against an independent re-implementation written here from
those files line by line (nothing from kobench), on the synthetic mirror of tests/fixtures_kormedmcqa_v.py."""

from __future__ import annotations

import ast
import base64
import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fixtures_kormedmcqa_v import CONFIG, HUB_ID, SPLIT, kormedmcqa_v_rows, n_images, write_kormedmcqa_v
from scripted_model import ScriptedModel, register

from kobench.api import evaluate
from kobench.config import DataOptions, JudgeOptions, ScoringOptions
from kobench.data import loader
from kobench.extract.kormedmcqa import kormedmcqa_json
from kobench.extract.protocol import PROTOCOL_PARSER_VERSIONS, PROTOCOL_PARSERS
from kobench.families import resolve_tasks
from kobench.models.openai_api import chat_request
from kobench.run import prepare
from kobench.tasks.content import IMAGES_MARK, PART_MARK, content_parts
from kobench.types import ImagePart, ImageRef, TextPart

CHOICE_KEYS = ["A", "B", "C", "D", "E"]


def _task():
    return resolve_tasks(["kormedmcqa-v"])[0]


INSTRUCTION = (
    "각 문제에서 가장 적절한 답을 하나만 고르시오.\n"
    "정답은 A, B, C, D, E 중 하나입니다.\n"
    "출력은 반드시 JSON 객체 1개만 반환하고, JSON 밖의 다른 텍스트(설명/마크다운 등)는 쓰지 마세요.\n"
    '출력 형식: {"정답": "A"}'
)


# --- the published code, re-implemented line by line --------------------------------------------------


def ref_extract_thinking_and_summary(text: str) -> tuple[str, str]:
    """kormedeval/utils.py extract_thinking_and_summary."""
    if not text:
        return "", ""
    thinking_patterns = [
        ("\u25c1think\u25b7", "\u25c1/think\u25b7"),
        ("...thinking...", "....thinking...."),
        ("[THINK]", "[/THINK]"),
    ]
    for bot, eot in thinking_patterns:
        if bot in text and eot in text:
            bot_idx = text.index(bot)
            eot_idx = text.index(eot)
            thinking = text[bot_idx + len(bot) : eot_idx].strip()
            clean = text[eot_idx + len(eot) :].strip()
            return thinking, clean
    return "", text


def ref_extract_answer(response: str, choice_keys: list[str]) -> str | None:
    """kormedeval/datasets/kormedmcqa_v.py KorMedMCQAVDataset._extract_answer."""
    if not response:
        return None
    fenced = re.search(r"```json\s*(\{.*?\})\s*```", response, re.DOTALL | re.IGNORECASE)
    blocks = [fenced.group(1)] if fenced else re.findall(r"\{.*?\}", response, re.DOTALL)
    for block in reversed(blocks):
        parsed: Any = None
        try:
            parsed = json.loads(block)
        except Exception:
            try:
                parsed = ast.literal_eval(block)
            except Exception:
                parsed = None
        if not isinstance(parsed, dict):
            continue
        choice_pattern = "|".join(choice_keys)
        for key in ("정답", "answer"):
            if key in parsed and parsed[key] is not None:
                match = re.search(rf"([{choice_pattern}])", str(parsed[key]), re.IGNORECASE)
                if match:
                    ans = match.group(1).upper()
                    if ans in choice_keys:
                        return ans
    choice_pattern = "|".join(choice_keys)
    latex_match = re.search(rf"\\boxed\{{([{choice_pattern}])\}}", response, re.IGNORECASE)
    if latex_match:
        ans = latex_match.group(1).upper()
        if ans in choice_keys:
            return ans
    return None


def ref_evaluated_answer(generated_text: str) -> str | None:
    """evaluator.py evaluate_sample: the thinking stripped, then extract_answer."""
    _, clean_text = ref_extract_thinking_and_summary(generated_text)
    return ref_extract_answer(clean_text, CHOICE_KEYS)


def ref_normalize_answer_to_letter(answer: Any, max_choices: int = 5) -> str | None:
    if answer is None:
        return None
    if isinstance(answer, int):
        value = answer
    else:
        text = str(answer).strip()
        if text.isdigit():
            value = int(text)
        else:
            match = re.search(rf"([A-{chr(64 + max_choices)}])", text, re.IGNORECASE)
            return match.group(1).upper() if match else None
    if 1 <= value <= max_choices:
        return chr(64 + value)
    return None


def ref_normalize_image_base64(image_base64: str) -> str:
    image_base64 = str(image_base64).strip()
    if image_base64.startswith(("http://", "https://")):
        return image_base64
    if image_base64.startswith("data:"):
        return image_base64
    image_base64 = re.sub(r"\s+", "", image_base64)
    mime_type = "image/jpeg"
    if image_base64.startswith("iVBORw0KGgo"):
        mime_type = "image/png"
    elif image_base64.startswith("/9j/"):
        mime_type = "image/jpeg"
    elif image_base64.startswith("R0lGOD"):
        mime_type = "image/gif"
    elif image_base64.startswith("UklGR"):
        mime_type = "image/webp"
    return f"data:{mime_type};base64,{image_base64}"


def ref_extract_image_from_sample(sample: dict[str, Any]) -> list[str] | None:
    if "images" not in sample:
        return None
    images = sample["images"]
    if not images:
        return None
    if isinstance(images, str):
        try:
            images = json.loads(images)
        except json.JSONDecodeError:
            return None
    if not isinstance(images, list):
        return None
    urls = []
    for img in images:
        if isinstance(img, dict) and "image_base64" in img:
            urls.append(ref_normalize_image_base64(img["image_base64"]))
    return urls if urls else None


def ref_format_user_prompt(sample: dict[str, Any]) -> list[dict[str, Any]]:
    content: list[dict[str, Any]] = []
    content.append({"type": "text", "text": f"질문: {sample['question']}\n\n"})
    image_urls = ref_extract_image_from_sample(sample)
    if image_urls:
        for image_url in image_urls:
            content.append({"type": "image_url", "image_url": {"url": image_url}})
    for opt in CHOICE_KEYS:
        if opt in sample and sample[opt]:  # noqa: RUF019 (as published)
            content.append({"type": "text", "text": f"{opt}. {sample[opt]}\n"})
    content.append({"type": "text", "text": "\n" + INSTRUCTION})
    return content


# --- the parser --------------------------------------------------------------------------------------

OPTIONS = [(letter, f"보기 {letter}") for letter in CHOICE_KEYS]
# Templates filled with each letter; "{x}" is the letter, "{y}" another one.
TEMPLATES = [
    '{{"정답": "{x}"}}',
    '{{"정답":"{x}"}}',
    '{{"정답": "{lx}"}}',
    '{{"answer": "{x}"}}',
    '{{"Answer": "{x}"}}',
    "{{'정답': '{x}'}}",
    '{{"정답": "{x}",}}',
    '{{"정답": "{x}번"}}',
    '{{"정답": "정답은 {x}입니다"}}',
    '{{"정답": "({x})"}}',
    '{{"정답": "|{x}"}}',
    '{{"정답": "{x}|{y}"}}',
    '{{"정답": ["{x}"]}}',
    '{{"정답": null, "answer": "{x}"}}',
    '{{"정답": "Ｘ", "answer": "{x}"}}',
    '```json\n{{"정답": "{x}"}}\n```',
    '```JSON\n{{"정답": "{x}"}}\n```\n{{"정답": "{y}"}}',
    '```json\n{{"정답": {x}}}\n```\n{{"정답": "{y}"}}',
    '```\n{{"정답": "{x}"}}\n```',
    '출력 형식: {{"정답": "A"}}\n\n{{"정답": "{x}"}}',
    '{{"정답": "{x}"}} 아니, 다시 보면 {{"정답": "{y}"}}',
    '{{"정답": "{x}"}} {{"정답": "없음"}}',
    '{{"result": {{"정답": "{x}"}}}}',
    '[{{"정답": "{x}"}}]',
    '풀이: 영상 소견상 ... 따라서 {{"정답": "{x}"}}',
    "\\boxed{{{x}}}",
    "최종 답: $\\boxed{{{lx}}}$",
    "\\boxed{{|}} 그리고 \\boxed{{{x}}}",
    "\\boxed{{ {x} }}",
    '\\boxed{{{y}}} {{"정답": "{x}"}}',
    "정답은 {x}입니다.",
    "{x}",
    "{x}번",
    "({x})",
    "답: {x}",
    '\u25c1think\u25b7 {{"정답": "{y}"}} 일 수도 \u25c1/think\u25b7\n{{"정답": "{x}"}}',
    '[THINK]{y}를 고려...[/THINK] {{"정답": "{x}"}}',
    '<think>{{"정답": "{y}"}}</think>{{"정답": "{x}"}}',
    '{{"정답": "{x}"}}<think>{{"정답": "{y}"}}</think>',
    '....thinking.... {{"정답": "{x}"}}',
    '...thinking... {{"정답": "{y}"}} ....thinking.... 답은 {x}',
    '[/THINK] {{"정답": "{x}"}} [THINK]',
    '{{"정답": "{x}"',
    "{{정답: {x}}}",
    '{{"\\uc815\\ub2f5": "{x}"}}',
    '{{"정답": "{x}", "근거": "흉부 X선에서 {{공기}}가 보인다"}}',
]
SPECIAL = [
    "",
    "   ",
    "답을 고를 수 없습니다.",
    "①",
    '{"정답": "Because"}',
    '{"정답": "none"}',
    '{"정답": true}',
    '{"정답": 3}',
    '{"정답": "F"}',
    '{"정답": ""}',
    "{}",
    "{ }",
    "\\boxed{F}",
    "\\boxed{|}",
    '```json\n{"정답": "B"\n```',
    "{'정답': {'a'}}",
    '{"정답": "A"}' * 3,
    "\u25c1think\u25b7 계속 생각 중",
    "[THINK] 끝나지 않은 생각",
    '{"answer": "정답은 다섯 번째"}',
]


def responses() -> list[str]:
    out = []
    for n, template in enumerate(TEMPLATES):
        for i, x in enumerate(CHOICE_KEYS):
            y = CHOICE_KEYS[(i + 1 + n) % 5]
            out.append(template.format(x=x, y=y, lx=x.lower()))
    return out + SPECIAL


RESPONSES = responses()


def test_there_are_enough_varied_responses() -> None:
    assert len(RESPONSES) >= 100 and len(set(RESPONSES)) == len(RESPONSES)
    readings = [ref_evaluated_answer(r) for r in RESPONSES]
    assert {*CHOICE_KEYS, None} <= set(readings)  # every letter and unparsed
    assert sum(r is None for r in readings) >= 20


@pytest.mark.parametrize("response", RESPONSES)
def test_parser_reads_what_the_published_evaluator_reads(response: str) -> None:
    assert kormedmcqa_json(response, OPTIONS) == ref_evaluated_answer(response)


@pytest.mark.parametrize(
    ("response", "letter"),
    [
        ('출력 형식: {"정답": "A"}\n{"정답": "D"}', "D"),  # the last block wins (an echoed example first)
        ('{"정답": "|B"}', None),  # "[A|B|C|D|E]" finds the "|" first: that key fails
        ('{"정답": "|B", "answer": "C"}', "C"),
        ('{"정답": "Because"}', "B"),  # the first character of the class, case-insensitive
        ('{"정답": "none"}', "E"),
        ("\\boxed{|} \\boxed{C}", None),  # the first boxed match is "|": nothing
        ('<think>{"정답": "A"}</think>{"정답": "B"}', "B"),  # <think> is not stripped; the last block wins
        ('{"정답": "B"}<think>{"정답": "A"}</think>', "A"),
        ('[THINK]{"정답": "A"}[/THINK]', None),  # only the (empty) text after the closing tag is read
        ('```json\n{"정답": "A"\n```\n{"정답": "B"}', None),  # a fence is the only candidate once found
        ("C", None),
        ("", None),
    ],
)
def test_the_published_quirks(response: str, letter: str | None) -> None:
    assert ref_evaluated_answer(response) == letter
    assert kormedmcqa_json(response, OPTIONS) == letter


def test_the_parser_is_registered_and_never_guesses() -> None:
    assert PROTOCOL_PARSERS["kormedmcqa-v-json"] is kormedmcqa_json
    assert PROTOCOL_PARSER_VERSIONS["kormedmcqa-v-json"] == "1"
    # the same unparseable text always reads as nothing (a guess would vary or pick a letter)
    assert {kormedmcqa_json("모르겠습니다", OPTIONS) for _ in range(20)} == {None}
    assert _task().scoring.protocol_parser == "kormedmcqa-v-json"


# --- the request -------------------------------------------------------------------------------------


def test_a_template_places_its_images_and_cuts_its_parts() -> None:
    """kobench.tasks.content: `{{ kobench.images }}` and `{{ kobench.part }}` in a template; without them a
    request is the images, then one text, as it always was."""
    one, two = ImageRef(data=b"1"), ImageRef(data=b"2")
    assert content_parts("질문", [one]) == (ImagePart(one), TextPart("질문"))
    marked = f"질문\n{IMAGES_MARK}A. 가\n{PART_MARK}B. 나\n{PART_MARK}"
    assert content_parts(marked, [one, two]) == (
        TextPart("질문\n"),
        ImagePart(one),
        ImagePart(two),
        TextPart("A. 가\n"),
        TextPart("B. 나\n"),
    )
    assert content_parts(f"가{PART_MARK}나", [one]) == (ImagePart(one), TextPart("가"), TextPart("나"))
    with pytest.raises(ValueError, match="more than once"):
        content_parts(f"{IMAGES_MARK}가{IMAGES_MARK}", [one])


@pytest.fixture
def mirror(tmp_path: Path) -> Path:
    return write_kormedmcqa_v(tmp_path / "mirror")


def _raw_rows(mirror: Path) -> list[dict[str, Any]]:
    return pq.read_table(mirror / HUB_ID / CONFIG / f"{SPLIT}-00000-of-00001.parquet").to_pylist()


def _prepare(mirror: Path, tmp_path: Path):
    task = _task()
    return prepare.prepare_task(
        task, DataOptions(data_dir=mirror), ScoringOptions(), JudgeOptions(), tmp_path
    )


def test_requests_are_the_published_parts(mirror: Path, tmp_path: Path) -> None:
    prepared = _prepare(mirror, tmp_path)
    rows = _raw_rows(mirror)
    assert len(prepared.items) == len(rows) == 12
    assert prepared.dataset.split == SPLIT and "KorMedMCQA-V/doctor" in prepared.dataset.origin
    for item, sample in zip(prepared.items, rows, strict=True):
        assert item.failure is None
        assert item.id == f"{sample['subject']}-{sample['year']}-{sample['period']}-{sample['q_number']}"
        assert item.target == ref_normalize_answer_to_letter(sample["answer"])
        (message,) = item.request.messages
        assert message.role == "user"
        expected = ref_format_user_prompt(sample)
        assert len(message.content) == len(expected)
        for part, want in zip(message.content, expected, strict=True):
            if want["type"] == "text":
                assert isinstance(part, TextPart) and part.text == want["text"]
            else:
                assert isinstance(part, ImagePart)
                payload = want["image_url"]["url"].split(",", 1)[1]
                assert part.image.read_bytes() == base64.b64decode(payload)
        assert item.request.generation.max_new_tokens == 8192 and item.request.generation.temperature == 0
        assert [letter for letter, _ in item.options] == [k for k in CHOICE_KEYS if sample[k]]
        assert item.fields == {
            "subject": "doctor",
            "year": sample["year"],
            "multi_image": "multi-image" if len(sample["images"]) > 1 else "single-image",
        }
    assert sum(len(item.request.images) > 1 for item in prepared.items) == 4
    assert [len(item.request.images) for item in prepared.items] == [n_images(i) for i in range(12)]


def test_an_api_model_gets_the_published_messages(mirror: Path, tmp_path: Path) -> None:
    """evaluate_sample sends [{"role": "user", "content": format_user_prompt(sample)}] for a VLM; the openai
    adapter sends exactly that (the mirror's images are PNGs, which it sends as they are)."""
    prepared = _prepare(mirror, tmp_path)
    for item, sample in zip(prepared.items, _raw_rows(mirror), strict=True):
        sent = chat_request(item.request).messages
        assert sent == [{"role": "user", "content": ref_format_user_prompt(sample)}]


def test_a_row_without_images_or_with_a_bad_answer_fails_counted(tmp_path: Path) -> None:
    rows = kormedmcqa_v_rows(4)
    rows[1]["images"] = []
    for row in rows:  # digit strings are answers as published (a copy that stores them so)
        row["answer"] = str(row["answer"])
    rows[2]["answer"] = "0"  # load_data would raise for the whole split; kobench fails the row
    rows[3]["answer"] = "D"  # a letter is kept, as published
    folder = tmp_path / "mirror" / HUB_ID / CONFIG
    folder.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(rows), folder / f"{SPLIT}-00000-of-00001.parquet")
    items = _prepare(tmp_path / "mirror", tmp_path).items
    assert items[0].failure is None and items[0].target == "A"
    assert items[1].failure == "no image"
    assert items[2].failure is not None and "not one of the options" in items[2].failure
    assert items[3].failure is None and items[3].target == "D"


def test_unpinned_reads_the_current_commit_and_records_it(
    mirror: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    resolved = "0123456789abcdef0123456789abcdef01234567"
    calls = []

    def from_hub(hub_id, split, *, data_dir, revision=None, image_columns=("image",), subset=None):
        calls.append((hub_id, subset, split, revision, tuple(image_columns)))
        table = loader.load_table(hub_id, split, data_dir=mirror, image_columns=image_columns, subset=subset)
        return replace(table, revision=revision or resolved)

    monkeypatch.setattr(prepare, "load_table", from_hub)
    task = _task()
    assert task.dataset.revision == "unpinned" and task.dataset.license == "CC BY-NC-SA 4.0"
    prepared = prepare.prepare_task(task, DataOptions(), ScoringOptions(), JudgeOptions(), tmp_path)
    assert calls == [(HUB_ID, CONFIG, SPLIT, None, ("images",))]
    assert prepared.dataset.revision == resolved


# --- end to end --------------------------------------------------------------------------------------

# One response per row, by kind (row i gets kind i): what the published reading and kobench's make of it.
# (template, protocol outcome, kobench outcome): R right, W wrong, U unparsed; "{t}" the answer, "{w}" not.
KINDS = [
    ('{{"정답": "{t}"}}', "R", "R"),
    ('```json\n{{"정답": "{w}"}}\n```', "W", "W"),
    ("{t}", "U", "R"),
    ("정답: \\boxed{{{t}}}", "R", "R"),
    ('{{"answer": "{lt}"}}', "R", "U"),
    ('출력 형식: {{"정답": "A"}}\n{{"정답": "{t}"}}', "R", "U"),
    ('[THINK]{w}일 수도 있다[/THINK]{{"정답": "{t}"}}', "R", "R"),
    ('{{"정답": "|{t}"}}', "U", "U"),
    ("정답은 {t}입니다.", "U", "R"),
    ("", "U", "U"),
    ("답: {t}", "U", "R"),
    ('<think>{{"정답": "{w}"}}</think>{{"정답": "{t}"}}', "R", "R"),
]


def test_run_scores_as_published(mirror: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = _raw_rows(mirror)
    answers = {}
    for i, sample in enumerate(rows):
        uid = f"{sample['subject']}-{sample['year']}-{sample['period']}-{sample['q_number']}"
        gold = ref_normalize_answer_to_letter(sample["answer"])
        other = "B" if gold != "B" else "D"
        answers[uid] = KINDS[i][0].format(t=gold, w=other, lt=gold.lower())
    register(monkeypatch, ScriptedModel(lambda r: answers[r.id]))
    result = evaluate("scripted:x", "kormedmcqa-v", data_dir=mirror, use_cache=False, output=tmp_path / "out")
    task = result.tasks["kormedmcqa-v"]
    assert task.n == 12 and task.n_failed == 0 and task.complete

    # the published evaluator over the same answers: accuracy = correct / evaluated
    gold = {f"{s['subject']}-{s['year']}-{s['period']}-{s['q_number']}": s for s in rows}
    published = [
        ref_evaluated_answer(answers[u]) == ref_normalize_answer_to_letter(gold[u]["answer"]) for u in gold
    ]
    protocol = task.pipelines["protocol"]
    assert (
        protocol.metrics["accuracy"].value == pytest.approx(100 * sum(published) / 12) == pytest.approx(50.0)
    )
    assert protocol.n_unparsed == sum(kind[1] == "U" for kind in KINDS) == 5
    kobench = task.pipelines["kobench"]
    assert kobench.metrics["accuracy"].value == pytest.approx(100 * 7 / 12)
    assert kobench.n_unparsed == 4
    # by hand: multi-image rows are 0, 3, 6, 9
    assert protocol.breakdown["multi_image"]["multi-image"].value == pytest.approx(75.0)
    assert protocol.breakdown["multi_image"]["single-image"].value == pytest.approx(37.5)
    assert kobench.breakdown["multi_image"]["single-image"].value == pytest.approx(50.0)
    assert protocol.breakdown["year"]["2012"].value == pytest.approx(100.0)  # row 0
    assert protocol.breakdown["year"]["2013"].value == pytest.approx(0.0)  # row 1, wrong
    assert "parser:kormedmcqa-v-json@1" in protocol.signature
    assert "prompt:kormedeval-1.0.0" in protocol.signature
    samples = [
        json.loads(line)
        for line in (tmp_path / "out" / "samples" / "kormedmcqa-v.jsonl")
        .read_text(encoding="utf-8")
        .splitlines()
    ]
    assert len(samples) == 12


@pytest.mark.slow
def test_a_chat_template_gets_the_images_between_question_and_options(
    tiny_qwen2_vl: Path, mirror: Path, tmp_path: Path
) -> None:
    """The hf adapter renders the parts in order: Qwen2-VL's template puts each image where the published
    request has it (vLLM serves the same parts to the same template)."""
    from transformers import AutoProcessor

    from kobench.models.chat_formats import ProcessorChat

    processor = AutoProcessor.from_pretrained(tiny_qwen2_vl)
    chat = ProcessorChat(processor, processor.tokenizer)
    image = "<|vision_start|><|image_pad|><|vision_end|>"
    for item, sample in zip(_prepare(mirror, tmp_path).items, _raw_rows(mirror), strict=True):
        rendered = chat.render(item.request)
        question = f"질문: {sample['question']}\n\n"
        options = "".join(f"{k}. {sample[k]}\n" for k in CHOICE_KEYS if sample[k])
        expected = question + image * len(sample["images"]) + options + "\n" + INSTRUCTION + "<|im_end|>"
        assert expected in rendered

"""The model families users evaluate, each through the real loading path: a fixture folder built offline
(tests/model_fixtures.py; for remote-code models kobench's own modeling/processing code with the card's
interface), loaded by `from_pretrained(..., trust_remote_code=True)` inside `kobench run`.

For each family: the model card's own snippet runs against the fixture (so the fixture has the card's
interface), kobench's answers equal what the card's calls give for the same conversation, a batch answers
as its requests do one at a time (or the family's limit is shown to be needed), and a missing
--trust-remote-code is a clear error."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from benchmark_copies import k_seed_rows, png, write_parquet
from model_fixtures import (
    build_ax4vl,
    build_gemma3,
    build_hyperclovax_seed_vision,
    build_hyperclovax_seed_vision_main,
    build_internvl_chat,
    build_llava_onevision,
)

from kobench.errors import BadInputError
from kobench.models.base import in_request_order
from kobench.results import load_results
from kobench.types import GenerationSettings, ImagePart, ImageRef, Message, Request, TextPart

pytestmark = pytest.mark.slow

RED, BLUE = png((230, 20, 20)), png((20, 20, 230), size=(40, 30))
GREEDY = GenerationSettings(max_new_tokens=6)


def request(rid: str, text: str, images: list[bytes], system: str | None = None) -> Request:
    parts = (*(ImagePart(ImageRef(data=data)) for data in images), TextPart(text))
    messages = ((Message("system", (TextPart(system),)),) if system else ()) + (Message("user", parts),)
    return Request(id=rid, messages=messages, generation=GREEDY)


def kobench_run(model: str, mirror: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "kobench", "run", "--model", model, "--tasks", "k-seed"]
    command += ["--data-dir", str(mirror), "--output", str(out), "--no-progress", "--max-new-tokens", "6"]
    command += ["--device", "cpu", "--no-cache", *extra]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "KOBENCH_CACHE_DIR": str(out.parent / f"{out.name}-cache")}
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)


def predictions(out: Path) -> dict[str, str | None]:
    lines = (out / "samples" / "k-seed.jsonl").read_text(encoding="utf-8").splitlines()
    return {row["id"]: row["prediction"] for row in map(json.loads, lines)}


@pytest.fixture(scope="module")
def mirror(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("families-mirror")
    write_parquet(root, "NCSOFT/K-SEED", "test", k_seed_rows(6))
    return root


# --- HyperCLOVAX-SEED-Vision-Instruct-3B (v0.1.0 interface) ---


@pytest.fixture(scope="module")
def hcx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_hyperclovax_seed_vision(
        tmp_path_factory.mktemp("hcx") / "HyperCLOVAX-SEED-Vision-Instruct-3B"
    )


def test_hcx_card_snippet_runs_against_the_fixture(hcx: Path) -> None:
    # The "Example for v0.1.0" of naver-hyperclovax/HyperCLOVAX-SEED-Vision-Instruct-3B's model card
    # (huggingface.co/naver-hyperclovax/HyperCLOVAX-SEED-Vision-Instruct-3B, README.md), as written there
    # but for: the model name (the fixture's folder), no .to("cuda"), local image bytes for the URLs (one of
    # the sources the card lists), a short max_new_tokens, no video item (the fixture reads none), and
    # return_dict=False, which transformers 5 needs for the tensor the card's transformers 4.45 returned.
    from transformers import AutoModelForCausalLM, AutoProcessor, AutoTokenizer

    model_name = str(hcx)
    model = AutoModelForCausalLM.from_pretrained(model_name, trust_remote_code=True)
    preprocessor = AutoProcessor.from_pretrained(model_name, trust_remote_code=True)
    tokenizer = AutoTokenizer.from_pretrained(model_name, trust_remote_code=True)

    chat = [
        {"role": "system", "content": "you are helpful assistant!"},
        {"role": "user", "content": "Hello, how are you?"},
        {"role": "assistant", "content": "I'm doing great. How can I help you today?"},
        {"role": "user", "content": "I'd like to show off how chat templating works!"},
    ]
    input_ids = tokenizer.apply_chat_template(chat, return_tensors="pt", tokenize=True, return_dict=False)
    output_ids = model.generate(
        input_ids, max_new_tokens=8, do_sample=True, top_p=0.6, temperature=0.5, repetition_penalty=1.0
    )
    assert tokenizer.batch_decode(output_ids)[0].startswith("<|im_start|>system\nyou are helpful assistant!")

    vlm_chat = [
        {"role": "system", "content": {"type": "text", "text": "System Prompt"}},
        {"role": "user", "content": {"type": "text", "text": "User Text 1"}},
        {
            "role": "user",
            "content": {
                "type": "image",
                "filename": "tradeoff_sota.png",
                "image": RED,
                "ocr": "List the words in the image in raster order. Even if the word order feels unnatural"
                " for reading, the model will handle it as long as it follows raster order.",
                "lens_keywords": "Gucci Ophidia, cross bag, Ophidia small, GG, Supreme shoulder bag",
                "lens_local_keywords": "[0.07, 0.21, 0.92, 0.90] Gucci Ophidia",
            },
        },
        {"role": "user", "content": {"type": "image", "filename": "tradeoff.png", "image": BLUE}},
        {"role": "assistant", "content": {"type": "text", "text": "Assistant Text 1"}},
        {"role": "user", "content": {"type": "text", "text": "User Text 2"}},
        {"role": "user", "content": {"type": "text", "text": "User Text 3"}},
    ]
    new_vlm_chat, all_images, is_video_list = preprocessor.load_images_videos(vlm_chat)
    preprocessed = preprocessor(all_images, is_video_list=is_video_list)
    input_ids = tokenizer.apply_chat_template(
        new_vlm_chat, return_tensors="pt", tokenize=True, add_generation_prompt=True, return_dict=False
    )
    output_ids = model.generate(
        input_ids=input_ids,
        max_new_tokens=8,
        do_sample=True,
        top_p=0.6,
        temperature=0.5,
        repetition_penalty=1.0,
        **preprocessed,
    )
    # Two images, each one <|dummy3|> in the prompt; the images' embeddings replace them, so only new tokens
    # come back.
    assert input_ids.tolist()[0].count(model.config.img_start_id) == 2 and is_video_list == [False, False]
    assert output_ids.shape[1] <= 8
    assert isinstance(tokenizer.batch_decode(output_ids)[0], str)


@pytest.fixture(scope="module")
def hcx_model(hcx: Path):
    from kobench.models.hf import HFModel

    return HFModel(str(hcx), device="cpu", dtype="float32", trust_remote_code=True, batch_size=4)


def card_answer(hcx_model, chat: list[dict]) -> str:
    """What the card's own calls generate for `chat`, greedily: independent of kobench's encoding."""
    import torch

    preprocessor, tokenizer, model = hcx_model.processor, hcx_model.tokenizer, hcx_model.model
    new_chat, all_images, is_video_list = preprocessor.load_images_videos(chat)
    input_ids = tokenizer.apply_chat_template(
        new_chat, return_tensors="pt", tokenize=True, add_generation_prompt=True, return_dict=False
    )
    preprocessed = preprocessor(all_images, is_video_list=is_video_list) if all_images else {}
    with torch.inference_mode():
        output_ids = model.generate(input_ids=input_ids, max_new_tokens=6, do_sample=False, **preprocessed)
    if not all_images:  # the language model's own generate returns the prompt too
        output_ids = output_ids[:, input_ids.shape[1] :]
    return tokenizer.batch_decode(output_ids, skip_special_tokens=True)[0]


def test_hcx_answers_equal_the_card_calls(hcx_model) -> None:
    requests = [
        request("one", "무엇이 보입니까?", [RED]),
        request("two", "두 그림의 차이는?", [RED, BLUE], system="간단히 답하세요."),
        request("text", "안녕하세요", []),
    ]
    answers = {r.request_id: r for r in hcx_model.generate(requests)}
    assert all(a.error is None for a in answers.values()), answers
    chats = {
        "one": [
            {"role": "user", "content": {"type": "image", "image": RED}},
            {"role": "user", "content": {"type": "text", "text": "무엇이 보입니까?"}},
        ],
        "two": [
            {"role": "system", "content": {"type": "text", "text": "간단히 답하세요."}},
            {"role": "user", "content": {"type": "image", "image": RED}},
            {"role": "user", "content": {"type": "image", "image": BLUE}},
            {"role": "user", "content": {"type": "text", "text": "두 그림의 차이는?"}},
        ],
        "text": [{"role": "user", "content": {"type": "text", "text": "안녕하세요"}}],
    }
    for rid, chat in chats.items():
        assert answers[rid].text == card_answer(hcx_model, chat), rid
    # The interface takes one conversation per call: a batch size of 4 ran as 1, and the results say why.
    report = hcx_model.batch_report()
    assert report["batch_size"] == 1 and report["interface_limit"] == 1 and "pad token" in report["why"]
    assert hcx_model.loading_report()["interface"] == "hyperclovax-seed-vision-v0.1"


def test_hcx_left_padded_batch_differs_so_it_runs_one_at_a_time(hcx_model) -> None:
    # Why the family's limit is 1: its model reads each prompt up to the first pad token, so the left-padded
    # batch generate() needs reads the shorter prompt as empty and answers differently than alone.
    import torch

    preprocessor, tokenizer, model = hcx_model.processor, hcx_model.tokenizer, hcx_model.model
    chats = [
        [
            {"role": "user", "content": {"type": "image", "image": RED}},
            {"role": "user", "content": {"type": "text", "text": text}},
        ]
        for text in ("짧게", "조금 더 긴 질문입니다. 그림 속 사과의 개수는 몇 개입니까?")
    ]
    alone = [card_answer(hcx_model, chat) for chat in chats]
    ids, pre = [], {}
    for chat in chats:
        new_chat, images, flags = preprocessor.load_images_videos(chat)
        ids.append(tokenizer.apply_chat_template(new_chat, tokenize=True, add_generation_prompt=True))
        for key, value in preprocessor(images, is_video_list=flags).items():
            pre.setdefault(key, []).extend(value)
    padded = tokenizer.pad(
        {"input_ids": [i["input_ids"] for i in ids]}, padding_side="left", return_tensors="pt"
    )
    assert padded["input_ids"][0, 0] == tokenizer.pad_token_id  # the short prompt is padded on the left
    with torch.inference_mode():
        out = model.generate(input_ids=padded["input_ids"], max_new_tokens=6, do_sample=False, **pre)
    together = tokenizer.batch_decode(out, skip_special_tokens=True)
    assert together[0] != alone[0]


def test_hcx_through_kobench_run(hcx: Path, mirror: Path, tmp_path: Path) -> None:
    done = kobench_run(f"hf:{hcx}", mirror, tmp_path / "run", "--trust-remote-code", "--batch-size", "4")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "model interface: hyperclovax-seed-vision-v0.1" in done.stderr
    results = load_results(tmp_path / "run" / "results.json")
    task = results.tasks["k-seed"]
    assert results.status == "complete" and task.n == 6 and task.n_failed == 0
    assert results.run.loading == {"interface": "hyperclovax-seed-vision-v0.1"}
    assert results.run.batch is not None and results.run.batch["interface_limit"] == 1
    assert all(isinstance(p, str) for p in predictions(tmp_path / "run").values())


def test_hcx_without_trust_remote_code_is_a_clear_error(hcx: Path, mirror: Path, tmp_path: Path) -> None:
    done = kobench_run(f"hf:{hcx}", mirror, tmp_path / "run")
    assert done.returncode == 4, done.stdout + done.stderr
    assert "--trust-remote-code" in done.stderr and "Traceback" not in done.stderr


def test_hcx_request_order_is_kept(hcx_model) -> None:
    requests = [request(f"r{i}", "질문 " * (i + 1), [RED] if i % 2 else []) for i in range(4)]
    answers = in_request_order(hcx_model, requests)
    assert [a.request_id for a in answers] == [r.id for r in requests]


# --- a model written for an older transformers ---


def test_remote_code_importing_a_removed_name_names_the_version(hcx: Path, tmp_path: Path) -> None:
    import shutil

    from kobench.models.hf import HFModel

    old = tmp_path / "old-model"
    shutil.copytree(hcx, old)
    source = (old / "preprocessor.py").read_text(encoding="utf-8")
    removed = "from transformers.processing_utils import _kobench_removed_helper\n"
    (old / "preprocessor.py").write_text(removed + source, encoding="utf-8")
    config = json.loads((old / "config.json").read_text(encoding="utf-8"))
    (old / "config.json").write_text(
        json.dumps({**config, "transformers_version": "4.45.0"}), encoding="utf-8"
    )
    with pytest.raises(BadInputError) as caught:
        HFModel(str(old), device="cpu", trust_remote_code=True)
    message = str(caught.value)
    assert "_kobench_removed_helper" in message and "4.45.0" in message and "older transformers" in message


# --- A.X 4.0 VL Light (remote code, a processor importing a removed helper, a dotted name) ---


@pytest.fixture(scope="module")
def ax(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # The dotted folder name is the Hub name's: transformers' module cache must cope with its dots.
    return build_ax4vl(tmp_path_factory.mktemp("ax") / "A.X-4.0-VL-Light")


def test_ax_processor_fails_to_import_without_the_layer(ax: Path) -> None:
    # The breakage is real in the fixture: in a fresh process, transformers alone cannot load the processor.
    script = (
        "import sys; from transformers import AutoProcessor;"
        " AutoProcessor.from_pretrained(sys.argv[1], trust_remote_code=True)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(ax)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode != 0 and "_validate_images_text_input_order" in done.stderr


def ax_card_objects(ax: Path):
    from transformers import AutoModelForCausalLM, AutoProcessor

    from kobench.models.compat import apply_layers

    apply_layers(
        "a.x-4-vl"
    )  # what kobench does before loading; the card's code needs it on transformers >= 4.54
    model_name = str(ax)
    model = AutoModelForCausalLM.from_pretrained(model_name, trust_remote_code=True, dtype=torch_float32())
    processor = AutoProcessor.from_pretrained(model_name, trust_remote_code=True)
    return model, processor


def torch_float32():
    import torch

    return torch.float32


def test_ax_card_snippets_run_against_the_fixture(ax: Path) -> None:
    # skt/A.X-4.0-VL-Light's model card (huggingface.co/skt/A.X-4.0-VL-Light, README.md), both versions of
    # its usage example, as written there but for: the model name (the fixture's folder), float32 and no
    # .to("cuda"), a generated image for the downloaded one, and a short max_new_tokens.
    from PIL import Image

    model, processor = ax_card_objects(ax)
    image = Image.new("RGB", (64, 24), (200, 30, 30))  # wide: a 2x1 grid and a thumbnail, 3 tiles
    messages = [
        {
            "role": "user",
            "content": [
                {"type": "image"},
                {"type": "text", "text": "이미지에 대해서 설명해줘."},
            ],
        }
    ]
    text = processor.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    inputs = processor(
        images=[image],
        text=[text],
        padding=True,
        return_tensors="pt",
    )
    generation_kwargs = {
        "max_new_tokens": 8,
        "top_p": 0.8,
        "temperature": 0.5,
        "top_k": 20,
        "repetition_penalty": 1.05,
        "do_sample": True,
    }
    generated_ids = model.generate(**inputs, **generation_kwargs)
    generated_ids_trimmed = [
        out_ids[len(in_ids) :]
        for in_ids, out_ids in zip(inputs.input_ids, generated_ids)  # noqa: B905 (the card's)
    ]
    response = processor.batch_decode(
        generated_ids_trimmed, skip_special_tokens=True, clean_up_tokenization_spaces=False
    )
    assert isinstance(response[0], str)
    image_token = model.config.image_token_index
    assert inputs.input_ids[0].tolist().count(image_token) == 3 * 4  # 4 tokens per tile, 3 tiles

    inputs = processor(
        images=[image],
        conversations=[messages],
        padding=True,
        return_tensors="pt",
    )
    generated_ids = model.generate(**inputs, **generation_kwargs)
    assert generated_ids.shape[1] > inputs.input_ids.shape[1]
    # This version applies the template without a generation prompt (no assistant header), which is why
    # kobench renders the prompt itself and passes text=, as the first version does.
    prompt = processor.batch_decode(inputs.input_ids)[0]
    assert prompt.endswith("<|im_end|>\n") and not text.endswith("<|im_end|>\n")


@pytest.fixture(scope="module")
def ax_model(ax: Path):
    from kobench.models.hf import HFModel

    return HFModel(str(ax), device="cpu", dtype="float32", trust_remote_code=True, batch_size=4)


def test_ax_answers_equal_the_card_calls_and_a_batch_answers_as_one_at_a_time(ax: Path, ax_model) -> None:
    import torch

    wide = png((200, 30, 30), size=(64, 24))
    requests = [
        request("wide", "이미지에 대해서 설명해줘.", [wide]),
        request("two", "두 그림의 차이는?", [RED, BLUE], system="간단히 답하세요."),
        request("text", "안녕하세요", []),
        request("long", "그림 속 사과의 개수는 몇 개입니까? 보기: A. 1 B. 2 C. 3 D. 4", [BLUE]),
    ]
    batched = {r.request_id: r.text for r in ax_model.generate(requests)}
    assert all(isinstance(t, str) for t in batched.values()), batched
    alone = {r.id: next(iter(ax_model.generate([r]))).text for r in requests}
    assert batched == alone

    from PIL import Image

    processor, model = ax_model.processor, ax_model.model
    for r in requests:  # the card's calls, one conversation each, greedy
        messages = [
            {
                "role": m.role,
                "content": [
                    {"type": "image"} if isinstance(p, ImagePart) else {"type": "text", "text": p.text}
                    for p in m.content
                ],
            }
            for m in r.messages
        ]
        images = [Image.open(io.BytesIO(ref.read_bytes())).convert("RGB") for ref in r.images]
        text = processor.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        inputs = processor(images=images or None, text=[text], padding=True, return_tensors="pt")
        with torch.inference_mode():
            out = model.generate(**inputs, max_new_tokens=6, do_sample=False)
        trimmed = [o[len(i) :] for i, o in zip(inputs.input_ids, out, strict=True)]
        card = processor.batch_decode(trimmed, skip_special_tokens=True, clean_up_tokenization_spaces=False)[
            0
        ]
        assert alone[r.id] == card, r.id


def test_ax_through_kobench_run_says_and_records_the_layer(ax: Path, mirror: Path, tmp_path: Path) -> None:
    done = kobench_run(f"hf:{ax}", mirror, tmp_path / "run", "--trust-remote-code", "--batch-size", "4")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "compatibility layer validate-images-text-input-order" in done.stderr
    results = load_results(tmp_path / "run" / "results.json")
    assert results.status == "complete" and results.tasks["k-seed"].n_failed == 0
    assert results.run.model.name == "A.X-4.0-VL-Light"
    assert results.run.model.fingerprint.endswith("+compat:validate-images-text-input-order@1")
    loading = results.run.loading
    assert loading is not None and [layer["name"] for layer in loading["compat"]] == [
        "validate-images-text-input-order"
    ]
    assert loading["interface"] == "processor-chat-template"


def test_the_layer_is_only_for_its_model_types_and_stays_out_of_the_way(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import transformers.processing_utils as processing_utils

    from kobench.models import compat

    assert compat.layers_for("hyperclovax_vlm") == [] and compat.layers_for("llava") == []
    assert compat.fingerprint_suffix("a.x-4-vl") == "+compat:validate-images-text-input-order@1"

    def upstream(images, text):  # a transformers that has the helper (again)
        return images, text

    monkeypatch.setattr(processing_utils, "_validate_images_text_input_order", upstream, raising=False)
    assert compat.layers_for("a.x-4-vl") == [] and compat.fingerprint_suffix("a.x-4-vl") == ""
    assert compat.apply_layers("a.x-4-vl") == []
    assert processing_utils._validate_images_text_input_order is upstream


def test_the_restored_helper_behaves_as_the_old_one() -> None:
    from PIL import Image

    from kobench.models.compat import _validate_images_text_input_order as validate

    image = Image.new("RGB", (4, 4))
    assert validate([image], ["text"]) == ([image], ["text"])
    assert validate(None, ["text"]) == (None, ["text"])
    with pytest.warns(FutureWarning):
        assert validate(["text"], [image]) == ([image], ["text"])


# --- the families users compare against: Qwen2.5-VL, Qwen3-VL, LLaVA-OneVision (VARCO-VISION-2.0),
# Gemma 3 ---

NATIVE_FAMILIES = ("qwen2_5_vl", "qwen3_vl", "llava_onevision", "gemma3")


@pytest.fixture(scope="module")
def native(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """Each family's fixture folder, built on first use."""
    built: dict[str, Path] = {}

    def get(family: str) -> Path:
        if family not in built:
            if family in ("qwen2_5_vl", "qwen3_vl"):
                built[family] = request.getfixturevalue(f"tiny_{family}")
            else:
                builder = {"llava_onevision": build_llava_onevision, "gemma3": build_gemma3}[family]
                built[family] = builder(tmp_path_factory.mktemp(family) / family)
        return built[family]

    return get


def mixed_requests() -> list[Request]:
    """Different lengths, image sizes (tiling families cut a wide image into more tiles), a text-only row
    and one with two images: what a left-padded batch must answer as each would alone."""
    wide = png((200, 30, 30), size=(96, 32))
    return [
        request("wide", "이미지에 대해서 설명해줘.", [wide]),
        request("two", "두 그림의 차이는?", [RED, BLUE], system="간단히 답하세요."),
        request("text", "안녕하세요", []),
        request("long", "그림 속 사과의 개수는 몇 개입니까? 보기: A. 1 B. 2 C. 3 D. 4", [BLUE]),
    ]


@pytest.mark.parametrize("family", NATIVE_FAMILIES)
def test_a_batch_answers_as_one_at_a_time(family: str, native) -> None:
    from kobench.models.hf import HFModel

    model = HFModel(str(native(family)), device="cpu", dtype="float32", batch_size=4)
    requests = mixed_requests()
    batched = {r.request_id: (r.text, r.error) for r in model.generate(requests)}
    assert all(error is None for _, error in batched.values()), batched
    alone = {r.id: next(iter(model.generate([r]))).text for r in requests}
    assert {rid: text for rid, (text, _) in batched.items()} == alone
    assert model.loading_report() == {"interface": "processor-chat-template"}


@pytest.mark.parametrize("family", NATIVE_FAMILIES)
def test_each_family_through_kobench_run(family: str, native, mirror: Path, tmp_path: Path) -> None:
    done = kobench_run(f"hf:{native(family)}", mirror, tmp_path / "run", "--batch-size", "3")
    assert done.returncode == 0, done.stdout + done.stderr
    results = load_results(tmp_path / "run" / "results.json")
    assert results.status == "complete" and results.tasks["k-seed"].n_failed == 0
    assert len(predictions(tmp_path / "run")) == 6


def test_qwen2_5_vl_card_snippet_runs_against_the_fixture(native) -> None:
    # Qwen2.5-VL's "Using 🤗 Transformers to Chat" (github.com/QwenLM/Qwen2.5-VL README.md, the same text as
    # huggingface.co/Qwen/Qwen2.5-VL-7B-Instruct), as written there but for: the fixture's folder and its
    # class, no device_map, a generated image for the URL, the loaded image in place of qwen_vl_utils'
    # process_vision_info (which loads and resizes it), and a short max_new_tokens.
    from PIL import Image
    from transformers import AutoProcessor, Qwen2_5_VLForConditionalGeneration

    path = str(native("qwen2_5_vl"))
    model = Qwen2_5_VLForConditionalGeneration.from_pretrained(path, torch_dtype="auto")
    processor = AutoProcessor.from_pretrained(path)
    image = Image.new("RGB", (64, 48), (30, 120, 200))
    messages = [
        {
            "role": "user",
            "content": [
                {
                    "type": "image",
                    "image": image,
                },
                {"type": "text", "text": "Describe this image."},
            ],
        }
    ]

    # Preparation for inference
    text = processor.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    image_inputs, video_inputs = [image], None
    inputs = processor(
        text=[text],
        images=image_inputs,
        videos=video_inputs,
        padding=True,
        return_tensors="pt",
    )
    inputs = inputs.to(model.device)

    # Inference: Generation of the output
    generated_ids = model.generate(**inputs, max_new_tokens=8)
    generated_ids_trimmed = [
        out_ids[len(in_ids) :]
        for in_ids, out_ids in zip(inputs.input_ids, generated_ids)  # noqa: B905 (the card's)
    ]
    output_text = processor.batch_decode(
        generated_ids_trimmed, skip_special_tokens=True, clean_up_tokenization_spaces=False
    )
    assert len(output_text) == 1 and isinstance(output_text[0], str)
    assert "<|vision_start|>" in text  # the template writes the image where the content part is


def test_qwen3_vl_snippet_runs_against_the_fixture(native) -> None:
    # Qwen3-VL's "Model usage" (transformers' docs/source/en/model_doc/qwen3_vl.md, v4.57.1 to v5; the card
    # huggingface.co/Qwen/Qwen3-VL-8B-Instruct makes the same calls, loading with dtype="auto"), as written
    # there but for: the fixture's folder, float32 and no device_map or attention choice, a generated image
    # in place of the URL, and a short max_new_tokens.
    import torch
    from PIL import Image
    from transformers import AutoProcessor, Qwen3VLForConditionalGeneration

    path = str(native("qwen3_vl"))
    model = Qwen3VLForConditionalGeneration.from_pretrained(path, dtype=torch.float32)
    processor = AutoProcessor.from_pretrained(path)
    messages = [
        {
            "role": "user",
            "content": [
                {
                    "type": "image",
                    "image": Image.new("RGB", (64, 48), (30, 120, 200)),
                },
                {"type": "text", "text": "Describe this image."},
            ],
        }
    ]

    inputs = processor.apply_chat_template(
        messages,
        tokenize=True,
        add_generation_prompt=True,
        return_dict=True,
        return_tensors="pt",
    )
    inputs.pop("token_type_ids", None)

    generated_ids = model.generate(**inputs, max_new_tokens=8)
    generated_ids_trimmed = [
        out_ids[len(in_ids) :]
        for in_ids, out_ids in zip(inputs.input_ids, generated_ids)  # noqa: B905 (the docs')
    ]
    output_text = processor.batch_decode(
        generated_ids_trimmed, skip_special_tokens=True, clean_up_tokenization_spaces=False
    )
    assert len(output_text) == 1 and isinstance(output_text[0], str)
    assert (
        inputs["input_ids"][0].tolist().count(model.config.image_token_id)
        == inputs["image_grid_thw"].prod() // 4
    )


def test_llava_onevision_card_snippet_runs_against_the_fixture(native) -> None:
    # VARCO-VISION-14B-HF's "Direct Use" (huggingface.co/NCSOFT/VARCO-VISION-14B-HF, README.md; the model
    # "follows the architecture of LLaVA-OneVision", as VARCO-VISION-2.0 does), as written there but for: the
    # fixture's folder, float32 and no device_map or flash attention, a generated image for the URL, and a
    # short max_new_tokens.
    import torch
    from PIL import Image
    from transformers import AutoProcessor, LlavaOnevisionForConditionalGeneration

    model_name = str(native("llava_onevision"))
    model = LlavaOnevisionForConditionalGeneration.from_pretrained(model_name, torch_dtype="float32")
    processor = AutoProcessor.from_pretrained(model_name)
    device = model.device

    conversation = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Describe this image."},
                {"type": "image"},
            ],
        },
    ]

    prompt = processor.apply_chat_template(conversation, add_generation_prompt=True)

    EOS_TOKEN = "<|im_end|>"
    raw_image = Image.new("RGB", (80, 40), (200, 120, 30))
    inputs = processor(images=raw_image, text=prompt, return_tensors="pt").to(device, torch.float32)

    output = model.generate(**inputs, max_new_tokens=8, do_sample=False)
    output = processor.decode(output[0][inputs.input_ids.shape[1] :])
    if output.endswith(EOS_TOKEN):
        output = output[: -len(EOS_TOKEN)]

    output = output.strip()
    assert isinstance(output, str) and "<image>" in prompt


def test_gemma3_card_snippet_runs_against_the_fixture(native) -> None:
    # google/gemma-3-4b-it's "Running the model on a single/multi GPU" (huggingface.co/google/gemma-3-4b-it,
    # README.md), as written there but for: the fixture's folder, no device_map, a loaded image for the URL,
    # float32 inputs and a short max_new_tokens.
    import torch
    from PIL import Image
    from transformers import AutoProcessor, Gemma3ForConditionalGeneration

    model_id = str(native("gemma3"))

    model = Gemma3ForConditionalGeneration.from_pretrained(model_id).eval()

    processor = AutoProcessor.from_pretrained(model_id)

    messages = [
        {"role": "system", "content": [{"type": "text", "text": "You are a helpful assistant."}]},
        {
            "role": "user",
            "content": [
                {"type": "image", "image": Image.new("RGB", (64, 64), (240, 200, 20))},
                {"type": "text", "text": "Describe this image in detail."},
            ],
        },
    ]

    inputs = processor.apply_chat_template(
        messages, add_generation_prompt=True, tokenize=True, return_dict=True, return_tensors="pt"
    ).to(model.device, dtype=torch.float32)

    input_len = inputs["input_ids"].shape[-1]

    with torch.inference_mode():
        generation = model.generate(**inputs, max_new_tokens=8, do_sample=False)
        generation = generation[0][input_len:]

    decoded = processor.decode(generation, skip_special_tokens=True)
    assert isinstance(decoded, str)
    assert (
        inputs["input_ids"][0].tolist().count(model.config.image_token_index)
        == model.config.mm_tokens_per_image
    )


# --- InternVL (remote code: model.chat, the caller tiles) ---

# The card's own image helpers, verbatim (huggingface.co/OpenGVLab/InternVL3-1B, README.md "Quick Start";
# the same code in github.com/OpenGVLab/InternVL README.md): the independent reference for
# kobench.models.internvl_tiles.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def build_transform(input_size):
    import torchvision.transforms as T
    from torchvision.transforms.functional import InterpolationMode

    MEAN, STD = IMAGENET_MEAN, IMAGENET_STD
    transform = T.Compose(
        [
            T.Lambda(lambda img: img.convert("RGB") if img.mode != "RGB" else img),
            T.Resize((input_size, input_size), interpolation=InterpolationMode.BICUBIC),
            T.ToTensor(),
            T.Normalize(mean=MEAN, std=STD),
        ]
    )
    return transform


def find_closest_aspect_ratio(aspect_ratio, target_ratios, width, height, image_size):
    best_ratio_diff = float("inf")
    best_ratio = (1, 1)
    area = width * height
    for ratio in target_ratios:
        target_aspect_ratio = ratio[0] / ratio[1]
        ratio_diff = abs(aspect_ratio - target_aspect_ratio)
        if ratio_diff < best_ratio_diff:
            best_ratio_diff = ratio_diff
            best_ratio = ratio
        elif ratio_diff == best_ratio_diff:  # noqa: SIM102 (the card's)
            if area > 0.5 * image_size * image_size * ratio[0] * ratio[1]:
                best_ratio = ratio
    return best_ratio


def dynamic_preprocess(image, min_num=1, max_num=12, image_size=448, use_thumbnail=False):
    orig_width, orig_height = image.size
    aspect_ratio = orig_width / orig_height

    # calculate the existing image aspect ratio
    target_ratios = set(
        (i, j)
        for n in range(min_num, max_num + 1)
        for i in range(1, n + 1)
        for j in range(1, n + 1)
        if i * j <= max_num and i * j >= min_num
    )
    target_ratios = sorted(target_ratios, key=lambda x: x[0] * x[1])

    # find the closest aspect ratio to the target
    target_aspect_ratio = find_closest_aspect_ratio(
        aspect_ratio, target_ratios, orig_width, orig_height, image_size
    )

    # calculate the target width and height
    target_width = image_size * target_aspect_ratio[0]
    target_height = image_size * target_aspect_ratio[1]
    blocks = target_aspect_ratio[0] * target_aspect_ratio[1]

    # resize the image
    resized_img = image.resize((target_width, target_height))
    processed_images = []
    for i in range(blocks):
        box = (
            (i % (target_width // image_size)) * image_size,
            (i // (target_width // image_size)) * image_size,
            ((i % (target_width // image_size)) + 1) * image_size,
            ((i // (target_width // image_size)) + 1) * image_size,
        )
        # split the image
        split_img = resized_img.crop(box)
        processed_images.append(split_img)
    assert len(processed_images) == blocks
    if use_thumbnail and len(processed_images) != 1:
        thumbnail_img = image.resize((image_size, image_size))
        processed_images.append(thumbnail_img)
    return processed_images


def load_image(image_file, input_size=448, max_num=12):
    import torch
    from PIL import Image

    image = Image.open(image_file).convert("RGB")
    transform = build_transform(input_size=input_size)
    images = dynamic_preprocess(image, image_size=input_size, use_thumbnail=True, max_num=max_num)
    pixel_values = [transform(image) for image in images]
    pixel_values = torch.stack(pixel_values)
    return pixel_values


@pytest.mark.parametrize("size", [(448, 448), (1000, 300), (300, 1000), (640, 480), (37, 901), (1300, 1300)])
@pytest.mark.parametrize("max_num", [1, 6, 12])
def test_internvl_tiles_equal_the_cards_load_image(size: tuple[int, int], max_num: int) -> None:
    pytest.importorskip("torchvision", reason="the card's transform is torchvision's")
    import numpy as np
    import torch
    from PIL import Image

    from kobench.models.internvl_tiles import pixel_values

    rng = np.random.default_rng(size[0] * 7 + size[1])
    data = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)).save(data, format="PNG")
    card = load_image(io.BytesIO(data.getvalue()), input_size=448, max_num=max_num)
    ours = pixel_values(Image.open(io.BytesIO(data.getvalue())), 448, max_num)
    assert ours.shape == card.shape
    assert torch.allclose(ours, card, atol=1e-5)


@pytest.fixture(scope="module")
def internvl(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_internvl_chat(tmp_path_factory.mktemp("internvl") / "InternVL3-1B")


def test_internvl_card_snippet_runs_against_the_fixture(internvl: Path, tmp_path: Path) -> None:
    # The card's quick start (above), as written there but for: the fixture's folder, float32 on the CPU
    # (no .cuda(), no flash attention), generated images for ./examples/*.jpg, the fixture's 28 px tiles for
    # input_size, and a short max_new_tokens.
    import torch
    from PIL import Image
    from transformers import AutoModel, AutoTokenizer

    for name, size in (("image1.jpg", (90, 30)), ("image2.jpg", (40, 40))):
        Image.new("RGB", size, (20, 160, 90)).save(tmp_path / name)
    path = str(internvl)
    model = AutoModel.from_pretrained(
        path, torch_dtype=torch.float32, low_cpu_mem_usage=True, trust_remote_code=True
    ).eval()
    tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=True, use_fast=False)

    # set the max number of tiles in `max_num`
    pixel_values = load_image(tmp_path / "image1.jpg", input_size=28, max_num=12).to(torch.float32)
    generation_config = dict(max_new_tokens=8, do_sample=True)

    # single-image single-round conversation (单图单轮对话)
    question = "<image>\nPlease describe the image shortly."
    response = model.chat(tokenizer, pixel_values, question, generation_config)
    assert isinstance(response, str)

    # batch inference, single image per sample (单图批处理)
    pixel_values1 = load_image(tmp_path / "image1.jpg", input_size=28, max_num=12).to(torch.float32)
    pixel_values2 = load_image(tmp_path / "image2.jpg", input_size=28, max_num=12).to(torch.float32)
    num_patches_list = [pixel_values1.size(0), pixel_values2.size(0)]
    pixel_values = torch.cat((pixel_values1, pixel_values2), dim=0)

    questions = ["<image>\nDescribe the image in detail."] * len(num_patches_list)
    responses = model.batch_chat(
        tokenizer,
        pixel_values,
        num_patches_list=num_patches_list,
        questions=questions,
        generation_config=generation_config,
    )
    # 90x30: a 3x1 grid and the thumbnail; 40x40 at 28 px tiles: a 2x2 grid (it has the pixels) and one
    assert num_patches_list == [4, 5] and len(responses) == 2


@pytest.fixture(scope="module")
def internvl_model(internvl: Path):
    from kobench.models.hf import HFModel

    return HFModel(str(internvl), device="cpu", dtype="float32", trust_remote_code=True, batch_size=4)


def test_internvl_answers_equal_the_card_calls(internvl_model) -> None:
    import torch

    requests = [*mixed_requests(), request("one", "무엇이 보입니까?", [BLUE])]
    batched = {r.request_id: r for r in internvl_model.generate(requests)}
    assert all(r.error is None for r in batched.values()), batched
    alone = {r.id: next(iter(internvl_model.generate([r]))).text for r in requests}
    assert {rid: r.text for rid, r in batched.items()} == alone
    assert internvl_model.loading_report() == {"interface": "internvl-chat"}

    model, tokenizer = internvl_model.model, internvl_model.tokenizer
    greedy = {"max_new_tokens": 6, "do_sample": False}

    def card_pixels(data: bytes) -> torch.Tensor:
        return load_image(io.BytesIO(data), input_size=28, max_num=12)

    # one image: the card's single-image chat; two images: its multi-image form; none: pure text
    wide = requests[0].images[0].read_bytes()
    assert alone["wide"] == model.chat(
        tokenizer, card_pixels(wide), "<image>\n이미지에 대해서 설명해줘.", dict(greedy)
    )
    two = [card_pixels(RED), card_pixels(BLUE)]
    question = "Image-1: <image>\nImage-2: <image>\n두 그림의 차이는?"
    model.system_message, own = "간단히 답하세요.", model.system_message
    try:
        expected = model.chat(
            tokenizer, torch.cat(two), question, dict(greedy), num_patches_list=[len(p) for p in two]
        )
    finally:
        model.system_message = own
    assert alone["two"] == expected
    assert alone["text"] == model.chat(tokenizer, None, "안녕하세요", dict(greedy))


def test_internvl_through_kobench_run(internvl: Path, mirror: Path, tmp_path: Path) -> None:
    done = kobench_run(f"hf:{internvl}", mirror, tmp_path / "run", "--trust-remote-code", "--max-tiles", "2")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "model interface: internvl-chat" in done.stderr
    results = load_results(tmp_path / "run" / "results.json")
    assert results.status == "complete" and results.tasks["k-seed"].n_failed == 0
    assert results.run.model.settings["max_tiles"] == 2


# --- HyperCLOVAX-SEED-Vision-Instruct-3B, current main revision (HCXProcessor) ---


@pytest.fixture(scope="module")
def hcx_main(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_hyperclovax_seed_vision_main(
        tmp_path_factory.mktemp("hcx-main") / "HyperCLOVAX-SEED-Vision-Instruct-3B"
    )


def test_hcx_main_card_snippet_runs_against_the_fixture(hcx_main: Path) -> None:
    # The "Example" of naver-hyperclovax/HyperCLOVAX-SEED-Vision-Instruct-3B's model card (README.md, the main
    # revision's), as written there but for: the fixture's folder, no .to("cuda"), generated images (PIL)
    # for the URLs, a short max_new_tokens, and no video item (the fixture reads none).
    from PIL import Image
    from transformers import AutoModelForCausalLM, AutoProcessor, AutoTokenizer

    model_name = str(hcx_main)
    model = AutoModelForCausalLM.from_pretrained(model_name, trust_remote_code=True)
    processor = AutoProcessor.from_pretrained(model_name, trust_remote_code=True)
    tokenizer = AutoTokenizer.from_pretrained(model_name, trust_remote_code=True)

    llm_chat = [
        {"role": "system", "content": [{"type": "text", "text": "you are helpful assistant!"}]},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Hello, how are you?"},
                {"type": "text", "text": "I said. Hello, how are you today?"},
            ],
        },
        {
            "role": "assistant",
            "content": [{"type": "text", "text": "I'm doing great. How can I help you today?"}],
        },
        {
            "role": "user",
            "content": [{"type": "text", "text": "I'd like to show off how chat templating works!"}],
        },
    ]
    model_inputs = processor.apply_chat_template(
        llm_chat, tokenize=True, return_dict=True, return_tensors="pt", add_generation_prompt=True
    )
    output_ids = model.generate(
        **model_inputs, max_new_tokens=8, do_sample=True, top_p=0.6, temperature=0.5, repetition_penalty=1.0
    )
    assert isinstance(processor.batch_decode(output_ids)[0], str)

    vlm_chat = [
        {"role": "system", "content": [{"text": "System Prompt", "type": "text"}]},
        {"role": "user", "content": [{"text": "User Text Prompt 1", "type": "text"}]},
        {
            "role": "user",
            "content": [
                {
                    "filename": "tradeoff_sota.png",
                    "image": Image.new("RGB", (60, 40), (10, 200, 10)),
                    "lens_keywords": "Gucci Ophidia, cross bag, Ophidia small, GG, Supreme shoulder bag",
                    "lens_local_keywords": "[0.07, 0.21, 0.92, 0.90] Gucci Ophidia",
                    "ocr": "List the words in the image in raster order.",
                    "type": "image",
                }
            ],
        },
        {
            "role": "user",
            "content": [{"filename": "tradeoff.png", "image": Image.new("RGB", (30, 30)), "type": "image"}],
        },
        {"role": "assistant", "content": [{"text": "Assistant Text Prompt 1", "type": "text"}]},
        {"role": "user", "content": [{"text": "User Text Prompt 2", "type": "text"}]},
    ]
    model_inputs = processor.apply_chat_template(
        vlm_chat, tokenize=True, return_dict=True, return_tensors="pt", add_generation_prompt=True
    )
    output_ids = model.generate(
        **model_inputs, max_new_tokens=8, do_sample=True, top_p=0.6, temperature=0.5, repetition_penalty=1.0
    )
    assert isinstance(processor.batch_decode(output_ids)[0], str)
    assert model_inputs["vision_query_lengths_images"] == [[5, 5]]
    assert model_inputs["input_ids"][0].tolist().count(model.config.image_token_id) == 10
    assert tokenizer.chat_template is not None


def test_hcx_main_answers_equal_the_card_calls(hcx_main: Path) -> None:
    import torch

    from kobench.models.hf import HFModel

    model = HFModel(str(hcx_main), device="cpu", dtype="float32", trust_remote_code=True, batch_size=4)
    assert model.loading_report() == {"interface": "hyperclovax-seed-vision"}
    assert model.batch_report()["interface_limit"] == 1
    requests = [
        request("one", "무엇이 보입니까?", [RED]),
        request("two", "차이는?", [RED, BLUE], system="짧게"),
    ]
    answers = {r.request_id: r.text for r in model.generate(requests)}
    chats = {
        "one": [
            {"role": "user", "content": [{"type": "image", "image": RED}]},
            {"role": "user", "content": [{"type": "text", "text": "무엇이 보입니까?"}]},
        ],
        "two": [
            {"role": "system", "content": [{"type": "text", "text": "짧게"}]},
            {"role": "user", "content": [{"type": "image", "image": RED}]},
            {"role": "user", "content": [{"type": "image", "image": BLUE}]},
            {"role": "user", "content": [{"type": "text", "text": "차이는?"}]},
        ],
    }
    for rid, chat in chats.items():
        inputs = model.processor.apply_chat_template(
            chat, tokenize=True, return_dict=True, return_tensors="pt", add_generation_prompt=True
        )
        with torch.inference_mode():
            out = model.model.generate(**inputs, max_new_tokens=6, do_sample=False)
        assert answers[rid] == model.tokenizer.batch_decode(out, skip_special_tokens=True)[0], rid


def test_hcx_main_through_kobench_run(hcx_main: Path, mirror: Path, tmp_path: Path) -> None:
    done = kobench_run(f"hf:{hcx_main}", mirror, tmp_path / "run", "--trust-remote-code")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "model interface: hyperclovax-seed-vision " in done.stderr
    results = load_results(tmp_path / "run" / "results.json")
    assert results.status == "complete" and results.tasks["k-seed"].n_failed == 0


# --- Token accounting per family (issue 16 point 1): image tokens where the interface can tell ---


def test_internvl_image_tokens_are_its_tiles_times_the_context_tokens(internvl_model) -> None:
    # 90x30 at 28 px tiles: a 3x1 grid and the thumbnail (4 tiles, as the card snippet's test counts);
    # 40x40: a 2x2 grid and the thumbnail (5). Per tile the card's chat writes num_image_token
    # <IMG_CONTEXT> marks: (tile / patch)² · downsample_ratio², from the config.
    config = internvl_model.model.config
    per_tile = (
        config.force_image_size // config.vision_config["patch_size"]
    ) ** 2 * config.downsample_ratio**2
    wide, square = png((20, 160, 90), size=(90, 30)), png((20, 160, 90), size=(40, 40))
    requests = [
        request("a", "무엇?", [wide]),
        request("b", "무엇?", [square]),
        request("two", "차이?", [wide, square]),
    ]
    answers = {r.request_id: r for r in internvl_model.generate(requests)}
    assert answers["a"].image_tokens == 4 * per_tile and answers["b"].image_tokens == 5 * per_tile
    assert answers["two"].image_tokens == 9 * per_tile
    assert all(r.prompt_tokens == 0 for r in answers.values())  # its chat builds the prompt: not known


def test_hcx_v0_1_image_tokens_are_unknown_and_text_rows_have_none(hcx_model) -> None:
    # v0.1.0 writes one mark per image and expands it inside the model: its config names no image token
    answers = {
        r.request_id: r for r in hcx_model.generate([request("i", "무엇?", [RED]), request("t", "안녕", [])])
    }
    assert answers["i"].image_tokens is None and answers["t"].image_tokens == 0
    assert answers["i"].prompt_tokens > answers["t"].prompt_tokens > 0


def test_hcx_main_image_tokens_are_the_processors_repeated_marks(hcx_main: Path) -> None:
    from kobench.models.hf import HFModel

    model = HFModel(str(hcx_main), device="cpu", dtype="float32", trust_remote_code=True)
    (answer,) = model.generate([request("one", "무엇이 보입니까?", [RED])])
    chat = [
        {"role": "user", "content": [{"type": "image", "image": RED}]},
        {"role": "user", "content": [{"type": "text", "text": "무엇이 보입니까?"}]},
    ]
    ids = model.processor.apply_chat_template(
        chat, tokenize=True, return_dict=True, return_tensors="pt", add_generation_prompt=True
    )["input_ids"][0].tolist()
    assert answer.prompt_tokens == len(ids)
    assert answer.image_tokens == ids.count(model.model.config.image_token_id) > 1

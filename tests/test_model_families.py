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
from model_fixtures import build_ax4vl, build_gemma3, build_hyperclovax_seed_vision, build_llava_onevision

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


# --- the families users compare against: Qwen2.5-VL, LLaVA-OneVision (VARCO-VISION-2.0), Gemma 3 ---

NATIVE_FAMILIES = ("qwen2_5_vl", "llava_onevision", "gemma3")


@pytest.fixture(scope="module")
def native(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """Each family's fixture folder, built on first use."""
    built: dict[str, Path] = {}

    def get(family: str) -> Path:
        if family not in built:
            if family == "qwen2_5_vl":
                built[family] = request.getfixturevalue("tiny_qwen2_5_vl")
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

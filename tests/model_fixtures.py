"""Fixture model folders for the families users evaluate, built offline: random weights, a locally trained
tokenizer, and for the remote-code families kobench's own `modeling_*.py` / `processing_*.py`
(tests/remote_code/) implementing the interface each model card shows. Each folder loads with
`from_pretrained(..., trust_remote_code=True)` exactly as the real checkpoint does."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from kobench.testing.tiny_models import (
    TINY_DECODER,
    VLLM_DECODER,
    _train_tokenizer,
    vision_tower_under_vision_model,
)

# Every fixture's vision tower (SigLIP): two layers, 32 wide; each builder gives its image and patch size.
TINY_VISION = {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2}

REMOTE_CODE = Path(__file__).parent / "remote_code"

# HyperCLOVAX-SEED-Vision-Instruct-3B v0.1.0's chat template, in the rendered form TensorRT-LLM's and vLLM's
# ports of the model show (ChatML; one message per content dict; an image as a mime block and a vector block
# holding one <|dummy3|>, then the OCR/Lens block where the item has those keys; an assistant turn closed by
# <|im_end|><|endofturn|>). The checkpoint's own Jinja text was not available: this is kobench's.
HCX_CHAT_TEMPLATE = (
    "{% for message in messages %}{% set c = message['content'] %}{% set role = message['role'] %}"
    "{% if c is string %}{% set c = {'type': 'text', 'text': c} %}{% endif %}"
    "{% if c['type'] == 'image' %}"
    "<|im_start|>{{ role }} (mime) \n"
    '{"type": "image/jpeg", "filename": "{{ c.get(\'filename\', \'\') }}"}<|im_end|>\n'
    "<|im_start|>{{ role }} (vector)\n<|dummy3|><|im_end|>\n"
    "{% if 'ocr' in c or 'lens_keywords' in c %}<|im_start|>image/aux\n"
    "다음 중 ocr은 사진에서 검출된 글자이고, lens_keyword는 사진에서 추출된 keyword와 bbox 위치입니다."
    "bbox는 0~1 사이로 정규화된 [x1, y1, x2, y2]의 형태입니다. 참고하여 답변하세요. "
    "{\"ocr\": \"{{ c.get('ocr', '') }}\", \"lens_keywords\": \"{{ c.get('lens_keywords', '') }}\", "
    "\"lens_local_keywords\": \"{{ c.get('lens_local_keywords', '') }}\"}<|im_end|>\n{% endif %}"
    "{% else %}<|im_start|>{{ role }}\n{{ c['text'] }}<|im_end|>"
    "{% if role == 'assistant' %}<|endofturn|>{% endif %}{{ '\\n' }}{% endif %}"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
HCX_SPECIAL_TOKENS = [
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|endofturn|>",
    "<|stop|>",
    "<|dummy3|>",
    "<|_unuse_missing_100270|>",
]


def build_hyperclovax_seed_vision(out_dir: Path, seed: int = 0) -> Path:
    """A HyperCLOVAX-SEED-Vision-Instruct-3B v0.1.0 look-alike: remote code (config, model, and an image
    preprocessor that is not a processor with a tokenizer), plus a separate tokenizer."""

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tokenizer = _train_tokenizer(
        HCX_SPECIAL_TOKENS,
        pad_token="<|endoftext|>",
        bos_token=None,
        eos_token="<|endofturn|>",
        extra={},
        chat_template=HCX_CHAT_TEMPLATE,
    )
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in HCX_SPECIAL_TOKENS}
    ends = [ids["<|endofturn|>"], ids["<|stop|>"]]
    language = {
        "model_type": "llama",
        "vocab_size": len(tokenizer),
        **TINY_DECODER,
        "max_position_embeddings": 512,
        "pad_token_id": ids["<|endoftext|>"],
        "eos_token_id": ends,
        "bos_token_id": None,
    }
    vision = {
        "model_type": "siglip_vision_model",
        **TINY_VISION,
        "image_size": 28,
        "patch_size": 14,
    }
    _copy_code("hcx_legacy", out_dir)
    _write_json(
        out_dir / "config.json",
        {
            "model_type": "hyperclovax_vlm",
            "architectures": ["HCXVisionForCausalLM"],
            "auto_map": {
                "AutoConfig": "configuration_hyperclovax.HCXVisionConfig",
                "AutoModelForCausalLM": "modeling_hyperclovax.HCXVisionForCausalLM",
            },
            "language_config": language,
            "vision_config": vision,
            "img_start_id": ids["<|dummy3|>"],
            "num_queries_vis_abstractor": 4,
            "pad_token_id": ids["<|endoftext|>"],
            "eos_token_id": ends,
        },
    )
    _write_json(
        out_dir / "preprocessor_config.json",
        {
            "auto_map": {
                "AutoProcessor": "preprocessor.HCXVisionProcessor",
                "AutoImageProcessor": "preprocessor.HCXVisionProcessor",
            },
            "processor_class": "HCXVisionProcessor",
            "image_processor_type": "HCXVisionProcessor",
            "image_size": 28,
            "num_queries_vis_abstractor": 4,
            "image_mean": [0.5, 0.5, 0.5],
            "image_std": [0.5, 0.5, 0.5],
            "crop_size": {"height": 28, "width": 28},
        },
    )
    return _save_remote_code_model(
        out_dir,
        tokenizer,
        seed,
        "AutoModelForCausalLM",
        pad_token_id=ids["<|endoftext|>"],
        eos_token_id=ends,
        bos_token_id=None,
    )


def _chatml_tokenizer(special: list[str], eos: str, template: str) -> tuple[Any, dict[str, int]]:
    """A ChatML fixture's tokenizer (<|endoftext|> pads, no BOS, no token type ids) and its special tokens'
    ids."""
    tokenizer = _train_tokenizer(
        special, pad_token="<|endoftext|>", bos_token=None, eos_token=eos, extra={}, chat_template=template
    )
    tokenizer.model_input_names = ["input_ids", "attention_mask"]
    return tokenizer, {t: tokenizer.convert_tokens_to_ids(t) for t in special}


def _save_remote_code_model(
    out_dir: Path, tokenizer: Any, seed: int, auto_class: str, **generation: Any
) -> Path:
    """The random model its own code (already in `out_dir`, with config.json) builds, saved beside the
    tokenizer; `generation` (greedy added) in its generation config and its language model's, which its
    generate() hands the work to."""
    import torch
    import transformers

    config = transformers.AutoConfig.from_pretrained(out_dir, trust_remote_code=True)
    torch.manual_seed(seed)
    model = getattr(transformers, auto_class).from_config(config, trust_remote_code=True).eval()
    for generation_config in (model.generation_config, model.language_model.generation_config):
        generation_config.update(**generation, do_sample=False)
    model.save_pretrained(out_dir)
    model.language_model.generation_config.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    return out_dir


def _copy_code(family: str, out_dir: Path) -> None:
    for source in sorted((REMOTE_CODE / family).glob("*.py")):
        shutil.copyfile(source, out_dir / source.name)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _tokenizer_readable_by_transformers_4(out_dir: Path) -> None:
    """The tokenizer config as transformers 4.x reads it too (the vLLM that still serves HCX pins
    transformers < 5): transformers 5 names its class `TokenizersBackend` and writes extra special tokens as
    a list, which 4.x does not know. The same tokenizer.json; transformers 5 reads either."""
    path = out_dir / "tokenizer_config.json"
    config = json.loads(path.read_text(encoding="utf-8"))
    config["tokenizer_class"] = "PreTrainedTokenizerFast"
    if not config.get("extra_special_tokens"):
        config.pop("extra_special_tokens", None)
    _write_json(path, config)


# A.X 4.0 VL Light: the chat template's text was not available; ChatML (it is built on Qwen2.5) with
# "<image>\n" for each image item, which its processor expands. kobench's.
AX4VL_CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for part in message['content'] %}"
    "{% if part['type'] == 'image' %}<image>\n{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}"
    "{% endfor %}{% endif %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
AX4VL_SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<image>"]


def build_ax4vl(out_dir: Path, seed: int = 0) -> Path:
    """An A.X-4.0-VL-Light look-alike (remote code under AutoModelForCausalLM, model type "a.x-4-vl"), whose
    processor imports the helper transformers removed in 4.54 and whose modules import each other relatively.
    Name the folder A.X-4.0-VL-Light to exercise the dotted name."""

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tokenizer, ids = _chatml_tokenizer(AX4VL_SPECIAL_TOKENS, "<|im_end|>", AX4VL_CHAT_TEMPLATE)
    text = {
        "model_type": "qwen2",
        "vocab_size": len(tokenizer),
        **TINY_DECODER,
        "max_position_embeddings": 512,
        "pad_token_id": ids["<|endoftext|>"],
        "eos_token_id": ids["<|im_end|>"],
    }
    vision = {
        "model_type": "siglip_vision_model",
        **TINY_VISION,
        "image_size": 16,
        "patch_size": 8,
    }
    _copy_code("ax4vl", out_dir)
    _write_json(
        out_dir / "config.json",
        {
            "model_type": "a.x-4-vl",
            "architectures": ["AX4VLForConditionalGeneration"],
            "auto_map": {
                "AutoConfig": "configuration_ax4vl.AX4VLConfig",
                "AutoModelForCausalLM": "modeling_ax4vl.AX4VLForConditionalGeneration",
            },
            "text_config": text,
            "vision_config": vision,
            "projector_config": {"hidden_act": "gelu"},
            "image_token_index": ids["<image>"],
            "num_tokens_per_tile": 4,
            "pad_token_id": ids["<|endoftext|>"],
            "eos_token_id": ids["<|im_end|>"],
            "transformers_version": "4.49.0",
        },
    )
    image_processor = {
        "auto_map": {
            "AutoProcessor": "processing_ax4vl.AX4VLProcessor",
            "AutoImageProcessor": "image_processing_ax4vl.AX4VLImageProcessor",
        },
        "image_processor_type": "AX4VLImageProcessor",
        "processor_class": "AX4VLProcessor",
        "size": {"shortest_edge": 16},
        "image_mean": [0.5, 0.5, 0.5],
        "image_std": [0.5, 0.5, 0.5],
    }
    _write_json(out_dir / "preprocessor_config.json", image_processor)
    _write_json(
        out_dir / "processor_config.json",
        {
            "auto_map": {"AutoProcessor": "processing_ax4vl.AX4VLProcessor"},
            "processor_class": "AX4VLProcessor",
            "num_tokens_per_tile": 4,
            "image_token": "<image>",
        },
    )
    return _save_remote_code_model(
        out_dir,
        tokenizer,
        seed,
        "AutoModelForCausalLM",
        pad_token_id=ids["<|endoftext|>"],
        eos_token_id=ids["<|im_end|>"],
    )


# LLaVA-OneVision (VARCO-VISION-2.0's architecture): the llava-onevision-qwen2 -hf checkpoints' template,
# ChatML with the images of a turn first, each "<image>\n".
LLAVA_ONEVISION_CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}"
    "{% for part in message['content'] | selectattr('type', 'equalto', 'image') %}<image>\n{% endfor %}"
    "{% for part in message['content'] | selectattr('type', 'equalto', 'text') %}"
    "{{ part['text'] }}{% endfor %}"
    "{% endif %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
LLAVA_ONEVISION_SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<image>", "<video>"]


def build_llava_onevision(out_dir: Path, seed: int = 0, *, for_vllm: bool = False) -> Path:
    """A tiny LLaVA-OneVision (SigLIP + Qwen2, anyres tiling), transformers' own classes, as
    VARCO-VISION-2.0 ships. `for_vllm`: a decoder vLLM's CPU attention runs (heads of 32 or more)."""
    import torch
    from transformers import (
        LlavaOnevisionConfig,
        LlavaOnevisionForConditionalGeneration,
        LlavaOnevisionImageProcessorPil,
        LlavaOnevisionProcessor,
        LlavaOnevisionVideoProcessor,
        Qwen2Config,
        SiglipVisionConfig,
    )

    out_dir = Path(out_dir)
    tokenizer = _train_tokenizer(
        LLAVA_ONEVISION_SPECIAL_TOKENS,
        pad_token="<|endoftext|>",
        bos_token=None,
        eos_token="<|im_end|>",
        extra={"image_token": "<image>", "video_token": "<video>"},
        chat_template=LLAVA_ONEVISION_CHAT_TEMPLATE,
    )
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in LLAVA_ONEVISION_SPECIAL_TOKENS}
    image_size, patch_size = 28, 14
    pinpoints = [[28, 28], [28, 56], [56, 28], [56, 56]]
    config = LlavaOnevisionConfig(
        vision_config=SiglipVisionConfig(
            **TINY_VISION,
            image_size=image_size,
            patch_size=patch_size,
        ),
        text_config=Qwen2Config(
            vocab_size=len(tokenizer),
            **(VLLM_DECODER if for_vllm else TINY_DECODER),
            max_position_embeddings=1024,
            pad_token_id=ids["<|endoftext|>"],
            eos_token_id=ids["<|im_end|>"],
        ),
        image_token_index=ids["<image>"],
        video_token_index=ids["<video>"],
        image_grid_pinpoints=pinpoints,
        vision_feature_select_strategy="full",
        vision_feature_layer=-1,
        vision_aspect_ratio="anyres_max_9",
    )
    torch.manual_seed(seed)
    model = LlavaOnevisionForConditionalGeneration(config).eval()
    generation = model.generation_config
    generation.update(pad_token_id=ids["<|endoftext|>"], eos_token_id=ids["<|im_end|>"], do_sample=False)
    image_processor = LlavaOnevisionImageProcessorPil(
        size={"height": image_size, "width": image_size},
        crop_size={"height": image_size, "width": image_size},
        image_grid_pinpoints=pinpoints,
        image_mean=[0.5, 0.5, 0.5],
        image_std=[0.5, 0.5, 0.5],
    )
    processor = LlavaOnevisionProcessor(
        image_processor=image_processor,
        tokenizer=tokenizer,
        video_processor=LlavaOnevisionVideoProcessor(),
        num_image_tokens=(image_size // patch_size) ** 2,
        vision_feature_select_strategy="full",
        chat_template=LLAVA_ONEVISION_CHAT_TEMPLATE,
        vision_aspect_ratio="anyres_max_9",
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    processor.save_pretrained(out_dir)
    if for_vllm:
        vision_tower_under_vision_model(out_dir)
    return out_dir


# Gemma 3's template in the form the -it checkpoints render: <bos>, a system turn folded into the first user
# turn, roles user/model, an image as <start_of_image> (the processor expands it). kobench's own Jinja.
GEMMA3_CHAT_TEMPLATE = (
    "{{ bos_token }}{% set first = namespace(system='') %}"
    "{% if messages[0]['role'] == 'system' %}"
    "{% set first.system = (messages[0]['content'] if messages[0]['content'] is string else"
    " messages[0]['content'][0]['text']) + '\n\n' %}{% set messages = messages[1:] %}{% endif %}"
    "{% for message in messages %}"
    "{% set role = 'model' if message['role'] == 'assistant' else message['role'] %}"
    "<start_of_turn>{{ role }}\n{% if loop.first %}{{ first.system }}{% endif %}"
    "{% if message['content'] is string %}{{ message['content'] | trim }}{% else %}"
    "{% for part in message['content'] %}{% if part['type'] == 'image' %}<start_of_image>"
    "{% elif part['type'] == 'text' %}{{ part['text'] | trim }}{% endif %}{% endfor %}{% endif %}"
    "<end_of_turn>\n{% endfor %}{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}"
)
GEMMA3_SPECIAL_TOKENS = [
    "<pad>",
    "<bos>",
    "<eos>",
    "<start_of_turn>",
    "<end_of_turn>",
    "<start_of_image>",
    "<end_of_image>",
    "<image_soft_token>",
]


def build_gemma3(out_dir: Path, seed: int = 0, *, for_vllm: bool = False) -> Path:
    """A tiny Gemma 3 (SigLIP + Gemma 3 text, a fixed number of soft tokens per image), transformers' own
    classes, as google/gemma-3-*-it ship. `for_vllm`: a decoder vLLM's CPU attention runs (heads of 32 or
    more)."""
    import torch
    from transformers import (
        Gemma3Config,
        Gemma3ForConditionalGeneration,
        Gemma3ImageProcessorPil,
        Gemma3Processor,
        Gemma3TextConfig,
        SiglipVisionConfig,
    )

    out_dir = Path(out_dir)
    tokenizer = _train_tokenizer(
        GEMMA3_SPECIAL_TOKENS,
        pad_token="<pad>",
        bos_token="<bos>",
        eos_token="<eos>",
        extra={
            "boi_token": "<start_of_image>",
            "eoi_token": "<end_of_image>",
            "image_token": "<image_soft_token>",
        },
        chat_template=GEMMA3_CHAT_TEMPLATE,
    )
    if for_vllm:
        # Gemma's own vocabulary has runs of one to four newlines as single tokens, and vLLM's Gemma 3 port
        # looks them up to merge the newlines around each image's tokens as the tokenizer would.
        from tokenizers import AddedToken

        tokenizer.add_tokens([AddedToken("\n" * n, normalized=False) for n in (4, 3, 2, 1)])
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in GEMMA3_SPECIAL_TOKENS}
    image_size, patch_size, tokens = 28, 7, 4  # 4x4 patches pooled to 2x2 soft tokens
    config = Gemma3Config(
        text_config=Gemma3TextConfig(
            vocab_size=len(tokenizer),
            **(VLLM_DECODER if for_vllm else TINY_DECODER),
            head_dim=64 if for_vllm else 16,
            max_position_embeddings=1024,
            sliding_window=64,
            pad_token_id=ids["<pad>"],
            bos_token_id=ids["<bos>"],
            eos_token_id=[ids["<eos>"], ids["<end_of_turn>"]],
        ),
        vision_config=SiglipVisionConfig(
            **TINY_VISION,
            image_size=image_size,
            patch_size=patch_size,
            vision_use_head=False,
        ),
        mm_tokens_per_image=tokens,
        boi_token_index=ids["<start_of_image>"],
        eoi_token_index=ids["<end_of_image>"],
        image_token_index=ids["<image_soft_token>"],
    )
    torch.manual_seed(seed)
    model = Gemma3ForConditionalGeneration(config).eval()
    model.generation_config.update(
        pad_token_id=ids["<pad>"],
        bos_token_id=ids["<bos>"],
        eos_token_id=[ids["<eos>"], ids["<end_of_turn>"]],
        do_sample=False,
    )
    image_processor = Gemma3ImageProcessorPil(
        size={"height": image_size, "width": image_size}, image_mean=[0.5] * 3, image_std=[0.5] * 3
    )
    processor = Gemma3Processor(
        image_processor=image_processor,
        tokenizer=tokenizer,
        chat_template=GEMMA3_CHAT_TEMPLATE,
        image_seq_length=tokens,
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    processor.save_pretrained(out_dir)
    if for_vllm:
        vision_tower_under_vision_model(out_dir)
    return out_dir


INTERNVL_SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<img>", "</img>", "<IMG_CONTEXT>"]


def build_internvl_chat(out_dir: Path, seed: int = 0) -> Path:
    """An InternVL3 look-alike with its remote-code interface (model type "internvl_chat", AutoModel,
    model.chat / model.batch_chat, no image processor: the caller tiles). 28 px tiles of 2x2 patches after
    the pixel shuffle, so one context token per tile."""

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    # ChatML, as InternVL3 ships; model.chat builds its own prompt
    tokenizer, ids = _chatml_tokenizer(INTERNVL_SPECIAL_TOKENS, "<|im_end|>", AX4VL_CHAT_TEMPLATE)
    _copy_code("internvl_chat", out_dir)
    llm = {
        "model_type": "qwen2",
        "vocab_size": len(tokenizer),
        **TINY_DECODER,
        "max_position_embeddings": 2048,
        "pad_token_id": ids["<|endoftext|>"],
        "eos_token_id": ids["<|im_end|>"],
    }
    vision = {
        "model_type": "siglip_vision_model",
        **TINY_VISION,
        "image_size": 28,
        "patch_size": 14,
    }
    _write_json(
        out_dir / "config.json",
        {
            "model_type": "internvl_chat",
            "architectures": ["InternVLChatModel"],
            "auto_map": {
                "AutoConfig": "configuration_internvl_chat.InternVLChatConfig",
                "AutoModel": "modeling_internvl_chat.InternVLChatModel",
                "AutoModelForCausalLM": "modeling_internvl_chat.InternVLChatModel",
            },
            "vision_config": vision,
            "llm_config": llm,
            "template": "internvl2_5",
            "force_image_size": 28,
            "downsample_ratio": 0.5,
            "max_dynamic_patch": 12,
            "min_dynamic_patch": 1,
            "use_thumbnail": True,
            "pad_token_id": ids["<|endoftext|>"],
            "eos_token_id": ids["<|im_end|>"],
        },
    )
    return _save_remote_code_model(
        out_dir,
        tokenizer,
        seed,
        "AutoModel",
        pad_token_id=ids["<|endoftext|>"],
        eos_token_id=ids["<|im_end|>"],
    )


# HyperCLOVAX-SEED-Vision's current revision renders list content (one block per content item; the same
# blocks as v0.1.0's). kobench's own Jinja, as for v0.1.0.
HCX_MAIN_CHAT_TEMPLATE = (
    "{% for message in messages %}{% set role = message['role'] %}"
    "{% set items = message['content'] if message['content'] is not string"
    " else [{'type': 'text', 'text': message['content']}] %}"
    "{% for c in items %}"
    "{% if c['type'] == 'image' %}"
    "<|im_start|>{{ role }} (mime) \n"
    '{"type": "image/jpeg", "filename": "{{ c.get(\'filename\', \'\') }}"}<|im_end|>\n'
    "<|im_start|>{{ role }} (vector)\n<|dummy3|><|im_end|>\n"
    "{% else %}<|im_start|>{{ role }}\n{{ c['text'] }}<|im_end|>"
    "{% if role == 'assistant' %}<|endofturn|>{% endif %}{{ '\\n' }}{% endif %}"
    "{% endfor %}{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def build_hyperclovax_seed_vision_main(out_dir: Path, seed: int = 0) -> Path:
    """HyperCLOVAX-SEED-Vision-Instruct-3B as its current main revision ships: a processor (`HCXProcessor`)
    whose apply_chat_template loads the images and tokenizes, and `text_config` in config.json."""

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tokenizer, ids = _chatml_tokenizer(HCX_SPECIAL_TOKENS, "<|endofturn|>", HCX_MAIN_CHAT_TEMPLATE)
    ends = [ids["<|endofturn|>"], ids["<|stop|>"]]
    _copy_code("hcx_main", out_dir)
    _write_json(
        out_dir / "config.json",
        {
            "model_type": "hyperclovax_vlm",
            "architectures": ["HCXVisionForCausalLM"],
            "auto_map": {
                "AutoConfig": "configuration_hyperclovax.HCXVisionConfig",
                "AutoModelForCausalLM": "modeling_hyperclovax.HCXVisionForCausalLM",
            },
            "text_config": {
                "model_type": "llama",
                "architectures": ["LlamaForCausalLM"],  # vLLM's port builds the language model by it
                "vocab_size": len(tokenizer),
                **VLLM_DECODER,  # vLLM's CPU attention: heads of 32 or more
                "max_position_embeddings": 512,
                "pad_token_id": ids["<|endoftext|>"],
                "eos_token_id": ends,
            },
            "vision_config": {
                "model_type": "siglip_vision_model",
                **TINY_VISION,
                "image_size": 28,
                "patch_size": 14,
                "vision_use_head": False,
            },
            "image_token_id": ids["<|dummy3|>"],
            "video_token_id": ids["<|_unuse_missing_100270|>"],
            "num_queries_vis_abstractor_image": 4,
            # what vLLM's port reads: the base image as the one grid, the linear projector
            "anyres": True,
            "max_num_grids": 1,
            "possible_resolutions": [[28, 28]],
            "unpad": False,
            "mm_projector_type": "linear",
            "use_nth_layer": -1,
            "pad_token_id": ids["<|endoftext|>"],
            "eos_token_id": ends,
        },
    )
    _write_json(
        out_dir / "processor_config.json",
        {
            "auto_map": {"AutoProcessor": "processing_hyperclovax.HCXProcessor"},
            "processor_class": "HCXProcessor",
            "image_size": 28,
            "num_queries": 5,  # (28 / 14)² patches and the image_newline
        },
    )
    _save_remote_code_model(
        out_dir, tokenizer, seed, "AutoModelForCausalLM", pad_token_id=ids["<|endoftext|>"], eos_token_id=ends
    )
    _tokenizer_readable_by_transformers_4(out_dir)
    return out_dir


# Further `vllm serve` arguments vLLM's CPU build needs for a family: Gemma 3 mixes sliding-window and
# full-attention layers, which splits the KV cache into groups whose kernel blocks are 16 tokens while the
# attention kernel is picked for the configured block size (128 by default): "Check failed:
# input.block_size % attn_impl::BlockSizeAlignment". Configured as 16, the two agree. A GPU engine needs none.
VLLM_CPU_ENGINE_ARGS: dict[str, tuple[str, ...]] = {"gemma3": ("--block-size", "16")}


def build_for_vllm(family: str, folder: Path) -> Path:
    """The image family's tiny model with heads vLLM's CPU attention runs and the weight names its ports
    load: qwen2_vl, qwen2_5_vl, qwen3_vl, llava, llava_onevision or gemma3."""
    from kobench.testing.tiny_models import build_tiny_llava, build_tiny_qwen2_vl

    if family == "llava":
        return build_tiny_llava(folder, for_vllm=True)
    if family in ("qwen2_vl", "qwen2_5_vl", "qwen3_vl"):
        return build_tiny_qwen2_vl(folder, variant=family, for_vllm=True)  # type: ignore[arg-type]
    return {"llava_onevision": build_llava_onevision, "gemma3": build_gemma3}[family](folder, for_vllm=True)

"""Fixture model folders for the families users evaluate, built offline: random weights, a locally trained
tokenizer, and for the remote-code families kobench's own `modeling_*.py` / `processing_*.py`
(tests/remote_code/) implementing the interface each model card shows. Each folder loads with
`from_pretrained(..., trust_remote_code=True)` exactly as the real checkpoint does."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from kobench.testing.tiny_models import TINY_DECODER, _train_tokenizer

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
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

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
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
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
    config = AutoConfig.from_pretrained(out_dir, trust_remote_code=True)
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(config, trust_remote_code=True).eval()
    for generation in (model.generation_config, model.language_model.generation_config):
        generation.update(
            pad_token_id=ids["<|endoftext|>"], eos_token_id=ends, bos_token_id=None, do_sample=False
        )
    model.save_pretrained(out_dir)
    model.language_model.generation_config.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    return out_dir


def _copy_code(family: str, out_dir: Path) -> None:
    for source in sorted((REMOTE_CODE / family).glob("*.py")):
        shutil.copyfile(source, out_dir / source.name)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


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
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tokenizer = _train_tokenizer(
        AX4VL_SPECIAL_TOKENS,
        pad_token="<|endoftext|>",
        bos_token=None,
        eos_token="<|im_end|>",
        extra={},
        chat_template=AX4VL_CHAT_TEMPLATE,
    )
    tokenizer.model_input_names = ["input_ids", "attention_mask"]
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in AX4VL_SPECIAL_TOKENS}
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
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
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
    config = AutoConfig.from_pretrained(out_dir, trust_remote_code=True)
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(config, trust_remote_code=True).eval()
    for generation in (model.generation_config, model.language_model.generation_config):
        generation.update(pad_token_id=ids["<|endoftext|>"], eos_token_id=ids["<|im_end|>"], do_sample=False)
    model.save_pretrained(out_dir)
    model.language_model.generation_config.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    return out_dir

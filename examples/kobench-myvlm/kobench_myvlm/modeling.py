"""The team's own LLaVA-style model, in plain PyTorch: nothing here knows about kobench.

    image -> VisionEncoder (patchify conv + transformer layers) -> Connector (MLP + average pooling)
          -> N image embeddings, written where the prompt's `<image>` placeholder was
    prompt + image embeddings -> a Hugging Face causal LM (`inputs_embeds`) -> text

A checkpoint folder:

    myvlm_config.json    MyVLMConfig (sizes, the placeholder, the LM's subfolder)
    vision.safetensors   the vision encoder's and the connector's weights
    lm/                  the language model and its tokenizer (with a chat template): save_pretrained

This is the part a team replaces with its own code; `plugin.py` is the part that talks to kobench.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from safetensors.torch import load_file, save_file
from torch import nn

from kobench_myvlm.checkpoint import CONFIG_FILE, VISION_FILE


@dataclass(frozen=True)
class MyVLMConfig:
    image_size: int = 32  # images are resized to image_size x image_size
    patch_size: int = 8
    vision_width: int = 32
    vision_layers: int = 2
    vision_heads: int = 2
    pooled_grid: int = 2  # the patch grid is average-pooled to pooled_grid x pooled_grid image tokens
    lm_hidden_size: int = 64  # the connector's output width: the LM's embedding width
    image_token: str = "<image>"  # the placeholder in the prompt, one per image
    lm_folder: str = "lm"
    # CLIP's normalisation (a real CLIP-like tower was trained with it)
    image_mean: tuple[float, float, float] = (0.48145466, 0.4578275, 0.40821073)
    image_std: tuple[float, float, float] = (0.26862954, 0.26130258, 0.27577711)

    @property
    def image_tokens(self) -> int:
        """How many LM positions one image takes."""
        return self.pooled_grid**2

    @classmethod
    def load(cls, path: Path) -> MyVLMConfig:
        raw = json.loads(path.read_text(encoding="utf-8"))
        for key in ("image_mean", "image_std"):  # JSON has lists; the dataclass is frozen and hashable
            if key in raw:
                raw[key] = tuple(raw[key])
        return cls(**raw)

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2) + "\n", encoding="utf-8")


class VisionEncoder(nn.Module):
    """A small ViT: non-overlapping patches by a strided conv, learned positions, pre-norm layers."""

    def __init__(self, config: MyVLMConfig) -> None:
        super().__init__()
        grid = config.image_size // config.patch_size
        self.patchify = nn.Conv2d(3, config.vision_width, config.patch_size, stride=config.patch_size)
        self.positions = nn.Parameter(torch.randn(1, grid * grid, config.vision_width) * 0.02)
        # A ModuleList, not nn.TransformerEncoder: no nested-tensor fast path, so a batch of images gives
        # each image the same features as encoding it alone.
        self.layers = nn.ModuleList(
            nn.TransformerEncoderLayer(
                config.vision_width,
                config.vision_heads,
                dim_feedforward=2 * config.vision_width,
                dropout=0.0,
                activation="gelu",
                batch_first=True,
                norm_first=True,
            )
            for _ in range(config.vision_layers)
        )
        self.norm = nn.LayerNorm(config.vision_width)

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        """(images, 3, H, W) -> (images, patches, width), patches in row-major grid order."""
        x = self.patchify(pixels).flatten(2).transpose(1, 2) + self.positions
        for layer in self.layers:
            x = layer(x)
        return self.norm(x)


class Connector(nn.Module):
    """Patch features to LM embeddings: a two-layer MLP, then average pooling of the patch grid to
    pooled_grid x pooled_grid tokens (fewer LM positions per image: 4 here instead of 16)."""

    def __init__(self, config: MyVLMConfig) -> None:
        super().__init__()
        self.pooled_grid = config.pooled_grid
        self.mlp = nn.Sequential(
            nn.Linear(config.vision_width, config.lm_hidden_size),
            nn.GELU(),
            nn.Linear(config.lm_hidden_size, config.lm_hidden_size),
        )

    def forward(self, patches: torch.Tensor) -> torch.Tensor:
        """(images, patches, width) -> (images, pooled_grid**2, lm_hidden_size)."""
        x = self.mlp(patches)
        images, n, hidden = x.shape
        grid = int(n**0.5)
        x = x.transpose(1, 2).reshape(images, hidden, grid, grid)
        x = F.adaptive_avg_pool2d(x, self.pooled_grid)
        return x.flatten(2).transpose(1, 2)


class VisionTower(nn.Module):
    """What vision.safetensors holds: the encoder and the connector."""

    def __init__(self, config: MyVLMConfig) -> None:
        super().__init__()
        self.encoder = VisionEncoder(config)
        self.connector = Connector(config)

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.connector(self.encoder(pixels))

    def save(self, path: Path) -> None:
        save_file({k: v.contiguous() for k, v in self.state_dict().items()}, str(path))


class MyVLM:
    """The vision tower, the LM and its tokenizer, on one device in one dtype."""

    def __init__(self, config: MyVLMConfig, tower: VisionTower, lm: Any, tokenizer: Any) -> None:
        self.config = config
        self.tower = tower.eval()
        self.lm = lm.eval()
        self.tokenizer = tokenizer
        self.image_token_id: int = tokenizer.convert_tokens_to_ids(config.image_token)
        if self.image_token_id is None or self.image_token_id == tokenizer.unk_token_id:
            raise ValueError(f"the tokenizer has no {config.image_token!r} token")
        self.pad_token_id: int = (
            tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        )
        self.eos_ids = _eos_ids(tokenizer, lm)
        self._cache_keyword = (
            "cache" if "cache" in inspect.signature(lm.forward).parameters else "past_key_values"
        )

    @classmethod
    def from_checkpoint(
        cls, path: str | Path, device: str | torch.device = "cpu", dtype: torch.dtype = torch.float32
    ) -> MyVLM:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        path = Path(path)
        config = MyVLMConfig.load(path / CONFIG_FILE)
        lm_path = path / config.lm_folder
        tokenizer = AutoTokenizer.from_pretrained(lm_path)
        lm = AutoModelForCausalLM.from_pretrained(lm_path, dtype=dtype).to(device)
        if lm.get_input_embeddings().embedding_dim != config.lm_hidden_size:
            raise ValueError(
                f"{CONFIG_FILE} says lm_hidden_size={config.lm_hidden_size}, but the LM's embeddings are "
                f"{lm.get_input_embeddings().embedding_dim} wide"
            )
        tower = VisionTower(config)
        tower.load_state_dict(load_file(str(path / VISION_FILE)))
        return cls(config, tower.to(device=device, dtype=dtype), lm, tokenizer)

    @property
    def device(self) -> torch.device:
        return self.lm.device

    @property
    def dtype(self) -> torch.dtype:
        return self.lm.dtype

    def pixels(self, images: Sequence[Image.Image]) -> torch.Tensor:
        """RGB PIL images -> normalised (images, 3, size, size), on the model's device and dtype."""
        size = self.config.image_size
        arrays = [
            np.asarray(img.convert("RGB").resize((size, size), Image.Resampling.BICUBIC), dtype=np.float32)
            for img in images
        ]
        x = torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2) / 255.0
        mean = torch.tensor(self.config.image_mean).view(1, 3, 1, 1)
        std = torch.tensor(self.config.image_std).view(1, 3, 1, 1)
        return ((x - mean) / std).to(device=self.device, dtype=self.dtype)

    def embed(
        self, prompts: Sequence[Sequence[int]], images: Sequence[Sequence[Image.Image]]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Token ids (each `<image>` once, one per image, in order) -> LEFT-padded input embeddings with
        each placeholder widened to the image's N embeddings, and the attention mask (0 on padding).

        Left padding: every row's last position is its last prompt token, so the next token of every
        row is read from the same column and generated tokens are appended at the same column."""
        n = self.config.image_tokens
        rows = []
        for prompt, imgs in zip(prompts, images, strict=True):
            placeholders = sum(1 for token in prompt if token == self.image_token_id)
            if placeholders != len(imgs):
                raise ValueError(
                    f"{placeholders} {self.config.image_token} placeholders for {len(imgs)} images"
                )
            # Widen each placeholder to N placeholder tokens; their embeddings are replaced below.
            widened: list[int] = []
            for token in prompt:
                widened.extend([token] * n if token == self.image_token_id else [token])
            rows.append(widened)
        width = max(len(row) for row in rows)
        ids = torch.full((len(rows), width), self.pad_token_id, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, row in enumerate(rows):
            ids[i, width - len(row) :] = torch.tensor(row, dtype=torch.long)
            mask[i, width - len(row) :] = 1
        ids, mask = ids.to(self.device), mask.to(self.device)
        embeds = self.lm.get_input_embeddings()(ids)
        flat = [img for imgs in images for img in imgs]
        if flat:
            features = self.tower(self.pixels(flat)).reshape(-1, embeds.shape[-1]).to(embeds.dtype)
            # Row-major order of `ids == image` matches the images' order: row by row, left to right.
            embeds = embeds.masked_scatter((ids == self.image_token_id).unsqueeze(-1), features)
        return embeds, mask

    @torch.inference_mode()
    def next_token_logits(
        self, prompts: Sequence[Sequence[int]], images: Sequence[Sequence[Image.Image]]
    ) -> torch.Tensor:
        """(rows, vocab): the logits of each row's first generated token."""
        embeds, mask = self.embed(prompts, images)
        out = self.lm(
            inputs_embeds=embeds, attention_mask=mask, position_ids=_positions(mask), logits_to_keep=1
        )
        return out.logits[:, -1].float()

    @torch.inference_mode()
    def generate(
        self,
        prompts: Sequence[Sequence[int]],
        images: Sequence[Sequence[Image.Image]],
        max_new_tokens: int,
        stop: Callable[[list[int]], bool] | None = None,
    ) -> list[list[int]]:
        """Greedy decoding with a KV cache. Each row's new tokens, up to and including its end-of-sequence
        token; `stop(tokens)`, given a row's new tokens after each step, may end that row early (stop
        strings). A batch gives each row what it gives alone: the padding is masked, and positions count
        from each row's first real token."""
        from transformers import DynamicCache

        embeds, mask = self.embed(prompts, images)
        positions = _positions(mask)
        # The KV cache, filled in place by every call; passed by the keyword this transformers names it
        # (`cache` in recent versions, `past_key_values` before, still accepted with a warning).
        cache = {self._cache_keyword: DynamicCache(config=self.lm.config)}
        out = self.lm(
            inputs_embeds=embeds,
            attention_mask=mask,
            position_ids=positions,
            use_cache=True,
            logits_to_keep=1,
            **cache,
        )
        rows = len(prompts)
        generated: list[list[int]] = [[] for _ in range(rows)]
        done = [False] * rows
        for step in range(max_new_tokens):
            tokens = out.logits[:, -1].argmax(dim=-1).tolist()
            for i, token in enumerate(tokens):
                if not done[i]:
                    generated[i].append(token)
                    done[i] = token in self.eos_ids or (stop is not None and stop(generated[i]))
            if all(done) or step == max_new_tokens - 1:
                break
            # Finished rows keep running on padding (a batch moves together); what they make is dropped.
            feed = [[self.pad_token_id] if done[i] else [token] for i, token in enumerate(tokens)]
            mask = torch.cat([mask, mask.new_ones((rows, 1))], dim=1)
            positions = positions[:, -1:] + 1
            out = self.lm(
                input_ids=torch.tensor(feed, device=self.device),
                attention_mask=mask,
                position_ids=positions,
                use_cache=True,
                **cache,
            )
        return generated


def _positions(mask: torch.Tensor) -> torch.Tensor:
    """Position ids that start at 0 on each row's first real token (left padding sits at 0 too, masked)."""
    return (mask.cumsum(dim=1) - 1).clamp(min=0)


def _eos_ids(tokenizer: Any, lm: Any) -> frozenset[int]:
    """The tokens that end an answer: the tokenizer's EOS and the LM's generation config's (one or a list)."""
    ids = {tokenizer.eos_token_id}
    configured = getattr(lm.generation_config, "eos_token_id", None)
    ids.update(configured if isinstance(configured, list) else [configured])
    return frozenset(i for i in ids if i is not None)

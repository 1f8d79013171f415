"""Fixture: the model class of HyperCLOVAX-SEED-Vision-Instruct-3B v0.1.0, with the interface its model card
shows: `AutoModelForCausalLM.from_pretrained(name, trust_remote_code=True)`, then

    model.generate(input_ids=input_ids, max_new_tokens=..., **preprocessed)

where `preprocessed` is the image preprocessor's output (nested lists, one per sample). Each `img_start_id`
token becomes that image's `vision_query_lengths` visual embeddings. As in the original (whose logic
TensorRT-LLM's port keeps), a sample's text ends at its first pad token and the fused rows are
right-padded: the card runs one conversation at a time, and a left-padded batch is not what this code
expects. Without images it is the language model's own generate (the prompt comes back too); with images,
generate from embeddings (only the new tokens come back).

A SigLIP vision tower, a pooling + linear projector standing in for the C-Abstractor, a Llama decoder.
kobench's own code, written for its tests; NAVER's code is not copied.
"""

import torch
from torch import nn
from transformers import AutoModelForCausalLM, PreTrainedModel, SiglipVisionModel
from transformers.generation import GenerationMixin

from .configuration_hyperclovax import HCXVisionConfig


class HCXVisionForCausalLM(PreTrainedModel, GenerationMixin):
    config_class = HCXVisionConfig
    base_model_prefix = "model"
    _supports_cache_class = True

    def __init__(self, config):
        super().__init__(config)
        self.vision_model = SiglipVisionModel(config.vision())
        vision_hidden = config.vision_config["hidden_size"]
        self.mm_projector = nn.Sequential(
            nn.Linear(vision_hidden, config.hidden_size),
            nn.SiLU(),
            nn.Linear(config.hidden_size, config.hidden_size),
        )
        self.language_model = AutoModelForCausalLM.from_config(config.text())
        self.post_init()

    def get_input_embeddings(self):
        return self.language_model.get_input_embeddings()

    def forward(self, *args, **kwargs):
        return self.language_model(*args, **kwargs)

    def _visual(self, grids, n_queries):
        """One image's `n_queries` embeddings: patch features pooled to that many, then projected."""
        features = self.vision_model(
            pixel_values=grids.to(self.dtype)
        ).last_hidden_state  # (grids, patches, d)
        pooled = nn.functional.adaptive_avg_pool1d(features.transpose(1, 2), n_queries).transpose(1, 2)
        return self.mm_projector(pooled.reshape(-1, pooled.shape[-1])[:n_queries])

    @torch.no_grad()
    def generate(
        self,
        input_ids=None,
        pixel_values=None,
        image_sizes=None,
        vision_query_lengths=None,
        is_videos=None,
        num_queries_vis_abstractors=None,
        num_queries_vis_abstractors_slow=None,
        first_last_frames_slows=None,
        pad_token_id=None,
        **kwargs,
    ):
        if pixel_values is None:
            return self.language_model.generate(input_ids=input_ids, pad_token_id=pad_token_id, **kwargs)
        kwargs.pop("attention_mask", None)  # the fused rows get their own
        pad = self.config.pad_token_id if pad_token_id is None else pad_token_id
        embed = self.get_input_embeddings()
        rows = []
        for b, ids in enumerate(input_ids):
            pads = (ids == pad).nonzero()
            length = int(pads[0]) if len(pads) else len(ids)  # the text ends at the first pad token
            ids = ids[:length]
            pieces, at, k = [], 0, 0
            for position in (ids == self.config.img_start_id).nonzero().flatten().tolist():
                pieces.append(embed(ids[at:position]))
                pieces.append(self._visual(pixel_values[b][k], vision_query_lengths[b][k]))
                at, k = position + 1, k + 1
            pieces.append(embed(ids[at:]))
            rows.append(torch.cat(pieces)[: self.config.decoder_max_length])
        width = max(len(r) for r in rows)
        fused = torch.zeros(len(rows), width, rows[0].shape[-1], dtype=rows[0].dtype, device=rows[0].device)
        mask = torch.zeros(len(rows), width, dtype=torch.long, device=rows[0].device)
        for b, row in enumerate(rows):
            fused[b, : len(row)] = row
            mask[b, : len(row)] = 1
        return self.language_model.generate(
            inputs_embeds=fused, attention_mask=mask, pad_token_id=pad, **kwargs
        )

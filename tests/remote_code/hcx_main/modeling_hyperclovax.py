"""Fixture: the model class of HyperCLOVAX-SEED-Vision-Instruct-3B's current revision:
`AutoModelForCausalLM.from_pretrained(name, trust_remote_code=True)`, then `model.generate(**model_inputs)`
with what its processor's apply_chat_template returned. Each image's embeddings fill its `<|dummy3|>`
positions (`image_token_id`); generation runs from the embeddings, so only the new tokens come back.

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

    def __init__(self, config):
        super().__init__(config)
        self.vision_model = SiglipVisionModel(config.vision_config)
        hidden = config.text_config.hidden_size
        self.mm_projector = nn.Sequential(
            nn.Linear(config.vision_config.hidden_size, hidden), nn.SiLU(), nn.Linear(hidden, hidden)
        )
        self.language_model = AutoModelForCausalLM.from_config(config.text_config)
        self.post_init()

    def get_input_embeddings(self):
        return self.language_model.get_input_embeddings()

    def forward(self, *args, **kwargs):
        return self.language_model(*args, **kwargs)

    @torch.no_grad()
    def generate(
        self,
        input_ids=None,
        attention_mask=None,
        pixel_values_images=None,
        image_sizes_images=None,
        vision_query_lengths_images=None,
        **kwargs,
    ):
        embeds = self.get_input_embeddings()(input_ids)
        if pixel_values_images is not None:
            visual = []
            for sample, lengths in zip(pixel_values_images, vision_query_lengths_images, strict=True):
                for grids, n in zip(sample, lengths, strict=True):
                    features = self.vision_model(pixel_values=grids.to(self.dtype)).last_hidden_state
                    pooled = nn.functional.adaptive_avg_pool1d(features.transpose(1, 2), n).transpose(1, 2)
                    visual.append(self.mm_projector(pooled.reshape(-1, pooled.shape[-1])[:n]))
            visual = torch.cat(visual)
            mask = (input_ids == self.config.image_token_id).unsqueeze(-1).expand_as(embeds)
            embeds = embeds.masked_scatter(mask, visual.to(embeds.dtype))
        return self.language_model.generate(inputs_embeds=embeds, attention_mask=attention_mask, **kwargs)

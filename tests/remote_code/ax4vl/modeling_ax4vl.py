"""Fixture: A.X-4.0-VL-Light's model class, loaded as its card loads it,
`AutoModelForCausalLM.from_pretrained(name, trust_remote_code=True)`, and called as
`model.generate(**inputs, **generation_kwargs)`; the output holds the prompt and then the new tokens (the
card cuts `out_ids[len(in_ids):]`).

A SigLIP vision tower, a projector pooling each tile to `num_tokens_per_tile` embeddings, a Qwen2 decoder;
the embeddings replace the `<image>` tokens in order. kobench's own code, written for its tests; SK
Telecom's code is not copied.
"""

import torch
from torch import nn
from transformers import AutoModelForCausalLM, PreTrainedModel, SiglipVisionModel
from transformers.generation import GenerationMixin

from .configuration_ax4vl import AX4VLConfig


class AX4VLForConditionalGeneration(PreTrainedModel, GenerationMixin):
    config_class = AX4VLConfig
    base_model_prefix = "model"

    def __init__(self, config):
        super().__init__(config)
        self.vision_tower = SiglipVisionModel(config.vision_config)
        text_hidden = config.text_config.hidden_size
        self.multi_modal_projector = nn.Sequential(
            nn.Linear(config.vision_config.hidden_size, text_hidden),
            nn.GELU(),
            nn.Linear(text_hidden, text_hidden),
        )
        self.language_model = AutoModelForCausalLM.from_config(config.text_config)
        self.post_init()

    def get_input_embeddings(self):
        return self.language_model.get_input_embeddings()

    def forward(self, *args, **kwargs):
        return self.language_model(*args, **kwargs)

    def _embeds(self, input_ids, pixel_values):
        embeds = self.get_input_embeddings()(input_ids)
        if pixel_values is None:
            return embeds
        features = self.vision_tower(pixel_values=pixel_values.to(self.dtype)).last_hidden_state
        n = self.config.num_tokens_per_tile
        pooled = nn.functional.adaptive_avg_pool1d(features.transpose(1, 2), n).transpose(1, 2)
        visual = self.multi_modal_projector(pooled).reshape(-1, embeds.shape[-1])
        mask = (input_ids == self.config.image_token_index).unsqueeze(-1).expand_as(embeds)
        if int(mask[..., 0].sum()) != visual.shape[0]:
            raise ValueError(f"{int(mask[..., 0].sum())} image tokens but {visual.shape[0]} image features")
        return embeds.masked_scatter(mask, visual.to(embeds.dtype))

    @torch.no_grad()
    def generate(self, input_ids=None, attention_mask=None, pixel_values=None, image_sizes=None, **kwargs):
        embeds = self._embeds(input_ids, pixel_values)
        return self.language_model.generate(
            input_ids=input_ids, inputs_embeds=embeds, attention_mask=attention_mask, **kwargs
        )

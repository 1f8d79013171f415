"""Fixture: the model class of HyperCLOVAX-SEED-Vision-Instruct-3B's current revision:
`AutoModelForCausalLM.from_pretrained(name, trust_remote_code=True)`, then `model.generate(**model_inputs)`
with what its processor's apply_chat_template returned. Each image's embeddings fill its `<|dummy3|>`
positions (`image_token_id`); generation runs from the embeddings, so only the new tokens come back.

The computation and the weights' names are those vLLM's port of the model (`HCXVisionForCausalLM`, in vLLM
0.10 to 0.28) reads, in its simplest configuration, so one folder gives the same answers through hf: and
vllm:. A SigLIP tower's last hidden layer (no post-norm, no pooling head) in `vision_model`; the `linear`
projector (`mm_projector`) standing in for the C-Abstractor; anyres with the base image alone, which
appends `image_newline` after each image's features; a Llama decoder in `language_model`.
kobench's own code, written for its tests; NAVER's code is not copied.
"""

import torch
from torch import nn
from transformers import AutoModelForCausalLM, PreTrainedModel, SiglipVisionModel
from transformers.generation import GenerationMixin

from .configuration_hyperclovax import HCXVisionConfig


class _VisionTower(nn.Module):
    """The SigLIP tower under `vision_model.vision_model.*`, as checkpoints saved by transformers 4.x name it
    and vLLM's loader reads it (transformers 5's SiglipVisionModel has no inner `vision_model`)."""

    def __init__(self, config):
        super().__init__()
        self.vision_model = SiglipVisionModel(config)

    def forward(self, **kwargs):
        return self.vision_model(**kwargs)


class HCXVisionForCausalLM(PreTrainedModel, GenerationMixin):
    config_class = HCXVisionConfig
    base_model_prefix = "model"

    def __init__(self, config):
        super().__init__(config)
        if config.mm_projector_type != "linear" or not config.anyres or config.unpad:
            raise NotImplementedError("this fixture implements the linear projector and a one-grid anyres")
        self.vision_model = _VisionTower(config.vision_config)
        hidden = config.text_config.hidden_size
        self.mm_projector = nn.Linear(config.vision_config.hidden_size, hidden)
        self.image_newline = nn.Parameter(torch.randn(hidden) * 0.02)
        self.language_model = AutoModelForCausalLM.from_config(config.text_config)
        self.post_init()

    def get_input_embeddings(self):
        return self.language_model.get_input_embeddings()

    def forward(self, *args, **kwargs):
        return self.language_model(*args, **kwargs)

    def _image_features(self, grids):
        if grids.shape[0] != 1:
            raise NotImplementedError("this fixture's processor makes one grid (the base image) per image")
        hidden = self.vision_model(pixel_values=grids.to(self.dtype), output_hidden_states=True)
        layer = hidden.hidden_states[self.config.use_nth_layer]  # before the post-norm, as vLLM's port
        features = self.mm_projector(layer[0])
        return torch.cat((features, self.image_newline[None].to(features.dtype)))

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
                    features = self._image_features(grids)
                    if features.shape[0] != n:
                        raise ValueError(f"{features.shape[0]} visual tokens, the processor counted {n}")
                    visual.append(features)
            visual = torch.cat(visual)
            mask = (input_ids == self.config.image_token_id).unsqueeze(-1).expand_as(embeds)
            embeds = embeds.masked_scatter(mask, visual.to(embeds.dtype))
        return self.language_model.generate(inputs_embeds=embeds, attention_mask=attention_mask, **kwargs)

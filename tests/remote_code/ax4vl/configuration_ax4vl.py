"""Fixture: the configuration of skt/A.X-4.0-VL-Light, as its configuration_ax4vl.py defines it:
`model_type "a.x-4-vl"`, a SigLIP vision tower, a projector, a Qwen2 text model, and `image_token_index`,
the id of `<image>`.

kobench's own code, written for its tests; SK Telecom's code is not copied.
"""

from transformers import AutoConfig, PretrainedConfig
from transformers.models.auto import CONFIG_MAPPING


class AX4VLConfig(PretrainedConfig):
    model_type = "a.x-4-vl"

    def __init__(
        self,
        vision_config=None,
        projector_config=None,
        text_config=None,
        image_token_index=102400,
        num_tokens_per_tile=4,
        tie_word_embeddings=False,
        **kwargs,
    ):
        vision_config = vision_config or {"model_type": "siglip_vision_model"}
        text_config = text_config or {"model_type": "qwen2"}
        if isinstance(vision_config, dict):
            vision_config = CONFIG_MAPPING[vision_config.get("model_type", "siglip_vision_model")](
                **vision_config
            )
        if isinstance(text_config, dict):
            text_config = CONFIG_MAPPING[text_config.get("model_type", "qwen2")](**text_config)
        self.vision_config = vision_config
        self.text_config = text_config
        self.projector_config = projector_config or {"hidden_act": "gelu"}
        self.image_token_index = image_token_index
        self.num_tokens_per_tile = num_tokens_per_tile
        super().__init__(tie_word_embeddings=tie_word_embeddings, **kwargs)


AutoConfig.register(AX4VLConfig.model_type, AX4VLConfig)

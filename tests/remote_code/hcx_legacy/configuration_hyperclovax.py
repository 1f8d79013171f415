"""Fixture: the configuration class of HyperCLOVAX-SEED-Vision-Instruct-3B v0.1.0, as its config.json and
consumers (TensorRT-LLM's and vLLM's ports) read it: `model_type "hyperclovax_vlm"`, the language model's
config as a plain dict under `language_config`, the vision tower's under `vision_config`, and
`img_start_id`, the one token the chat template writes per image (`<|dummy3|>`).

kobench's own code, written for its tests; NAVER's code is not copied.
"""

from transformers import AutoConfig, PretrainedConfig


class HCXVisionConfig(PretrainedConfig):
    model_type = "hyperclovax_vlm"

    def __init__(
        self,
        language_config=None,
        vision_config=None,
        img_start_id=None,
        num_queries_vis_abstractor=4,
        decoder_max_length=512,
        **kwargs,
    ):
        self.language_config = language_config or {"model_type": "llama"}
        self.vision_config = vision_config or {"model_type": "siglip_vision_model"}
        self.img_start_id = img_start_id
        self.num_queries_vis_abstractor = num_queries_vis_abstractor
        self.decoder_max_length = decoder_max_length
        self.hidden_size = self.language_config.get("hidden_size")
        super().__init__(**kwargs)

    def text(self):
        return AutoConfig.for_model(**self.language_config)

    def vision(self):
        return AutoConfig.for_model(**self.vision_config)

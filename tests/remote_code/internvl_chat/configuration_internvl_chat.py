"""Fixture: InternVL's remote-code configuration (OpenGVLab/InternVL3-*, not the -hf ports):
`model_type "internvl_chat"`, a vision config, the language model's under `llm_config`, the chat template's
name, the tile size (`force_image_size`) and the pixel-shuffle `downsample_ratio` that sets the number of
`<IMG_CONTEXT>` tokens per tile.

kobench's own code, written for its tests; OpenGVLab's code is not copied.
"""

from transformers import AutoConfig, PretrainedConfig


class InternVLChatConfig(PretrainedConfig):
    model_type = "internvl_chat"

    def __init__(
        self,
        vision_config=None,
        llm_config=None,
        template="internvl2_5",
        force_image_size=28,
        downsample_ratio=0.5,
        max_dynamic_patch=12,
        min_dynamic_patch=1,
        use_thumbnail=True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.vision_config = vision_config or {"model_type": "siglip_vision_model"}
        self.llm_config = llm_config or {"model_type": "qwen2"}
        self.template = template
        self.force_image_size = force_image_size
        self.downsample_ratio = downsample_ratio
        self.max_dynamic_patch = max_dynamic_patch
        self.min_dynamic_patch = min_dynamic_patch
        self.use_thumbnail = use_thumbnail

    def vision(self):
        return AutoConfig.for_model(**self.vision_config)

    def llm(self):
        return AutoConfig.for_model(**self.llm_config)

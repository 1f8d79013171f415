"""Fixture: the configuration class of HyperCLOVAX-SEED-Vision-Instruct-3B as its current main revision
has it ("New Processor, Model for vLLM"): `model_type "hyperclovax_vlm"`, the language model's config
under `text_config` and the vision tower's under `vision_config` (both materialised as configs), and
`image_token_id`, the `<|dummy3|>` the processor repeats once per visual token. The fields vLLM's port of
the model (`HCXVisionForCausalLM`, vLLM 0.10 to 0.28) reads are here too (`anyres`, `max_num_grids`,
`possible_resolutions`, `unpad`, `mm_projector_type`, `use_nth_layer`), so the same folder serves there.

kobench's own code, written for its tests; NAVER's code is not copied.
"""

from transformers import AutoConfig, PretrainedConfig


class HCXVisionConfig(PretrainedConfig):
    model_type = "hyperclovax_vlm"

    def __init__(
        self,
        text_config=None,
        vision_config=None,
        image_token_id=None,
        video_token_id=None,
        num_queries_vis_abstractor_image=4,
        anyres=True,
        max_num_grids=1,
        possible_resolutions=None,
        unpad=False,
        mm_projector_type="linear",
        use_nth_layer=-1,
        **kwargs,
    ):
        text_config = text_config or {"model_type": "llama"}
        vision_config = vision_config or {"model_type": "siglip_vision_model"}
        if isinstance(text_config, dict):
            text_config = AutoConfig.for_model(**text_config)
        if isinstance(vision_config, dict):
            vision_config = AutoConfig.for_model(**vision_config)
        self.text_config = text_config
        self.vision_config = vision_config
        self.image_token_id = image_token_id
        self.video_token_id = video_token_id
        self.num_queries_vis_abstractor_image = num_queries_vis_abstractor_image
        self.anyres = anyres
        self.max_num_grids = max_num_grids
        self.possible_resolutions = possible_resolutions or []
        self.unpad = unpad
        self.mm_projector_type = mm_projector_type
        self.use_nth_layer = use_nth_layer
        self.hidden_size = text_config.hidden_size
        super().__init__(**kwargs)

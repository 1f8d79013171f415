"""Fixture: InternVL's remote-code model (OpenGVLab/InternVL3-*), with the interface its model card uses:
`AutoModel.from_pretrained(path, trust_remote_code=True)`, then

    response = model.chat(tokenizer, pixel_values, question, generation_config)
    response, history = model.chat(tokenizer, pixel_values, question, generation_config,
                                   num_patches_list=num_patches_list, history=None, return_history=True)
    responses = model.batch_chat(tokenizer, pixel_values, num_patches_list=num_patches_list,
                                 questions=questions, generation_config=generation_config)

The caller tiles each image (the card's own `load_image`); each `<image>` in a question becomes
`<img>` + `<IMG_CONTEXT>` x (tokens per tile x tiles) + `</img>`, the conversation is the template's, the
answer is cut at the template's separator. A SigLIP tower, a 2x2 pixel shuffle and an MLP, a Qwen2 decoder.

kobench's own code, written for its tests; OpenGVLab's code is not copied.
"""

import torch
from torch import nn
from transformers import AutoModelForCausalLM, PreTrainedModel, SiglipVisionModel
from transformers.generation import GenerationMixin

from .configuration_internvl_chat import InternVLChatConfig
from .conversation import get_conv_template

IMG_START_TOKEN, IMG_END_TOKEN, IMG_CONTEXT_TOKEN = "<img>", "</img>", "<IMG_CONTEXT>"


class InternVLChatModel(PreTrainedModel, GenerationMixin):
    config_class = InternVLChatConfig
    base_model_prefix = "model"

    def __init__(self, config):
        super().__init__(config)
        vision = config.vision()
        self.patch_size = vision.patch_size
        self.num_image_token = int(
            (config.force_image_size // vision.patch_size) ** 2 * config.downsample_ratio**2
        )
        self.vision_model = SiglipVisionModel(vision)
        hidden = config.llm_config["hidden_size"]
        shuffled = vision.hidden_size * int(1 / config.downsample_ratio) ** 2
        self.mlp1 = nn.Sequential(
            nn.LayerNorm(shuffled), nn.Linear(shuffled, hidden), nn.GELU(), nn.Linear(hidden, hidden)
        )
        self.language_model = AutoModelForCausalLM.from_config(config.llm())
        self.template = config.template
        self.system_message = get_conv_template(self.template).system_message
        self.img_context_token_id = None
        self.post_init()

    def get_input_embeddings(self):
        return self.language_model.get_input_embeddings()

    def forward(self, *args, **kwargs):
        return self.language_model(*args, **kwargs)

    def extract_feature(self, pixel_values):
        features = self.vision_model(pixel_values=pixel_values.to(self.dtype)).last_hidden_state
        side = int(features.shape[1] ** 0.5)
        grid = features.reshape(features.shape[0], side // 2, 2, side // 2, 2, -1)  # 2x2 pixel shuffle
        grid = grid.permute(0, 1, 3, 2, 4, 5).reshape(features.shape[0], (side // 2) ** 2, -1)
        return self.mlp1(grid)

    def _query(self, question, num_patches_list, history):
        template = get_conv_template(self.template)
        template.system_message = self.system_message
        for old_question, old_answer in history or []:
            template.append_message(template.roles[0], old_question)
            template.append_message(template.roles[1], old_answer)
        template.append_message(template.roles[0], question)
        template.append_message(template.roles[1], None)
        query = template.get_prompt()
        for num_patches in num_patches_list:
            tokens = IMG_START_TOKEN + IMG_CONTEXT_TOKEN * self.num_image_token * num_patches + IMG_END_TOKEN
            query = query.replace("<image>", tokens, 1)
        return query, template.sep.strip()

    def chat(
        self,
        tokenizer,
        pixel_values,
        question,
        generation_config,
        history=None,
        return_history=False,
        num_patches_list=None,
        verbose=False,
    ):
        if history is None and pixel_values is not None and "<image>" not in question:
            question = "<image>\n" + question
        if num_patches_list is None:
            num_patches_list = [pixel_values.shape[0]] if pixel_values is not None else []
        self.img_context_token_id = tokenizer.convert_tokens_to_ids(IMG_CONTEXT_TOKEN)
        query, sep = self._query(question, num_patches_list, history)
        inputs = tokenizer(query, return_tensors="pt")
        generation_config = dict(generation_config, eos_token_id=tokenizer.convert_tokens_to_ids(sep))
        output = self.generate(
            pixel_values=pixel_values,
            input_ids=inputs["input_ids"].to(self.device),
            attention_mask=inputs["attention_mask"].to(self.device),
            **generation_config,
        )
        response = tokenizer.batch_decode(output, skip_special_tokens=True)[0].split(sep)[0].strip()
        history = [*(history or []), (question, response)]
        return (response, history) if return_history else response

    def batch_chat(
        self,
        tokenizer,
        pixel_values,
        questions,
        generation_config,
        num_patches_list=None,
        history=None,
        return_history=False,
        verbose=False,
        image_counts=None,
    ):
        if history is not None or return_history:
            raise NotImplementedError("batch_chat takes no history")
        self.img_context_token_id = tokenizer.convert_tokens_to_ids(IMG_CONTEXT_TOKEN)
        queries = []
        for index, num_patches in enumerate(num_patches_list):
            question = questions[index]
            if pixel_values is not None and "<image>" not in question:
                question = "<image>\n" + question
            query, sep = self._query(question, [num_patches], None)
            queries.append(query)
        tokenizer.padding_side = "left"
        inputs = tokenizer(queries, return_tensors="pt", padding=True)
        generation_config = dict(generation_config, eos_token_id=tokenizer.convert_tokens_to_ids(sep))
        output = self.generate(
            pixel_values=pixel_values,
            input_ids=inputs["input_ids"].to(self.device),
            attention_mask=inputs["attention_mask"].to(self.device),
            **generation_config,
        )
        return [
            text.split(sep)[0].strip() for text in tokenizer.batch_decode(output, skip_special_tokens=True)
        ]

    @torch.no_grad()
    def generate(self, pixel_values=None, input_ids=None, attention_mask=None, **generate_kwargs):
        embeds = self.get_input_embeddings()(input_ids)
        if pixel_values is not None:
            visual = self.extract_feature(pixel_values).reshape(-1, embeds.shape[-1])
            mask = (input_ids == self.img_context_token_id).unsqueeze(-1).expand_as(embeds)
            if int(mask[..., 0].sum()) != visual.shape[0]:
                raise ValueError(
                    f"{int(mask[..., 0].sum())} image context tokens but {visual.shape[0]} features"
                )
            embeds = embeds.masked_scatter(mask, visual.to(embeds.dtype))
        return self.language_model.generate(
            inputs_embeds=embeds, attention_mask=attention_mask, **generate_kwargs
        )

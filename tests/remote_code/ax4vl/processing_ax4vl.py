"""Fixture: A.X-4.0-VL-Light's processor, with the interface its model card shows:

    inputs = processor(images=[image], text=[text], padding=True, return_tensors="pt")
    inputs = processor(images=[image], conversations=[messages], padding=True, return_tensors="pt")

With `conversations` it applies the chat template itself (without a generation prompt, as the original
does). Each `<image>` becomes `num_tokens_per_tile` tokens per tile of its image, images taken in order
across the batch.

kobench's own code, written for its tests; SK Telecom's code is not copied. It imports what the original
imports, `_validate_images_text_input_order` included, which transformers removed in 4.54: on the
transformers kobench supports it loads only with kobench's compatibility layer (kobench/models/compat.py).
"""

from transformers.feature_extraction_utils import BatchFeature
from transformers.processing_utils import ProcessorMixin, _validate_images_text_input_order

from .configuration_ax4vl import AX4VLConfig  # noqa: F401 (imported as the original does)


class AX4VLProcessor(ProcessorMixin):
    attributes = ["image_processor", "tokenizer"]  # noqa: RUF012 (transformers reads it as a list)
    image_processor_class = "AutoImageProcessor"
    tokenizer_class = "AutoTokenizer"

    def __init__(
        self,
        image_processor=None,
        tokenizer=None,
        num_tokens_per_tile=4,
        image_token="<image>",
        chat_template=None,
        **kwargs,
    ):
        self.num_tokens_per_tile = num_tokens_per_tile
        self.image_token = image_token
        super().__init__(image_processor, tokenizer, chat_template=chat_template)

    def __call__(self, images=None, text=None, conversations=None, **kwargs):
        if images is None and text is None and conversations is None:
            raise ValueError("You have to specify at least images, text or conversation.")
        if not text and conversations is not None:
            if isinstance(conversations[0], dict):
                conversations = [conversations]
            text = [self.apply_chat_template(conversation, tokenize=False) for conversation in conversations]
        images, text = _validate_images_text_input_order(images, text)
        image_inputs = dict(self.image_processor(images)) if images is not None else {}
        tiles = iter(image_inputs.pop("num_tiles", []))
        prompts = []
        for sample in text:
            while self.image_token in sample:
                sample = sample.replace(
                    self.image_token, "<placeholder>" * (next(tiles) * self.num_tokens_per_tile), 1
                )
            prompts.append(sample.replace("<placeholder>", self.image_token))
        text_kwargs = {k: v for k, v in kwargs.items() if k in ("padding", "return_tensors", "padding_side")}
        text_inputs = self.tokenizer(prompts, **text_kwargs)
        return BatchFeature(data={**text_inputs, **image_inputs}, tensor_type=kwargs.get("return_tensors"))

    def batch_decode(self, *args, **kwargs):
        return self.tokenizer.batch_decode(*args, **kwargs)

    def decode(self, *args, **kwargs):
        return self.tokenizer.decode(*args, **kwargs)

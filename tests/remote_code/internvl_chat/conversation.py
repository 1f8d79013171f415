"""Fixture: the one chat template this InternVL fixture uses, "internvl2_5" (ChatML, `<|im_end|>` as the
separator), in the shape InternVL's conversation.py gives its templates: a system message, roles, and the
prompt built from (role, message) pairs. kobench's own code; OpenGVLab's code is not copied."""

from dataclasses import dataclass, field


@dataclass
class Conversation:
    name: str
    system_template: str = "<|im_start|>system\n{system_message}"
    # the internvl2_5 template's (OpenGVLab/InternVL, internvl_chat/internvl/conversation.py)
    system_message: str = (
        "你是书生·万象，英文名是InternVL，是由上海人工智能实验室、清华大学及多家合作单位"
        "联合开发的多模态大语言模型。"
    )
    roles: tuple = ("<|im_start|>user\n", "<|im_start|>assistant\n")
    sep: str = "<|im_end|>\n"
    messages: list = field(default_factory=list)

    def append_message(self, role, message):
        self.messages.append([role, message])

    def get_prompt(self):
        prompt = self.system_template.format(system_message=self.system_message) + self.sep
        for role, message in self.messages:
            prompt += role + (message + self.sep if message is not None else "")
        return prompt


def get_conv_template(name):
    if name != "internvl2_5":
        raise KeyError(f"this fixture has only the internvl2_5 template, not {name}")
    return Conversation(name=name)

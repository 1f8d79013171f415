"""Instruction following with verifiable constraints (IFEval and its Korean adaptations): the prompt is
asked as it is, and the response is checked against each of the row's instructions (kobench.metrics.ifeval).

Metrics, lm-eval's names and definitions: prompt_level_strict_acc (the primary), inst_level_strict_acc,
prompt_level_loose_acc, inst_level_loose_acc; the instruction-level ones weight each row by its number of
instructions, so their value is the share of all instructions followed.

Pipelines:
- protocol: IFEval's checks on the response as the model wrote it (lm-eval passes it unchanged);
- kobench: reasoning blocks removed (an unclosed one leaves nothing: the answer was cut off), the response
  and the instructions' arguments NFC-normalised, and a forbidden word counted with a particle or ending
  attached (사과를 uses the forbidden 사과, which IFEval's `\\b...\\b` misses in Korean).
Both count sentences with Kiwi (IFEval's punkt data is not on the package index): see the signature.

A row whose instructions cannot be checked as given (an unknown id, an argument IFEval would draw at random,
langdetect or kiwipiepy not installed where a check needs them) fails before the model is asked, with the
reason, and is counted; it is never scored against a random draw.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kobench.extract.thinking import strip_thinking
from kobench.families.base import AnswerScore, MetricDef, ScoringSettings
from kobench.families.common import PerRow, Row
from kobench.families.items import Item
from kobench.metrics.ifeval import IFEVAL_VERSION, follow_instructions, row_instructions
from kobench.metrics.ifeval_checks import INSTRUCTIONS, InstructionError, Rules
from kobench.metrics.ifeval_text import counting_signature, missing_package
from kobench.normalize import nfc
from kobench.tasks.spec import TaskSpec

METRICS = (
    MetricDef("prompt_level_strict_acc", "prompt_strict", "higher", IFEVAL_VERSION),
    MetricDef("inst_level_strict_acc", "inst_strict", "higher", IFEVAL_VERSION, weight="n_instructions"),
    MetricDef("prompt_level_loose_acc", "prompt_loose", "higher", IFEVAL_VERSION),
    MetricDef("inst_level_loose_acc", "inst_loose", "higher", IFEVAL_VERSION, weight="n_instructions"),
)
PIPELINE_RULES = {"protocol": Rules(), "kobench": Rules(particles_attach=True)}


def _nfc_args(value: Any) -> Any:
    if isinstance(value, str):
        return nfc(value)
    if isinstance(value, list):
        return [_nfc_args(v) for v in value]
    return value


def _checked(row: Row) -> list[dict[str, Any]] | str:
    """The row's instructions as the target ({id, args} each), or why they cannot be checked."""
    cols = row.cols
    try:
        instructions = row_instructions(row.get(cols.instructions), row.get(cols.instruction_kwargs))
    except InstructionError as exc:
        return f"instructions: {exc}"
    for instruction_id, _ in instructions:
        for module in INSTRUCTIONS[instruction_id].needs:
            if why := missing_package(module):
                return f"instructions: {instruction_id} {why}"
    return [{"id": i, "args": args} for i, args in instructions]


class InstructionFollowing(PerRow):
    name = "instruction_following"
    roles = ("question", "instructions", "instruction_kwargs")
    metrics = METRICS
    default_kind = "open"

    def item(self, row: Row) -> Item:
        instructions = _checked(row)
        if isinstance(instructions, str):
            return row.failed(instructions)
        prompt = row.get(row.cols.question)
        if not isinstance(prompt, str) or not prompt.strip():
            return row.failed("missing prompt", instructions)
        return row.asked(row.request([], "open", question=prompt), instructions)

    def score_answer(
        self, task: TaskSpec, item: Item, text: str, settings: ScoringSettings
    ) -> dict[str, AnswerScore]:
        answer = strip_thinking(text)
        texts = {"protocol": text, "kobench": nfc(answer) if answer is not None else ""}
        verdicts = {}
        for pipeline, checked in texts.items():
            instructions = [
                (
                    i["id"],
                    {k: _nfc_args(v) for k, v in i["args"].items()} if pipeline == "kobench" else i["args"],
                )
                for i in item.target
            ]
            followed = follow_instructions(instructions, checked, PIPELINE_RULES[pipeline])
            verdicts[pipeline] = {
                "parsed": checked if checked.strip() else None,  # an empty answer follows nothing
                **followed.scores(),
                "strict": list(followed.strict),
                "loose": list(followed.loose),
            }
        return verdicts

    def parser_names(self, task: TaskSpec) -> dict[str, str]:
        return {
            "protocol": f"ifeval-as-written@{IFEVAL_VERSION}",
            "kobench": f"ifeval-ko-aware@{IFEVAL_VERSION}",
        }

    def signature_extra(self, task: TaskSpec, settings: ScoringSettings) -> Sequence[str]:
        # The constrained-response options are the Korean adaptation's (kobench.metrics.ifeval_checks).
        return (*counting_signature(), "constrained-response:ko")

"""IFEval's scoring of one response (lm-evaluation-harness lm_eval/tasks/ifeval/utils.py, commit 4e7e0d4):
each instruction is followed or not, strictly (the response as written) and loosely (followed by any of
eight variants of it), and four accuracies summarise a set of rows:

- prompt-level strict / loose: the share of rows whose every instruction is followed;
- instruction-level strict / loose: the share of all instructions followed, over every row's instructions
  (a mean weighted by each row's number of instructions, as lm-eval's `agg_inst_level_acc` flattens them).

The loose variants, in lm-eval's order: the response; without `*` (markdown emphasis); without its first
line; without its last line; without both; the last three without `*`. An empty (or all-space) variant
follows nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kobench.metrics.ifeval_checks import AS_PUBLISHED, InstructionError, Rules, follows, instruction_args

IFEVAL_VERSION = "1"


def loose_variants(response: str) -> list[str]:
    """The eight texts the loose accuracy tries, in lm-eval's order."""
    lines = response.split("\n")
    first = "\n".join(lines[1:]).strip()
    last = "\n".join(lines[:-1]).strip()
    both = "\n".join(lines[1:-1]).strip()
    plain = [response, response.replace("*", ""), first, last, both]
    return [*plain, *(text.replace("*", "") for text in (first, last, both))]


@dataclass(frozen=True)
class Followed:
    """Per instruction, in the row's order: followed strictly, followed loosely."""

    strict: tuple[bool, ...]
    loose: tuple[bool, ...]

    def scores(self) -> dict[str, float]:
        n = len(self.strict)
        return {
            "prompt_strict": float(all(self.strict)),
            "inst_strict": sum(self.strict) / n,
            "prompt_loose": float(all(self.loose)),
            "inst_loose": sum(self.loose) / n,
            "n_instructions": n,
        }


def row_instructions(ids: Any, kwargs: Any) -> list[tuple[str, dict[str, Any]]]:
    """A row's instructions with their checked arguments; InstructionError where the row cannot be scored
    (no instructions, one kwargs per instruction missing, an instruction IFEval cannot check as given)."""
    if not isinstance(ids, Sequence) or isinstance(ids, str) or not ids:
        raise InstructionError(f"instruction_id_list is not a list of instruction ids: {ids!r}")
    if not isinstance(kwargs, Sequence) or isinstance(kwargs, str) or len(kwargs) != len(ids):
        raise InstructionError(f"kwargs is not one mapping per instruction ({len(ids)}): {kwargs!r}")
    out = []
    for instruction_id, args in zip(ids, kwargs, strict=True):
        if args is not None and not isinstance(args, Mapping):
            raise InstructionError(f"{instruction_id}: kwargs {args!r} is not a mapping")
        out.append((str(instruction_id), instruction_args(str(instruction_id), args)))
    return out


def follow_instructions(
    instructions: Sequence[tuple[str, Mapping[str, Any]]], response: str, rules: Rules = AS_PUBLISHED
) -> Followed:
    variants = loose_variants(response)
    strict = tuple(follows(i, args, response, rules) for i, args in instructions)
    loose = tuple(
        is_strict or any(follows(i, args, v, rules) for v in variants[1:])
        for (i, args), is_strict in zip(instructions, strict, strict=True)
    )
    return Followed(strict, loose)

"""Log-likelihood multiple choice as lm-evaluation-harness defines it: each row's choices, its gold choice,
the few-shot examples drawn for it and the context they make.

Reproduces lm-evaluation-harness v0.4.9.2 (lm_eval/api/task.py ConfigurableTask.doc_to_target,
doc_to_choice, fewshot_context, construct_requests; lm_eval/api/samplers.py ContextSampler.get_context
and sample; lm_eval/evaluator.py, which seeds each task's sampler with fewshot_random_seed 1234):

- one random generator per task (a kobench task's `fewshot_within` group is one lm-eval subtask), seeded
  once and advanced by every row in dataset order, so a row's examples depend on the rows before it;
- `rnd.sample(pool, n)` from the few-shot split; where that is the evaluated split itself, `n + 1` are
  drawn, the row itself (any equal row) is dropped and the first `n` kept;
- an example is `doc_to_text + target_delimiter + target + fewshot_delimiter`, its target written as the
  gold choice's text where the target is an index; an example whose target is "" adds its text only;
- the request's continuations are `target_delimiter + choice`, one per choice.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from typing import Any

from kobench.tasks.prompt import TemplateFailed, evaluate, render
from kobench.tasks.spec import PromptVersion

Row = dict[str, Any]


def _value(expression: str, row: Row) -> Any:
    """An expression's value over the row; one that fails on the row (a column it lacks) is that row's
    failure, as lm-eval's doc_to_choice and doc_to_target fail on the row: ValueError. (A prompt template
    that fails stops the run: kobench.run.prepare.)"""
    try:
        return evaluate(expression, row)
    except TemplateFailed as exc:
        raise ValueError(exc.why) from exc


def choices_of(version: PromptVersion, row: Row) -> list[str]:
    """The row's choices: the version's list, or its expression's value (a list of strings)."""
    if isinstance(version.choices, list):
        return list(version.choices)
    value = _value(version.choices or "", row)
    if not isinstance(value, list | tuple) or not all(isinstance(c, str) for c in value):
        raise ValueError(f"choices {version.choices!r} gave {value!r}, not a list of strings")
    return list(value)


def raw_target(version: PromptVersion, row: Row) -> Any:
    return _value(version.target or "", row)


def gold_index(target: Any, choices: Sequence[str]) -> int | None:
    """The gold choice's index, as lm-eval reads doc_to_target: an int is an index; a string is a choice's
    text, or an index written in digits (what a `{{label}}` template gives); None when it names no choice."""
    if isinstance(target, bool):
        target = int(target)
    if isinstance(target, int):
        return target if 0 <= target < len(choices) else None
    if isinstance(target, str):
        if target in choices:
            return list(choices).index(target)
        if target.strip().isdigit():
            return gold_index(int(target), choices)
    return None


def target_text(target: Any, choices: Sequence[str]) -> str:
    """A few-shot example's answer as lm-eval writes it: a list's first item, an index's choice, a text."""
    if isinstance(target, list | tuple):
        return str(target[0])
    if isinstance(target, str) and not target.strip().isdigit():
        return target
    index = gold_index(target, choices)
    if index is None:
        raise ValueError(f"target {target!r} is not one of the choices {list(choices)}")
    return str(choices[index])


def draw_examples(
    rows: Sequence[Row], pool: Sequence[Row], version: PromptVersion, same_split: bool
) -> list[list[Row]]:
    """The few-shot examples of each row, in row order. Rows and pool are grouped by `fewshot_within`
    (one generator per group, seeded with `fewshot_seed`); `same_split`: the pool is the evaluated split."""
    n = version.fewshot
    if n == 0:
        return [[] for _ in rows]
    within = version.fewshot_within
    pools: dict[Any, list[Row]] = {}
    for example in pool:
        pools.setdefault(example.get(within) if within else None, []).append(example)
    generators: dict[Any, random.Random] = {}
    out = []
    for row in rows:
        group = row.get(within) if within else None
        candidates = pools.get(group, [])
        wanted = n + 1 if same_split else n
        if len(candidates) < wanted:
            where = f" with {within} = {group!r}" if within else ""
            raise ValueError(f"{n}-shot needs {wanted} few-shot rows{where}; there are {len(candidates)}")
        rnd = generators.setdefault(group, random.Random(version.fewshot_seed))
        drawn = rnd.sample(candidates, wanted)
        out.append([x for x in drawn if not same_doc(x, row)][:n])
    return out


def same_doc(a: Any, b: Any) -> bool:
    """lm-eval's `x != doc` read the other way: its few-shot docs and the doc evaluated are separate objects
    read from Arrow, so Python's identity shortcut never applies and a NaN equals nothing, itself included:
    a row holding a NaN is never left out of its own draw (HAE-RAE, CLIcK draw from the split they score)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_doc(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return type(a) is type(b) and len(a) == len(b) and all(map(same_doc, a, b))
    if isinstance(a, float) and math.isnan(a):
        return False
    return bool(a == b)


def context(version: PromptVersion, row: Row, examples: Sequence[Row]) -> str:
    """The few-shot examples, then the row's own text: what every choice is scored after."""
    parts = []
    for example in examples:
        text = render(version.template, example, [])
        target = raw_target(version, example)
        if target == "":  # get_context adds nothing after an example without a target
            parts.append(text)
            continue
        answer = target_text(target, choices_of(version, example))
        parts.append(text + version.target_delimiter + answer + version.fewshot_delimiter)
    return "".join(parts) + render(version.template, row, [])

"""An independent reference for lm-evaluation-harness v0.4.9.2's log-likelihood multiple choice on its
Korean tasks: which (context, continuation) pairs it builds for a doc, the gold index, acc / acc_norm, and
HFLM's (loglikelihood, is_greedy) of one pair.

Written only from lm-eval's own source at tag v0.4.9.2 (nothing from kobench), so kobench's tests can
compare their implementation against it:

- ``lm_eval/api/task.py``: ``ConfigurableTask.fewshot_context`` (few-shot block + ``doc_to_text``),
  ``doc_to_text`` / ``doc_to_target`` / ``doc_to_choice`` (a column name, a Jinja template, a list or a
  callable; a rendered template that ``isdigit()`` becomes an int through ``ast.literal_eval``),
  ``construct_requests`` (continuation = ``target_delimiter + choice``), ``process_results`` (acc = argmax
  of the lls, acc_norm = argmax of ll / ``len(choice)``; a str gold is ``choices.index(gold)``, an
  out-of-range gold is -100), ``fewshot_docs`` (``fewshot_split``, else ``Task.fewshot_docs``: training,
  else validation, else test docs; ``process_docs`` applied either way), ``set_fewshot_seed``, and the
  ``TaskConfig`` defaults ``target_delimiter=" "``, ``fewshot_delimiter="\\n\\n"``.
- ``lm_eval/api/samplers.py``: ``ContextSampler.get_context`` / ``sample`` (``rnd.sample(docs, n)``, n+1
  drawn when ``fewshot_split == test_split``; any drawn doc ``==`` the doc evaluated is dropped, from
  whichever split, so a few-shot doc identical to it leaves one shot fewer; how a shot's target is rendered).
- ``lm_eval/evaluator.py``: ``simple_evaluate(fewshot_random_seed=1234)`` and ``_adjust_config``, which
  calls ``task_obj.set_fewshot_seed(seed)`` once per task: one ``random.Random(1234)`` per task that
  ``build_all_requests`` advances doc after doc, in order.
- ``lm_eval/utils.py``: ``apply_template`` and its Jinja ``Environment(loader=BaseLoader,
  undefined=StrictUndefined, keep_trailing_newline=True)`` with the ``regex_replace`` filter.
- ``lm_eval/api/model.py``: ``TemplateLM._encode_pair`` and ``TemplateLM.loglikelihood`` (empty context).
- ``lm_eval/models/huggingface.py`` (+ ``lm_eval/models/utils.py``): ``HFLM.tok_encode``,
  ``prefix_token_id``, ``max_length``, ``_loglikelihood_tokens``, ``_select_cont_toks``; defaults
  ``add_bos_token=None`` (the tokenizer's own ``add_special_tokens`` default; v0.4.9.2 has no Gemma special
  case), ``softmax_dtype=None``, ``mixed_precision_dtype=None``.
- Task configs: ``lm_eval/tasks/kmmlu/default/_default_kmmlu_yaml``, ``lm_eval/tasks/haerae/
  _default_haerae_yaml``, ``lm_eval/tasks/click/click_{cul,lang}/_default_click_{cul,lang}_yaml`` +
  ``utils.py`` + the ``click_*.yaml`` subtasks, ``lm_eval/tasks/kobest/kobest_*.yaml`` + ``utils.py``.

Where each task draws its few-shot examples from (the ``fewshot_docs`` argument of ``reference_requests``):

- ``kmmlu``: ``fewshot_split: dev`` (the subject's dev split); test split ``test``; n drawn.
- ``haerae``: ``fewshot_split: test`` == ``test_split``: the test split itself; n+1 drawn, the doc dropped.
- ``click``: ``fewshot_split: train`` == ``test_split: train``, both through the subtask's ``process_docs``
  filter: the subtask's own docs; n+1 drawn, the doc dropped.
- ``kobest_*``: no ``fewshot_split``; ``training_split: train`` is set, so ``Task.fewshot_docs`` returns
  ``training_docs()``: the **train** split (through ``process_docs`` for hellaswag); n drawn.

Checked once by hand (not part of the suite) against pip's ``lm_eval==0.4.9.2``: its ``ConfigurableTask``
built from these YAMLs on synthetic local data gave the same pairs and golds for every task at 0-5 shots
(HAE-RAE with duplicate and NaN-holding docs included), and ``HFLM.loglikelihood`` on a tiny Qwen2 model
gave the same (ll, is_greedy), batch size 1 and 4, with empty contexts and left truncation.
"""

from __future__ import annotations

import ast
import math
import random
import re
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from jinja2 import BaseLoader, Environment, StrictUndefined

TARGET_DELIMITER = " "  # TaskConfig.target_delimiter default; none of these YAMLs override it
FEWSHOT_DELIMITER = "\n\n"  # TaskConfig.fewshot_delimiter default
DEFAULT_FEWSHOT_SEED = 1234  # simple_evaluate(fewshot_random_seed=1234)
TOKENIZER_INFINITY = 1000000000000000019884624838656  # lm_eval/models/huggingface.py
DEFAULT_MAX_LENGTH = 2048  # HFLM._DEFAULT_MAX_LENGTH

Doc = dict[str, Any]


# --- Jinja, as lm_eval/utils.py sets it up ---


def _regex_replace(string: str, pattern: str, repl: str, count: int = 0) -> str:
    return re.sub(pattern, repl, string, count=count)


# lm-eval passes the BaseLoader class; from_string never consults the loader, so an instance is the same.
_JINJA = Environment(loader=BaseLoader(), undefined=StrictUndefined, keep_trailing_newline=True)
_JINJA.filters["regex_replace"] = _regex_replace


def _apply_template(template: str, doc: Doc) -> str:
    return _JINJA.from_string(template).render(**doc)


# --- The task configs (YAML + utils.py), re-implemented ---

Field = str | list[str] | Callable[[Doc], Any]


@dataclass(frozen=True)
class _TaskSpec:
    doc_to_text: Field
    doc_to_target: Field
    doc_to_choice: Field
    # fewshot_split == test_split: the sampler draws n+1 and drops the doc being evaluated.
    fewshot_is_test_split: bool
    process_docs: Callable[[list[Doc]], list[Doc]] | None = None


def _click_context(doc: Doc) -> str:
    # click_{cul,lang}/utils.py get_context: only opt[0..3] are shown, even for 5-choice CSAT rows;
    # note "A:{opt[0]}" has no space after the colon while B/C/D do.
    ctx = doc["paragraph"]
    q = doc["question"]
    opt = doc["choices"]
    options = f"보기:\nA:{opt[0]}, B: {opt[1]}, C: {opt[2]}, D: {opt[3]}\n정답:"
    if ctx:  # an empty (or None) paragraph takes the second wording
        return (
            "주어진 맥락을 천천히 읽고, 질문에 대한 적절한 정답을 A, B, C, D 중에 골라 "
            f"알파벳 하나로 답하시오.\n\n맥락: {ctx}\n질문: {q}\n{options}"
        )
    return (
        "주어진 질문을 천천히 읽고, 적절한 정답을 A, B, C, D 중에 골라 알파벳 하나로 답하시오."
        f"\n\n질문: {q}\n{options}"
    )


def _click_target(doc: Doc) -> str:
    # A letter (a str, so a shot shows it as is and the gold is choices.index(letter)).
    letters = ["A", "B", "C", "D", "E"] if "CSAT" in doc["id"] else ["A", "B", "C", "D"]
    return letters[doc["choices"].index(doc["answer"])]


def _click_choices(doc: Doc) -> list[str]:
    return ["A", "B", "C", "D", "E"] if "CSAT" in doc["id"] else ["A", "B", "C", "D"]


def _copa_text(doc: Doc) -> str:
    connector = {"원인": " 왜냐하면", "결과": " 그래서"}[doc["question"].strip()]
    return f"{doc['premise']} {connector}"  # two spaces before the connector: the dict value has one too


def _copa_target(doc: Doc) -> str:
    # The correct alternative's text, not an index: gold = choices.index(text) (the first if both match).
    return doc["alternative_1"] if doc["label"] == 0 else doc["alternative_2"]


def _copa_choices(doc: Doc) -> list[str]:
    return [f"{doc['alternative_1']}", f"{doc['alternative_2']}"]


def _sentineg_text(doc: Doc) -> str:
    return f"문장: {doc['sentence']} 긍부정:"


def _wic_text(doc: Doc) -> str:
    sentences = f"문장1: {doc['context_1']} 문장2: {doc['context_2']}"
    return f"{sentences} 두 문장에서 {doc['word']}가 같은 뜻으로 쓰였나?"


def _hellaswag_process_docs(docs: list[Doc]) -> list[Doc]:
    # kobest/utils.py hellaswag_process_doc: Dataset.map keeps every column and adds (or overwrites)
    # query, choices and gold.
    return [
        {
            **doc,
            "query": f"문장: {doc['context']}",
            "choices": [doc["ending_1"], doc["ending_2"], doc["ending_3"], doc["ending_4"]],
            "gold": int(doc["label"]),
        }
        for doc in docs
    ]


_SPECS: dict[str, _TaskSpec] = {
    "kmmlu": _TaskSpec(
        doc_to_text="{{question.strip()}}\nA. {{A}}\nB. {{B}}\nC. {{C}}\nD. {{D}}\n정답：",  # U+FF1A
        doc_to_target="{{answer-1}}",
        doc_to_choice=["A", "B", "C", "D"],
        fewshot_is_test_split=False,  # fewshot_split: dev, test_split: test
    ),
    "haerae": _TaskSpec(
        doc_to_text="{{query}}",
        doc_to_target="{{answer}}",
        doc_to_choice=["(A)", "(B)", "(C)", "(D)", "(E)"],
        fewshot_is_test_split=True,  # fewshot_split: test, test_split: test
    ),
    "click": _TaskSpec(
        doc_to_text=_click_context,
        doc_to_target=_click_target,
        doc_to_choice=_click_choices,
        fewshot_is_test_split=True,  # fewshot_split: train, test_split: train
    ),
    "kobest_boolq": _TaskSpec(
        doc_to_text="{{paragraph}} 질문: {{question}} 답변: ",  # the trailing space is in the YAML
        doc_to_target="{{label}}",
        doc_to_choice=["아니오", "예"],
        fewshot_is_test_split=False,
    ),
    "kobest_copa": _TaskSpec(
        doc_to_text=_copa_text,
        doc_to_target=_copa_target,
        doc_to_choice=_copa_choices,
        fewshot_is_test_split=False,
    ),
    "kobest_hellaswag": _TaskSpec(
        doc_to_text="{{query}}",
        doc_to_target="{{label}}",
        doc_to_choice="choices",  # a column name (of the processed docs), not a template
        fewshot_is_test_split=False,
        process_docs=_hellaswag_process_docs,
    ),
    "kobest_sentineg": _TaskSpec(
        doc_to_text=_sentineg_text,
        doc_to_target="{{label}}",
        doc_to_choice=["부정", "긍정"],
        fewshot_is_test_split=False,
    ),
    "kobest_wic": _TaskSpec(
        doc_to_text=_wic_text,
        doc_to_target="{{label}}",
        doc_to_choice=["아니오", "예"],
        fewshot_is_test_split=False,
    ),
}

TASKS: tuple[str, ...] = tuple(_SPECS)


# --- KMMLU-Hard: lm_eval/tasks/kmmlu/hard/ (log-likelihood) and direct_hard/ (generative) ---
#
# Each variant is 45 subtasks, one per subject, e.g. kmmlu_hard_accounting (hard/kmmlu_hard_accounting.yaml:
# ``dataset_name: accounting``, ``include: _hard_kmmlu_yaml``, ``tag: kmmlu_hard_humss_tasks``) and
# kmmlu_direct_hard_accounting (``tag: kmmlu_direct_hard_humss_tasks``). ``kmmlu_hard`` itself is a group
# (hard/_kmmlu_hard.yaml: its four supercategory groups, acc weighted by size), not a task.
# cot_hard/ (per-subject doc_to_text and hand-written chain-of-thought exemplars) is not re-implemented.

# dataset_name -> the supercategory of its ``tag:`` (kmmlu_hard_<this>_tasks in hard/; direct_hard/ and
# cot_hard/ tag every subject alike), in file order (the task yamls sorted by name).
KMMLU_HARD_GROUPS: dict[str, str] = {
    "accounting": "humss",
    "agricultural_sciences": "other",
    "aviation_engineering_and_maintenance": "applied_science",
    "biology": "stem",
    "chemical_engineering": "stem",
    "chemistry": "stem",
    "civil_engineering": "stem",
    "computer_science": "stem",
    "construction": "other",
    "criminal_law": "humss",
    "ecology": "stem",
    "economics": "humss",
    "education": "humss",
    "electrical_engineering": "stem",
    "electronics_engineering": "applied_science",
    "energy_management": "applied_science",
    "environmental_science": "applied_science",
    "fashion": "other",
    "food_processing": "other",
    "gas_technology_and_engineering": "applied_science",
    "geomatics": "applied_science",
    "health": "other",
    "industrial_engineer": "applied_science",
    "information_technology": "stem",
    "interior_architecture_and_design": "other",
    "korean_history": "humss",
    "law": "humss",
    "machine_design_and_manufacturing": "applied_science",
    "management": "humss",
    "maritime_engineering": "applied_science",
    "marketing": "other",
    "materials_engineering": "stem",
    "math": "stem",
    "mechanical_engineering": "stem",
    "nondestructive_testing": "applied_science",
    "patent": "other",
    "political_science_and_sociology": "humss",
    "psychology": "humss",
    "public_safety": "other",
    "railway_and_automotive_engineering": "applied_science",
    "real_estate": "other",
    "refrigerating_machinery": "other",
    "social_welfare": "humss",
    "taxation": "humss",
    "telecommunications_and_wireless_technology": "applied_science",
}

# hard/_hard_kmmlu_yaml and direct_hard/_direct_hard_kmmlu_yaml: the same doc_to_text (U+FF1A again).
_KMMLU_HARD_TEXT = "{{question.strip()}}\nA. {{A}}\nB. {{B}}\nC. {{C}}\nD. {{D}}\n정답："

# hard/_hard_kmmlu_yaml: output_type multiple_choice, test_split test, fewshot_split dev, no num_fewshot.
_KMMLU_HARD_SPECS: dict[str, _TaskSpec] = {
    f"kmmlu_hard_{subject}": _TaskSpec(
        doc_to_text=_KMMLU_HARD_TEXT,
        doc_to_target="{{answer-1}}",
        doc_to_choice=["A", "B", "C", "D"],
        fewshot_is_test_split=False,  # fewshot_split: dev, test_split: test
    )
    for subject in KMMLU_HARD_GROUPS
}

# The log-likelihood subtasks ``reference_requests`` also takes (kept out of TASKS, which lists the others).
KMMLU_HARD_TASKS: tuple[str, ...] = tuple(_KMMLU_HARD_SPECS)


@dataclass(frozen=True)
class _GenerateSpec:
    """An ``output_type: generate_until`` task: no doc_to_choice, a text target, generation_kwargs and the
    keyword arguments of its one metric (``exact_match``)."""

    doc_to_text: str
    doc_to_target: str
    until: tuple[str, ...]
    do_sample: bool
    temperature: float
    max_gen_toks: int | None  # None: the YAML sets none (HFLM then generates up to its max_gen_toks, 256)
    regexes_to_ignore: tuple[str, ...] | None
    ignore_case: bool
    ignore_punctuation: bool
    fewshot_is_test_split: bool


HFLM_MAX_GEN_TOKS = 256  # lm_eval/models/huggingface.py HFLM.max_gen_toks, used when kwargs lack max_gen_toks

# direct_hard/_direct_hard_kmmlu_yaml: output_type generate_until, test_split test, fewshot_split dev, no
# num_fewshot; doc_to_target "{{['A', 'B', 'C', 'D'][answer-1]}}"; generation_kwargs until ["Q:", "\n\n",
# "</s>", "."], do_sample false, temperature 0.0 (TaskConfig.__post_init__ makes it a float); metric_list
# exact_match with ignore_case, ignore_punctuation and regexes_to_ignore [" "].
_KMMLU_DIRECT_HARD_SPECS: dict[str, _GenerateSpec] = {
    f"kmmlu_direct_hard_{subject}": _GenerateSpec(
        doc_to_text=_KMMLU_HARD_TEXT,
        doc_to_target="{{['A', 'B', 'C', 'D'][answer-1]}}",
        until=("Q:", "\n\n", "</s>", "."),
        do_sample=False,
        temperature=0.0,
        max_gen_toks=None,
        regexes_to_ignore=(" ",),
        ignore_case=True,
        ignore_punctuation=True,
        fewshot_is_test_split=False,
    )
    for subject in KMMLU_HARD_GROUPS
}

KMMLU_DIRECT_HARD_TASKS: tuple[str, ...] = tuple(_KMMLU_DIRECT_HARD_SPECS)


# --- ConfigurableTask.doc_to_text / doc_to_target / doc_to_choice ---


def _doc_to_text(spec: _TaskSpec, features: Sequence[str], doc: Doc) -> Any:
    field = spec.doc_to_text
    if isinstance(field, str):
        if field in features:
            return doc[field]
        text = _apply_template(field, doc)
        # lm-eval: a rendered text of digits (with doc_to_choice set) is read as an int (a choice index).
        return ast.literal_eval(text) if text.isdigit() else text
    assert callable(field)
    return field(doc)


def _doc_to_target(spec: _TaskSpec, features: Sequence[str], doc: Doc) -> Any:
    field = spec.doc_to_target
    if isinstance(field, str):
        if field in features:
            return doc[field]
        target = _apply_template(field, doc)
        if target.isdigit():  # "0".."3" from {{answer-1}} / {{label}} becomes an int index
            return ast.literal_eval(target)
        if len(target) >= 2 and target[0] == "[" and target[-1] == "]":
            try:
                return ast.literal_eval(target)
            except (SyntaxError, ValueError):
                return target
        return target
    assert callable(field)
    return field(doc)


def _doc_to_choice(spec: _TaskSpec, features: Sequence[str], doc: Doc) -> list[str]:
    field = spec.doc_to_choice
    if isinstance(field, str):
        if field in features:
            return list(doc[field])
        return list(ast.literal_eval(_apply_template(field, doc)))
    if isinstance(field, list):
        return field
    return list(field(doc))


# --- Few-shot sampling and the context string (samplers.ContextSampler.get_context) ---


def _lm_eval_equal(a: Any, b: Any) -> bool:
    """``x != doc`` as lm-eval evaluates it: its few-shot docs and the doc being evaluated are separate
    Python objects materialised from Arrow, so Python's identity shortcut never applies and a NaN is
    unequal to itself (a doc holding a NaN is never dropped from its own few-shot draw)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_lm_eval_equal(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return type(a) is type(b) and len(a) == len(b) and all(map(_lm_eval_equal, a, b))
    if isinstance(a, float) and math.isnan(a):
        return False
    return bool(a == b)


def _render_shot(spec: _TaskSpec, features: Sequence[str], shot: Doc) -> str:
    content = _doc_to_text(spec, features, shot)
    target = _doc_to_target(spec, features, shot)
    out = content if isinstance(content, str) else _doc_to_choice(spec, features, shot)[content]
    if target != "":  # an empty target adds neither the target delimiter nor the few-shot delimiter
        if isinstance(target, list):
            rendered = str(target[0])
        elif isinstance(target, str):
            rendered = target  # a str target (CLIcK's letter, HAE-RAE's "(A)", COPA's text) is shown as is
        else:
            rendered = str(_doc_to_choice(spec, features, shot)[target])  # an int shows the choice text
        out += TARGET_DELIMITER + rendered + FEWSHOT_DELIMITER
    return out


def _gold_index(target: Any, choices: list[str]) -> int:
    # process_results: an int past the choices, or a str not among them, is -100 (never counted correct).
    if not isinstance(target, int | str):
        raise NotImplementedError(f"multiple targets ({target!r}) are not used by these tasks")
    if isinstance(target, int):
        return target if target < len(choices) else -100
    return choices.index(target) if target in choices else -100


def reference_requests(
    task: str,
    test_docs: list[Doc],
    fewshot_docs: list[Doc] | None,
    num_fewshot: int,
    seed: int = DEFAULT_FEWSHOT_SEED,
) -> list[tuple[list[tuple[str, str]], int]]:
    """For each test doc, in order: the (context, continuation) pairs lm-eval builds for it, and its gold
    index.

    ``task``: one of ``TASKS``. ``test_docs``: the raw rows of the split lm-eval evaluates (one KMMLU subject,
    one HAE-RAE subset, one CLIcK subtask's docs as ``click_subtask_docs`` keeps them, a KoBEST test split).
    ``fewshot_docs``: the raw rows of the split lm-eval draws shots from (see the module docstring: KMMLU's
    dev, KoBEST's train); None for haerae and click, whose few-shot split is the test split (the test docs
    are used). ``process_docs`` (kobest_hellaswag) is applied to both, as lm-eval does.
    """
    specs = {**_SPECS, **_KMMLU_HARD_SPECS}
    if task not in specs:
        raise ValueError(f"unknown task {task!r}; one of {', '.join(TASKS)} or kmmlu_hard_<subject>")
    spec = specs[task]
    process = spec.process_docs or list
    docs = process(list(test_docs))
    if not docs:
        return []
    if fewshot_docs is None:
        if num_fewshot > 0 and not spec.fewshot_is_test_split:
            raise ValueError(f"{task} draws its shots from another split: pass fewshot_docs")
        pool = docs
    else:
        pool = process(list(fewshot_docs))
    # self.features = list(self.task_docs.features.keys()): the processed eval split's columns.
    features = list(docs[0].keys())
    if not isinstance(_doc_to_text(spec, features, docs[0]), str):
        # lm-eval would switch the whole task to "multiple input" mode; none of these tasks does.
        raise NotImplementedError("doc_to_text gave a choice index for the first doc (multiple inputs)")

    rnd = random.Random(seed)  # Task.set_fewshot_seed: one generator per task, shared by all its docs
    out: list[tuple[list[tuple[str, str]], int]] = []
    for doc in docs:
        fewshot_ctx = ""
        if num_fewshot > 0:
            n_samples = num_fewshot + 1 if spec.fewshot_is_test_split else num_fewshot
            drawn = rnd.sample(pool, n_samples)
            # Dropped whatever the split (v0.4.9.2; HEAD only drops it from the test split): a train/dev
            # doc identical to the test doc leaves the context a shot short.
            shots = [x for x in drawn if not _lm_eval_equal(x, doc)][:num_fewshot]
            fewshot_ctx = "".join(_render_shot(spec, features, shot) for shot in shots)
        choices = _doc_to_choice(spec, features, doc)
        example = _doc_to_text(spec, features, doc)
        context = fewshot_ctx + (example if isinstance(example, str) else choices[example])
        pairs = [(context, f"{TARGET_DELIMITER}{choice}") for choice in choices]
        out.append((pairs, _gold_index(_doc_to_target(spec, features, doc), choices)))
    return out


def reference_choice_scores(lls: list[float], choices: list[str], gold: int) -> dict[str, float]:
    """acc and acc_norm of one doc as ConfigurableTask.process_results computes them: np.argmax (the first
    of equal maxima) of the lls, and of the lls divided by each choice's character length (the choice
    string, not the continuation with its leading delimiter)."""
    lls_arr = np.asarray(lls, dtype=float)
    completion_len = np.array([float(len(choice)) for choice in choices])
    pred = int(np.argmax(lls_arr))
    pred_norm = int(np.argmax(lls_arr / completion_len))
    return {"acc": 1.0 if pred == gold else 0.0, "acc_norm": 1.0 if pred_norm == gold else 0.0}


# --- generate_until (KMMLU-Hard direct): the context, the generation settings, the gold, exact_match ---


@dataclass(frozen=True)
class GenerateRequest:
    context: str  # fewshot_context: the shots, then doc_to_text (no description in these YAMLs)
    until: tuple[str, ...]  # generation_kwargs["until"]; HFLM.generate_until adds the model's EOS text
    max_gen_toks: int
    do_sample: bool
    temperature: float
    target: str  # doc_to_target, what process_results compares the (filtered) generation with


def _generate_target(spec: _GenerateSpec, doc: Doc) -> str:
    # ConfigurableTask.doc_to_target: a rendered template of digits becomes an int only when doc_to_choice
    # is set (it is not here), and a "[...]" rendering would be literal_eval'd (a letter never is).
    return _apply_template(spec.doc_to_target, doc)


def reference_generate_requests(
    task: str,
    test_docs: list[Doc],
    fewshot_docs: list[Doc] | None = None,
    num_fewshot: int = 0,
    seed: int = DEFAULT_FEWSHOT_SEED,
) -> list[GenerateRequest]:
    """For each test doc, in order: the generate_until request lm-eval builds (``construct_requests``:
    ``(ctx, deepcopy(generation_kwargs))``) and its gold. ``task``: one of ``KMMLU_DIRECT_HARD_TASKS``;
    ``fewshot_docs``: the subject's dev rows, needed only for ``num_fewshot`` > 0 (lm-eval's
    ``--num_fewshot``; the YAML sets none, so lm-eval runs it 0-shot): each shot is ``doc_to_text + " " +
    target + "\\n\\n"``, drawn as ``reference_requests`` draws them."""
    if task not in _KMMLU_DIRECT_HARD_SPECS:
        raise ValueError(f"unknown task {task!r}; one of kmmlu_direct_hard_<subject>")
    spec = _KMMLU_DIRECT_HARD_SPECS[task]
    if num_fewshot > 0 and fewshot_docs is None and not spec.fewshot_is_test_split:
        raise ValueError(f"{task} draws its shots from another split: pass fewshot_docs")
    pool = list(test_docs) if fewshot_docs is None else list(fewshot_docs)
    rnd = random.Random(seed)
    out = []
    for doc in test_docs:
        shots_text = ""
        if num_fewshot > 0:
            n_samples = num_fewshot + 1 if spec.fewshot_is_test_split else num_fewshot
            drawn = rnd.sample(pool, n_samples)
            shots = [x for x in drawn if not _lm_eval_equal(x, doc)][:num_fewshot]
            shots_text = "".join(
                _apply_template(spec.doc_to_text, shot)
                + TARGET_DELIMITER
                + _generate_target(spec, shot)
                + FEWSHOT_DELIMITER
                for shot in shots
            )
        out.append(
            GenerateRequest(
                context=shots_text + _apply_template(spec.doc_to_text, doc),
                until=spec.until,
                max_gen_toks=spec.max_gen_toks if spec.max_gen_toks is not None else HFLM_MAX_GEN_TOKS,
                do_sample=spec.do_sample,
                temperature=spec.temperature,
                target=_generate_target(spec, doc),
            )
        )
    return out


def reference_cut_at_until(text: str, until: Sequence[str]) -> str:
    """HFLM.generate_until's post-processing of a decoded generation: ``s = s.split(term)[0]`` for each
    non-empty stop string in turn."""
    for term in until:
        if len(term) > 0:
            text = text.split(term)[0]
    return text


def reference_exact_match(task: str, prediction: str, target: str) -> float:
    """process_results for generate_until without a filter_list (the "none" filter: take_first) and
    ``metrics.exact_match_hf_evaluate`` with the task's metric kwargs: each regex to ignore removed
    (``re.sub``) from both, then lower-cased (``np.char.lower``), then ``string.punctuation`` removed
    (``np.char.translate``), then compared."""
    spec = _KMMLU_DIRECT_HARD_SPECS[task]
    predictions = [prediction]
    references = [target]
    if spec.regexes_to_ignore is not None:
        for s in spec.regexes_to_ignore:
            predictions = [re.sub(s, "", x) for x in predictions]
            references = [re.sub(s, "", x) for x in references]
    pred_arr, ref_arr = np.asarray(predictions), np.asarray(references)
    if spec.ignore_case:
        pred_arr, ref_arr = np.char.lower(pred_arr), np.char.lower(ref_arr)
    if spec.ignore_punctuation:
        table = string.punctuation.maketrans("", "", string.punctuation)
        pred_arr = np.char.translate(pred_arr, table=table)
        ref_arr = np.char.translate(ref_arr, table=table)
    return float(np.mean(pred_arr == ref_arr))


# --- CLIcK's subtasks (process_docs filters of click_cul/utils.py and click_lang/utils.py) ---


def _click_text(doc: Doc) -> bool:
    i = doc["id"]
    return (
        "CSAT_korean_22" in i
        or ("CSAT_korean_23" in i and int(i.split("_")[-1]) < 35)
        or ("TK" in i and int(i.split("_")[-1]) > 4)
    )


def _click_grammar(doc: Doc) -> bool:
    i, q = doc["id"], doc["question"]
    return (
        ("CSAT_korean" in i and (int(i.split("_")[2]) < 21 and int(i.split("_")[3]) > 10))
        or (
            "Kedu_1" in i  # a substring test: Kedu_10 .. Kedu_19 match too
            and (i.split("_")[1] != "16" or not ("대화" in q or "발화" in q or "질의" in q))
        )
        or ("TK" in i and int(i.split("_")[-1]) < 5)
    )


def _click_function(doc: Doc) -> bool:
    i, q = doc["id"], doc["question"]
    return (
        (
            "CSAT_korean" in i
            and (int(i.split("_")[-1]) > 34 or (int(i.split("_")[2]) < 21 and int(i.split("_")[3]) < 11))
        )
        or ("Kedu_16" in i and ("대화" in q or "발화" in q or "질의" in q))
        or "PSE_korean" in i
    )


_CLICK_FILTERS: dict[str, Callable[[Doc], bool]] = {
    "click_cul_economy": lambda d: "economy" in d["id"].lower(),
    "click_cul_geography": lambda d: "geography" in d["id"].lower(),
    "click_cul_history": lambda d: "KHB" in d["id"] or "history" in d["id"].lower(),
    "click_cul_kpop": lambda d: "popular" in d["id"].lower(),
    "click_cul_law": lambda d: "law" in d["id"].lower() or "PSAT" in d["id"],
    "click_cul_politics": lambda d: "politics" in d["id"].lower(),
    "click_cul_society": lambda d: "society" in d["id"].lower(),
    "click_cul_tradition": lambda d: "tradition" in d["id"].lower(),
    "click_lang_function": _click_function,
    "click_lang_grammar": _click_grammar,
    "click_lang_text": _click_text,
}


def click_subtask_docs(docs: list[Doc]) -> dict[str, list[Doc]]:
    """lm-eval subtask name -> the docs its process_docs keeps, in dataset order. The filters are
    independent: a doc can land in two subtasks (e.g. CSAT_korean_22_* with a question number above 34 is
    both click_lang_text and click_lang_function) or in none."""
    return {name: [doc for doc in docs if keep(doc)] for name, keep in _CLICK_FILTERS.items()}


# --- HFLM (causal, default arguments): _encode_pair, loglikelihood, _loglikelihood_tokens ---


def _prefix_token_id(tokenizer: Any) -> int:
    # HFLM.prefix_token_id without a custom prefix_token_id: BOS if the tokenizer has one, else EOS.
    if tokenizer.bos_token_id is not None:
        return int(tokenizer.bos_token_id)
    return int(tokenizer.eos_token_id)


def _max_length(model: Any, tokenizer: Any) -> int:
    # HFLM.max_length (v0.4.9.2) with max_length=None: the first config attribute that exists (hasattr,
    # even if None), then the tokenizer's model_max_length, then 2048.
    for attr in ("n_positions", "max_position_embeddings", "n_ctx"):
        if hasattr(model.config, attr):
            return int(getattr(model.config, attr))
    if hasattr(tokenizer, "model_max_length"):
        if tokenizer.model_max_length == TOKENIZER_INFINITY:
            return DEFAULT_MAX_LENGTH
        return int(tokenizer.model_max_length)
    return DEFAULT_MAX_LENGTH


def _tok_encode(tokenizer: Any, string: str, add_special_tokens: bool | None = None) -> list[int]:
    # HFLM.tok_encode with add_bos_token=None: no add_special_tokens kwarg (the tokenizer's default)
    # unless asked, and False when the string already starts with the decoded prefix token.
    kwargs: dict[str, bool] = {} if add_special_tokens is None else {"add_special_tokens": add_special_tokens}
    if add_special_tokens is None and string.startswith(tokenizer.decode(_prefix_token_id(tokenizer))):
        kwargs["add_special_tokens"] = False
    return list(tokenizer.encode(string, **kwargs))


def _encode_pair(tokenizer: Any, context: str, continuation: str) -> tuple[list[int], list[int]]:
    if context == "":
        # TemplateLM.loglikelihood: the prefix token (BOS, else EOS) stands in for the empty context,
        # unless the continuation already starts with it.
        cont_enc = _tok_encode(tokenizer, continuation, add_special_tokens=False)
        prefix = _prefix_token_id(tokenizer)
        if prefix != cont_enc[0]:
            return [prefix], cont_enc
        return cont_enc[:1], cont_enc[1:]
    # TemplateLM._encode_pair: trailing whitespace moves from the context to the continuation, the pair
    # is encoded whole, and the continuation is what follows the context's own encoding.
    n_spaces = len(context) - len(context.rstrip())
    if n_spaces > 0:
        continuation = context[-n_spaces:] + continuation
        context = context[:-n_spaces]
    whole_enc = _tok_encode(tokenizer, context + continuation)
    context_enc = _tok_encode(tokenizer, context)
    return context_enc, whole_enc[len(context_enc) :]


def reference_loglikelihood(
    model: Any, tokenizer: Any, context: str, continuation: str
) -> tuple[float, bool]:
    """lm-eval HFLM's (loglikelihood, is_greedy) of one pair, computed with torch directly, one pair per
    forward pass, no batching or padding."""
    import torch
    import torch.nn.functional as F

    context_enc, continuation_enc = _encode_pair(tokenizer, context, continuation)
    max_length = _max_length(model, tokenizer)
    assert len(context_enc) > 0 and len(continuation_enc) > 0
    assert len(continuation_enc) <= max_length
    # Keep the last max_length+1 tokens (left truncation) and feed all but the last one.
    inp = (context_enc + continuation_enc)[-(max_length + 1) :][:-1]
    inplen = len(inp)
    contlen = len(continuation_enc)
    model.eval()  # HFLM.__init__ puts the model in eval mode
    with torch.no_grad():
        input_ids = torch.tensor([inp], dtype=torch.long, device=model.device)
        # _model_call passes input_ids only (no attention mask); log_softmax in the logits' dtype.
        logprobs = F.log_softmax(model(input_ids).logits, dim=-1)[0]
        logprobs = logprobs[inplen - contlen : inplen]  # _select_cont_toks: the continuation's positions
        cont_toks = torch.tensor(continuation_enc, dtype=torch.long, device=logprobs.device)
        is_greedy = bool((logprobs.argmax(dim=-1) == cont_toks).all())
        ll = torch.gather(logprobs, 1, cont_toks.unsqueeze(-1)).squeeze(-1)
        return float(ll.sum()), is_greedy

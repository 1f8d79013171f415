"""Open-ended answers judged by an LLM: K-LLaVA-W (two 1-10 scores, reference then model; relative score =
mean(model) / mean(reference) x 100), the seed's complex-OCR judge (1 = same meaning, 0 = not), or any
YAML task with `judge: {template, parse: score_1_10 | binary}`.

A row's verdict needs a judge call, so `judge` (per row, at generation time) only keeps the text to be
judged; the judging pass (kobench/run/judging.py) fills in the judgement and the metric fields. A judgement
that failed leaves its fields None: the row is left out of every mean and counted.

A task with `columns.turns` is a conversation (Ko-MT-Bench): each user turn is an Item of its own, asked
after the earlier turns with the model's own answers to them in the conversation (kobench.run.respond
fills them in), and judged with those answers (`answer_1`, ... in the judge template: `earlier_answers`);
results break down by `turn`. A task of modality text asks without images.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kobench.errors import BadInputError
from kobench.extract.thinking import strip_thinking
from kobench.families.base import AnswerScore, MetricDef, ScoringSettings
from kobench.families.columns import Columns
from kobench.families.common import PerRow, Row, images_of
from kobench.families.items import Item
from kobench.judge.messages import judge_messages
from kobench.judge.rules import RULE_STAGES, RuleStages
from kobench.judge.verdicts import VERDICT_PARSERS_VERSION
from kobench.tasks.content import TEMPLATE_MARKS, content_parts
from kobench.tasks.prompt import TemplateFailed, render
from kobench.tasks.spec import TaskSpec
from kobench.types import GenerationSettings, ImageRef, Message, Request, TextPart

JUDGED_METRICS_VERSION = "1"
# What stands for the model's answers when every row's judge messages are rendered before any work.
ANSWER_PLACEHOLDER = "(the model's answer)"
# K-LLaVA-W: a row's model/reference ratio weighted by its reference score is the ratio of the means.
RELATIVE = MetricDef("relative_score", "relative", "higher", JUDGED_METRICS_VERSION, weight="reference_score")
ACCURACY = MetricDef("judge_accuracy", "correct", "higher", JUDGED_METRICS_VERSION)
SCORE = MetricDef("judge_score", "score", "higher", JUDGED_METRICS_VERSION)  # mean score / 10
METRICS_BY_PARSE = {"two_scores": (RELATIVE,), "binary": (ACCURACY,), "score_1_10": (SCORE,)}
VERDICT_FIELDS = {"two_scores": ("relative", "reference_score", "model_score"), "binary": ("correct",)}
VERDICT_FIELDS["score_1_10"] = ("score", "raw_score")
METRICS_BY_PARSE["true_false"], VERDICT_FIELDS["true_false"] = (ACCURACY,), ("correct",)  # KMMMU
METRICS_BY_PARSE["koffvqa"], VERDICT_FIELDS["koffvqa"] = (SCORE,), ("score", "raw_score")  # 0-10
METRICS_BY_PARSE["checklist"], VERDICT_FIELDS["checklist"] = (SCORE,), ("score",)  # HAERAE-Vision: 0-1
METRICS_BY_PARSE["mt_bench"], VERDICT_FIELDS["mt_bench"] = (SCORE,), ("score", "raw_score")  # 1-10


def judge_context(row: dict[str, Any]) -> dict[str, Any]:
    """The row's values a judge template may use (no images): kept with the sample, so `kobench judge`
    can judge again from the samples alone."""
    out = {}
    for key, value in row.items():
        if isinstance(value, ImageRef) or (
            isinstance(value, list) and any(isinstance(v, ImageRef) for v in value)
        ):
            continue
        if value is None or isinstance(value, str | int | float | bool | list):
            out[key] = value
    return out


def verdict_fields(parse: str, verdict: Any) -> dict[str, Any]:
    """Metric fields of a parsed verdict; every field None for a failed judgement."""
    if verdict is None:
        return dict.fromkeys(VERDICT_FIELDS[parse])
    if parse == "two_scores":
        reference, model = verdict
        return {
            "relative": model / reference if reference > 0 else 0.0,
            "reference_score": reference,
            "model_score": model,
        }
    if parse in ("binary", "true_false"):
        return {"correct": float(verdict)}
    if parse == "checklist":  # the share of checklist items met
        return {"score": verdict}
    return {"score": verdict / 10.0, "raw_score": verdict}


class Judged(PerRow):
    name = "judged"
    roles: tuple[str, ...] = ()
    metrics = (RELATIVE, ACCURACY, SCORE)
    default_kind = "open"

    def metrics_for(self, task: TaskSpec) -> tuple[MetricDef, ...]:
        """The judge's metrics, after those its rule stages compute from the judged verdicts."""
        if task.judge is None:
            return self.metrics
        stages = _stages(task)
        own = tuple(MetricDef(n, f, "higher", stages.version) for n, f in stages.metrics) if stages else ()
        return own + METRICS_BY_PARSE[task.judge.parse]

    def prepare(
        self,
        task: TaskSpec,
        rows: list[dict[str, Any]],
        cols: Columns,
        version: str,
        generation: GenerationSettings,
    ) -> list[Item]:
        stages = _stages(task)
        own = dict.fromkeys(stages.judge_variables, "") if stages else {}  # what the rules fill in
        made = super().prepare(task, rows, cols, version, generation)
        items = [i for entry in made for i in (entry if isinstance(entry, tuple) else (entry,))]
        # Every row's judge messages (each turn's differ) are rendered now, the answers they judge stood for
        # by a placeholder, so a template that fails on any row stops the run before any work
        # (kobench.run.prepare names the file, key and row).
        for item in items if task.judge else ():
            turns = item.target.get("earlier_turns", ()) if isinstance(item.target, dict) else ()
            earlier = {f"answer_{n}": ANSWER_PLACEHOLDER for n in range(1, len(turns) + 1)}
            try:
                judge_messages(task.judge, {**item.target, **own, **earlier}, ANSWER_PLACEHOLDER)
            except TemplateFailed as exc:
                raise exc.at(item.index + 1, item.id) from exc
        return items

    def item(self, row: Row) -> Item | tuple[Item, ...]:
        cols = row.cols
        # The prompt version asked is the judge's too (HAERAE-Vision judges the question that was asked).
        context = {**judge_context(row.values), "prompt_version": row.version}
        images: list[ImageRef] = []
        if row.task.modality != "text":
            found = images_of(row.get(cols.image))
            if isinstance(found, str):
                return row.failed(found, context)
            images = found[0]
        if cols.turns:
            return conversation(row, context, images)
        question = row.get(cols.question) if cols.question else None
        request = row.request(images, "open", question=question)
        return row.asked(request, context)

    def score_answer(
        self, task: TaskSpec, item: Item, text: str, settings: ScoringSettings
    ) -> dict[str, AnswerScore]:
        if task.judge and task.judge.rules:  # rule stages decide some answers before the judge (KMMMU)
            gold = next((item.target.get(c) for c in task.columns.answer or () if c in item.target), None)
            verdicts = RULE_STAGES[task.judge.rules].score(gold, text)
        else:
            # The protocol judges the response as written (lmms-eval passes it unchanged); kobench leaves
            # out reasoning blocks, which are not the answer.
            protocol = text.strip()
            kobench = strip_thinking(text)
            kobench = kobench.strip() if kobench is not None else ""
            verdicts = {
                "protocol": {"parsed": protocol or None, "judged_text": protocol},
                "kobench": {"parsed": kobench or None, "judged_text": kobench},
            }
        if task.columns.turns:  # a conversation's results break down by turn
            turn = item.target.get("turn_number")
            verdicts = {pipeline: {**v, "turn": turn} for pipeline, v in verdicts.items()}
        return verdicts

    def parser_names(self, task: TaskSpec) -> dict[str, str]:
        if task.judge and task.judge.rules:
            return dict(RULE_STAGES[task.judge.rules].parsers)
        return {"protocol": "strip@1", "kobench": "strip-thinking@1"}

    def verdict_breakdown(self, task: TaskSpec) -> tuple[str, ...]:
        stages = _stages(task)
        by_turn = ("turn",) if task.columns.turns else ()
        return by_turn + (stages.breakdown if stages else ())

    def score_corpus(
        self,
        task: TaskSpec,
        scored: list[tuple[Item, Mapping[str, Any]]],
        pipeline: str,
        settings: ScoringSettings,
    ) -> tuple[dict[str, list[Any]], dict[str, tuple[float, float, float]]]:
        """The fields a rule stage computes from each judged verdict and its row (Ko-MT-Bench's language
        penalty on the rating), as results are aggregated; nothing for any other judged task. (Not a
        corpus statistic: aggregation is where every judged verdict is at hand.)"""
        stages = _stages(task)
        if stages is None or stages.after_judge is None or not scored:
            return {}, {}
        fields = [stages.after_judge(item.target, verdict) for item, verdict in scored]
        return {key: [f[key] for f in fields] for key in fields[0]}, {}

    def signature_extra(self, task: TaskSpec, settings: ScoringSettings) -> Sequence[str]:
        spec = task.judge
        assert spec is not None
        return (
            f"judge:{settings.judge_model or 'none'}",
            f"judge-prompt:{spec.version}",
            f"judge-t:{spec.temperature}",
            f"verdict:{spec.parse}@{VERDICT_PARSERS_VERSION}",
            *([RULE_STAGES[spec.rules].signature()] if spec.rules else []),
        )

    def check_ready(self, task: TaskSpec, settings: ScoringSettings) -> None:
        spec = task.judge
        if spec and spec.rules:
            stages = RULE_STAGES.get(spec.rules)
            why = f"no rule stages {spec.rules!r} ({', '.join(RULE_STAGES)})" if stages is None else None
            why = why or stages.missing() or (None if task.columns.answer else "it names no columns.answer")
            if why:
                raise BadInputError(f"task {task.name!r}: judge.rules {spec.rules!r}: {why}")
        if settings.judge_model:
            return
        record = ""
        if spec and spec.default_model:
            record = (
                f" Its judge of record is {spec.default_model}: --judge {spec.default_model} "
                "(with OPENAI_API_KEY set)."
            )
            if "/" in spec.default_model:  # an open model (KOFFVQA's gemma-2-9b-it): served by the user
                record = (
                    f" Its judge of record is {spec.default_model}: --judge {spec.default_model}@BASE_URL "
                    "of an OpenAI-compatible server running it (vLLM: vllm serve MODEL)."
                )
        raise BadInputError(
            f"task {task.name!r} is judged by an LLM and no judge was given: pass --judge MODEL@BASE_URL, "
            "e.g. --judge Qwen/Qwen2.5-VL-72B-Instruct@http://localhost:8000/v1 for a local vLLM server."
            f"{record} kobench never calls a paid judge you did not name."
        )


def _stages(task: TaskSpec) -> RuleStages | None:
    return RULE_STAGES.get(task.judge.rules or "") if task.judge else None


def conversation(row: Row, context: dict[str, Any], images: list[ImageRef]) -> Item | tuple[Item, ...]:
    """One Item per user turn of the row (`columns.turns`), ids `<row id>:turn<n>`: turn n's request holds
    the turns before it, each followed by an assistant message standing for the model's own answer to it
    (`answer_of`), then turn n, rendered with the prompt version's template (`turn`: the turn's text,
    `turn_number`: n). The images go with the first turn. Its target is the row's judge context with
    `turn_number` and `earlier_turns` (the earlier turns' ids)."""
    turns = row.get(row.cols.turns)
    if not isinstance(turns, list) or not turns or not all(isinstance(t, str) for t in turns):
        return row.failed("no conversation: the turns column holds no list of texts", context)
    version = row.task.prompt.versions[row.version]
    messages = [Message("system", (TextPart(version.system),))] if version.system else []
    ids = [f"{row.id}:turn{n}" for n in range(1, len(turns) + 1)]
    items = []
    for n, (rid, turn) in enumerate(zip(ids, turns, strict=True), start=1):
        values = {**row.values, "turn": turn, "turn_number": n, **TEMPLATE_MARKS}
        user = Message("user", content_parts(render(version.template, values, []), images if n == 1 else []))
        request = Request(
            id=rid,
            messages=(*messages, user),
            generation=row.generation,
            kind=row.task.kind or "open",
            question=turn,
        )
        target = {**context, "turn_number": n, "earlier_turns": ids[: n - 1]}
        items.append(Item(rid, row.index, request, target, (), row.fields, row.group))
        messages = [*messages, user, Message("assistant", (), answer_of=rid)]
    return tuple(items)


def earlier_answers(record: Any, records: Mapping[str, Any], pipeline: str) -> dict[str, str]:
    """What a later conversation turn's judge reads of the model's earlier answers, in FastChat's names:
    `answer_1`, ... each as that turn's `pipeline` verdict gave it to its own judge (the protocol: as
    generated; kobench: without reasoning blocks). Empty for a row that is no later turn."""
    target = record.target if isinstance(record.target, dict) else {}
    answers = {}
    for n, rid in enumerate(target.get("earlier_turns", ()), start=1):
        before = records.get(rid)
        if before is None or not before.scored:
            raise BadInputError(f"{record.id} is judged with the answer to {rid}, which has no scored record")
        answers[f"answer_{n}"] = before.verdict(pipeline).get("judged_text") or ""
    return answers

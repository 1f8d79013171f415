"""The judging pass: every answered row of a judged task, both pipelines, judged concurrently after
generation (or again later with `kobench judge`, from the samples alone).

One judgement per distinct message: when both pipelines judge the same text, one call serves both.
A call that fails or whose text is not a verdict is asked again with a fresh call (the cache is never
read for it) up to the spec's `attempts`; after that the judgement is recorded as failed with the reason,
its metric fields stay None (left out of every mean) and it is counted. Only verdicts that parsed are
cached, so a failure is never served as an answer, and each is cached as it arrives: a crash, a kill or
Ctrl-C during the pass keeps every verdict that came back, and the resume asks the judge only for the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from kobench.config import JudgeOptions, Policy
from kobench.families.judged import earlier_answers, verdict_fields
from kobench.judge.cache import JudgementCache, judgement_key
from kobench.judge.haerae_vision import parse_checklist_score
from kobench.judge.koffvqa import parse_koffvqa_score
from kobench.judge.messages import judge_messages
from kobench.judge.mt_bench import parse_mt_bench_rating
from kobench.judge.verdicts import parse_binary, parse_score_1_10, parse_true_false, parse_two_scores
from kobench.llm.client import ChatClient, ChatRequest, ChatResult
from kobench.results import PIPELINES
from kobench.run.progress import Progress
from kobench.run.records import Pipeline, SampleRecord
from kobench.tasks.prompt import TemplateFailed
from kobench.tasks.spec import JudgeSpec, TaskSpec

PARSERS: dict[str, Callable[[str], Any]] = {
    "two_scores": parse_two_scores,
    "score_1_10": parse_score_1_10,
    "binary": parse_binary,
    "true_false": parse_true_false,
    "koffvqa": parse_koffvqa_score,
    "checklist": parse_checklist_score,
    "mt_bench": parse_mt_bench_rating,
}


@dataclass
class _Judgement:
    messages: list[dict]
    key: str
    text: str | None = None
    verdict: Any = None
    model: str | None = None
    reason: str | None = None
    attempts: int = 0
    cached: bool = False


@dataclass
class JudgeStats:
    calls: int = 0  # judge calls made (cache hits excluded)
    cache_hits: int = 0
    failed: int = 0  # judgements still failed after every attempt
    prompt_tokens: int = 0
    completion_tokens: int = 0


def judge_records(
    task: TaskSpec,
    records: Mapping[str, SampleRecord],
    client: ChatClient,
    cache: JudgementCache,
    progress: Progress | None = None,
) -> tuple[dict[str, SampleRecord], JudgeStats]:
    """Every scored record judged in both pipelines: new records holding the `judgement` and the metric
    fields, and the counts."""
    spec = task.judge
    assert spec is not None
    parse = PARSERS[spec.parse]
    endpoint = client.endpoint.identity()
    jobs: dict[str, _Judgement] = {}
    wanted: list[tuple[str, Pipeline, str]] = []  # (record id, pipeline, key)
    for record in records.values():
        if not record.scored:
            continue
        for pipeline in PIPELINES:
            verdict = record.verdict(pipeline)
            if verdict.get("unjudged"):  # scored without a judge (a rule stage decided it)
                continue
            context = {**record.target, **verdict.get("judge_variables", {})}
            context.update(earlier_answers(record, records, pipeline))  # a conversation's later turn
            try:
                messages = judge_messages(spec, context, verdict["judged_text"])
            except TemplateFailed as exc:
                # Tried with a placeholder before any work; this answer (empty, say) breaks it: that one
                # judgement fails, counted and shown, and the pass goes on.
                key = f"template-failed:{record.id}:{pipeline}"
                jobs[key] = _Judgement([], key, reason=f"judge template failed on this answer: {exc.why}")
                wanted.append((record.id, pipeline, key))
                continue
            key = judgement_key(endpoint, messages, spec.temperature, spec.max_tokens)
            jobs.setdefault(key, _Judgement(messages, key))
            wanted.append((record.id, pipeline, key))
    unaskable = sum(not job.messages for job in jobs.values())
    stats = JudgeStats()
    handle = progress.add(f"{task.name} (judge)", total=len(jobs)) if progress else None
    pending = []
    for job in jobs.values():
        if not job.messages:  # its template failed: nothing to ask
            continue
        hit = cache.get(job.key)
        if hit is not None and parse(hit[0]) is not None:
            job.text, job.model, job.verdict, job.cached = hit[0], hit[1], parse(hit[0]), True
            stats.cache_hits += 1
        else:
            pending.append(job)
    if progress:
        progress.advance(handle, len(jobs) - len(pending))  # cached, and those with nothing to ask
    for _attempt in range(spec.attempts):
        if not pending:
            break
        requests = [
            ChatRequest(j.messages, temperature=spec.temperature, max_tokens=spec.max_tokens) for j in pending
        ]

        def settle(i: int, result: ChatResult, batch: list[_Judgement] = pending) -> None:
            """One call's answer as it arrives: a verdict is cached at once, so a crash or an interrupt
            later in the pass keeps every verdict that came back, and the resume asks only the rest."""
            job = batch[i]
            job.attempts += 1
            stats.calls += 1
            stats.prompt_tokens += result.prompt_tokens
            stats.completion_tokens += result.completion_tokens
            if not result.ok:
                job.reason = f"judge call failed: {result.error}"
                return
            job.text, job.model = result.text, result.model
            job.verdict = parse(result.text or "")
            if job.verdict is None:
                first = (result.text or "").strip().split("\n")[0][:80]
                job.reason = f"judge text is not a {spec.parse} verdict: {first!r}"
                return
            job.reason = None
            cache.put(job.key, result.text or "", result.model)
            if progress:
                progress.advance(handle, 1)

        client.chat_many(requests, on_done=settle)
        pending = [job for job in pending if job.verdict is None]  # asked again, in their first order
    stats.failed = len(pending) + unaskable
    judged = dict(records)
    for rid, pipeline, key in wanted:
        judged[rid] = judged[rid].with_pipeline(pipeline, _as_record(jobs[key], spec, client.endpoint.model))
    return judged, stats


def _as_record(job: _Judgement, spec: JudgeSpec, judge_model: str) -> dict[str, Any]:
    judgement = {
        "judge": judge_model,
        "served_by": job.model,  # the model id the server reported
        "status": "ok" if job.verdict is not None else "failed",
        "text": job.text,
        "reason": job.reason if job.verdict is None else None,
        "attempts": job.attempts,
        "cached": job.cached,
    }
    return {"judgement": judgement, **verdict_fields(spec.parse, job.verdict)}


class Judging:
    """The LLM judge of a run: one client (bounded concurrency) and the judgement cache."""

    def __init__(self, judge: JudgeOptions, policy: Policy) -> None:
        endpoint = judge.endpoint
        assert endpoint, "judged tasks stop before any work without a judge (check_ready)"
        self.client = ChatClient(
            endpoint, concurrency=judge.concurrency, max_retry_after=judge.max_retry_after
        )
        self.cache = JudgementCache(policy.cache_dir / "judgements.sqlite" if policy.use_cache else None)
        self.calls = self.cache_hits = 0

    def judge(
        self, spec: TaskSpec, records: dict[str, SampleRecord], progress: Progress
    ) -> dict[str, SampleRecord]:
        judged, stats = judge_records(spec, records, self.client, self.cache, progress)
        self.calls += stats.calls
        self.cache_hits += stats.cache_hits
        return judged

    def close(self) -> None:
        self.client.close()
        self.cache.close()

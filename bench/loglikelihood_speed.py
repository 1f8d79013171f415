"""kobench's log-likelihood scoring path against a bare batched forward loop, side by side in one run.

    python bench/loglikelihood_speed.py [--questions 240] [--multi 96] [--slice 40] [--batch-size 8]
                                        [--hidden 128] [--layers 4] [--vocab-size 0] [--repeat 3]
                                        [--device cpu] [--dtype float32]

The same random Qwen2 causal LM (the tiny text LM's tokenizer, a decoder of --layers × --hidden built here;
--vocab-size widens its output layer past the tokenizer's ~900 tokens, as a real vocabulary would) answers
two workloads made from kobench's own lm-eval-5shot requests on the local mirrors (tests/fixtures/mirrors):

- kmmlu: --questions KMMLU questions, 5-shot contexts (~630 tokens), options " A".." D" (one token each,
  so one row per question: lm-eval's shared-context grouping);
- kobest: --multi KoBEST COPA and HellaSwag questions, 5-shot, multi-token continuations (one row per
  (context, continuation)).

The fixtures hold 135 and 12 questions; each further copy of a question gets its few-shot examples in
another order (the same length, other text), and an id of its own.

- kobench: `in_request_order(HFModel(...), requests)`: `LoglikelihoodScorer` end to end (encoding,
  rows, batches, forward passes, scores, Responses); the model is loaded once, outside the clock;
- bare: what a hand-written script does, its tokenization included in its time (and also shown apart):
  lm-eval's encoding of each (context, continuation) in two batched tokenizer calls, the same rows in the
  same longest-first order at the same batch size, right-padded `model(input_ids, attention_mask,
  logits_to_keep=...)` on the same model object, one log_softmax per batch over the kept positions (kobench
  takes only the scoring ones: with a wide vocabulary and multi-token rows, that is where it is faster),
  gather, sum.

Both sides run with the thread count HFModel sets (on the CPU it leaves one core to other work). The sides
take turns every --slice questions (each side sorts and batches a slice's rows, the same way), whichever
went first last time going second, so a burst of load on a shared machine falls on both alike. A first
round is a warm-up, not counted, whose scores must agree within 1e-4 between the sides, or the script
fails; then --repeat rounds. Printed: the medians of each side's times over the rounds, each round's ratio
kobench/bare (its summed times) and their median (1.00 = no overhead; the goal is at most 1.10), the
median of the single turns' ratios, and kobench against the bare forward loop without its tokenization.
Timings are printed, never asserted.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import torch
import transformers

from kobench.config import DataOptions, JudgeOptions, ScoringOptions
from kobench.families import load_tasks
from kobench.models.base import in_request_order
from kobench.models.hf import HFModel
from kobench.run.prepare import prepare_task
from kobench.testing.tiny_models import build_tiny_text_lm
from kobench.types import Message, Request, TextPart

MIRRORS = Path(__file__).parents[1] / "tests" / "fixtures" / "mirrors"
GOAL = 1.10
TOLERANCE = 1e-4


def build_model(root: Path, args: argparse.Namespace) -> Path:
    """The tiny text LM's tokenizer with a wider, deeper random Qwen2 decoder; its folder."""
    from transformers import AutoTokenizer, Qwen2Config, Qwen2ForCausalLM

    tiny = build_tiny_text_lm(root / "tiny-lm")
    tokenizer = AutoTokenizer.from_pretrained(tiny)
    base = transformers.AutoConfig.from_pretrained(tiny)
    config = Qwen2Config(
        vocab_size=max(args.vocab_size, len(tokenizer)),
        hidden_size=args.hidden,
        intermediate_size=2 * args.hidden,
        num_hidden_layers=args.layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=base.max_position_embeddings,
        bos_token_id=base.bos_token_id,
        eos_token_id=base.eos_token_id,
        pad_token_id=base.pad_token_id,
    )
    transformers.utils.logging.disable_progress_bar()
    torch.manual_seed(0)
    folder = root / "bench-lm"
    Qwen2ForCausalLM(config).eval().save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def requests_of(task: str, root: Path) -> list[Request]:
    prepared = prepare_task(
        load_tasks()[task],
        DataOptions(data_dir=MIRRORS),
        ScoringOptions(prompt_versions=("lm-eval-5shot",)),
        JudgeOptions(),
        root,
    )
    return [replace(item.request, id=f"{task}/{item.request.id}") for item in prepared.items]


def reshuffled(request: Request, copy: int) -> Request:
    """The request's `copy`-th variant: its few-shot examples ("\\n\\n"-separated blocks before the question)
    in another order (copy 0 is the request itself), under an id of its own."""
    if copy == 0:
        return replace(request, id=f"{request.id}#0")
    blocks = request.prompt_text.split("\n\n")
    shots, question = blocks[:-1], blocks[-1]
    random.Random(f"{request.id}/{copy}").shuffle(shots)
    text = "\n\n".join([*shots, question])
    return replace(
        request,
        id=f"{request.id}#{copy}",
        messages=(Message(role="user", content=(TextPart(text=text),)),),
    )


def workload(base: list[Request], n: int) -> list[Request]:
    return [reshuffled(base[i % len(base)], i // len(base)) for i in range(n)]


class Bare:
    """The hand-written scoring loop (see the module's docstring)."""

    def __init__(self, model: torch.nn.Module, tokenizer: object, batch_size: int) -> None:
        self.model, self.tokenizer, self.batch_size = model, tokenizer, batch_size
        self.pad = tokenizer.pad_token_id
        self.tokenize_seconds = self.forward_seconds = 0.0

    def tokenize(self, requests: list[Request]) -> list[tuple[int, list[int], list[list[int]], int]]:
        """(request, input tokens, each scored continuation's tokens, the first one's number) rows, lm-eval's
        encoding."""
        contexts, wholes, owners = [], [], []
        for number, request in enumerate(requests):
            text = request.prompt_text
            context = text.rstrip()
            spaces = text[len(context) :]
            contexts.append(context)
            wholes += [context + spaces + c for c in request.continuations]
            owners += [number] * len(request.continuations)
        encode = self.tokenizer
        context_ids = encode(contexts, add_special_tokens=False)["input_ids"]
        whole_ids = encode(wholes, add_special_tokens=False)["input_ids"]
        pairs: list[list[list[int]]] = [[] for _ in requests]
        for owner, whole in zip(owners, whole_ids, strict=True):
            pairs[owner].append(whole[len(context_ids[owner]) :])
        rows = []
        for number, (context, continuations) in enumerate(zip(context_ids, pairs, strict=True)):
            if all(len(c) == 1 for c in continuations):
                rows.append((number, context, continuations, 0))
            else:
                rows += [(number, (context + c)[:-1], [c], k) for k, c in enumerate(continuations)]
        return rows

    @torch.inference_mode()
    def score(self, requests: list[Request]) -> dict[str, list[float]]:
        start = time.perf_counter()
        rows = self.tokenize(requests)
        rows.sort(key=lambda row: len(row[1]), reverse=True)
        self.tokenize_seconds = time.perf_counter() - start
        found = [[0.0] * len(r.continuations) for r in requests]
        device = self.model.device
        for begin in range(0, len(rows), self.batch_size):
            batch = rows[begin : begin + self.batch_size]
            width = max(len(row[1]) for row in batch)
            ids = torch.full((len(batch), width), self.pad, dtype=torch.long)
            mask = torch.zeros((len(batch), width), dtype=torch.long)
            for n, (_, tokens, _, _) in enumerate(batch):
                ids[n, : len(tokens)] = torch.tensor(tokens)
                mask[n, : len(tokens)] = 1
            keep = width - min(len(tokens) - len(targets[0]) for _, tokens, targets, _ in batch)
            logits = self.model(
                input_ids=ids.to(device), attention_mask=mask.to(device), logits_to_keep=keep
            ).logits
            logprobs = torch.log_softmax(logits.float(), dim=-1)
            picks_row, picks_pos, picks_tok, owners = [], [], [], []
            for n, (_, tokens, targets, _) in enumerate(batch):
                for target in targets:
                    first = len(tokens) - len(target) - (width - keep)
                    picks_row += [n] * len(target)
                    picks_pos += range(first, first + len(target))
                    picks_tok += target
                    owners.append(len(target))
            picked = logprobs[picks_row, picks_pos, picks_tok].cpu()
            counts = [len(row[2]) for row in batch]
            for (number, _, _, choice), sums in zip(batch, _split(picked.split(owners), counts), strict=True):
                found[number][choice : choice + len(sums)] = sums
        self.forward_seconds = time.perf_counter() - start - self.tokenize_seconds
        return {request.id: found[n] for n, request in enumerate(requests)}


def _split(sums: tuple[torch.Tensor, ...], counts: list[int]) -> list[list[float]]:
    values = [float(s.sum()) for s in sums]
    out, at = [], 0
    for count in counts:
        out.append(values[at : at + count])
        at += count
    return out


@dataclass
class Round:
    kobench: float = 0.0  # seconds, summed over the slices
    tokenize: float = 0.0  # the bare side's tokenization
    forward: float = 0.0  # the bare side's forward loop
    turns: list[float] = field(default_factory=list)  # each slice's kobench/bare

    @property
    def bare(self) -> float:
        return self.tokenize + self.forward


def rounds(
    name: str,
    requests: list[Request],
    kobench_side: Callable[[list[Request]], dict[str, list[float]]],
    bare: Bare,
    args: argparse.Namespace,
) -> tuple[list[Round], float]:
    """The rounds after the warm-up, and the largest difference between the sides' scores (warm-up round)."""
    cuda = args.device.startswith("cuda")

    def clock(fn: Callable[[], dict[str, list[float]]]) -> tuple[float, dict[str, list[float]]]:
        if cuda:
            torch.cuda.synchronize()
        start = time.perf_counter()
        out = fn()
        if cuda:
            torch.cuda.synchronize()
        return time.perf_counter() - start, out

    slices = [requests[i : i + args.slice] for i in range(0, len(requests), args.slice)]
    found, worst = [], 0.0
    for number in range(args.repeat + 1):
        done = Round()
        for turn, part in enumerate(slices):
            for side in ("kobench", "bare") if (number + turn) % 2 == 0 else ("bare", "kobench"):
                if side == "kobench":
                    kob_seconds, kob_scores = clock(lambda part=part: kobench_side(part))
                    done.kobench += kob_seconds
                else:
                    bare_seconds, bare_scores = clock(lambda part=part: bare.score(part))
                    done.tokenize += bare.tokenize_seconds
                    done.forward += bare.forward_seconds
            done.turns.append(kob_seconds / bare_seconds)
            if number == 0:  # the warm-up round: the sides must agree; its times do not count
                worst = max(
                    worst,
                    *(
                        abs(a - b)
                        for r in part
                        for a, b in zip(kob_scores[r.id], bare_scores[r.id], strict=True)
                    ),
                )
        if number:
            found.append(done)
    if worst > TOLERANCE:
        raise SystemExit(f"{name}: kobench's and the bare loop's scores differ by up to {worst:.2e}")
    return found, worst


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--questions", type=int, default=240, help="KMMLU questions (one-token options)")
    parser.add_argument("--multi", type=int, default=96, help="KoBEST COPA + HellaSwag questions")
    parser.add_argument("--slice", type=int, default=40, help="questions per turn (the sides alternate)")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--vocab-size", type=int, default=0, help="output layer width (default: tokenizer's)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--dtype", default="float32", choices=["float32", "bfloat16", "float16"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        folder = build_model(root, args)
        copa, hellaswag = requests_of("kobest-copa", root), requests_of("kobest-hellaswag", root)
        workloads = {
            "kmmlu": workload(requests_of("kmmlu", root), args.questions),
            "kobest": workload([r for pair in zip(copa, hellaswag, strict=True) for r in pair], args.multi),
        }
        kobench = HFModel(str(folder), device=args.device, dtype=args.dtype, batch_size=args.batch_size)
        threads = torch.get_num_threads()  # HFModel's choice, kept for both sides
        bare = Bare(kobench.model, kobench.tokenizer, args.batch_size)
        vocab = kobench.model.config.vocab_size

        def kobench_side(requests: list[Request]) -> dict[str, list[float]]:
            answers = in_request_order(kobench, requests)
            bad = [a.error for a in answers if a.error is not None or a.scores is None]
            if bad:
                raise SystemExit(f"kobench failed on {len(bad)} requests: {bad[:3]}")
            return {r.id: list(a.scores) for r, a in zip(requests, answers, strict=True)}

        results = {
            name: rounds(name, requests, kobench_side, bare, args) for name, requests in workloads.items()
        }
    print(
        f"Qwen2 {args.layers} layers x {args.hidden}, vocab {vocab}, {args.dtype} on {args.device},"
        f" {threads} torch thread(s), batch {args.batch_size}; torch {torch.__version__},"
        f" transformers {transformers.__version__}"
    )
    print(
        f"{args.repeat} rounds after a warm-up, the sides taking turns every {args.slice} questions;"
        " bare = its tokenization + its forward loop; times are medians over the rounds, a round's ratio is"
        " its summed times'"
    )
    met = True
    for name, (found, worst) in results.items():
        requests = workloads[name]
        rows = bare.tokenize(requests)
        ratios = [r.kobench / r.bare for r in found]
        turns = [t for r in found for t in r.turns]
        ratio = statistics.median(ratios)
        met &= ratio <= GOAL
        print(
            f"{name}: {len(requests)} questions, {len(rows)} rows, {sum(len(r[1]) for r in rows)} input"
            f" tokens; scores agree within {worst:.1e}"
        )
        median = {k: statistics.median(getattr(r, k) for r in found) for k in ("kobench", "bare", "tokenize")}
        forward = statistics.median(r.forward for r in found)
        print(
            f"  kobench {median['kobench']:.3f} s; bare {median['bare']:.3f} s"
            f" (tokenize {median['tokenize']:.3f} + forward {forward:.3f})"
        )
        alone = statistics.median(r.kobench / r.forward for r in found)
        print(
            f"  kobench/bare {ratio:.3f} (rounds {' '.join(f'{r:.3f}' for r in ratios)});"
            f" median of the {len(turns)} turns' own ratios {statistics.median(turns):.3f};"
            f" kobench / bare's forward loop alone {alone:.3f}"
        )
    print(f"goal kobench/bare <= {GOAL:.2f} on every workload: {'met' if met else 'NOT met'}")


if __name__ == "__main__":
    main()

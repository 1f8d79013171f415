"""`kobench speed` (issue 16, point 3 and 5): the clock is read only after the device is synchronised, warm-up
batches are run and left out, and the numbers add up as the definitions say (decode tokens/s: tokens after
each request's first over the batches' decode phases; latency percentiles: numpy's linear interpolation,
checked here against hand computation). Absolute times are never asserted: bench/speed_overhead.py has them.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from benchmark_copies import png as _png
from typer.testing import CliRunner

from kobench.cli import app
from kobench.efficiency import load_efficiency
from kobench.models.hf import HFModel
from kobench.speed.clock import Clock
from kobench.speed.hf_timing import hf_batch_runner
from kobench.speed.timings import BatchTiming, RequestTiming, measure_batches, summarise
from kobench.types import GenerationSettings, ImagePart, ImageRef, Message, Request, TextPart

GREEDY = GenerationSettings(max_new_tokens=5)


def png() -> bytes:
    return _png((200, 40, 40))


def _request(rid: str, text: str = "무엇이 보입니까?", image: bytes | None = None) -> Request:
    parts = ((ImagePart(ImageRef(data=image)),) if image is not None else ()) + (TextPart(text),)
    return Request(id=rid, messages=(Message("user", parts),), generation=GREEDY)


@pytest.fixture(scope="module")
def llava(tiny_llava: Path) -> HFModel:
    return HFModel(str(tiny_llava), device="cpu", dtype="float32")


class RecordingClock(Clock):
    """Each read logs "sync" then "read" (as a CUDA clock would synchronise, then read the host timer); time
    advances one second per read, so every phase's length is known exactly."""

    def __init__(self, log: list[str]) -> None:
        self.ticks = 0.0

        def timer() -> float:
            log.append("read")
            self.ticks += 1.0
            return self.ticks

        super().__init__(synchronize=lambda: log.append("sync"), timer=timer)


def test_the_clock_synchronises_before_it_reads() -> None:
    log: list[str] = []
    clock = RecordingClock(log)
    assert [clock.now(), clock.now()] == [1.0, 2.0]
    assert log == ["sync", "read", "sync", "read"]


def test_the_hf_timing_path_synchronises_after_each_model_call_before_reading(
    llava: HFModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    log: list[str] = []
    run = llava._run

    def logged_run(prepared, settings):  # the model's own call, logged with the new-token budget it had
        log.append(f"generate {settings.max_new_tokens}")
        return run(prepared, settings)

    monkeypatch.setattr(llava, "_run", logged_run)
    clock = RecordingClock(log)
    timing = hf_batch_runner(llava, clock)([_request("a", image=png()), _request("b", image=png())])
    # start, inputs built, prefill-only pass (1 token), full generation: every read synchronised first.
    assert log == [
        "sync",
        "read",
        "sync",
        "read",
        "generate 1",
        "sync",
        "read",
        f"generate {GREEDY.max_new_tokens}",
        "sync",
        "read",
    ]
    # One tick per read: inputs 1 s, prefill 1 s, generation 1 s.
    assert [t.ttft_s for t in timing.requests] == [2.0, 2.0]
    assert [t.latency_s for t in timing.requests] == [2.0, 2.0]
    assert timing.wall_s == 3.0
    assert timing.decode_s == 0.0  # generation minus prefill


def test_hf_timing_counts_the_tokens_the_run_path_generates(llava: HFModel) -> None:
    requests = [_request("a", image=png()), _request("b", "두 번째 질문입니다. 길게 씁니다.", image=png())]
    ticks = itertools.count()  # the clock's readings counted, not timed: their order is what is checked
    timing = hf_batch_runner(llava, Clock(timer=lambda: float(next(ticks))))(requests)
    answers = {r.request_id: r for r in llava.generate(requests)}
    assert [t.generated_tokens for t in timing.requests] == [answers["a"].n_tokens, answers["b"].n_tokens]
    assert [t.prompt_tokens for t in timing.requests] == [answers[k].prompt_tokens for k in "ab"]
    assert all(t.image_tokens and t.image_tokens > 0 for t in timing.requests)
    assert all(t.error is None and 0 < t.ttft_s <= t.latency_s for t in timing.requests)


def test_a_request_whose_image_does_not_decode_is_counted_failed_not_timed(llava: HFModel) -> None:
    timing = hf_batch_runner(llava, Clock())([_request("a", image=png()), _request("b", image=b"not a png")])
    good, bad = timing.requests
    assert good.error is None and good.generated_tokens is not None
    assert bad.error and "could not be decoded" in bad.error and bad.ttft_s is None
    summary = summarise(2, [timing])
    assert (summary.requests, summary.failed) == (2, 1)


def test_warm_up_batches_run_first_and_are_left_out() -> None:
    calls: list[list[str]] = []

    def run_batch(batch):
        calls.append(list(batch))
        tick = float(len(calls))
        return BatchTiming((RequestTiming(tick, None, None),) * len(batch), tick, None)

    requests = [f"r{i}" for i in range(10)]
    timed = measure_batches(run_batch, requests, batch_size=4, warmup=2)
    assert len(calls) == 2 + 3  # two warm-up batches, then ceil(10 / 4)
    assert calls[0] == ["r0", "r1", "r2", "r3"] and calls[1] == ["r4", "r5", "r6", "r7"]
    assert [len(c) for c in calls[2:]] == [4, 4, 2]
    assert [b.wall_s for b in timed] == [3.0, 4.0, 5.0]  # the timings of calls 3 to 5 only


def test_fewer_requests_than_the_batch_size_are_repeated_to_fill_one_batch() -> None:
    seen: list[list[str]] = []

    def run_batch(batch):
        seen.append(list(batch))
        return BatchTiming((), 1.0, None)

    measure_batches(run_batch, ["a", "b", "c"], batch_size=8, warmup=0)
    assert seen == [["a", "b", "c", "a", "b", "c", "a", "b"]]


def test_summary_by_hand() -> None:
    batches = [
        BatchTiming((RequestTiming(1.0, 0.2, 5), RequestTiming(1.0, 0.2, 3)), wall_s=1.0, decode_s=0.5),
        BatchTiming((RequestTiming(3.0, 0.4, 9), RequestTiming(4.0, 0.6, 1, error=None)), 4.0, 1.5),
    ]
    s = summarise(2, batches)
    # Tokens after each request's first: 4 + 2 + 8 + 0 = 14, over 0.5 + 1.5 s of decoding.
    assert s.decode_tokens_per_second == pytest.approx(7.0)
    assert s.ttft_ms == pytest.approx(300.0)  # median of 200, 200, 400, 600
    # Linear interpolation on 1, 1, 3, 4 s: p50 between the 2nd and 3rd; p90 at rank 2.7; p99 at 2.97.
    assert s.latency_ms["p50"] == pytest.approx(2000.0)
    assert s.latency_ms["p90"] == pytest.approx(1000 * (3 + 0.7 * 1))
    assert s.latency_ms["p99"] == pytest.approx(1000 * (3 + 0.97 * 1))
    assert s.requests_per_second == pytest.approx(4 / 5.0)
    assert s.generated_tokens == 18


def test_unknown_counts_stay_unknown() -> None:
    batch = BatchTiming((RequestTiming(1.0, None, None), RequestTiming(1.0, None, 4)), 1.0, None)
    s = summarise(1, [batch])
    assert s.ttft_ms is None and s.decode_tokens_per_second is None and s.generated_tokens is None
    assert s.latency_ms["p50"] == pytest.approx(1000.0)


def test_failed_requests_are_counted_and_left_out_of_the_numbers() -> None:
    batch = BatchTiming(
        (RequestTiming(1.0, 0.5, 3), RequestTiming(9.0, None, None, error="boom")), wall_s=2.0, decode_s=0.5
    )
    s = summarise(2, [batch])
    assert (s.requests, s.failed) == (2, 1)
    assert s.latency_ms["p99"] == pytest.approx(1000.0)
    assert s.decode_tokens_per_second == pytest.approx(4.0)  # (3 - 1) / 0.5
    assert s.requests_per_second == pytest.approx(0.5)


def test_kobench_speed_on_a_tiny_model_writes_a_speed_result_the_table_reads(
    tiny_llava: Path, tmp_path: Path
) -> None:
    runner = CliRunner()
    out = tmp_path / "speed"
    args = ["speed", "-m", f"hf:{tiny_llava}", "--batch-sizes", "1,2", "--limit", "3", "--device", "cpu"]
    result = runner.invoke(app, [*args, "-o", str(out), "--cache-dir", str(tmp_path / "cache")])
    assert result.exit_code == 0, result.output
    assert "TTFT ms" in result.output and "decode tok/s" in result.output
    saved = load_efficiency(out / tiny_llava.name / "speed.json")
    assert saved.kind == "speed" and saved.environment["device"] == "cpu"
    assert saved.environment["dtype"] == "float32" and "torch" in saved.environment["packages"]
    by_label = {v.benchmark: v for v in saved.values}
    for b in (1, 2):
        ttft, decode = by_label[f"TTFT ms (batch {b})"], by_label[f"Decode tokens/s (batch {b})"]
        assert ttft.value is not None and ttft.value > 0 and ttft.direction == "lower"
        assert decode.direction == "higher" and decode.conditions["batch_size"] == b
        assert ttft.n == 3 and ttft.conditions["tasks"] == ["kobench-demo"]
        assert by_label[f"Latency p50 ms (batch {b})"].value >= ttft.value
        assert by_label[f"Peak memory MB (batch {b})"].conditions["memory"] == "process peak RSS"
    table = runner.invoke(app, ["table", str(out / tiny_llava.name)])
    assert table.exit_code == 0, table.output
    assert "TTFT ms (batch 1)" in table.output and "Decode tokens/s (batch 2)" in table.output
    assert "Latency p50" not in table.output  # the leaderboard shows the headline numbers only
    json.loads((out / tiny_llava.name / "speed.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (["--batch-sizes", "0"], 2, "at least 1"),
        (["--batch-sizes", "1,x"], 2, "at least 1"),
        (["--warmup", "-1"], 2, "greater than or equal to 0"),
    ],
)
def test_bad_speed_options_are_usage_errors(args: list[str], code: int, words: str) -> None:
    result = CliRunner().invoke(app, ["speed", "-m", "hf:./nowhere", *args])
    assert result.exit_code == code
    assert words in result.output


def test_a_baseline_adapter_is_refused_before_any_work(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["speed", "-m", "chance", "--cache-dir", str(tmp_path)])
    assert result.exit_code == 4
    assert "kobench speed times hf:, openai:, vllm: models" in result.output


def test_kobench_speed_against_a_streaming_server(tmp_path: Path) -> None:
    from kobench.testing.fake_openai import FakeOpenAIServer, Reply

    reply = Reply(text="정답은 B입니다", usage=(40, 6), first_token_delay=0.05, chunk_delay=0.01)
    with FakeOpenAIServer(lambda body, i: reply) as server:
        args = ["speed", "-m", f"openai:vlm@{server.base_url}", "--batch-sizes", "1,4", "--limit", "4"]
        result = CliRunner().invoke(app, [*args, "--warmup", "1", "-o", str(tmp_path / "out")])
        assert result.exit_code == 0, result.output
        bodies = [body for _headers, body in server.requests]
        # warm-up 1 + 4 timed at batch 1; warm-up 4 + 4 timed at batch 4
        assert len(bodies) == 1 + 4 + 4 + 4
        assert all(b["stream"] is True and b["stream_options"] == {"include_usage": True} for b in bodies)
        assert server.max_in_flight <= 4
    saved = load_efficiency(tmp_path / "out" / "vlm" / "speed.json")
    assert saved.environment["adapter"] == "openai" and saved.environment["device"] == "server"
    by_label = {v.benchmark: v for v in saved.values}
    ttft = by_label["TTFT ms (batch 1)"]
    # Measured, not asserted against a clock (the clock's read points are tested in test_speed_stream.py):
    # a first token was timed, and the end is never before it.
    assert ttft.value is not None and ttft.value > 0
    assert by_label["Latency p50 ms (batch 1)"].value >= ttft.value
    # 6 completion tokens a request, 5 of them decoded after the first
    decode = by_label["Decode tokens/s (batch 1)"]
    assert decode.value is not None and decode.value > 0
    assert by_label["Peak memory MB (batch 1)"].value is None  # a server's memory is not ours to read

"""Adaptive API concurrency (issue 14, point 2): more requests in flight while answers keep their speed,
fewer on 429/503 and timeouts, within bounds; reported in the results; never capped by --batch-size."""

from __future__ import annotations

import asyncio

import pytest

import kobench
from kobench.llm.client import ChatClient, ChatRequest
from kobench.llm.concurrency import DECREASE, Concurrency, ConcurrencyLimit
from kobench.llm.endpoint import Endpoint
from kobench.testing.fake_openai import Capacity, FakeOpenAIServer


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _round(limit: ConcurrencyLimit, clock: Clock, outcome=lambda k: "ok", latency: float = 1.0) -> None:
    """Send as many as the limit allows, then answer them all: the k-th in flight gets outcome(k)."""
    slots = []
    while (slot := limit.acquire(lambda: True)) is not None:
        slots.append(slot)
    clock.now += latency
    for slot in slots:
        limit.release(slot, outcome(slot.in_flight))


def test_slow_start_then_one_more_per_round_while_latency_holds() -> None:
    clock = Clock()
    limit = ConcurrencyLimit(Concurrency.auto(maximum=40, start=4), clock)
    seen = []
    for _ in range(4):
        _round(limit, clock)
        seen.append(limit.limit)
    assert seen == [8, 16, 32, 40]  # doubling each round until the maximum
    _round(limit, clock, outcome=lambda k: "ok" if k <= 30 else "overload")  # a server taking 30
    assert limit.limit == 30
    seen = []
    for _ in range(3):
        _round(limit, clock)
        seen.append(limit.limit)
    assert seen == [31, 32, 33]  # after the first overload: additive, one per round of `limit` answers
    # answers now take three times as long (the server only queues more): the limit stays
    for _ in range(5):
        _round(limit, clock, latency=3.0)
    assert limit.limit == 33


def test_overload_comes_down_to_the_count_refused_and_timeouts_by_a_share() -> None:
    clock = Clock()
    limit = ConcurrencyLimit(Concurrency(start=20, adaptive=True, minimum=3, maximum=64), clock)
    _round(limit, clock, outcome=lambda k: "ok" if k <= 12 else "overload")
    assert limit.limit == 12  # refused from the 13th in flight on: it takes 12
    _round(limit, clock, outcome=lambda k: "timeout" if k == 12 else "ok")
    assert limit.limit == int(12 * DECREASE)  # one timeout: a share off (and at most k - 1)
    _round(limit, clock, outcome=lambda k: "overload")  # everything refused
    assert limit.limit == 3  # never below the minimum
    report = limit.report()
    assert report["mode"] == "adaptive" and report["minimum"] == 3 and report["final"] == 3
    assert report["decreases"] == 3 and report["peak"] == 20  # the first round ended in an overload


def test_errors_on_their_merits_change_nothing_and_a_fixed_limit_never_moves() -> None:
    clock = Clock()
    limit = ConcurrencyLimit(Concurrency.auto(start=5), clock)
    _round(limit, clock, outcome=lambda k: "error")  # a 400: nothing about the server's load
    assert limit.limit == 5
    fixed = ConcurrencyLimit(Concurrency.fixed(6), clock)
    for outcome in ("ok", "overload", "timeout"):
        _round(fixed, clock, outcome=lambda k, outcome=outcome: outcome)
    assert fixed.limit == 6 and fixed.report() == {"mode": "fixed", "concurrency": 6}


async def _settle() -> None:
    for _ in range(5):  # let every woken or cancelled task run its step
        await asyncio.sleep(0)


def test_async_waiters_get_exactly_the_room_a_release_makes() -> None:
    async def main() -> None:
        limit = ConcurrencyLimit(Concurrency.fixed(2))
        held = [await limit.acquire_async(), await limit.acquire_async()]
        waiting = [asyncio.create_task(limit.acquire_async()) for _ in range(4)]
        await _settle()
        assert not any(t.done() for t in waiting)
        limit.release(held.pop(), "ok")
        await _settle()
        assert [t.done() for t in waiting] == [True, False, False, False]  # one answer wakes one: the oldest
        waiting[1].cancel()  # a waiter that gives up keeps no place in the queue
        await _settle()
        limit.release(held.pop(), "ok")
        await _settle()
        assert [t.done() and not t.cancelled() for t in waiting] == [True, False, True, False]
        # cancelled after it was handed a slot, before it ran: the slot is not lost
        limit.release(waiting[0].result(), "ok")
        waiting[3].cancel()
        await _settle()
        assert waiting[3].cancelled()
        again = await asyncio.wait_for(limit.acquire_async(), 5)
        assert again.in_flight == 2  # waiting[2]'s and this one: the limit is full again
        late = asyncio.create_task(limit.acquire_async())
        await _settle()
        assert not late.done()
        late.cancel()
        await _settle()

    asyncio.run(main())


def test_a_release_from_another_thread_hands_the_slot_to_a_task() -> None:
    async def main() -> None:
        limit = ConcurrencyLimit(Concurrency.fixed(1))
        slot = limit.acquire()  # a thread's
        assert slot is not None
        waiter = asyncio.create_task(limit.acquire_async())
        await _settle()
        assert not waiter.done()
        await asyncio.to_thread(limit.release, slot, "ok")
        assert (await asyncio.wait_for(waiter, 5)).in_flight == 1

    asyncio.run(main())


@pytest.mark.parametrize("bad", [dict(start=0), dict(start=9, maximum=8), dict(start=2, minimum=3)])
def test_bounds_are_checked(bad: dict) -> None:
    with pytest.raises(ValueError, match="minimum <= start <= maximum"):
        Concurrency(adaptive=True, **{"minimum": 1, "maximum": 64, **bad})


def test_against_a_server_of_fixed_capacity_no_request_fails() -> None:
    with FakeOpenAIServer() as server:
        server.script = capacity = Capacity(server, capacity=12, delay=0.02, retry_after=0.01)
        spec = Concurrency.auto(maximum=64, start=2)
        with ChatClient(Endpoint("m", server.base_url), concurrency=spec, backoff_base=0.01) as client:
            results = client.chat_many(
                [ChatRequest([{"role": "user", "content": str(i)}]) for i in range(600)]
            )
            report = client.limit.report()
    assert all(r.ok for r in results)
    assert report["peak"] > 12 and report["decreases"] >= 1  # it went past the capacity and came back
    assert 1 <= capacity.refused < 0.1 * len(results)  # and kept near it: few requests refused


def test_a_run_records_it_and_batch_size_caps_nothing(tmp_path, monkeypatch) -> None:
    from kobench.results import load_results

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with FakeOpenAIServer() as server:
        server.script = Capacity(server, capacity=64, delay=0.05)
        model = f"openai:served@{server.base_url}"
        result = kobench.evaluate(
            model, "kobench-demo", batch_size=1, use_cache=False, cache_dir=tmp_path, output=tmp_path / "o"
        )
        assert server.max_in_flight > 1  # --batch-size 1 is the hf adapter's business only
        fixed = kobench.evaluate(model, "kobench-demo", concurrency=3, use_cache=False, cache_dir=tmp_path)
    assert result.run.concurrency["mode"] == "adaptive" and result.run.concurrency["start"] == 8
    assert load_results(tmp_path / "o" / "results.json").run.concurrency == result.run.concurrency
    assert fixed.run.concurrency == {"mode": "fixed", "concurrency": 3, "max_retry_after": 60.0}


@pytest.mark.parametrize("value", ["foo", "0", "-3"])
def test_a_bad_concurrency_is_a_usage_error(value: str) -> None:
    from typer.testing import CliRunner

    from kobench.cli import app

    args = [
        "run",
        "--model",
        "openai:m@http://127.0.0.1:9/v1",
        "--tasks",
        "kobench-demo",
        "--concurrency",
        value,
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2 and "--concurrency" in result.output  # as every bad option

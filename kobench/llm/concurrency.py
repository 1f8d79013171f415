"""How many requests an API client keeps in flight: a fixed number, or a limit that adapts to the server.

The adaptive limit works as TCP's congestion control does, applied to requests in flight: a slow start
(doubling each round while it pays, as below), then additive increase, and a decrease on each sign of
overload:

- every round of `limit` answers adds one request in flight while throughput grows or latency holds: the
  round's answers per second beat the best round's (an engine that batches, such as vLLM, answers more per
  second with more in flight, each answer a little later), or its last answer took at most
  `LATENCY_TOLERANCE` times the fastest seen. When neither holds, the server only queues what it is sent,
  and the limit stays;
- a request refused for overload (HTTP 429 or 503) with k requests in flight says the server takes fewer
  than k at once: the limit comes down to k - 1 (if it is above). Against a server of fixed capacity that
  refuses what is above it, the limit saws between the capacity and one more;
- a timeout says the server is slow, whatever the count: the limit is also multiplied by `DECREASE`, once
  per round (timeouts of requests sent before the last decrease say nothing about the new limit).

It starts at `start` and stays within [`minimum`, `maximum`].

Requests wait for room in one of two ways: `acquire` blocks a thread, `acquire_async` awaits on an event
loop (the chat client's). An async waiter is handed its slot by the `release` that makes room, in arrival
order, so an answer wakes exactly as many waiters as there is room for.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

DECREASE = 0.9
LATENCY_TOLERANCE = 2.0
RATE_GROWTH = 0.02  # a round's answers per second above the best so far by this much: it still grows
DEFAULT_START = 8
DEFAULT_MAXIMUM = 64

Outcome = Literal["ok", "overload", "timeout", "error"]


@dataclass(frozen=True)
class Concurrency:
    """A client's concurrency: `adaptive` within [minimum, maximum] from `start`, or `start` fixed."""

    start: int = DEFAULT_START
    adaptive: bool = False
    minimum: int = 1
    maximum: int = DEFAULT_MAXIMUM

    def __post_init__(self) -> None:
        if not 1 <= self.minimum <= self.start <= self.maximum:
            raise ValueError(
                f"concurrency needs 1 <= minimum <= start <= maximum, not {self.minimum}, {self.start}, "
                f"{self.maximum}"
            )

    @classmethod
    def fixed(cls, n: int) -> Concurrency:
        return cls(start=n, adaptive=False, minimum=n, maximum=n)

    @classmethod
    def auto(cls, maximum: int = DEFAULT_MAXIMUM, start: int = DEFAULT_START) -> Concurrency:
        if maximum < 1:
            raise ValueError(f"the largest concurrency must be at least 1, not {maximum}")
        return cls(start=min(start, maximum), adaptive=True, minimum=1, maximum=maximum)

    @property
    def most(self) -> int:
        """The most requests ever in flight: what the connection pool and the threads are sized for."""
        return self.maximum if self.adaptive else self.start


@dataclass(frozen=True)
class Slot:
    """A request's place in flight: the limit's epoch when it was sent, and when."""

    epoch: int
    started: float
    in_flight: int  # requests in flight once it was sent, itself included


class ConcurrencyLimit:
    """Thread-safe: `acquire` (a thread) or `acquire_async` (a task) waits for room under the limit,
    `release` reports how the request went."""

    def __init__(self, spec: Concurrency, clock: Any = time.perf_counter) -> None:
        self.spec = spec
        self._clock = clock
        self._limit = spec.start
        self._credit = 0  # answers in time since the limit last moved
        self._in_flight = 0
        self._epoch = 0
        self._fastest = math.inf
        self._peak = spec.start
        self._decreases = 0
        self._slow_start = (
            True  # doubling each round, until a round that neither grows nor holds or an overload
        )
        self._round_start = clock()
        self._best_rate = 0.0  # answers per second of the fastest round so far
        self._cond = threading.Condition()
        # Tasks waiting in acquire_async, oldest first. Each future gets its Slot from the release that
        # made room (the slot is counted in flight from then on), so a woken task never finds the room
        # taken and waits again.
        self._waiters: deque[asyncio.Future[Slot]] = deque()

    @property
    def limit(self) -> int:
        return self._limit

    def acquire(self, stopping: Callable[[], bool] | None = None) -> Slot | None:
        """Wait for room; None if `stopping()` turns true meanwhile (asked every 0.25 s)."""
        with self._cond:
            while self._in_flight >= self.limit:
                if stopping is not None and stopping():
                    return None
                self._cond.wait(0.25)
            return self._take()

    async def acquire_async(self) -> Slot:
        """Wait for room on the running event loop. Cancelling the waiting task gives up its place (or the
        slot it was just handed) to the next waiter."""
        with self._cond:
            if not self._waiters and self._in_flight < self._limit:
                return self._take()
            waiter: asyncio.Future[Slot] = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
        try:
            return await waiter
        except asyncio.CancelledError:
            with self._cond:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
                elif waiter.done() and not waiter.cancelled():
                    self._in_flight -= 1  # handed a slot it will not use
                self._hand_over()
            raise

    def release(self, slot: Slot, outcome: Outcome) -> None:
        with self._cond:
            self._in_flight -= 1
            if self.spec.adaptive:
                self._adapt(slot, outcome)
            self._hand_over()

    def _take(self) -> Slot:
        self._in_flight += 1
        return Slot(self._epoch, self._clock(), self._in_flight)

    def _hand_over(self) -> None:
        """Give the room there is to the waiters, async ones first (with the lock held)."""
        running = _running_loop()
        while self._waiters and self._in_flight < self._limit:
            waiter = self._waiters.popleft()
            if waiter.done():  # cancelled while waiting; its task removes nothing more
                continue
            loop = waiter.get_loop()
            if loop.is_closed():  # its task is gone with its loop
                continue
            slot = self._take()
            if loop is running:
                waiter.set_result(slot)
            else:  # released from another thread: the future belongs to its loop
                loop.call_soon_threadsafe(self._deliver, waiter, slot)
        # Wake only as many threads as there is room for: waking all of them on every answer makes
        # dozens of threads fight for the GIL, which slows the requests in flight.
        self._cond.notify(max(0, self._limit - self._in_flight))

    def _deliver(self, waiter: asyncio.Future[Slot], slot: Slot) -> None:
        if waiter.cancelled():  # cancelled before the hand-over reached its loop
            with self._cond:
                self._in_flight -= 1
                self._hand_over()
        else:
            waiter.set_result(slot)

    def _adapt(self, slot: Slot, outcome: Outcome) -> None:
        if outcome in ("overload", "timeout"):
            # Refused (or timed out) with `slot.in_flight` in flight: the server takes fewer than that.
            limit = min(self._limit, slot.in_flight - 1)
            if outcome == "timeout" and slot.epoch == self._epoch:  # the first since the last decrease
                # A slow server, not a count it refuses above: come down by a share, once a round.
                limit = min(limit, int(self._limit * DECREASE))
            limit = max(self.spec.minimum, limit)
            if limit < self._limit:
                self._limit = limit
                self._credit, self._round_start = 0, self._clock()
                self._epoch += 1
                self._decreases += 1
            if self._slow_start:
                self._slow_start = False
                self._credit, self._round_start = 0, self._clock()
            return
        if outcome != "ok":
            return  # a request the server refused on its merits says nothing about its load
        now = self._clock()
        latency = now - slot.started
        self._fastest = min(self._fastest, latency)
        holds = latency <= LATENCY_TOLERANCE * self._fastest
        self._credit += 1
        if self._credit < self._limit:
            return
        # A round: `limit` answers. Its rate may grow although each answer takes longer (an engine that
        # batches: vLLM): more in flight while either holds; doubled in the slow start, else one more.
        elapsed = now - self._round_start
        rate = self._credit / elapsed if elapsed > 0 else math.inf
        grows = rate > self._best_rate * (1 + RATE_GROWTH)
        self._best_rate = max(self._best_rate, rate)
        self._credit, self._round_start = 0, now
        if holds or grows:
            self._grow(self._limit if self._slow_start else 1)
        else:  # the server only queues more: probe one at a time from here
            self._slow_start = False

    def _grow(self, by: int) -> None:
        if self._limit < self.spec.maximum:
            self._limit = min(self.spec.maximum, self._limit + by)
            self._peak = max(self._peak, self._limit)

    def pause(self) -> float:
        """How long a request refused for overload waits before it asks for a slot again, the first time:
        the fastest answer seen (the limit has already come down; the slot will be free about then)."""
        with self._cond:
            return self._fastest if math.isfinite(self._fastest) else 0.1

    def report(self) -> dict[str, Any]:
        """What the results record: the mode, its bounds, and (adaptive) where the limit went."""
        with self._cond:
            if not self.spec.adaptive:
                return {"mode": "fixed", "concurrency": self.spec.start}
            return {
                "mode": "adaptive",
                "start": self.spec.start,
                "minimum": self.spec.minimum,
                "maximum": self.spec.maximum,
                "final": self.limit,
                "peak": self._peak,
                "decreases": self._decreases,
            }


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None

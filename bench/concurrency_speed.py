"""Adaptive API concurrency against the best fixed concurrency, side by side in one run, on a server of
fixed capacity that refuses what is above it (issue 14, point 2: adaptive should reach at least 90% of the
best fixed concurrency's throughput, with no request failed).

    python bench/concurrency_speed.py [--n 2400] [--capacity 24] [--delay 0.05] [--repeat 3]
                                      [--fixed 8,16,24,32,48] [--retry-after 0]

kobench.testing.fake_openai's server on 127.0.0.1 answers at most --capacity requests at once, each after
--delay seconds (a server's slots, or an API's rate limit), and refuses the others at once with HTTP 429
(with `Retry-After: --retry-after` when that is above 0). The same --n chat requests go through
`ChatClient.chat_many` at each fixed concurrency and at `auto` (from 8, at most 64), the configurations
taking turns round after round; each configuration's median throughput over --repeat rounds is printed,
with its 429s and failed requests, then adaptive / best fixed. Timings are printed, never asserted.
"""

from __future__ import annotations

import argparse
import statistics
import time

from kobench.llm.client import ChatClient, ChatRequest, Endpoint
from kobench.llm.concurrency import Concurrency
from kobench.testing.fake_openai import Capacity, FakeOpenAIServer


def one_run(args: argparse.Namespace, concurrency: Concurrency) -> tuple[float, int, int, dict]:
    """(requests per second, 429s, failed requests, the limit's report) of one pass over --n requests."""
    requests = [ChatRequest([{"role": "user", "content": f"질문 {i}"}], max_tokens=8) for i in range(args.n)]
    with FakeOpenAIServer() as server:
        capacity = Capacity(server, args.capacity, args.delay, args.retry_after or None)
        server.script = capacity
        with ChatClient(Endpoint("m", server.base_url), concurrency=concurrency, timeout=30.0) as client:
            start = time.perf_counter()
            results = client.chat_many(requests)
            seconds = time.perf_counter() - start
            report = client.limit.report()
    return args.n / seconds, capacity.refused, sum(not r.ok for r in results), report


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2400)
    parser.add_argument("--capacity", type=int, default=24)
    parser.add_argument("--delay", type=float, default=0.05)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--fixed", default="8,16,24,32,48")
    parser.add_argument("--retry-after", type=float, default=0.0)
    args = parser.parse_args()
    configs = {f"fixed {n}": Concurrency.fixed(int(n)) for n in args.fixed.split(",")}
    configs["auto"] = Concurrency.auto()
    runs: dict[str, list[tuple[float, int, int, dict]]] = {name: [] for name in configs}
    for round_ in range(args.repeat):
        names = list(configs) if round_ % 2 == 0 else list(reversed(configs))
        for name in names:
            runs[name].append(one_run(args, configs[name]))
    print(
        f"{args.n} requests per run, server capacity {args.capacity} at once, {args.delay * 1000:g} ms each "
        f"(ideal {args.capacity / args.delay:.0f} requests/s), 429 above it; medians of {args.repeat} rounds"
    )
    medians = {}
    for name, results in runs.items():
        rates = [r[0] for r in results]
        medians[name] = statistics.median(rates)
        refused = sum(r[1] for r in results)
        failed = sum(r[2] for r in results)
        extra = ""
        if name == "auto":
            reports = [r[3] for r in results]
            extra = "; limit " + ", ".join(f"peak {r['peak']} final {r['final']}" for r in reports)
        print(f"  {name:9} {medians[name]:7.1f} requests/s  429s {refused:5d}  failed {failed}{extra}")
    best = max((n for n in medians if n != "auto"), key=medians.__getitem__)
    ratio = medians["auto"] / medians[best]
    failed_auto = sum(r[2] for r in runs["auto"])
    verdict = "met" if ratio >= 0.9 and failed_auto == 0 else "NOT met"
    print(f"auto / best fixed ({best}) = {ratio:.3f}; goal >= 0.90 with no request failed: {verdict}")


if __name__ == "__main__":
    main()

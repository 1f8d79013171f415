"""LLM-judge throughput: the same judge calls through ChatClient.chat_many one at a time and concurrently,
against a local OpenAI-compatible server that takes a fixed time per call, in one run.

    python bench/judge_speed.py [--n 200] [--latency 0.2] [--concurrency 16]

Starts kobench.testing.fake_openai's server on 127.0.0.1 (every call answered after --latency seconds, as
a remote judge's round trip), sends --n judge-like requests (Korean system and user message, temperature
0.2, max_tokens 1024) at concurrency 1 and at --concurrency, and prints both times, the most requests the
server saw in flight, and the ratio serial / concurrent (the ideal is the concurrency itself).
"""

from __future__ import annotations

import argparse
import time

from kobench.llm.client import ChatClient, ChatRequest, Endpoint
from kobench.testing.fake_openai import FakeOpenAIServer, Reply

SYSTEM = "당신은 공정한 평가자입니다. 질문, 참조 답변, 모델의 답변을 읽고 1점부터 10점까지 점수를 매기세요."
USER = (
    "[질문]\n사진 속 간판에 적힌 가게 이름은 무엇인가요?\n\n"
    "[참조 답변]\n간판에는 '행복한 빵집'이라고 적혀 있습니다.\n\n"
    "[모델 답변 {i}]\n간판에 '행복 빵집'이라는 글자가 보입니다.\n\n"
    "점수만 '점수: N' 형식으로 답하세요."
)


def judge_requests(n: int) -> list[ChatRequest]:
    return [
        ChatRequest(
            [{"role": "system", "content": SYSTEM}, {"role": "user", "content": USER.format(i=i)}],
            temperature=0.2,
            max_tokens=1024,
        )
        for i in range(n)
    ]


def timed_run(base_url: str, requests: list[ChatRequest], concurrency: int) -> tuple[float, int]:
    """Seconds for chat_many at this concurrency, and how many answers failed."""
    with ChatClient(Endpoint("judge", base_url), concurrency=concurrency, timeout=30.0) as client:
        start = time.perf_counter()
        results = client.chat_many(requests)
        seconds = time.perf_counter() - start
    return seconds, sum(not r.ok for r in results)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    requests = judge_requests(args.n)
    reply = Reply(text="점수: 8", delay=args.latency, usage=(180, 4))
    rows = []
    for concurrency in (1, args.concurrency):
        with FakeOpenAIServer(lambda body, index: reply) as server:
            seconds, failed = timed_run(server.base_url, requests, concurrency)
            rows.append((concurrency, seconds, failed, server.max_in_flight))
    print(f"{args.n} judge calls, {args.latency * 1000:.0f} ms server latency each")
    for concurrency, seconds, failed, in_flight in rows:
        print(
            f"concurrency {concurrency:3d}   {seconds:8.2f} s   {args.n / seconds:7.1f} calls/s   "
            f"max in flight {in_flight:3d}   failed {failed}"
        )
    (_, serial, *_), (_, concurrent, *_) = rows
    print(f"ratio serial/concurrent = {serial / concurrent:.1f}x (ideal {args.concurrency}x)")


if __name__ == "__main__":
    main()

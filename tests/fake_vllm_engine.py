"""Stands in for `python -m vllm.entrypoints.openai.api_server` in tests of kobench's engine management:
the same arguments, an OpenAI-compatible server on --port (kobench.testing.fake_openai) that answers "B",
after --start-delay seconds (or $FAKE_ENGINE_START_DELAY). FAKE_ENGINE_EXIT=N exits with code N at start,
after printing log lines; FAKE_ENGINE_DIE_AFTER=N answers N requests, then dies (os._exit(7))."""

from __future__ import annotations

import argparse
import os
import sys
import time

from kobench.testing.fake_openai import FakeOpenAIServer, Reply


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--served-model-name", default="fake")
    parser.add_argument(
        "--start-delay", type=float, default=float(os.environ.get("FAKE_ENGINE_START_DELAY", 0.5))
    )
    args, _ = parser.parse_known_args()
    print(f"fake engine: {' '.join(sys.argv[1:])}", flush=True)
    if code := int(os.environ.get("FAKE_ENGINE_EXIT", "0")):
        print("ValueError: this model needs more memory than the GPU has", flush=True)
        sys.exit(code)
    die_after = int(os.environ.get("FAKE_ENGINE_DIE_AFTER", "0"))

    def script(body: dict, index: int) -> Reply:
        if die_after and index >= die_after:
            time.sleep(0.3)  # the requests before it are answered by then
            print(f"engine core died at request {index}", flush=True)
            os._exit(7)
        return Reply(text="B", delay=0.01)

    time.sleep(args.start_delay)
    with FakeOpenAIServer(script, model=args.served_model_name, port=args.port):
        print("Application startup complete.", flush=True)
        while True:
            time.sleep(1)


if __name__ == "__main__":
    main()

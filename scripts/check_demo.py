"""Check a demo's results against the README: every tagged number within 2 points, every model present,
and (with --fresh, for a demo run on an empty cache) every model really called, or (with --cached, for a
second run) every answer taken from the cache.

    python scripts/check_demo.py ~/.cache/kobench/demo            # after `bash scripts/demo.sh`
    python scripts/check_demo.py results/demo                     # the committed results
    python scripts/check_demo.py DIR --fresh                      # CI: a first run must call every model
    python scripts/check_demo.py DIR --cached                     # CI: a second run must call none

Exit 0 when all holds, 1 otherwise (each finding printed).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kobench.demo import demo_model_names
from kobench.demo.claims import check_claims, read_claims
from kobench.results import load_results

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, help="the demo's output folder (one subfolder per model)")
    parser.add_argument("--readme", type=Path, default=ROOT / "README.md")
    calls = parser.add_mutually_exclusive_group()
    calls.add_argument("--fresh", action="store_true", help="require model_calls > 0 for every model")
    calls.add_argument("--cached", action="store_true", help="require model_calls == 0 for every model")
    args = parser.parse_args()

    results = [load_results(p) for p in sorted(args.results.glob("*/results.json"))]
    problems = []
    names = {r.run.model.name for r in results}
    missing = [n for n in demo_model_names() if n not in names]
    problems += [f"no results for demo model {n!r} in {args.results}" for n in missing]
    for result in results:
        if result.status != "complete":
            problems.append(f"{result.run.model.name}: results are {result.status}")
        if args.fresh and result.run.model_calls == 0:
            problems.append(f"{result.run.model.name}: no model call on a fresh cache")
        if args.cached and result.run.model_calls > 0:
            problems.append(f"{result.run.model.name}: {result.run.model_calls} model calls on a second run")
    claims = read_claims(args.readme.read_text(encoding="utf-8"))
    if not claims:
        problems.append(f"{args.readme}: no tagged demo numbers (<!-- demo: MODEL TASK METRIC -->) found")
    for verdict in check_claims(claims, results):
        print(verdict.line())
        if verdict.problem:
            problems.append(verdict.line())
    for problem in problems:
        print(f"FAIL {problem}", file=sys.stderr)
    print(f"{len(claims)} README claims checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

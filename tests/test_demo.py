"""The demo as a new user meets it: where it writes, what its committed results hold, and the README's
numbers about it checked against results."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from results_factory import run_result, task_result
from typer.testing import CliRunner

from kobench.cli import app
from kobench.demo import DEMO_TASKS, demo_model_names, demo_output
from kobench.demo.claims import Claim, check_claims, read_claims
from kobench.provenance import CACHE_SYMBOL, portable
from kobench.results import GroupValue, load_results

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "results" / "demo"
# A path that names a machine: a POSIX absolute path under the usual roots, or a Windows drive.
MACHINE_PATH = re.compile(r"(?<![\w<>~.])(?:/(?:root|home|tmp|work|Users|var|opt|mnt|srv|private)/|[A-Z]:\\)")


# --- the README's claims ---


def test_tagged_numbers_are_read_with_their_source() -> None:
    text = (
        "reads the clean level (CER about 1%<!-- demo: tesseract ko-ocr-synth cer level=clean -->) and "
        "scores about 41.5<!--demo: ocr-match ko-chart-synth-mc accuracy--> where an untagged 25% is prose."
    )
    assert read_claims(text) == [
        Claim(1.0, "tesseract", "ko-ocr-synth", "cer", "level", "clean"),
        Claim(41.5, "ocr-match", "ko-chart-synth-mc", "accuracy"),
    ]


def _ocr_results():
    task = task_result("ko-ocr-synth", metric="cer", direction="lower", value=27.5)
    breakdown = {"level": {"clean": GroupValue(value=1.1, n=60), "hard": GroupValue(value=83.5, n=60)}}
    for pipeline in task.pipelines.values():
        pipeline.breakdown.update(breakdown)
    return [run_result("tesseract", [task])]


def test_claims_within_two_points_hold_and_others_are_named() -> None:
    claims = [
        Claim(27.0, "tesseract", "ko-ocr-synth", "cer"),  # 0.5 off
        Claim(85.0, "tesseract", "ko-ocr-synth", "cer", "level", "hard"),  # 1.5 off
        Claim(1.0, "tesseract", "ko-ocr-synth", "cer", "level", "clean"),
        Claim(30.0, "tesseract", "ko-ocr-synth", "cer"),  # 2.5 off
        Claim(5.0, "tesseract", "ko-ocr-synth", "cer", "level", "noisy"),  # no such group
        Claim(5.0, "tesseract", "ko-ocr-synth", "char_f1"),  # not in these results
        Claim(5.0, "chance", "ko-ocr-synth", "cer"),  # no such model
        Claim(5.0, "tesseract", "ko-chart-synth-mc", "accuracy"),  # task not run
    ]
    verdicts = check_claims(claims, _ocr_results())
    assert [v.problem is None for v in verdicts] == [True, True, True, False, False, False, False, False]
    assert verdicts[0].measured == 27.5 and verdicts[1].measured == 83.5
    assert "off by more than 2" in (verdicts[3].problem or "")
    assert "README 30, demo 27.50" in verdicts[3].line()
    assert "no results for model 'chance'" in (verdicts[6].problem or "")


def test_the_readme_tags_its_demo_numbers() -> None:
    claims = read_claims((ROOT / "README.md").read_text(encoding="utf-8"))
    assert len(claims) >= 10, "the paragraph about the demo's leaderboard states its numbers with tags"
    assert {c.model for c in claims} == set(demo_model_names())
    assert {c.task for c in claims} <= set(DEMO_TASKS)


def _committed_results():
    if not (COMMITTED / "tesseract" / "results.json").exists():
        pytest.skip("results/demo is not in this checkout")
    return [load_results(p) for p in sorted(COMMITTED.glob("*/results.json"))]


def test_the_committed_demo_results_agree_with_the_readme() -> None:
    results = _committed_results()
    assert {r.run.model.name for r in results} == set(demo_model_names())
    claims = read_claims((ROOT / "README.md").read_text(encoding="utf-8"))
    wrong = [v.line() for v in check_claims(claims, results) if v.problem]
    assert not wrong, "\n".join(wrong)


def test_the_committed_demo_results_name_no_machine_path() -> None:
    _committed_results()
    files = [p for p in COMMITTED.rglob("*") if p.suffix in (".json", ".jsonl")]
    assert len(files) > 10
    found = {}
    for path in files:
        hits = MACHINE_PATH.findall(path.read_text(encoding="utf-8"))
        if hits:
            found[str(path.relative_to(ROOT))] = hits[:3]
    assert not found, found
    tiny = json.loads((COMMITTED / "tiny-llava-ko" / "results.json").read_text(encoding="utf-8"))
    assert tiny["run"]["model"]["spec"] == f"hf:{CACHE_SYMBOL}/models/tiny-llava-ko"
    assert tiny["run"]["model"]["fingerprint"].startswith("generated:llava@")


def test_machine_path_pattern_catches_what_it_must() -> None:
    assert MACHINE_PATH.search("local parquet /root/.cache/kobench/data/x (1 file)")
    assert MACHINE_PATH.search("hf:/home/me/models/x")
    assert not MACHINE_PATH.search(f"hf:{CACHE_SYMBOL}/models/x")
    assert not MACHINE_PATH.search("~/data/x and results/demo/tesseract and 1/2 of A/B")


# --- paths as results record them ---


def test_portable_writes_the_cache_and_home_symbolically(tmp_path: Path, monkeypatch) -> None:
    home = tmp_path / "home" / "me"
    cache = home / ".cache" / "kobench"
    monkeypatch.setenv("HOME", str(home))
    assert portable(f"hf:{cache}/models/tiny", cache) == f"hf:{CACHE_SYMBOL}/models/tiny"
    assert (
        portable(f"local parquet {cache}/data/x (1 file)", cache)
        == f"local parquet {CACHE_SYMBOL}/data/x (1 file)"
    )
    assert portable(f"{cache}", cache) == CACHE_SYMBOL
    assert portable(f"{home}/data/x", cache) == "~/data/x"
    # only whole folder names: a sibling whose name starts the same is not inside the cache
    assert portable(f"{cache}2/x", cache) == "~/.cache/kobench2/x"
    assert portable("/srv/data/x", cache) == "/srv/data/x"
    # a symlinked cache is recognised by either spelling
    link = tmp_path / "link"
    cache.mkdir(parents=True)
    link.symlink_to(cache)
    assert portable(f"{cache}/m", link) == f"{CACHE_SYMBOL}/m"


# --- where the demo writes ---


def test_the_demo_writes_into_the_cache_not_the_checkout(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("KOBENCH_CACHE_DIR", str(tmp_path / "cache"))
    assert demo_output() == tmp_path / "cache" / "demo"
    assert demo_output(tmp_path / "other") == tmp_path / "other" / "demo"
    help_text = " ".join(CliRunner().invoke(app, ["demo", "--help"]).output.split())
    assert "CACHE/demo" in help_text and "never into the checkout" in help_text

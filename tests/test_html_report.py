"""`kobench report`'s HTML file, read without a browser: what the page holds (leaderboard, charts, per-task
summary, every sample row with each pipeline's verdict), its size cap, thumbnails from the task's own data,
and that it names no local path and holds no secret. tests/test_html_report_browser.py opens it in
Chromium (extended suite)."""

from __future__ import annotations

import base64
import io
import json
import re
from pathlib import Path

import pytest
from results_factory import run_result, task_result

from kobench.errors import BadInputError
from kobench.report import html_page
from kobench.report.html_report import fair_counts, write_report
from kobench.report.sample_rows import answer_of, clip, read_samples, verdict, verdict_counts
from kobench.results import Truncation, save_results
from kobench.testing.sample_results import TASK, write_results

ROOT = Path(__file__).resolve().parents[1]
# Absolute paths of a machine (test_demo.py checks the committed results with the same pattern).
MACHINE_PATH = re.compile(r"(?<![\w<>~.])(?:/(?:root|home|tmp|work|Users|var|opt|mnt|srv|private)/|[A-Z]:\\)")
DEMO = sorted(p.parent for p in (ROOT / "results" / "demo").glob("*/results.json"))


def blocks(page: str) -> dict[str, object]:
    """The page's JSON blocks by element id."""
    found = re.findall(r'<script type="application/json" id="([\w-]+)">(.*?)</script>', page, re.S)
    return {element_id: json.loads(text) for element_id, text in found}


def task_block(page: str, task: str) -> dict:
    data = blocks(page)
    names = [t["name"] for t in data["kobench-meta"]["tasks"]]
    return data[f"kobench-task-{names.index(task)}"]


def write_folder(folder: Path, model: str, records: list[dict], **task) -> Path:
    """A results folder with one task ("t") of these sample records."""
    result = task_result("t", ids=[r["id"] for r in records], unit_scores=[0.0] * len(records), **task)
    save_results(run_result(model, [result]), folder / "results.json")
    (folder / "samples").mkdir(parents=True)
    lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    (folder / "samples" / "t.jsonl").write_text(lines, encoding="utf-8")
    return folder


def record(rid: str, index: int, prediction: str | None, parsed, score, **extra) -> dict:
    verdicts = {p: {"parser": "x@1", "parsed": parsed, "score": score} for p in ("protocol", "kobench")}
    return {
        "id": rid,
        "index": index,
        "prompt": f"질문 {index}",
        "target": "A",
        "options": {"A": "사과", "B": "배"},
        "fields": {"kind": "과일"},
        "group": None,
        "status": "scored",
        "error": None,
        "prediction": prediction,
        "parsed": parsed,
        "score": score,
        **verdicts,
        "finish_reason": "stop",
        **extra,
    }


# --- verdicts ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "parsed", "score", "direction", "expected"),
    [
        ("failed", None, None, "higher", "failed"),
        ("scored", None, 0.0, "higher", "unparsed"),
        ("scored", "A", 1.0, "higher", "correct"),
        ("scored", "A", 0.0, "higher", "wrong"),
        ("scored", "x", 0.8, "higher", "partial"),  # ANLS 0.8
        ("scored", "x", 0.0, "lower", "correct"),  # CER 0: every character right
        ("scored", "x", 0.1, "lower", "partial"),
        ("scored", "x", 1.3, "lower", "wrong"),  # CER above 1: more edits than characters
        ("scored", "x", None, "higher", "unscored"),  # a failed judgement; a metric of the set only
    ],
)
def test_a_rows_verdict_reads_its_score_against_the_tasks_direction(
    status, parsed, score, direction, expected
):
    row = {"status": status, "kobench": None if status == "failed" else {"parsed": parsed}}
    assert verdict(row, "kobench", score, direction) == expected


def test_each_pipeline_has_its_own_parse_and_score_and_truncation_and_judge_text_are_kept():
    row = record("r", 0, "정답은 A", "A", 1.0, finish_reason="length")
    row["protocol"] = {"parser": "first-char@1", "parsed": None, "score": 0.0}
    row["kobench"]["judgement"] = {"status": "ok", "text": "점수: 8/10, 정확합니다"}
    answer = answer_of(row, "score", "higher")
    assert answer["k"] == ["A", 1.0, "correct"]
    assert answer["q"] == [None, 0.0, "unparsed"]
    assert answer["t"] == 1 and answer["fr"] == "length"
    assert answer["j"] == "점수: 8/10, 정확합니다" and "jq" not in answer


def test_a_long_text_keeps_its_head_and_tail_and_says_how_much_is_left_out():
    text = "가" * 1000 + "나" * 5000 + "다" * 1000
    clipped = clip(text, limit=4000)
    assert clipped.startswith("가" * 600) and clipped.endswith("다" * 1000)
    assert "3,000 characters left out" in clipped and len(clipped) < 4100


def test_the_verdict_counts_agree_with_what_results_json_counts(tmp_path):
    folder = write_results(tmp_path / "m", "m", 500, seed=3)
    from kobench.results import load_results

    result = load_results(folder / "results.json").tasks[TASK]
    samples = read_samples(folder / "samples" / f"{TASK}.jsonl", result, None)
    counts = verdict_counts(samples)
    assert counts["failed"] == result.n_failed
    assert counts["unparsed"] == result.pipelines["kobench"].n_unparsed
    assert counts["truncated"] == result.truncation.n_truncated
    assert counts["correct"] + counts["wrong"] + counts["unparsed"] == result.n


# --- the page ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_page(tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("report") / "report.html"
    write_report(DEMO, out)
    return out.read_text(encoding="utf-8")


def test_the_demo_report_holds_the_leaderboard_charts_summary_and_every_sample_row(demo_page):
    assert "<table>" in demo_page and "kobench-demo" in demo_page  # the leaderboard of `kobench table`
    assert demo_page.count('src="data:image/png;base64,') == 2  # the bar chart and the radar
    meta = blocks(demo_page)["kobench-meta"]
    assert meta["models"] == ["chance", "constant", "ocr-match", "tesseract", "tiny-llava-ko"]
    for task in meta["tasks"]:
        lines = {
            json.loads(line)["id"]
            for folder in DEMO
            if (folder / "samples" / f"{task['name']}.jsonl").is_file()
            for line in (folder / "samples" / f"{task['name']}.jsonl")
            .read_text(encoding="utf-8")
            .splitlines()
        }
        assert {r["id"] for r in task_block(demo_page, task["name"])["rows"]} == lines
    demo = task_block(demo_page, "kobench-demo")
    assert set(demo["answers"]) == {"0", "4"}  # chance and tiny-llava-ko, side by side on the same rows
    assert demo["rows"][0]["t"] == "A. 노란색" and demo["rows"][0]["f"] == {"data_type": "colour"}
    signature = demo["summary"]["0"]["signature"]
    assert signature.startswith("kobench-demo|data:sha256:") and signature in demo_page


def test_the_folder_holding_the_runs_gives_the_same_page_with_every_runs_samples(demo_page, tmp_path):
    """`kobench report results/demo`: each run below is read with its own samples/, as when each is named."""
    out = tmp_path / "report.html"
    write_report([ROOT / "results" / "demo"], out)
    page = out.read_text(encoding="utf-8")
    assert blocks(page)["kobench-meta"] == blocks(demo_page)["kobench-meta"]
    for task in blocks(demo_page)["kobench-meta"]["tasks"]:
        rows = task_block(page, task["name"])["rows"]
        assert rows and rows == task_block(demo_page, task["name"])["rows"]


def test_the_page_fetches_nothing_and_names_no_local_path(demo_page):
    assert "default-src 'none'; img-src data:" in demo_page  # the browser refuses any other request
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//|file:)""", demo_page, re.I)
    assert "url(" not in demo_page and "@import" not in demo_page
    for local in {str(ROOT), str(Path.home()), str(Path.cwd())}:
        assert local not in demo_page
    text = re.sub(r"data:image/\w+;base64,[A-Za-z0-9+/=]+", "", demo_page)
    assert not MACHINE_PATH.findall(text)


def test_secrets_and_local_folders_in_samples_are_written_so_that_the_page_can_be_shared(tmp_path):
    secret = "sk-test-4f1d2c3b4a59687766554433"
    home = str(Path.home())
    failed = record("r1", 1, None, None, None, status="failed", error=f"{tmp_path}/data/b.png: unreadable")
    rows = [record("r0", 0, f"키는 {secret}, 파일은 {home}/x 와 {tmp_path}/run/samples", "A", 1.0), failed]
    folder = write_folder(tmp_path / "run", "m", rows)
    secrets = html_page.secret_values({"OPENAI_API_KEY": secret, "LANG": "ko_KR.UTF-8", "HF_TOKEN": "short"})
    assert secrets == [secret]
    page = (write_report([folder], tmp_path / "r.html", plots=False, secrets=secrets)).path.read_text()
    assert secret not in page and "[redacted]" in page
    assert str(tmp_path) not in page and home + "/" not in page
    assert "~/x" in page and "run/samples" in page  # the home folder; a results folder by its label
    assert task_block(page, "t")["answers"]["0"][1]["e"] == "…/b.png: unreadable"


def test_the_page_stays_under_its_size_and_says_which_rows_it_shows(tmp_path):
    big = write_results(tmp_path / "big", "big", 3000, seed=1)
    small = write_folder(tmp_path / "small", "small", [record(f"s{i}", i, "A", "A", 1.0) for i in range(5)])
    info = write_report([big, small], tmp_path / "r.html", plots=False, max_bytes=400_000)
    page = info.path.read_text(encoding="utf-8")
    assert info.size == len(page.encode()) <= 400_000
    shown = {t.task: t for t in info.tasks}
    assert shown["t"].shown == shown["t"].total == 5  # a small task keeps all of its rows
    assert 0 < shown[TASK].shown < shown[TASK].total == 3000
    rows = task_block(page, TASK)["rows"]
    assert [r["i"] for r in rows] == list(range(shown[TASK].shown))  # the first rows, in dataset order
    notes = blocks(page)["kobench-meta"]["tasks"][[t.task for t in info.tasks].index(TASK)]["notes"]
    assert any(f"first {shown[TASK].shown:,} of 3,000 rows" in n and "0.4 MB" in n for n in notes)


def test_fair_counts_give_a_short_list_all_and_the_long_ones_the_rest():
    assert fair_counts([[10] * 3, [10] * 100], 230) == [3, 20]
    assert fair_counts([[10] * 50, [10] * 50], 300) == [15, 15]
    assert fair_counts([[5, 5], [7]], 100) == [2, 1]
    assert fair_counts([[50], [50]], 10) == [0, 0]


def test_two_models_are_joined_by_row_id_and_a_row_one_lacks_shows_as_missing(tmp_path):
    a = write_folder(tmp_path / "a", "a", [record("r0", 0, "A", "A", 1.0), record("r1", 1, "B", "B", 0.0)])
    other = record("r1", 1, "A", "A", 1.0)
    other["prompt"] = "다른 프롬프트"
    b = write_folder(tmp_path / "b", "b", [other])
    page = write_report([a, b], tmp_path / "r.html", plots=False).path.read_text(encoding="utf-8")
    data = task_block(page, "t")
    assert [r["id"] for r in data["rows"]] == ["r0", "r1"]
    assert data["answers"]["1"][0] is None  # b has no answer for r0
    assert data["answers"]["1"][1]["p"] == "다른 프롬프트"  # its own prompt where it differs
    assert data["answers"]["0"][1]["k"][2] == "wrong" and data["answers"]["1"][1]["k"][2] == "correct"


# --- thumbnails ----------------------------------------------------------------------------------


def test_thumbnails_come_from_the_tasks_own_data_downscaled(tmp_path):
    from PIL import Image

    from kobench.run.task_images import TaskImages

    demo = ROOT / "results" / "demo" / "tiny-llava-ko"
    images = TaskImages(cache_dir=tmp_path / "cache")  # the demo's data is generated into it again
    info = write_report([demo], tmp_path / "r.html", plots=False, with_images=True, images=images)
    page = info.path.read_text(encoding="utf-8")
    urls = blocks(page)["kobench-images-0"]
    rows = task_block(page, "kobench-demo")["rows"]
    assert info.tasks[0].thumbnails == 40 and all(len(r["img"]) == 1 and r["img"][0] in urls for r in rows)
    one = Image.open(io.BytesIO(base64.b64decode(next(iter(urls.values())).split(",", 1)[1])))
    assert one.format == "JPEG" and max(one.size) <= 192


def test_thumbnails_fill_the_room_the_rows_leave_and_the_page_says_which_rows_have_them(tmp_path):
    from kobench.run.task_images import TaskImages

    demo = ROOT / "results" / "demo" / "tiny-llava-ko"
    images = TaskImages(cache_dir=tmp_path / "cache")
    text = write_report([demo], tmp_path / "text.html", plots=False).size
    full = write_report([demo], tmp_path / "full.html", plots=False, with_images=True, images=images).size
    cap = (text + full) // 2 + 10_000  # SLACK and the room kept per task
    info = write_report(
        [demo], tmp_path / "r.html", plots=False, with_images=True, images=images, max_bytes=cap
    )
    assert info.size <= cap and info.tasks[0].shown == 40
    assert 0 < info.tasks[0].thumbnails < 40
    page = info.path.read_text(encoding="utf-8")
    rows = task_block(page, "kobench-demo")["rows"]
    assert all(r["img"] for r in rows[: info.tasks[0].thumbnails]) and not any(
        r["img"] for r in rows[info.tasks[0].thumbnails :]
    )
    notes = blocks(page)["kobench-meta"]["tasks"][0]["notes"]
    assert notes == [
        f"Thumbnails for the first {info.tasks[0].thumbnails} rows only, to stay under {cap / 1e6:g} MB."
    ]


def test_where_the_data_cannot_be_found_the_page_says_why(tmp_path):
    def nowhere(run, task):
        raise BadInputError(f"{tmp_path}/mirror/kobench/demo: no such folder")

    folder = write_folder(tmp_path / "run", "m", [record("r0", 0, "A", "A", 1.0)])
    page = write_report([folder], tmp_path / "r.html", plots=False, with_images=True, images=nowhere)
    text = page.path.read_text(encoding="utf-8")
    notes = blocks(text)["kobench-meta"]["tasks"][0]["notes"]
    assert notes == ["No thumbnails for t: …/demo: no such folder"]
    assert str(tmp_path) not in text
    without = write_report([folder], tmp_path / "r2.html", plots=False, with_images=True)
    assert any("without a way to find the tasks' data" in n for n in without.notes)


def test_a_run_on_other_data_gets_no_thumbnails(tmp_path):
    from kobench.results import load_results
    from kobench.run.task_images import TaskImages

    result = load_results(ROOT / "results" / "demo" / "tiny-llava-ko" / "results.json")
    task = result.tasks["kobench-demo"]
    changed = task.model_copy(
        update={"dataset": task.dataset.model_copy(update={"identity": "sha256:other"})}
    )
    folder = tmp_path / "run"
    save_results(result.model_copy(update={"tasks": {"kobench-demo": changed}}), folder / "results.json")
    (folder / "samples").mkdir()
    source = ROOT / "results" / "demo" / "tiny-llava-ko" / "samples" / "kobench-demo.jsonl"
    (folder / "samples" / "kobench-demo.jsonl").write_bytes(source.read_bytes())
    images = TaskImages(cache_dir=tmp_path / "cache")
    info = write_report([folder], tmp_path / "r.html", plots=False, with_images=True, images=images)
    notes = blocks(info.path.read_text(encoding="utf-8"))["kobench-meta"]["tasks"][0]["notes"]
    assert info.tasks[0].thumbnails == 0
    assert len(notes) == 1 and "is not the data the run read (sha256:other)" in notes[0]


def test_a_task_without_samples_shows_its_numbers_and_says_so(tmp_path):
    result = task_result("t", value=50.0)
    result = result.model_copy(
        update={
            "truncation": Truncation(
                finish_reasons={}, n_truncated=0, truncated_share=0.0, n_unclosed_thinking=0
            )
        }
    )
    save_results(run_result("m", [result]), tmp_path / "run" / "results.json")
    info = write_report([tmp_path / "run" / "results.json"], tmp_path / "r.html", plots=False)
    meta = blocks(info.path.read_text(encoding="utf-8"))["kobench-meta"]
    assert meta["tasks"][0]["rows"] == 0
    assert meta["tasks"][0]["notes"] == ["No samples for m (run/samples/t.jsonl): its numbers only."]


def test_bad_settings_stop_before_anything_is_written(tmp_path):
    with pytest.raises(BadInputError, match="pipeline"):
        write_report(DEMO, tmp_path / "r.html", pipeline="strict")
    with pytest.raises(BadInputError, match="too small"):
        write_report(DEMO, tmp_path / "r.html", max_bytes=1000)
    assert not (tmp_path / "r.html").exists()

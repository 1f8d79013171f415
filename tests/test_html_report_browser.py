"""The HTML report in a real browser: headless Chromium from Debian's packages, driven by selenium
(kobench.testing.browser). The page opens with no request and no console error, its filters change the
rows shown (checked against the verdicts computed in Python), two models line up on the same rows, and
Hangul renders as Hangul: a screenshot read back by Tesseract's Korean model (a DOM check passes even when
every glyph is a box). Extended suite: `bash scripts/test.sh --extended` installs chromium, chromium-driver
and selenium."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from kobench.report.html_report import write_report
from kobench.testing import browser
from kobench.testing.sample_results import TASK, write_results

pytestmark = pytest.mark.extended
ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "results" / "demo"


@pytest.fixture(scope="module")
def driver():
    reason = browser.missing()
    if reason:
        pytest.fail(f"{reason}: `bash scripts/test.sh --extended` sets it up")
    with browser.chromium(1300, 1000) as chrome:
        yield chrome


def choose(driver, element_id: str, value: str) -> None:
    from selenium.webdriver.support.ui import Select

    Select(driver.find_element("id", element_id)).select_by_value(value)


def shown(driver) -> tuple[int, list[str]]:
    """How many rows match the filters, and the ids of those drawn (one page of them): read in one go."""
    matching, ids = driver.execute_script(
        "return [Number(document.getElementById('rows').dataset.matching),"
        " [...document.querySelectorAll('#rows tbody tr.sample')].map(tr => tr.dataset.id)]"
    )
    return matching, ids


def task_data(page: str, task: str) -> dict:
    found = dict(re.findall(r'<script type="application/json" id="([\w-]+)">(.*?)</script>', page, re.S))
    names = [t["name"] for t in json.loads(found["kobench-meta"])["tasks"]]
    return json.loads(found[f"kobench-task-{names.index(task)}"])


@pytest.fixture(scope="module")
def two_models(tmp_path_factory) -> tuple[Path, dict]:
    """A report of two models on 300 synthetic rows (every verdict), and the demo's kobench-demo."""
    root = tmp_path_factory.mktemp("two")
    folders = [
        write_results(root / f"m{n}", f"model-{n}", 300, seed=n + 1, skill=0.3 + 0.4 * n) for n in (0, 1)
    ]
    info = write_report([*folders, DEMO / "tiny-llava-ko"], root / "report.html", plots=False)
    return info.path, task_data(info.path.read_text(encoding="utf-8"), TASK)


def test_the_page_opens_offline_with_no_request_and_no_error(driver, tmp_path):
    out = write_report(sorted(DEMO.glob("*/")), tmp_path / "report.html").path  # charts included
    driver.get(out.as_uri())
    assert driver.execute_script("return document.documentElement.dataset.ready") == "1"
    assert driver.execute_script("return performance.getEntriesByType('resource').length") == 0
    errors = [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
    assert errors == []
    assert len(driver.find_elements("css selector", "img.plot")) == 2
    assert driver.find_elements("css selector", "#rows tbody tr.sample")


def test_filters_change_the_visible_rows(driver, two_models):
    path, data = two_models
    driver.get(path.as_uri())
    choose(driver, "task", "0")  # General: synthetic-mc (the leaderboard's order: General before Demo)
    a = data["answers"]["0"]
    assert shown(driver) == (300, [r["id"] for r in data["rows"][:100]])

    for status in ("correct", "wrong", "unparsed", "failed"):
        choose(driver, "status", status)
        expected = [r["id"] for r, ans in zip(data["rows"], a, strict=True) if ans["k"][2] == status]
        assert shown(driver) == (len(expected), expected[:100]), status
        verdicts = {
            c.get_attribute("data-verdict") for c in driver.find_elements("css selector", "td.answer")
        }
        assert verdicts == {status}
    choose(driver, "status", "truncated")
    assert shown(driver)[0] == sum(1 for ans in a if ans.get("t")) > 0
    choose(driver, "status", "")

    choose(driver, "field", json.dumps(["data_type", "count"], separators=(",", ":")))
    assert shown(driver)[0] == 100  # every third row
    choose(driver, "field", "")

    search = driver.find_element("id", "search")
    search.send_keys("row-00042")
    _wait(driver, lambda: shown(driver)[0] == 1)
    assert shown(driver) == (1, ["row-00042"])
    search.clear()
    search.send_keys("그림 42번")  # in one row's prompt
    _wait(driver, lambda: shown(driver) == (1, ["row-00042"]))
    search.clear()
    search.send_keys("노란색")  # an option of some rows, the answer of fewer
    expected = [r["id"] for r, ans in zip(data["rows"], a, strict=True) if "노란색" in r["p"] + ans["a"]]
    _wait(driver, lambda: shown(driver) == (len(expected), expected[:100]))
    choose(driver, "status", "correct")  # filters combine
    correct = [
        r["id"]
        for r, ans in zip(data["rows"], a, strict=True)
        if r["id"] in expected and ans["k"][2] == "correct"
    ]
    assert shown(driver) == (len(correct), correct[:100]) and 0 < len(correct) < len(expected)
    choose(driver, "status", "")
    search.clear()
    search.send_keys(" ")
    _wait(driver, lambda: shown(driver)[0] == 300)

    driver.find_element("id", "next").click()
    assert shown(driver)[1][0] == "row-00100"


def test_two_models_side_by_side_on_the_rows_where_they_disagree(driver, two_models):
    path, data = two_models
    driver.get(path.as_uri())
    choose(driver, "task", "0")
    choose(driver, "model-b", "1")
    assert len(driver.find_elements("css selector", "#rows thead th.answer")) == 2
    a, b = data["answers"]["0"], data["answers"]["1"]
    pairs = list(zip(data["rows"], a, b, strict=True))
    choose(driver, "compare", "disagree")
    disagree = [r["id"] for r, x, y in pairs if x and y and (x["k"][0], x["k"][1]) != (y["k"][0], y["k"][1])]
    assert shown(driver) == (len(disagree), disagree[:100]) and 0 < len(disagree) < 300
    choose(driver, "compare", "b-better")
    better = [
        r["id"] for r, x, y in pairs if y["k"][1] is not None and (x["k"][1] is None or y["k"][1] > x["k"][1])
    ]
    assert shown(driver) == (len(better), better[:100])
    choose(driver, "status", "wrong")  # A's verdict, within the rows where B scores higher
    both = [r["id"] for r, x, y in pairs if r["id"] in set(better) and x["k"][2] == "wrong"]
    assert shown(driver) == (len(both), both[:100])


def test_the_category_filter_narrows_the_task_list(driver, two_models):
    path, _ = two_models
    driver.get(path.as_uri())
    choose(driver, "category", "Demo")
    options = [o.text for o in driver.find_elements("css selector", "#task option")]
    assert options == ["kobench-demo (40 rows)"]
    assert shown(driver)[0] == 40


def test_hangul_renders_as_hangul(tmp_path):
    """Tesseract's Korean model reads the rendered prompts back from a screenshot."""
    from PIL import Image

    from kobench.models.ocr import OCREngine, compact

    out = write_report([DEMO / "tiny-llava-ko"], tmp_path / "report.html", plots=False).path
    with browser.chromium(1200, 900, scale=2) as chrome:  # 2 device pixels per CSS pixel: OCR-sized text
        chrome.get(out.as_uri())
        prompt = chrome.find_element("css selector", "#rows tbody tr.sample .prompt")  # row 0's
        chrome.execute_script("arguments[0].scrollIntoView({block: 'center'})", prompt)  # whole, in view
        png = prompt.screenshot_as_png
    image = Image.open(io.BytesIO(png)).convert("RGB")
    engine = OCREngine("kor")
    try:
        text = compact(engine.read(image).text)
    finally:
        engine.close()
    for phrase in ("그림에 있는 도형은 무슨 색입니까", "주어진 선택지 중 해당 옵션의 문자로 바로 답하세요"):
        assert compact(phrase) in text, text[:800]


def test_thumbnails_show_in_the_page(driver, tmp_path):
    from kobench.run.task_images import TaskImages

    images = TaskImages(cache_dir=tmp_path / "cache")
    out = write_report(
        [DEMO / "tiny-llava-ko"], tmp_path / "r.html", plots=False, with_images=True, images=images
    )
    driver.get(out.path.as_uri())
    sizes = driver.execute_script(
        "return [...document.querySelectorAll('td.thumbs img')].map(i => [i.naturalWidth, i.naturalHeight])"
    )
    assert len(sizes) == 40 and all(0 < max(w, h) <= 192 for w, h in sizes)


def _wait(driver, condition, timeout: float = 5.0) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, timeout).until(lambda _d: condition())

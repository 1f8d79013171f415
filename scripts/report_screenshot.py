"""The README's picture of `kobench report`: the report of the committed demo results (results/demo/*),
thumbnails included (the demo's data is kobench's own, generated, CC0), opened in headless Chromium at the
sample browser, two models side by side on the rows where they disagree, saved as a PNG.

    python scripts/report_screenshot.py                          # -> results/demo/report.png
    python scripts/report_screenshot.py --html x.html --task kobench-demo --a chance --b tiny-llava-ko

Needs chromium, chromium-driver (Debian) and selenium: `source scripts/lib.sh; setup_all; setup_browser`
them. The demo's datasets are generated into the kobench cache when missing (a minute, once).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=ROOT / "results" / "demo")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "demo" / "report.png")
    parser.add_argument("--html", type=Path, default=None, help="also keep the report itself here")
    parser.add_argument("--task", default="ko-chart-synth-mc")
    parser.add_argument("--a", default="ocr-match", help="model A")
    parser.add_argument("--b", default="chance", help="model B")
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=1000)
    args = parser.parse_args()

    from selenium.webdriver.support.ui import Select

    from kobench.config import default_cache_dir
    from kobench.report.html_report import write_report
    from kobench.run.task_images import TaskImages
    from kobench.testing.browser import chromium, missing

    reason = missing()
    if reason:
        print(f"cannot take the screenshot: {reason}", file=sys.stderr)
        return 2
    folders = sorted(p.parent for p in args.results.glob("*/results.json"))
    with tempfile.TemporaryDirectory() as tmp:
        page = args.html or Path(tmp) / "report.html"
        info = write_report(
            folders,
            page,
            with_images=True,
            images=TaskImages(cache_dir=default_cache_dir()),
            title="kobench report (demo results)",
        )
        print(f"{info.path}: {info.size / 1e6:.2f} MB; " + "; ".join(info.notes or ("no notes",)))
        with chromium(args.width, args.height) as driver:
            driver.get(info.path.as_uri())
            tasks = Select(driver.find_element("id", "task"))
            tasks.select_by_visible_text(
                next(o.text for o in tasks.options if o.text.startswith(args.task + " ("))
            )
            Select(driver.find_element("id", "model-a")).select_by_visible_text(args.a)
            Select(driver.find_element("id", "model-b")).select_by_visible_text(args.b)
            Select(driver.find_element("id", "compare")).select_by_value("disagree")
            driver.execute_script(
                "document.activeElement.blur(); document.getElementById('samples').scrollIntoView()"
            )
            args.out.parent.mkdir(parents=True, exist_ok=True)
            driver.save_screenshot(str(args.out))
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Headless Chromium driven by selenium, for the HTML report's browser tests, its timing bench and the
README screenshot: Debian's `chromium` and `chromium-driver` (scripts/lib.sh setup_browser installs them),
used as installed. Playwright is no option here: it downloads browsers of its own.

The driver and the browser are named by path, so selenium never looks for (or downloads) a driver of its
own; the browser gets no network (a proxy that does not exist), so a page that tried to fetch anything
would show it as a failed request rather than reach out.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
DRIVERS = ("chromedriver",)
DRIVER_DIRS = ("/usr/bin", "/usr/lib/chromium")


def _find(names: tuple[str, ...]) -> str | None:
    for name in names:
        found = shutil.which(name) or next(
            (str(Path(d, name)) for d in DRIVER_DIRS if Path(d, name).is_file()), None
        )
        if found:
            return found
    return None


def missing() -> str | None:
    """Why no headless browser can start here (None: one can)."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install selenium; scripts/test.sh --extended does)"
    if _find(BROWSERS) is None or _find(DRIVERS) is None:
        return "no chromium / chromedriver (apt-get install chromium chromium-driver)"
    return None


@contextlib.contextmanager
def chromium(width: int = 1400, height: int = 1000, scale: float = 1.0) -> Iterator[Any]:
    """A headless Chromium WebDriver: width × height CSS pixels of `scale` device pixels; quit on exit."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    reason = missing()
    if reason:
        raise RuntimeError(reason)
    options = webdriver.ChromeOptions()
    options.binary_location = _find(BROWSERS) or ""
    for arg in (
        "--headless=new",
        "--no-sandbox",  # as root in a container
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-extensions",
        "--proxy-server=127.0.0.1:9",  # nothing listens there: no request leaves the machine
        f"--window-size={width},{height}",
        f"--force-device-scale-factor={scale}",
        "--hide-scrollbars",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # driver.get_log("browser"): console
    driver = webdriver.Chrome(service=Service(_find(DRIVERS)), options=options)
    try:
        yield driver
    finally:
        driver.quit()

"""Headless Chromium for tests of the HTML report (skips cleanly when it is not installed).

Debian's ``chromium`` and ``chromium-driver`` packages, driven through selenium; ``.ci/run``
installs them. Every launch gets a fresh profile and the flags that keep Chromium from
talking to the network on its own (so any request seen is the page's).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1280,1800")


def _binaries() -> tuple[str, str] | None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver") or (
        "/usr/lib/chromium/chromedriver" if Path("/usr/lib/chromium/chromedriver").exists() else None)
    return (browser, driver) if browser and driver else None


@contextmanager
def chromium() -> Iterator[Any]:
    """A selenium Chrome driver on headless Chromium, or skip the test."""
    found = _binaries()
    if found is None:
        pytest.skip("headless Chromium not installed (Debian: apt-get install chromium chromium-driver)")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="qdx-chromium-")
    options = webdriver.ChromeOptions()
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.binary_location = found[0]
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(found[1]), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def open_page(driver: Any, path: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """Load ``path`` from file:// and return (console entries, URLs of every request made)."""
    driver.get("about:blank")
    driver.get_log("browser")
    driver.get_log("performance")  # drop what the blank page and start-up did
    driver.get(path.resolve().as_uri())
    driver.execute_script("return document.readyState")
    console = driver.get_log("browser")
    messages = [json.loads(entry["message"])["message"] for entry in driver.get_log("performance")]
    urls = [m["params"]["request"]["url"] for m in messages if m["method"] == "Network.requestWillBeSent"]
    return console, urls

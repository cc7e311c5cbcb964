"""Benchmark: report.html of a 100,000-selection project, and how fast it opens in a browser.

    python benchmarks/bench_report_html.py [--selections 100000] [--runs 3]

Generates the project with ``make_project.py`` (2,008 codes in three levels, 200 sources,
5 coders, CJK and emoji text), times reading it and writing ``report.html``, then opens the
page from ``file://`` in headless Chromium (``--runs`` fresh browsers) and reports the time
from navigation start to the end of the load event (the page builds every section in its one
inline script, so the load event ends when the report is on screen) — the target is < 5 s —
and how long a text search over every quote takes.
Needs Debian's ``chromium`` and ``chromium-driver`` and ``pip install selenium``.
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import qdx

HERE = Path(__file__).resolve().parent
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1280,1800")


def _make_project(selections: int, folder: Path) -> Path:
    spec = importlib.util.spec_from_file_location("make_project", HERE / "make_project.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    _, qdpx = module.generate(selections, folder)
    return Path(qdpx)


def _open_seconds(page: Path) -> dict[str, Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="qdx-bench-")
    options = webdriver.ChromeOptions()
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"),
                              options=options)
    try:
        driver.set_page_load_timeout(120)
        started = time.perf_counter()
        driver.get(page.resolve().as_uri())
        wall = time.perf_counter() - started
        timing = driver.execute_script(
            "const t = performance.getEntriesByType('navigation')[0];"
            "return {load: t.loadEventEnd, dom: t.domContentLoadedEventEnd,"
            " ready: document.documentElement.dataset.ready,"
            " quotes: document.querySelectorAll('#quote-list li').length,"
            " count: document.getElementById('quote-count').textContent,"
            " rows: document.querySelectorAll('#matrix-table tbody tr').length}")
        search = driver.execute_script(
            "const t = performance.now(); document.getElementById('q-text').value = '朋友圈';"
            "document.getElementById('quote-filters').dispatchEvent(new Event('submit', {cancelable: true}));"
            "return [performance.now() - t, document.getElementById('quote-count').textContent];")
        errors = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
        return {"wall": wall, **timing, "search": search, "errors": errors}
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--selections", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="qdx-bench-html-") as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        qdpx = _make_project(args.selections, folder)
        t1 = time.perf_counter()
        project = qdx.read(qdpx)
        t2 = time.perf_counter()
        page = folder / "report.html"
        qdx.html_report(project, page, input_name=qdpx.name)
        t3 = time.perf_counter()
        print(f"generate {t1 - t0:.1f} s; read {t2 - t1:.1f} s; write report.html {t3 - t2:.1f} s "
              f"({page.stat().st_size / 1e6:.1f} MB)")
        loads = []
        for run in range(args.runs):
            result = _open_seconds(page)
            loads.append(result["load"] / 1000)
            print(f"open #{run + 1}: load event end {result['load'] / 1000:.2f} s (DOMContentLoaded "
                  f"{result['dom'] / 1000:.2f} s, driver wall {result['wall']:.2f} s); ready={result['ready']}; "
                  f"{result['quotes']} quotes on page 1 ({result['count']}); {result['rows']} matrix rows built; "
                  f"console errors: {len(result['errors'])}; search '朋友圈' {result['search'][0]:.0f} ms "
                  f"({result['search'][1]})")
        verdict = "under" if max(loads) < 5 else "NOT under"
        print(f"median open {statistics.median(loads):.2f} s, worst {max(loads):.2f} s: {verdict} the 5 s target")


if __name__ == "__main__":
    main()

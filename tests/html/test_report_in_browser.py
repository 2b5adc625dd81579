"""The HTML report in a real browser: Debian's chromium, headless, driven by Playwright.

The CI set-up (.ci/run) installs chromium when it is missing; elsewhere the test skips
with the reason. The screenshot is kept in test-artifacts/ for a person to look at.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mes
from mes.groups import summarise
from mes.html import render_report_html
from mes.reliability import reliability

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium on PATH (Debian: apt-get install chromium)"
)


def test_report_renders_charts_without_console_errors(tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed")
    inst = mes.load_instrument("mes")
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(rng.integers(1, 6, size=(300, 30)), columns=list(inst.item_ids))
    frame["specialty"] = rng.choice(["Medicine", "Surgery", "Paediatrics", "Tiny unit"], 300,
                                    p=[0.4, 0.35, 0.23, 0.02])
    report = summarise(inst, frame, by=["specialty"], min_group_size=10)
    page_file = tmp_path / "report.html"
    page_file.write_text(render_report_html(inst, report, reliability=reliability(inst, frame)))

    problems: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.on("requestfailed", lambda r: problems.append(f"request {r.url}"))
            page.goto(page_file.as_uri())
            charts = page.locator("figure svg")
            assert charts.count() == 4  # headline, profile, distribution, by specialty
            for i in range(charts.count()):
                box = charts.nth(i).bounding_box()
                assert box is not None
                assert box["width"] > 300
                assert box["height"] > 50
            drawn = page.evaluate(
                "Array.from(document.querySelectorAll('figure svg rect'))"
                ".filter(r => r.getBoundingClientRect().width > 0).length"
            )
            # 4 headline + 6 sub-scales + 5 histogram bins + 3 published specialties
            assert drawn >= 4 + 6 + 3
            assert page.get_by_text("fewer than 10 responses").count() >= 1
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
        finally:
            browser.close()
    assert problems == []

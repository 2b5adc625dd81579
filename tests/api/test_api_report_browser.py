"""A share link opened in a real browser: the running server (`mes serve`), Debian's
chromium, headless, driven by Playwright.

Data go in through the API; the page must render its charts under the service's strict
Content-Security-Policy without a console error, on a desk screen and on a 390 px phone
without the page getting wider than the screen. The screenshots are kept in
test-artifacts/api-shared-report.png and api-shared-report-390.png for a person to look at.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_helpers import REPO_ROOT, bearer, close_survey, mes_rows

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = REPO_ROOT / "test-artifacts"

pytestmark = pytest.mark.skipif(
    not os.access(CHROMIUM, os.X_OK),
    reason=f"no chromium at {CHROMIUM} (Debian: apt-get install chromium)",
)

NORMS = "organisation,scale,mean\n" + "".join(
    f"Trust {i},index,{3.2 + i / 10:.2f}\n" for i in range(8)
)


def _wave(http: httpx.Client, title: str, seed: int, shift: int) -> str:
    sid = str(http.post("/v1/surveys", json={"title": title, "instrument": "mes"}).json()["id"])
    rows = mes_rows(260, seed=seed)
    specialties = ["Medicine", "Surgery", "Paediatrics", "Emergency medicine", "Tiny unit"]
    for i, row in enumerate(rows):
        row["attributes"] = {"specialty": specialties[i % 4] if i >= 4 else specialties[4]}
        row["answers"] = {k: max(1, min(5, v + shift)) for k, v in row["answers"].items()}
    response = http.post(f"/v1/surveys/{sid}/responses", json={"responses": rows})
    assert response.status_code == 201, response.text
    close_survey(http, {}, sid)  # the client carries the key
    return sid


def test_shared_report_renders_in_chromium(live_server: str, make_key: Any) -> None:
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed")
    headers = bearer(make_key("surveys:write", "responses:write", "reports:read"))
    with httpx.Client(base_url=live_server, headers=headers, timeout=60) as http:
        before = _wave(http, "Browser trust 2025", 31, 0)
        after = _wave(http, "Browser trust 2026", 32, 1)
        table = http.post("/v1/norm-tables", json={"name": "browser", "format": "csv",
                                                    "content": NORMS, "instrument": "mes"})
        assert table.status_code == 201, table.text
        share = http.post(f"/v1/surveys/{after}/report/shares",
                          json={"by": "specialty", "previous": before,
                                "benchmark": table.json()["id"]})
        assert share.status_code == 201, share.text
    url = share.json()["url"]
    assert url.startswith(f"{live_server}/shared/")

    problems: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.on("requestfailed", lambda r: problems.append(f"request {r.url}"))
            response = page.goto(url)  # no key: the link is the credential
            assert response is not None
            assert response.status == 200
            assert response.headers["content-security-policy"].startswith("default-src 'none'")
            assert page.title() == "Browser trust 2026"
            charts = page.locator("figure svg")
            # headline, profile, distribution, by specialty, change since the previous wave
            assert charts.count() >= 5
            for i in range(charts.count()):
                box = charts.nth(i).bounding_box()
                assert box is not None
                assert box["width"] > 300
                assert box["height"] > 50
            drawn = page.evaluate(
                "Array.from(document.querySelectorAll('figure svg rect'))"
                ".filter(r => r.getBoundingClientRect().width > 0).length"
            )
            assert drawn >= 4 + 6 + 4
            assert page.locator("#change svg").count() == 1
            # The benchmarks are a heatmap: a coloured cell, with its band in words, per group
            # and scale.
            assert page.locator("#benchmarks table.heatmap td.band").count() >= 4
            assert page.locator("#benchmarks table.heatmap td.band .b").first.inner_text() in (
                "lowest", "low", "medium", "high", "highest")
            assert page.locator("#aggregation").count() == 1
            assert page.get_by_text("fewer than 10 responses").count() >= 1
            assert page.get_by_text("Tiny unit").count() >= 1
            ARTIFACTS.mkdir(exist_ok=True)
            shot = Path(ARTIFACTS / "api-shared-report.png")
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 10_000
            page.set_viewport_size({"width": 390, "height": 844})
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            page.screenshot(path=str(ARTIFACTS / "api-shared-report-390.png"), full_page=True)
        finally:
            browser.close()
    assert problems == []

"""The interactive API docs at /schema work without internet access: every file the page
needs comes from the service itself, under a Content-Security-Policy that allows nothing
else, and Swagger UI renders the operation list in a browser that may reach nothing but
the server (Debian's chromium, headless, driven by Playwright)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml
from api_helpers import REPO_ROOT
from litestar.testing import TestClient

PAGES = ("/schema", "/schema/swagger")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = REPO_ROOT / "test-artifacts"
ASSET_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}


def _references(page: str) -> list[str]:
    """Every URL the page loads or links to (src, href, and the spec URL it names)."""
    return re.findall(r"""(?:src|href|data-spec-url)=["']([^"']+)["']""", page)


def test_docs_pages_load_only_same_origin_files(client: TestClient[Any]) -> None:
    for path in PAGES:
        page = client.get(path)
        assert page.status_code == 200, path
        assert page.headers["content-type"] == "text/html; charset=utf-8"
        assert "script-src 'self';" in page.headers["content-security-policy"]
        assert "<script>" not in page.text  # no inline script: the CSP allows none
        urls = _references(page.text)
        assert len(urls) >= 4, urls  # icon, style sheet, Swagger UI, its starter
        for url in urls:
            parsed = urlparse(url)
            assert parsed.scheme == "", (path, url)  # same origin
            assert parsed.netloc == "", (path, url)
            assert url.startswith("/schema/"), url
        for url in (u for u in urls if u.endswith(tuple(ASSET_TYPES))):
            asset = client.get(url)
            assert asset.status_code == 200, url
            wanted = ASSET_TYPES[Path(url).suffix]
            assert asset.headers["content-type"].split(";")[0] == wanted, url
            assert len(asset.content) > 500, url
    bundle = client.get("/schema/assets/swagger-ui-bundle.js").text
    assert "SwaggerUIBundle" in bundle
    assert ".swagger-ui" in client.get("/schema/assets/swagger-ui.css").text


def test_only_the_listed_assets_are_served(client: TestClient[Any]) -> None:
    for name in ("index.html", "swagger-initializer.js", "..%2F..%2Fapp.py", "LICENSE"):
        assert client.get(f"/schema/assets/{name}").status_code == 404, name


@pytest.mark.skipif(
    not os.access(CHROMIUM, os.X_OK),
    reason=f"no chromium at {CHROMIUM} (Debian: apt-get install chromium)",
)
def test_swagger_ui_renders_the_operations_offline(live_server: str) -> None:
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed")
    document = yaml.safe_load((REPO_ROOT / "openapi.yaml").read_text(encoding="utf-8"))
    operations = sum(
        method in ("get", "post", "put", "patch", "delete")
        for item in document["paths"].values()
        for method in item
    )
    local = urlparse(live_server).netloc
    blocked: list[str] = []
    problems: list[str] = []

    def only_the_server(route: Any) -> None:
        if urlparse(route.request.url).netloc == local:
            route.continue_()
        else:  # what a network without internet access would do
            blocked.append(route.request.url)
            route.abort()

    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.route("**/*", only_the_server)
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            response = page.goto(f"{live_server}/schema")
            assert response is not None
            assert response.status == 200
            page.locator(".opblock").first.wait_for(timeout=30_000)
            assert page.locator(".opblock").count() == operations
            assert page.locator(".info .title").inner_text().startswith("MES service")
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "api-docs.png"))
        finally:
            browser.close()
    assert blocked == []
    assert problems == []

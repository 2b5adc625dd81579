"""Every HTML response carries the security headers: report pages (``report.html``, the
report negotiated by ``Accept: text/html``, ``/shared/{token}``) the strict CSP as well."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from api_helpers import close_survey, create_survey, mes_rows
from litestar.testing import TestClient

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
BASELINE = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


def _survey(client: TestClient[Any], headers: dict[str, str]) -> str:
    survey = create_survey(client, headers)
    rows = mes_rows(24, specialty="Surgery")
    response = client.post(
        f"/v1/surveys/{survey}/responses", json={"responses": rows}, headers=headers
    )
    assert response.status_code == 201, response.text
    close_survey(client, headers, survey)
    return survey


def test_every_report_page_has_the_strict_headers(
    client: TestClient[Any], admin: dict[str, str]
) -> None:
    survey = _survey(client, admin)
    share = client.post(
        f"/v1/surveys/{survey}/report/shares", json={"expires_in_days": 1}, headers=admin
    )
    assert share.status_code == 201, share.text
    pages = {
        "report.html": client.get(f"/v1/surveys/{survey}/report.html?by=specialty", headers=admin),
        "report (Accept)": client.get(
            f"/v1/surveys/{survey}/report", headers={**admin, "Accept": "text/html"}
        ),
        "shared": client.get(urlparse(share.json()["url"]).path),
    }
    for name, page in pages.items():
        assert page.status_code == 200, (name, page.text)
        assert page.headers["content-type"].startswith("text/html"), name
        assert page.headers["content-security-policy"] == CSP, name
        for header, value in BASELINE.items():
            assert page.headers[header] == value, (name, header)
        assert "no-store" in page.headers["cache-control"], name
        assert "<script" not in page.text.lower(), name
    assert pages["shared"].headers["x-robots-tag"] == "noindex, nofollow"


def test_the_api_docs_pages_are_not_framed_sniffed_or_referred(client: TestClient[Any]) -> None:
    for path in ("/schema", "/schema/swagger"):
        page = client.get(path)
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        for header, value in BASELINE.items():
            assert page.headers[header] == value, (path, header)
        # Swagger UI's files come from this server: the policy allows no other source.
        parts = page.headers["content-security-policy"].split(";")
        policy = dict(part.strip().split(" ", 1) for part in parts)
        assert policy["default-src"] == "'none'"
        assert policy["script-src"] == "'self'"  # no inline script, no eval, no CDN
        assert policy["connect-src"] == "'self'"
        assert policy["frame-ancestors"] == "'none'"
        assert all("http" not in sources and "*" not in sources for sources in policy.values())
    # JSON answers are left alone.
    assert "x-frame-options" not in client.get("/health").headers

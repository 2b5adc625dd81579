"""HTML report pages: rendering through :func:`mes.html.render_report_html`, with the
security headers every HTML response of the service carries."""

from __future__ import annotations

from litestar import MediaType, Response

from api.domain.reports.services import SurveyReport
from mes.html import render_report_html

__all__ = ["HTML_SECURITY_HEADERS", "html_page", "html_response"]

HTML_SECURITY_HEADERS = {
    # The page is self-contained: inline CSS, inline SVG, no script, no external file.
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def html_page(result: SurveyReport) -> str:
    """The report as one HTML document (charts as inline SVG)."""
    return render_report_html(
        result.instrument,
        result.report,
        title=result.title,
        reliability=result.reliability,
        change=result.change,
        trend=result.trend,
        benchmarks=result.benchmarks or (),
        intercorrelations=result.intercorrelations,
        aggregation=result.report.aggregation,
    )


def html_response(result: SurveyReport, *, cache: str = "private, no-store") -> Response[str]:
    """An HTML response of the report with the security headers."""
    return Response(
        html_page(result),
        media_type=MediaType.HTML,
        headers={**HTML_SECURITY_HEADERS, "Cache-Control": cache},
    )

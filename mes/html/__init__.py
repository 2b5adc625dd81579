"""Human-readable reports: standalone HTML pages with SVG charts."""

from mes.html.report import render_report_html

__all__ = ["render_report_html"]

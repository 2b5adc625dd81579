"""The report's one inline stylesheet: phone, desk screen and A4 paper.

Inline because the page must work offline and under a Content-Security-Policy
that fetches nothing. Three readers shape it:

* on a phone (390 px) nothing may stick out of the page: charts scale to the
  column (their SVG has a viewBox), and a table wider than the screen scrolls
  inside its own box, its row labels kept on one line and pinned to the left;
* on a desk screen the text column stays narrow enough to read;
* on paper (@page A4) scroll boxes let their content show in full, the heads of
  the matrix tables (a column per scale) turn sideways so that the tables fit
  the page width, charts are drawn at a size that matches the 10 pt text, a
  chart, a table row or a heading is never split from what it belongs to,
  table heads repeat on each page, the band colours of the heatmap print, and
  the click-to-open table (useless on paper) is left out.
"""

from __future__ import annotations

__all__ = ["CSS"]

CSS = """
*,*::before,*::after{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;color:#222;
margin:2rem auto;max-width:60rem;padding:0 1rem;line-height:1.45}
h1{font-size:1.6rem;margin-bottom:.2rem;overflow-wrap:anywhere}
h2{font-size:1.25rem;margin-top:2.2rem;border-bottom:2px solid #0072b2;padding-bottom:.2rem}
h3{font-size:1.05rem;margin-top:1.4rem}
p,li,figcaption{max-width:44rem}
a{color:#005a8c}
.muted{color:#555}.flag{color:#8a1c1c}.suppressed{color:#555;font-style:italic}
.scroll{overflow-x:auto;max-width:100%;margin:.6rem 0 1rem}
.scroll:focus-visible{outline:2px solid #0072b2;outline-offset:2px}
table{border-collapse:collapse;margin:.6rem 0 1rem;font-size:.9rem;
font-variant-numeric:tabular-nums}
.scroll>table{margin:0}
caption{text-align:left;font-weight:600;padding:.3rem 0}
th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:right;vertical-align:top}
th:first-child,td:first-child{text-align:left}
thead th{vertical-align:bottom}
td{white-space:nowrap}
tbody th[scope=row]{white-space:nowrap}
table.by-scale tbody th{white-space:normal;min-width:10rem;max-width:16rem}
td.text,td.suppressed{white-space:normal;text-align:left;min-width:11rem}
figure{margin:1rem 0 1.4rem}
figcaption{font-size:.9rem;color:#444;margin-bottom:.5rem}
figcaption strong{display:block;color:#222;font-size:1rem;margin-bottom:.1rem}
td.verdict{text-align:left}
.icc-note{font-size:.95rem;border-left:4px solid #0072b2;padding:.2rem 0 .2rem .6rem}
.legend-list{list-style:none;padding:0;margin:.3rem 0;display:flex;flex-wrap:wrap;
gap:.2rem 1rem;font-size:.85rem}
.swatch{display:inline-block;width:.95rem;height:.95rem;border:1px solid #444;
vertical-align:-.15rem;margin-right:.3rem}
.swatch.blank{background:#fff}
table.heatmap th[scope=col]{min-width:4.4rem;max-width:6.5rem;font-size:.78rem;
font-weight:600;text-align:center}
table.heatmap td{text-align:center;line-height:1.2;padding:.3rem .35rem}
table.heatmap td.suppressed{background:#fff;min-width:5rem;font-size:.8rem;text-align:left}
table.heatmap .v{display:block;font-weight:700}
table.heatmap .b,table.heatmap .p{display:block;font-size:.78rem}
tr.level th{background:#f2f2f2;text-align:left;font-weight:600}
.swatch,table.heatmap td{-webkit-print-color-adjust:exact;print-color-adjust:exact}
details{margin:.5rem 0 1rem}summary{cursor:pointer;color:#005a8c;font-weight:600}
.print-only{display:none}
@media (max-width:40rem){
body{margin:1rem auto;padding:0 .75rem}h1{font-size:1.3rem}h2{font-size:1.12rem}
table{font-size:.85rem}th,td{padding:.2rem .35rem}
table.by-scale tbody th{min-width:8rem}
}
@page{size:A4;margin:14mm 12mm 16mm}
@media print{
body{margin:0;max-width:none;padding:0;font-size:10pt;color:#000}
h1{font-size:16pt}h2{font-size:13pt;margin-top:1.2rem;break-after:avoid}
h3,h2+p{break-after:avoid}p,li,figcaption{max-width:none}
a{color:inherit;text-decoration:none}
figure,.icc-note,.legend-list{break-inside:avoid}
figcaption{break-after:avoid}
figure svg.chart{max-height:235mm;max-width:100mm!important}
.scroll{overflow:visible;break-inside:avoid}
table{font-size:8.5pt}
caption{break-after:avoid}
thead{display:table-header-group}
tr{break-inside:avoid}
tbody th[scope=row]{white-space:normal}
table.heatmap th[scope=col]{min-width:0;max-width:none}
table.matrix thead th+th{writing-mode:vertical-rl;transform:rotate(180deg);text-align:left;
vertical-align:middle;white-space:normal;max-height:12rem;padding:.3rem .15rem}
details,.icc-note a{display:none}.print-only{display:block}
}
"""

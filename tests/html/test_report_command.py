"""`mes report --html` on the bundled example files: the page a user opens."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

import mes
from mes.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_html_report_with_previous_wave_and_norms(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    code = main([
        "report", str(EXAMPLES / "mes_responses.csv"), "-i", "mes", "--by", "site",
        "--previous", str(EXAMPLES / "mes_responses_previous_wave.csv"),
        "--norms", str(EXAMPLES / "mes_norms.yaml"), "--html", str(out),
    ])
    assert code == 0
    page = out.read_text()
    for section in ("headline", "profile", "distribution", "aggregation", "benchmarks",
                    "change", "reliability"):
        assert f"<section id='{section}'>" in page
    assert "Can groups be compared?" in page  # the ICC check the CLI also prints
    # The overall change in the index is the difference of the two files' index means.
    inst = mes.load_instrument("mes")
    now = mes.score(inst, pd.read_csv(EXAMPLES / "mes_responses.csv")).scores["index"].mean()
    before = mes.score(inst, pd.read_csv(EXAMPLES / "mes_responses_previous_wave.csv"))
    difference = now - before.scores["index"].mean()
    row = re.search(r"<tr><th scope='row'>overall</th><td>[\d.]+</td><td>[\d.]+</td>"
                    r"<td>(-?[\d.]+) ", page)
    assert row is not None
    assert float(row.group(1)) == round(difference, 2)

"""What `mes report` and `mes score` write for people: CSV rounded by kind with booleans
as true/false, JSON at full precision without arithmetic noise, help that says 95% once,
and an HTML report titled as asked (the instrument's title by default)."""

from __future__ import annotations

import csv
import io
import json
import math
import re
from pathlib import Path

import pytest

from mes.cli import EXIT_USAGE, main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "mes_responses.csv"
DECIMALS = {"statistic": re.compile(r"-?\d+\.\d{3}"), "percent": re.compile(r"-?\d+\.\d"),
            "count": re.compile(r"\d+")}
REPORT_KINDS = {
    "group_n": "count", "n": "count", "mean": "statistic", "sd": "statistic",
    "se": "statistic", "ci_low": "statistic", "ci_high": "statistic",
    "mean_percent": "percent", "percent_favourable": "percent", "p50": "statistic",
    "pct_60_80": "percent",
}


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_report_csv_rounds_by_kind_and_writes_true_false(tmp_path: Path) -> None:
    rows = []
    for by in ("site", "site,staff_group"):  # histograms shown; small groups hidden
        out = tmp_path / f"report-{by}.csv"
        assert main(["report", str(EXAMPLE), "-i", "mes", "--by", by, "--margins",
                     "-o", str(out)]) == 0
        rows += _rows(out.read_text(encoding="utf-8"))
    assert {r["suppressed"] for r in rows} == {"true", "false"}
    assert {r["suppressed_group"] for r in rows} == {"true", "false"}  # both occur here
    for column, kind in REPORT_KINDS.items():
        cells = [r[column] for r in rows if r[column]]
        assert cells, column
        assert all(DECIMALS[kind].fullmatch(c) for c in cells), (column, cells[:5])


def test_scores_csv_rounds_scores_and_percentages(tmp_path: Path) -> None:
    out = tmp_path / "scores.csv"
    assert main(["score", str(EXAMPLE), "-i", "mes", "-o", str(out)]) == 0
    rows = _rows(out.read_text(encoding="utf-8"))
    first = rows[0]  # D0001: participation 4.4 -> 85% (85.00000000000001 unrounded)
    assert (first["participation_in_decision_making"],
            first["participation_in_decision_making_pct"]) == ("4.400", "85.0")
    assert first["index_answered"] == "28"
    assert first["purpose_and_direction"] == "4.200"
    assert first["valued_and_empowered"] == "4.667"


def test_json_keeps_full_precision_without_noise(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", str(EXAMPLE), "-i", "mes", "--by", "site,staff_group",
                 "--margins", "--json", "--previous",
                 str(ROOT / "examples" / "mes_responses_previous_wave.csv")]) == 0
    floats: list[float] = []  # every number written with a decimal point or exponent
    payload = json.loads(capsys.readouterr().out,
                         parse_float=lambda s: floats.append(float(s)) or float(s))
    assert len(floats) > 1000
    noisy = [x for x in floats if float(f"{x:.15g}") != x]
    assert noisy == []
    # Full precision all the same: means are not rounded to a few decimals.
    means = [g["scales"]["index"]["mean"] for g in payload["groups"] if not g["suppressed"]]
    assert any(len(repr(m).split(".")[1]) > 6 for m in means)
    out = tmp_path / "scores.json"
    assert main(["score", str(EXAMPLE), "-i", "mes", "-o", str(out)]) == 0
    written: list[float] = []
    record = json.loads(out.read_text(),
                        parse_float=lambda s: written.append(float(s)) or float(s))[0]
    assert record["percent"]["participation_in_decision_making"] == 85.0
    assert written
    assert all(math.isfinite(x) for x in written)


@pytest.mark.parametrize("command", ["report", "reliability", "score"])
def test_help_says_percent_once(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main([command, "--help"])
    text = capsys.readouterr().out
    assert "%%" not in text
    if command == "report":
        assert "95% CI" in text
        assert "--title TEXT" in text


def test_html_report_title(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    page = tmp_path / "report.html"
    assert main(["report", str(EXAMPLE), "-i", "mes", "--html", str(page),
                 "--title", "North Trust <2026>"]) == 0
    assert "<title>North Trust &lt;2026&gt;</title>" in page.read_text(encoding="utf-8")
    assert main(["report", str(EXAMPLE), "-i", "mes", "--html", str(page)]) == 0
    text = page.read_text(encoding="utf-8")
    assert "<title>Medical Engagement Scale</title>" in text
    assert EXAMPLE.name not in text  # the analyst's file name is not the report's title
    capsys.readouterr()
    assert main(["report", str(EXAMPLE), "-i", "mes", "--title", "Trust"]) == EXIT_USAGE
    assert "--title sets the title of the HTML report" in capsys.readouterr().err
    assert main(["report", str(EXAMPLE), "-i", "mes", "--html", str(page),
                 "--title", "  "]) == EXIT_USAGE
    assert "--title is blank" in capsys.readouterr().err

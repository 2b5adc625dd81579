"""`mes reliability` as a user runs it: real files, real exit codes."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import mes
from mes.cli import EXIT_INVALID, EXIT_USAGE, main

DATA = Path(__file__).parent / "data" / "reliability"
YAML = DATA / "bfi_agreeableness.yaml"


def test_json_output_is_the_report(
    bfi_agreeableness_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["reliability", str(bfi_agreeableness_csv), "--instrument", str(YAML), "--json"]) == 0
    )
    payload = json.loads(capsys.readouterr().out)
    report = payload["scales"]["agreeableness"]
    # psych::alpha on the same data prints raw_alpha 0.7 and Feldt 0.69-0.72
    # (source cited in tests/test_reliability_published.py).
    assert round(report["alpha"], 2) == 0.70
    assert [round(x, 2) for x in report["alpha_ci"]] == [0.69, 0.72]
    assert report["n"] == 2800
    assert report["items"]["A2"]["n"] == 2773
    assert payload["nan_policy"] == "pairwise"


def test_listwise_option(bfi_agreeableness_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "reliability",
        str(bfi_agreeableness_csv),
        "-i",
        str(YAML),
        "--json",
        "--nan-policy",
        "listwise",
    ]
    assert main(argv) == 0
    report = json.loads(capsys.readouterr().out)["scales"]["agreeableness"]
    assert report["n"] == 2709
    assert report["nan_policy"] == "listwise"


def test_table_and_flags(
    bfi_agreeableness_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A1 declared not reverse-keyed: psych's own warning case; we flag it in words.
    miskeyed = tmp_path / "miskeyed.yaml"
    miskeyed.write_text(YAML.read_text().replace("reverse: true", "reverse: false"))
    assert main(["reliability", str(bfi_agreeableness_csv), "-i", str(miskeyed), "--items"]) == 0
    out = capsys.readouterr().out
    assert "agreeableness" in out
    assert "negative_r_drop" in out
    assert "Item 'A1' goes against the rest of the scale" in out
    assert "alpha 0.70 instead of" in out  # reversing A1 gives the published alpha


def test_unknown_scale_is_a_usage_error(
    bfi_agreeableness_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["reliability", str(bfi_agreeableness_csv), "-i", str(YAML), "--scale", "nope"])
        == EXIT_USAGE
    )
    assert "nope" in capsys.readouterr().err


def test_invalid_answer_names_the_line(
    bfi_agreeableness_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.csv"
    lines = bfi_agreeableness_csv.read_text().splitlines()
    lines[3] = "x1,9,4,5,4,4"
    bad.write_text("\n".join(lines) + "\n")
    assert main(["reliability", str(bad), "-i", str(YAML)]) == EXIT_INVALID
    err = capsys.readouterr().err
    assert "line 4" in err
    assert "'A1'" in err



def _first_column(lines: list[str]) -> list[str]:
    """The first cell of each row of a printed table, its wrapped lines joined by spaces (a
    row's first line goes on with figures after two or more spaces; the lines that only
    carry on its label do not)."""
    cells: list[str] = []
    for line in lines:
        parts = re.split(r"\s{2,}", line.strip())
        if len(parts) > 1 or not cells:
            cells.append(parts[0])
        else:
            cells[-1] += " " + parts[0]
    return cells


def _table_body(lines: list[str], caption: str) -> list[str]:
    """The rows of the table whose caption starts with ``caption``."""
    end = next(i for i, line in enumerate(lines) if line.strip().startswith(caption))
    start = max(i for i, line in enumerate(lines[:end]) if line.startswith("\u2500"))
    return lines[start + 1:end]


def test_tables_fit_80_columns_with_labels_whole(tmp_path: Path) -> None:
    """At 80 columns (COLUMNS=80, output not a terminal), every line fits and the scales
    are named by their labels, as `mes score` names them, wrapped at word boundaries only."""
    instrument = mes.load_instrument("mes")
    labels = [instrument.scale(s).title or s for s in instrument.scale_ids]
    examples = Path(__file__).parents[1] / "examples" / "mes_responses.csv"
    run = subprocess.run(
        [sys.executable, "-m", "mes", "reliability", str(examples), "-i", "mes", "--items"],
        capture_output=True, text=True, env={**os.environ, "COLUMNS": "80"}, timeout=120,
        check=True, cwd=tmp_path,
    )
    lines = run.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80, max(lines, key=len)
    assert "\u2026" not in run.stdout  # no label had to be cut short
    assert _first_column(_table_body(lines, "alpha: Cronbach")) == labels
    correlations = _first_column(_table_body(lines, "Below the diagonal"))
    assert correlations == [f"{i} {label}" for i, label in enumerate(labels[:6], start=1)]
    assert "climate_for_positive_change" not in run.stdout  # labels, not ids

"""`mes score -o` and `mes report -o` write CSV that is safe to open in a spreadsheet (OWASP
"CSV Injection"): no text cell or header starts a formula, and the ids read back unchanged."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import numpy as np
import pytest

from mes.cli import main
from mes.io.csv import read_responses_csv

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
ITEMS = [f"mes{i:02d}" for i in range(1, 31)]
IDS = [*(f"{t}r{i}" for i, t in enumerate(TRIGGERS)), '=HYPERLINK("x")', "-1", "-0.5", "@home"]
UNITS = ["=SUM(A1)", "+44 20"]
SITES = ["-5 years", "@home"]  # grouping strips surrounding spaces and tabs


def _responses(path: Path) -> None:
    """24 respondents (every id starting with a trigger), two groups of 12 per attribute."""
    rng = np.random.default_rng(3)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["respondent", *ITEMS, "=unit", "@site"])
    for i in range(24):
        respondent = IDS[i] if i < len(IDS) else f"r{i}"
        writer.writerow([respondent, *rng.integers(1, 6, size=30), UNITS[i % 2], SITES[i // 12]])
    path.write_bytes(buffer.getvalue().encode())


def _records(text: str) -> list[list[str]]:
    records = list(csv.reader(io.StringIO(text, newline="")))
    assert {len(r) for r in records} == {len(records[0])}  # no carriage return broke a row
    formulas = [c for r in records for c in r if c.startswith(TRIGGERS) and not NUMBER.fullmatch(c)]
    assert formulas == []
    return records


@pytest.mark.parametrize("to_stdout", [False, True])
def test_score_output_escapes_respondent_ids(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], to_stdout: bool
) -> None:
    source, out = tmp_path / "responses.csv", tmp_path / "scores.csv"
    _responses(source)
    assert main(["score", str(source), "-i", "mes", "-o", "-" if to_stdout else str(out)]) == 0
    text = capsys.readouterr().out if to_stdout else out.read_bytes().decode()
    records = _records(text)
    assert records[1][0] == "'=r0"
    # Read back (the reader undoes the escaping), the ids are those of the input.
    expected = read_responses_csv(source).frame["respondent"].tolist()
    assert read_responses_csv(text.encode()).frame["respondent"].tolist() == expected
    assert expected[:len(IDS)] == IDS


def test_report_output_escapes_attribute_names_and_values(tmp_path: Path) -> None:
    source = tmp_path / "responses.csv"
    _responses(source)
    for by, values in (("=unit", UNITS), ("@site", SITES)):
        out = tmp_path / f"report-{by}.csv"
        assert main(["report", str(source), "-i", "mes", "--by", by, "-o", str(out)]) == 0
        records = _records(out.read_bytes().decode())
        column = records[0].index("'" + by)
        assert {r[column] for r in records[1:]} == {"", *("'" + v for v in values)}
        assert {r[0] for r in records[1:]} == {"overall", "'" + by}  # level

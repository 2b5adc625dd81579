"""`mes score` and `mes instruments` as a user runs them: real files, real exit codes."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from mes.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "mes_responses.csv"
HEADER = "respondent," + ",".join(f"mes{i:02d}" for i in range(1, 31)) + ",site"


def row(respondent: str, answers: list[object], site: str = "North") -> str:
    return ",".join([respondent, *map(str, answers), site])


def test_console_script_scores_the_bundled_example(tmp_path: Path) -> None:
    out = tmp_path / "scores.csv"
    mes = Path(sys.executable).with_name("mes")
    done = subprocess.run([str(mes), "score", str(EXAMPLE), "--instrument", "mes", "-o", str(out)],
                          capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    scores = pd.read_csv(out)
    answers = pd.read_csv(EXAMPLE)
    assert scores["respondent"].tolist() == answers["respondent"].tolist()
    # The index is the mean of the answered items (no respondent misses half of them),
    # written to 3 decimals.
    expected = answers[[f"mes{i:02d}" for i in range(1, 31)]].mean(axis=1)
    pd.testing.assert_series_equal(scores["index"], expected, check_names=False,
                                   check_exact=False, rtol=0, atol=0.0005)


def test_summary_without_output_names_every_scale(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["score", str(EXAMPLE), "--instrument", "mes"]) == 0
    out = capsys.readouterr().out
    assert "240 respondents" in out
    assert "Index of Medical Engagement" in out


def test_invalid_answers_exit_1_with_the_files_line_numbers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.csv"
    good = [4] * 30
    bad = [4] * 30
    bad[2], bad[29] = 7, "maybe"
    # Line 1 header, line 2 good, line 3 blank (skipped), line 4 the bad row.
    path.write_text("\n".join([HEADER, row("r1", good), "", row("r2", bad)]) + "\n")
    assert main(["score", str(path), "--instrument", "mes"]) == 1
    err = capsys.readouterr().err
    assert "line 4, column 'mes03': value 7 is outside the response scale 1..5" in err
    assert "line 4, column 'mes30': value 'maybe' is not a number or a known code" in err
    assert "2 invalid answer(s)" in err


def test_errors_missing_scores_them_as_missing(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    answers = [4] * 30
    answers[0] = 9
    path.write_text("\n".join([HEADER, row("r1", answers)]) + "\n")
    out = tmp_path / "s.json"
    assert main(["score", str(path), "-i", "mes", "--errors", "missing", "-o", str(out)]) == 0
    record = json.loads(out.read_text())[0]
    assert record["respondent"] == "r1"
    assert record["answered"]["climate_for_positive_change"] == 4
    assert record["scores"]["index"] == 4.0


def test_bom_semicolon_crlf_and_codes(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    header = HEADER.replace(",", ";")
    lines = [header, ";".join(["r1", *["SA"] * 15, *["5"] * 15, "East"])]
    path.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(lines).encode() + b"\r\n")
    out = tmp_path / "s.csv"
    assert main(["score", str(path), "-i", "mes", "-o", str(out)]) == 0
    assert pd.read_csv(out)["index_pct"].tolist() == [100.0]


def test_malformed_csv_names_the_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "broken.csv"
    path.write_text("\n".join([HEADER, row("r1", [3] * 30), row("r2", [3] * 31)]) + "\n")
    assert main(["score", str(path), "-i", "mes"]) == 1
    assert "line 3: 33 fields where the header has 32" in capsys.readouterr().err


def test_missing_item_column_is_invalid_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "short.csv"
    path.write_text("respondent,mes01\nr1,3\n")
    assert main(["score", str(path), "-i", "mes"]) == 1
    assert "missing item column(s) 'mes02'" in capsys.readouterr().err


def test_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["score", str(tmp_path / "nope.csv"), "-i", "mes"]) == 2
    assert "no such file" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["score", str(EXAMPLE)])  # --instrument is required
    assert info.value.code == 2
    assert main(["score", str(EXAMPLE), "-i", "no_such_instrument"]) == 2


def test_instruments_validate_reports_every_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = ROOT / "instruments" / "uwes9.yaml"
    bad = tmp_path / "bad.yaml"
    bad.write_text(good.read_text().replace("[uwes1, uwes2, uwes5]", "[uwes1, uwes22]"))
    assert main(["instruments", "validate", str(good), str(bad)]) == 1
    captured = capsys.readouterr()
    assert "uwes9.yaml: ok" in captured.out
    assert "scales[0] (vigour).items[1]: item 'uwes22' is not defined." in captured.err
    assert "items[4] (uwes5): the item belongs to no scale." in captured.err


def test_instruments_show_prints_licence_and_structure(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["instruments", "show", "nhs_staff_engagement"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"NHS\s+England", out)  # rich wraps the licence at the terminal width
    assert "q25a, q25c, q25d" in out

"""`mes reliability` as a user runs it: real files, real exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

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

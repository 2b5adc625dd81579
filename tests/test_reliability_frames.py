"""The reliability report as pandas users read it: one frame per scale, one per item."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

import mes
from mes.reliability.report import ITEM_COLUMNS

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "mes_responses.csv"


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def test_frames_hold_exactly_the_reports_figures() -> None:
    inst = mes.load_instrument("mes")
    report = mes.reliability(inst, pd.read_csv(EXAMPLE))
    scales = report.to_frame()
    assert list(scales.index) == list(inst.scale_ids)
    for scale_id, r in report.items():
        row = scales.loc[scale_id]
        assert (row["n"], row["k"]) == (r.n, r.k)
        assert _same(row["alpha_ci_lower"], r.alpha_ci[0])
        assert _same(row["alpha_ci_upper"], r.alpha_ci[1])
        for name in ("alpha", "std_alpha", "g6", "omega_total", "average_r", "median_r",
                     "signal_noise", "ase", "mean", "sd"):
            assert _same(row[name], getattr(r, name)), (scale_id, name)
        assert row["flags"] == ", ".join(r.flag_codes())
    items = report.items_frame()
    assert items.index.names == ["scale", "item"]
    assert len(items) == sum(len(r.items) for r in report.values())
    for (scale_id, item_id), row in items.iterrows():
        stats = report[scale_id].items[item_id]
        for name in ITEM_COLUMNS:
            assert _same(float(row[name]), float(getattr(stats, name))), (scale_id, item_id)


def test_a_score_table_prints_in_one_line_without_the_licence() -> None:
    inst = mes.load_instrument("mes")
    table = mes.score(inst, pd.read_csv(EXAMPLE))
    text = repr(table)
    assert "\n" not in text
    assert "respondents=240" in text
    assert inst.licence[:30] not in text

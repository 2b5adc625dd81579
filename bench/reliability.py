"""Reliability of the 10 MES scales on 1,000,000 x 30 answers (``--quick``: 100,000).

Baselines, run in the same process on the same answers:
(a) one ``np.cov`` pass over the 30 items (complete answers): the floor for anything that
    needs a covariance matrix. Target: the whole psych-style report of all 10 scales
    (including validation and keying of the input) within a few covariance passes (<= 5x).
(b) ``pingouin.cronbach_alpha`` called once per scale, which gives alpha and its CI only.
    Measured with complete answers and with 5% missing answers (pairwise deletion).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pingouin as pg

import mes
from bench.harness import Result, best_of
from mes.reliability import reliability


def simulated_answers(n: int, instrument: mes.Instrument, missing: float = 0.0,
                      seed: int = 3) -> np.ndarray:
    """Answers 1-5 driven by one common factor (loading 0.6), so alphas are realistic."""
    rng = np.random.default_rng(seed)
    k = len(instrument.items)
    latent = 0.6 * rng.standard_normal((n, 1)) + 0.8 * rng.standard_normal((n, k))
    answers = np.clip(np.rint(3.0 + 1.2 * latent), 1, 5)
    if missing:
        answers[rng.random(answers.shape) < missing] = np.nan
    return answers


def pingouin_per_scale(instrument: mes.Instrument, frame: pd.DataFrame) -> list[float]:
    return [pg.cronbach_alpha(frame[list(instrument.leaf_items(s))])[0]
            for s in instrument.scale_ids]


def run(quick: bool) -> list[Result]:
    n = 100_000 if quick else 1_000_000
    inst = mes.load_instrument("mes")
    complete = simulated_answers(n, inst)
    gappy = simulated_answers(n, inst, missing=0.05)
    frame = pd.DataFrame(complete, columns=list(inst.item_ids))
    gappy_frame = pd.DataFrame(gappy, columns=list(inst.item_ids))

    # Same numbers, or no figure.
    for data, table in ((complete, frame), (gappy, gappy_frame)):
        ours = reliability(inst, data)
        theirs = pingouin_per_scale(inst, table)
        got = [ours[s].alpha for s in inst.scale_ids]
        np.testing.assert_allclose(got, theirs, rtol=1e-9)

    repeat = 3 if quick else 2
    t_ours = best_of(lambda: reliability(inst, complete), repeat)
    t_cov = best_of(lambda: np.cov(complete, rowvar=False), repeat)
    t_pg = best_of(lambda: pingouin_per_scale(inst, frame), repeat)
    t_ours_gaps = best_of(lambda: reliability(inst, gappy), repeat)
    t_pg_gaps = best_of(lambda: pingouin_per_scale(inst, gappy_frame), repeat)
    size = f"{n:,} x 30"
    what = "full report, 10 scales"
    return [
        Result("reliability", f"{what} (complete)", t_ours, "one np.cov pass", t_cov,
               target="<= 5x", extra=size),
        Result("reliability", f"{what} (complete)", t_ours, "pingouin alpha per scale", t_pg,
               target="<= 1.5x (alpha + CI only there)", extra=size),
        Result("reliability", f"{what} (5% missing)", t_ours_gaps, "pingouin alpha per scale",
               t_pg_gaps, target="< 1x", extra=size + ", pairwise"),
        Result("reliability", f"{what} (5% missing)", t_ours_gaps, "one np.cov pass", t_cov,
               target="<= 8x", extra=size + ", pairwise vs complete"),
    ]

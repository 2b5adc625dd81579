"""Scoring 1,000,000 respondents x 30 MES items (5% missing) against two baselines.

(a) a tight numpy computation of the same scale means (mask, zero-fill, one matrix
product for the sums and one for the counts, min-answered rule: no validation, no keying);
(b) the pandas an analyst would write: ``frame[items].mean(axis=1)`` per scale.
Target: within 2x of (a), never worse than 3x.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pandas as pd

import mes
from bench.harness import Result, best_of_interleaved


def simulated_answers(n: int, instrument: mes.Instrument, missing: float = 0.05,
                      seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    rs = instrument.response_scale
    answers = rng.integers(rs.min, rs.max + 1, size=(n, len(instrument.items))).astype(np.float64)
    answers[rng.random(answers.shape) < missing] = np.nan
    return answers


def numpy_baseline(instrument: mes.Instrument, answers: np.ndarray) -> np.ndarray:
    """The same scale means, as tight as plain numpy gets: mask, zero-fill, two matrix products."""
    membership = instrument.membership
    answered = ~np.isnan(answers)
    counts = answered.astype(np.float64) @ membership
    with np.errstate(invalid="ignore", divide="ignore"):
        means = (np.where(answered, answers, 0.0) @ membership) / counts
    needed = [instrument.min_answered_count(s) for s in instrument.scale_ids]
    means[counts < np.array(needed)] = np.nan
    return means


def pandas_baseline(instrument: mes.Instrument, frame: pd.DataFrame) -> list[pd.Series]:
    return [frame[list(instrument.leaf_items(s))].mean(axis=1) for s in instrument.scale_ids]


def run(quick: bool) -> list[Result]:
    n = 100_000 if quick else 1_000_000
    inst = mes.load_instrument("mes")
    answers = simulated_answers(n, inst)
    frame = pd.DataFrame(answers, columns=list(inst.item_ids))

    ours = mes.score(inst, answers)
    # The same numbers, or no figure.
    np.testing.assert_allclose(ours.score_matrix, numpy_baseline(inst, answers), rtol=1e-12)

    tracemalloc.start()
    mes.score(inst, frame)
    peak = tracemalloc.get_traced_memory()[1] / answers.nbytes
    tracemalloc.stop()

    t = best_of_interleaved({
        "numpy": lambda: numpy_baseline(inst, answers),
        "pandas": lambda: pandas_baseline(inst, frame),
        "array": lambda: mes.score(inst, answers),
        "frame": lambda: mes.score(inst, frame),
    })
    t_numpy, t_pandas, t_array, t_frame = t["numpy"], t["pandas"], t["array"], t["frame"]
    size = f"{n:,} x 30, 5% missing"
    return [
        Result("scoring", "mes.score(ndarray)", t_array, "tight numpy", t_numpy, "<= 2x", size),
        Result("scoring", "mes.score(DataFrame)", t_frame, "tight numpy", t_numpy, "<= 2x",
               f"{size}; peak memory {peak:.1f}x the answers"),
        Result("scoring", "mes.score(DataFrame)", t_frame, "pandas mean(axis=1) per scale",
               t_pandas, "< 1x", size),
    ]

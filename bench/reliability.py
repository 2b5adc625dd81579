"""Reliability of the 10 MES scales on 1,000,000 x 30 answers (``--quick``: 100,000).

Baselines, run in the same process on the same answers:
(a) one ``np.cov`` pass over the 30 items (complete answers): the floor for anything that
    needs a covariance matrix. Target: the whole psych-style report of all 10 scales
    (including validation and keying of the input) within a few covariance passes (<= 5x).
(b) with 5% missing answers, the pairwise-deletion covariance matrix of the 30 items the
    straightforward way: four float64 matrix products of the answered mask and the
    zero-filled answers (:func:`four_product_pairwise_cov`). Target: the whole report,
    pairwise, within 3x of it.
(c) ``pingouin.cronbach_alpha`` called once per scale, which gives alpha and its CI only.
    Measured with complete answers and with 5% missing answers (pairwise deletion).

Each function is timed as the best of a few calls in a row (:func:`bench.harness.best_of`),
not interleaved with the others: on this virtual machine, memory left free for a few
seconds costs system time to touch again (it appears to be handed back to the host), and
interleaving would charge that to whichever function allocates most after one that
allocates little (the four-product baseline allocates two float64 copies of the answers
per call). Peak memory is measured with ``tracemalloc`` (numpy reports its
allocations to it) over one call, as a multiple of the answers' size.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable

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


def four_product_pairwise_cov(answers: np.ndarray) -> np.ndarray:
    """Pairwise-deletion covariance matrix by four matrix products, as one would write it.

    With :math:`M` the 0/1 answered mask and :math:`X_0` the answers with missing cells
    set to 0 (both float64): :math:`N = M^\\top M`, :math:`A = X_0^\\top M`,
    :math:`B = M^\\top X_0`, :math:`P = X_0^\\top X_0`, and
    :math:`\\mathrm{cov}_{ij} = (P_{ij} - A_{ij} B_{ij} / N_{ij}) / (N_{ij} - 1)`.
    """
    answered = ~np.isnan(answers)
    mask = answered.astype(np.float64)
    x0 = np.where(answered, answers, 0.0)
    n = mask.T @ mask
    sums_i = x0.T @ mask  # sum of x_i over the rows where j is answered too
    sums_j = mask.T @ x0  # sum of x_j over the rows where i is answered too
    prod = x0.T @ x0
    with np.errstate(invalid="ignore", divide="ignore"):
        return (prod - sums_i * sums_j / n) / (n - 1)


def pingouin_per_scale(instrument: mes.Instrument, frame: pd.DataFrame) -> list[float]:
    return [pg.cronbach_alpha(frame[list(instrument.leaf_items(s))])[0]
            for s in instrument.scale_ids]


def peak_memory(fn: Callable[[], object], nbytes: int) -> float:
    """Peak of the memory ``fn()`` allocates, as a multiple of ``nbytes``."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / nbytes
    finally:
        tracemalloc.stop()


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
    np.testing.assert_allclose(four_product_pairwise_cov(gappy), gappy_frame.cov().to_numpy(),
                               rtol=1e-9)

    memory = peak_memory(lambda: reliability(inst, gappy), gappy.nbytes)

    repeat = 3
    t = {
        "ours": best_of(lambda: reliability(inst, complete), repeat),
        "cov": best_of(lambda: np.cov(complete, rowvar=False), repeat),
        "pingouin": best_of(lambda: pingouin_per_scale(inst, frame), repeat),
    }
    t_gaps = {
        "ours": best_of(lambda: reliability(inst, gappy), repeat),
        "four": best_of(lambda: four_product_pairwise_cov(gappy), repeat),
        "pingouin": best_of(lambda: pingouin_per_scale(inst, gappy_frame), repeat),
    }
    size = f"{n:,} x 30"
    what = "full report, 10 scales"
    pairwise = f"{size}, pairwise"
    return [
        Result("reliability", f"{what} (complete)", t["ours"], "one np.cov pass", t["cov"],
               target="<= 5x", extra=size),
        Result("reliability", f"{what} (complete)", t["ours"], "pingouin alpha per scale",
               t["pingouin"], target="<= 1.5x (alpha + CI only there)", extra=size),
        Result("reliability", f"{what} (5% missing)", t_gaps["ours"],
               "pairwise covariance, four matrix products", t_gaps["four"], target="<= 3x",
               extra=f"{pairwise}; peak memory {memory:.1f}x the answers"),
        Result("reliability", f"{what} (5% missing)", t_gaps["ours"], "pingouin alpha per scale",
               t_gaps["pingouin"], target="< 1x", extra=pairwise),
        Result("reliability", f"{what} (5% missing)", t_gaps["ours"], "one np.cov pass", t["cov"],
               target="<= 8x", extra=f"{pairwise} vs complete"),
    ]

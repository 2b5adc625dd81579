"""Group reports over 200,000 respondents x 30 MES items, grouped by 2 attributes.

``mes.groups.summarise`` (scoring included, every level, complementary suppression,
percent favourable, quantiles and histogram of the index, ICCs) against
(a) ``mes.score`` of the same responses alone: the report must cost at most 3x the
scoring it needs anyway, and under a second in absolute terms; (b) what an analyst
would write after scoring: a pandas ``groupby(...).agg(["count", "mean", "std"])`` per
level (no CI, no suppression, no favourable share).

And a release protected together with an earlier release sharing all but its last
1% of responses (a snapshot of the same fieldwork, :mod:`mes.groups.overlap`), against
the same plan protected alone.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

import mes
from bench.harness import Result
from mes.groups import Release, summarise, summarise_plan

BY = ["staff_group", "directorate"]


def simulated_frame(n: int, seed: int = 3) -> tuple[mes.Instrument, pd.DataFrame]:
    inst = mes.load_instrument("mes")
    rng = np.random.default_rng(seed)
    answers = rng.integers(1, 6, size=(n, len(inst.items))).astype(np.float64)
    answers[rng.random(answers.shape) < 0.05] = np.nan
    frame = pd.DataFrame(answers, columns=list(inst.item_ids))
    frame["staff_group"] = rng.choice(["consultant", "SAS doctor", "trainee", "manager"], n,
                                      p=[0.45, 0.1, 0.43, 0.02])
    frame["directorate"] = rng.choice([f"directorate {i:02d}" for i in range(12)], n)
    return inst, frame


def pandas_baseline(inst: mes.Instrument, frame: pd.DataFrame) -> list[pd.DataFrame]:
    scores = mes.score(inst, frame).to_frame()[list(inst.scale_ids)]
    scores[BY] = frame[BY].to_numpy()
    return [scores.groupby(BY[: k + 1])[list(inst.scale_ids)].agg(["count", "mean", "std"])
            for k in range(len(BY))]


def interleaved_best(fns: list[Callable[[], object]], repeat: int = 5) -> list[float]:
    """Best time of each function, running them in turn so that load drift hits all alike."""
    best = [float("inf")] * len(fns)
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            gc.collect()
            start = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - start)
    return best


def run(quick: bool) -> list[Result]:
    n = 20_000 if quick else 200_000
    inst, frame = simulated_frame(n)
    report = summarise(inst, frame, by=BY)
    index = mes.score(inst, frame).scores["index"]
    # The same numbers, or no figure.
    overall_mean = report.overall.scales["index"].mean
    assert overall_mean is not None
    assert abs(overall_mean - float(np.nanmean(index))) < 1e-9

    t_report, t_score, t_pandas = interleaved_best([
        lambda: summarise(inst, frame, by=BY),
        lambda: mes.score(inst, frame),
        lambda: pandas_baseline(inst, frame),
    ])
    size = f"{n:,} x 30 items, by {' x '.join(BY)} ({len(report)} groups)"
    plan = [BY]
    snapshot = frame.iloc[: n - n // 100].reset_index(drop=True)
    earlier = Release(snapshot, reports=summarise_plan(inst, snapshot, plan=plan))
    t_with, t_alone = interleaved_best([
        lambda: summarise_plan(inst, frame, plan=plan, releases=[earlier]),
        lambda: summarise_plan(inst, frame, plan=plan),
    ], repeat=3)
    return [
        Result("groups", "summarise_plan beside a snapshot release", t_with,
               "summarise_plan alone", t_alone, "<= 3x",
               f"{n:,} responses, snapshot of {len(snapshot):,}"),
        Result("groups", "summarise (2 attributes)", t_report, "mes.score alone", t_score,
               "<= 3x and < 1 s", size),
        Result("groups", "summarise (2 attributes)", t_report,
               "score + pandas groupby count/mean/std", t_pandas, "<= 2x", size),
    ]

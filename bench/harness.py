"""Shared timing for the benchmark modules.

A benchmark module in this package defines ``run(quick: bool) -> list[Result]``;
``bench/__main__.py`` lists the modules, prints a table and writes ``bench/results.json``.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Result:
    """One measured figure: ``seconds`` of ours against ``baseline_seconds`` of a baseline."""

    area: str
    name: str
    seconds: float
    baseline: str
    baseline_seconds: float
    target: str = ""
    extra: str = ""

    @property
    def ratio(self) -> float:
        return self.seconds / self.baseline_seconds

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ratio": self.ratio}


def best_of_interleaved(fns: dict[str, Callable[[], object]], repeat: int = 5) -> dict[str, float]:
    """Best time of each function, run in turn round after round.

    Interleaving spreads a burst of load from other processes over all of them, so the
    ratios between them stay fair on a shared machine.
    """
    best = {name: float("inf") for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            gc.collect()
            start = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def best_of(fn: Callable[[], object], repeat: int = 3) -> float:
    """Best wall-clock time of ``repeat`` calls (the least disturbed by other load)."""
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)

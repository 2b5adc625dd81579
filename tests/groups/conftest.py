"""Shared fixtures of the group-report tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mes.instrument import Instrument, instrument_from_mapping


@pytest.fixture(scope="session")
def small_instrument() -> Instrument:
    """Four items on 1..5, one reverse-keyed, two leaf scales and a total; top-two-box 4."""
    return instrument_from_mapping({
        "id": "small", "version": "1", "title": "Small", "licence": "CC0",
        "response_scale": {"min": 1, "max": 5, "favourable_min": 4},
        "items": [{"id": "a"}, {"id": "b", "reverse": True}, {"id": "c"}, {"id": "d"}],
        "scales": [
            {"id": "one", "items": ["a", "b"]},
            {"id": "two", "items": ["c", "d"]},
            {"id": "total", "scales": ["one", "two"]},
        ],
    })


def make_frame(n: int, seed: int, *, p_missing: float = 0.1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    answers = rng.integers(1, 6, size=(n, 4)).astype(float)
    answers[rng.random(answers.shape) < p_missing] = np.nan
    frame = pd.DataFrame(answers, columns=list("abcd"))
    frame["grade"] = rng.choice(["consultant", "sas", "trainee"], n, p=[0.5, 0.1, 0.4])
    frame["site"] = rng.choice(["North", "South", "East", "West"], n)
    return frame


@pytest.fixture(scope="session")
def frames():  # type: ignore[no-untyped-def]
    """``frames(n, seed, p_missing=0.1)``: random answers with grade and site attributes."""
    return make_frame

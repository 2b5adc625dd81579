"""Reliability of a survey's scales: :func:`mes.reliability`, serialised for the API."""

from __future__ import annotations

from typing import Any

import numpy as np

import mes

__all__ = ["reliability_payload"]


def reliability_payload(instrument: mes.Instrument, answers: np.ndarray) -> dict[str, Any]:
    """Scale id -> the JSON-safe ``psych::alpha``-style report of :func:`mes.reliability`.

    Parameters
    ----------
    instrument : mes.Instrument
    answers : ndarray, shape (respondents, items)
        Raw answers in item order, NaN where missing.
    """
    with np.errstate(all="ignore"):
        result = mes.reliability(instrument, answers)
    return {scale: report.to_dict() for scale, report in result.items()}

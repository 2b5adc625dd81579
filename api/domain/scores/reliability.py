"""Reliability of a survey's scales through :func:`mes.reliability`.

Until the library provides ``mes.reliability`` this module computes a minimal
report itself (raw Cronbach's alpha and item statistics, pairwise covariances
as in ``psych::alpha``); the full report replaces it as soon as it exists.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

import mes
from mes.responses import keyed_answers, response_matrix

__all__ = ["library_reliability", "reliability_payload"]


def reliability_payload(
    instrument: mes.Instrument, frame: pd.DataFrame
) -> tuple[str, dict[str, Any]]:
    """Scale id -> JSON-ready reliability statistics, and the method used.

    Parameters
    ----------
    instrument : mes.Instrument
    frame : pandas.DataFrame
        Item columns of raw answers.
    """
    full = library_reliability()
    if full is not None:
        result = full(instrument, frame)
        return "mes.reliability", {s: _clean(r.to_dict()) for s, r in result.items()}
    return "minimal", _minimal(instrument, frame)


def library_reliability() -> Any:
    """``mes.reliability`` (the function) when the library provides it, else None."""
    full = getattr(mes, "reliability", None)
    if callable(full):
        return full
    try:  # the package before it was exported at top level
        from mes.reliability import reliability
    except ImportError:
        return None
    return reliability if callable(reliability) else None


def _minimal(instrument: mes.Instrument, frame: pd.DataFrame) -> dict[str, Any]:
    keyed = keyed_answers(instrument, response_matrix(instrument, frame).values)
    data = pd.DataFrame(keyed, columns=list(instrument.item_ids))
    out: dict[str, Any] = {}
    for scale_id in instrument.scale_ids:
        items = list(instrument.leaf_items(scale_id))
        sub = data[items]
        k = len(items)
        cov = sub.cov().to_numpy()  # pairwise, as psych::alpha
        total_var = float(np.nansum(cov))
        alpha = (
            (k / (k - 1)) * (1 - float(np.nansum(np.diag(cov))) / total_var)
            if (k > 1 and total_var > 0)
            else None
        )
        person = sub.mean(axis=1)
        item_stats = {}
        for item in items:
            rest = sub.drop(columns=item).mean(axis=1)
            r_drop = sub[item].corr(rest)
            item_stats[item] = {
                "n": int(sub[item].notna().sum()),
                "mean": _num(sub[item].mean()),
                "sd": _num(sub[item].std()),
                "r_drop": _num(r_drop),
            }
        out[scale_id] = {
            "alpha": _num(alpha),
            "k": k,
            "n": int(sub.notna().all(axis=1).sum()),
            "mean": _num(person.mean()),
            "sd": _num(person.std()),
            "items": item_stats,
        }
    return out


def _num(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) or math.isinf(value) else value


def _clean(value: Any) -> Any:
    """NaN/inf -> None and numpy scalars -> Python, recursively (JSON has no NaN)."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, (np.floating, float)):
        return _num(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value

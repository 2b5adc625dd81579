"""The reliability report: frozen result types that serialise to JSON-safe dicts."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["Flag", "ItemReliability", "ReliabilityReport", "ScaleReliability", "json_safe"]

ITEM_COLUMNS = ("n", "mean", "sd", "raw_r", "std_r", "r_drop", "alpha_if_dropped",
                "std_alpha_if_dropped", "missing_share")
"""The per-item figures of a frame, psych::alpha's item.stats and alpha.drop."""


def json_safe(value: Any) -> Any:
    """Convert a value to plain JSON data: NaN/inf -> None, numpy scalars -> Python.

    Mappings become dicts with string keys, tuples and arrays become lists.

    Examples
    --------
    >>> import numpy as np
    >>> from mes.reliability.report import json_safe
    >>> json_safe({1: np.float64("nan"), "n": np.int64(3), "ci": (0.1, np.inf)})
    {'1': None, 'n': 3, 'ci': [0.1, None]}
    """
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return [json_safe(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@dataclass(frozen=True)
class Flag:
    """A problem worth a reader's attention, in plain language.

    Attributes
    ----------
    code : str
        Stable identifier for programs: ``low_alpha``, ``negative_r_drop``,
        ``zero_variance``, ``unanswered_item``, ``too_few_items``,
        ``alpha_if_dropped_undefined``, ``too_few_respondents``,
        ``no_shared_respondents``, ``redundant_item``, ``heywood_case``,
        ``omega_not_converged`` (see :mod:`mes.reliability.flags`).
    message : str
        What was found and what it means, for a deanery analyst.
    item : str or None
        The item concerned, for item-level flags.
    """

    code: str
    message: str
    item: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict (``item`` omitted for scale-level flags).

        Examples
        --------
        >>> from mes.reliability.report import Flag
        >>> Flag("zero_variance", "Everyone gave the same answer.", item="q3").to_dict()
        {'code': 'zero_variance', 'message': 'Everyone gave the same answer.', 'item': 'q3'}
        """
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.item is not None:
            out["item"] = self.item
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Flag:
        """The flag back from :meth:`to_dict`."""
        return cls(str(data["code"]), str(data["message"]), data.get("item"))


@dataclass(frozen=True)
class ItemReliability:
    """Statistics of one item within a scale (``psych::alpha`` item.stats and alpha.drop).

    Attributes
    ----------
    item : str
    n : int
        Respondents who answered the item (listwise: complete cases of the scale).
    mean, sd : float
        Of the keyed answers (sd with denominator n - 1).
    raw_r : float
        Correlation of the item with the scale total (mean of answered items),
        not corrected for overlap (psych ``raw.r``).
    std_r : float
        The same if all items were standardised (psych ``std.r``).
    r_drop : float
        Correlation of the item with the rest of the scale (psych ``r.drop``);
        negative suggests a miskeyed item.
    alpha_if_dropped, std_alpha_if_dropped : float
        Raw and standardised alpha of the scale without this item; NaN for a
        two-item scale (undefined).
    response_freq : mapping of int -> float
        Share of the item's answers at each keyed value of the response scale.
    missing_share : float
        Share of the respondents analysed who did not answer the item.
    """

    item: str
    n: int
    mean: float
    sd: float
    raw_r: float
    std_r: float
    r_drop: float
    alpha_if_dropped: float
    std_alpha_if_dropped: float
    response_freq: Mapping[int, float] = field(default_factory=dict)
    missing_share: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict; NaN becomes None and response values become string keys.

        Examples
        --------
        >>> from mes.reliability.report import ItemReliability
        >>> ItemReliability("q1", 3, 2.0, 1.0, 0.5, 0.5, float("nan"), float("nan"),
        ...                 float("nan"), {1: 1 / 3}).to_dict()["r_drop"] is None
        True
        """
        return json_safe({
            "item": self.item,
            "n": self.n,
            "mean": self.mean,
            "sd": self.sd,
            "raw_r": self.raw_r,
            "std_r": self.std_r,
            "r_drop": self.r_drop,
            "alpha_if_dropped": self.alpha_if_dropped,
            "std_alpha_if_dropped": self.std_alpha_if_dropped,
            "response_freq": dict(self.response_freq),
            "missing_share": self.missing_share,
        })

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ItemReliability:
        """The item back from :meth:`to_dict` (None becomes NaN again)."""
        return cls(
            item=str(data["item"]), n=int(data["n"]),
            **{name: _float(data.get(name)) for name in (
                "mean", "sd", "raw_r", "std_r", "r_drop", "alpha_if_dropped",
                "std_alpha_if_dropped", "missing_share")},
            response_freq={int(k): _float(v) for k, v in (data.get("response_freq") or {}).items()},
        )


@dataclass(frozen=True)
class ScaleReliability:
    """Reliability of one scale, with the figures of ``psych::alpha``.

    Attributes
    ----------
    scale : str
        Scale id.
    n : int
        Respondents analysed: who answered at least one of the scale's items
        (pairwise), or every item (listwise). The Feldt interval and the ASE use it.
    k : int
        Items analysed (zero-variance items are left out, as psych does).
    alpha, alpha_ci : float, (float, float)
        Cronbach's alpha from the covariance matrix and its Feldt interval.
    ci : float
        Coverage of ``alpha_ci``.
    std_alpha, g6, average_r, median_r, signal_noise, ase : float
        Standardised alpha, Guttman's lambda 6 (smc), mean and median inter-item
        correlation, signal/noise ratio, Duhachek-Iacobucci standard error.
    mean, sd : float
        Over respondents, of the mean of their answered keyed items.
    omega_total : float
        McDonald's omega total, one-factor model.
    nan_policy : str
        ``"pairwise"`` or ``"listwise"``.
    items : mapping of item id -> ItemReliability
    flags : tuple of Flag
    """

    scale: str
    n: int
    k: int
    alpha: float
    alpha_ci: tuple[float, float]
    ci: float
    std_alpha: float
    g6: float
    average_r: float
    median_r: float
    signal_noise: float
    ase: float
    mean: float
    sd: float
    omega_total: float
    nan_policy: str
    items: Mapping[str, ItemReliability] = field(default_factory=dict)
    flags: tuple[Flag, ...] = ()

    def items_frame(self) -> pd.DataFrame:
        """One row per item, indexed by item id: psych's ``item.stats`` and ``alpha.drop``.

        Examples
        --------
        >>> import mes
        >>> from mes.reliability import reliability
        >>> inst = mes.load_instrument("uwes9")
        >>> answers = {f"uwes{i}": [1, 2, 3, 4, 6, 5, 2][i % 3:] + [3] * (i % 3)
        ...            for i in range(1, 10)}
        >>> frame = reliability(inst, answers, scales="vigour")["vigour"].items_frame()
        >>> list(frame.index), list(frame.columns[:4])
        (['uwes1', 'uwes2', 'uwes5'], ['n', 'mean', 'sd', 'raw_r'])
        """
        frame = pd.DataFrame(
            [[getattr(stats, name) for name in ITEM_COLUMNS] for stats in self.items.values()],
            index=pd.Index(list(self.items), name="item"),
            columns=list(ITEM_COLUMNS),
        )
        return frame.astype({"n": "int64"})

    def hide_rare_items(self, threshold: int) -> ScaleReliability:
        """A copy without the statistics of items that 1 to ``threshold - 1`` respondents
        answered: their mean, SD, correlations and response frequencies describe those
        few (NaN; the item's ``n`` stays, a count of who answered, not what).

        Examples
        --------
        >>> import numpy as np
        >>> import mes
        >>> from mes.reliability import reliability
        >>> inst = mes.load_instrument("uwes9")
        >>> answers = np.tile([[3.0] * 9, [4.0] * 9, [5.0] * 9], (8, 1))
        >>> answers[3:, 0] = np.nan  # uwes1 answered by 3 of 24
        >>> report = reliability(inst, answers, scales="vigour", errors="missing")["vigour"]
        >>> item = report.hide_rare_items(10).items["uwes1"]
        >>> item.n, item.mean, item.r_drop
        (3, nan, nan)
        """
        items = {}
        for item_id, item in self.items.items():
            if 0 < item.n < threshold:
                item = replace(
                    item, mean=math.nan, sd=math.nan, raw_r=math.nan, std_r=math.nan,
                    r_drop=math.nan, response_freq=dict.fromkeys(item.response_freq, math.nan))
            items[item_id] = item
        return replace(self, items=items)

    def hide_frequencies(self, threshold: int | None) -> ScaleReliability:
        """A copy whose response frequencies describe no few respondents.

        Parameters
        ----------
        threshold : int or None
            ``k``: a value given by 1 to ``k - 1`` of an item's respondents has its share
            hidden (NaN), and so has the smallest value shown while the hidden ones hold
            1 to ``k - 1`` together (their total follows from the item's ``n``). None
            hides every frequency.

        Returns
        -------
        ScaleReliability

        Examples
        --------
        >>> import numpy as np
        >>> import mes
        >>> from mes.reliability import reliability
        >>> inst = mes.load_instrument("uwes9")
        >>> answers = np.tile([[3.0] * 9, [4.0] * 9, [5.0] * 9], (8, 1))
        >>> answers[0] = 0.0
        >>> item = reliability(inst, answers, scales="vigour")["vigour"]
        >>> {v: round(f, 3) for v, f in item.items["uwes1"].response_freq.items() if f}
        {0: 0.042, 3: 0.292, 4: 0.333, 5: 0.333}
        >>> shown = item.hide_frequencies(5).items["uwes1"].response_freq
        >>> {v: None if np.isnan(f) else round(f, 3) for v, f in shown.items() if f != 0}
        {0: None, 3: None, 4: 0.333, 5: 0.333}
        """
        items = {}
        for item_id, item in self.items.items():
            answered = round(self.n * (1.0 - item.missing_share)) if self.n else 0
            values = list(item.response_freq)
            counts = np.array([round(item.response_freq[v] * answered)
                               if math.isfinite(item.response_freq[v]) else 0 for v in values])
            hidden = (counts > 0) if threshold is None else (counts > 0) & (counts < threshold)
            while threshold is not None and 0 < counts[hidden].sum() < threshold:
                shown = np.flatnonzero(~hidden & (counts > 0))
                if not shown.size:
                    break
                hidden[shown[np.argmin(counts[shown])]] = True
            freq = {v: math.nan if hidden[i] else item.response_freq[v]
                    for i, v in enumerate(values)}
            items[item_id] = replace(item, response_freq=freq)
        return replace(self, items=items)

    def flag_codes(self) -> list[str]:
        """Codes of the flags, in order (convenient for tests and filters).

        Examples
        --------
        >>> import mes
        >>> from mes.reliability import reliability
        >>> inst = mes.load_instrument("uwes9")
        >>> answers = {f"uwes{i}": [1, 2, 3, 3, 5] for i in range(1, 10)}
        >>> answers["uwes2"] = [2, 2, 4, 3, 4]
        >>> reliability(inst, answers, scales="vigour")["vigour"].flag_codes()
        ['too_few_respondents', 'redundant_item', 'redundant_item']
        """
        return [f.code for f in self.flags]

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict: ``json.dumps(r.to_dict(), allow_nan=False)`` always works.

        Examples
        --------
        >>> import json, mes
        >>> inst = mes.load_instrument("uwes9")
        >>> answers = {f"uwes{i}": [1, 2, 3, 4, 5, 6] for i in range(1, 10)}
        >>> from mes.reliability import reliability
        >>> report = reliability(inst, answers, scales=["vigour"])["vigour"]
        >>> sorted(json.loads(json.dumps(report.to_dict(), allow_nan=False)))[:3]
        ['alpha', 'alpha_ci', 'ase']
        """
        return {
            **json_safe({
                "scale": self.scale,
                "n": self.n,
                "k": self.k,
                "alpha": self.alpha,
                "alpha_ci": list(self.alpha_ci),
                "ci": self.ci,
                "std_alpha": self.std_alpha,
                "g6": self.g6,
                "average_r": self.average_r,
                "median_r": self.median_r,
                "signal_noise": self.signal_noise,
                "ase": self.ase,
                "mean": self.mean,
                "sd": self.sd,
                "omega_total": self.omega_total,
                "nan_policy": self.nan_policy,
            }),
            "items": {item_id: stats.to_dict() for item_id, stats in self.items.items()},
            "flags": [f.to_dict() for f in self.flags],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ScaleReliability:
        """The report back from :meth:`to_dict` (a stored release), None as NaN again.

        Examples
        --------
        >>> import mes
        >>> from mes.reliability import reliability
        >>> from mes.reliability.report import ScaleReliability
        >>> inst = mes.load_instrument("uwes9")
        >>> answers = {f"uwes{i}": [1, 2, 3, 4, 6, 5, 2][i % 3:] + [3] * (i % 3)
        ...            for i in range(1, 10)}
        >>> r = reliability(inst, answers, scales=["vigour"])["vigour"]
        >>> ScaleReliability.from_dict(r.to_dict()).to_dict() == r.to_dict()
        True
        """
        ci = data.get("alpha_ci") or [None, None]
        return cls(
            scale=str(data["scale"]), n=int(data["n"]), k=int(data["k"]),
            alpha=_float(data.get("alpha")), alpha_ci=(_float(ci[0]), _float(ci[1])),
            ci=_float(data.get("ci")),
            **{name: _float(data.get(name)) for name in (
                "std_alpha", "g6", "average_r", "median_r", "signal_noise", "ase", "mean",
                "sd", "omega_total")},
            nan_policy=str(data.get("nan_policy", "pairwise")),
            items={k: ItemReliability.from_dict(v) for k, v in (data.get("items") or {}).items()},
            flags=tuple(Flag.from_dict(f) for f in data.get("flags") or ()),
        )


class ReliabilityReport(dict[str, ScaleReliability]):
    """Reliability of each scale, by scale id (a dict), with the two tables people read.

    :meth:`to_frame` has one row per scale (what ``psych::alpha`` prints as
    ``total`` and its confidence boundaries, plus omega and the flags);
    :meth:`items_frame` one row per scale and item.

    Examples
    --------
    >>> import mes
    >>> from mes.reliability import reliability
    >>> inst = mes.load_instrument("uwes9")
    >>> answers = {f"uwes{i}": [1, 2, 3, 4, 6, 5, 2][i % 3:] + [3] * (i % 3)
    ...            for i in range(1, 10)}
    >>> report = reliability(inst, answers)
    >>> report.to_frame()[["k", "alpha"]].round(3).loc["vigour"].tolist()
    [3.0, 0.778]
    >>> report.items_frame().loc["vigour"].shape
    (3, 9)
    """

    def to_frame(self) -> pd.DataFrame:
        """One row per scale, indexed by scale id."""
        rows = [
            {
                "n": r.n, "k": r.k, "alpha": r.alpha, "alpha_ci_lower": r.alpha_ci[0],
                "alpha_ci_upper": r.alpha_ci[1], "std_alpha": r.std_alpha, "g6": r.g6,
                "omega_total": r.omega_total, "average_r": r.average_r,
                "median_r": r.median_r, "signal_noise": r.signal_noise, "ase": r.ase,
                "mean": r.mean, "sd": r.sd, "flags": ", ".join(r.flag_codes()),
            }
            for r in self.values()
        ]
        return pd.DataFrame(rows, index=pd.Index(list(self), name="scale"))

    def items_frame(self) -> pd.DataFrame:
        """One row per scale and item (index: ``scale``, ``item``)."""
        frames = {scale: r.items_frame() for scale, r in self.items()}
        if not frames:
            return pd.DataFrame(columns=list(ITEM_COLUMNS))
        return pd.concat(frames, names=["scale", "item"])


def _float(value: Any) -> float:
    return math.nan if value is None else float(value)

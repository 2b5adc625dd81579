"""Comparison sets for benchmarks: norm-table files and lists of organisation means.

A comparison set holds, per scale, one value per organisation (an organisation's
mean score, or its mean percent score). Benchmarks (:mod:`mes.groups.benchmarks`)
place a group's mean within it.

Norm-table file format
----------------------
Either CSV or YAML (chosen by the suffix ``.csv`` / ``.yaml`` / ``.yml``).

CSV, long format, one row per organisation and scale, UTF-8, comma separated::

    organisation,scale,mean
    Trust A,index,3.71
    Trust A,climate_for_positive_change,3.55
    Trust B,index,3.42

* ``organisation`` (text) and ``scale`` (a scale id of the instrument) are
  required, as is exactly one value column: ``mean`` (scores on the
  instrument's own metric) or ``percent`` (the 0-100 percent metric).
* An organisation appears at most once per scale. Empty values are left out.
* Lines starting with ``#`` are comments.

YAML::

    instrument: mes            # optional: refused when it does not match the report
    metric: mean               # mean (default) or percent
    source: "MES national comparison, 2024 wave"   # optional, shown with every benchmark
    organisations:
      Trust A: {index: 3.71, climate_for_positive_change: 3.55}
      Trust B: {index: 3.42}

Benchmarks refuse a comparison set of fewer than five organisations for a scale
(:data:`mes.groups.benchmarks.MIN_ORGANISATIONS`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import yaml

from mes.errors import MesError

__all__ = ["ComparisonSet", "NormTableError", "load_norm_table"]

Metric = Literal["mean", "percent"]


class NormTableError(MesError, ValueError):
    """A norm table is malformed; the message names the file, the place and the fix."""


@dataclass(frozen=True)
class ComparisonSet:
    """Per scale, one value per organisation.

    Attributes
    ----------
    values : dict of str -> dict of str -> float
        scale id -> organisation -> value.
    metric : {"mean", "percent"}
        Whether the values are mean scores or mean percent scores.
    instrument : str or None
        Instrument id the values belong to, when known.
    source : str or None
        Where the values come from (shown with every benchmark).

    Examples
    --------
    >>> from mes.groups import ComparisonSet
    >>> cs = ComparisonSet.from_means({"A": {"index": 3.1}, "B": {"index": 3.6}})
    >>> cs.size("index")
    2
    """

    values: dict[str, dict[str, float]]
    metric: Metric = "mean"
    instrument: str | None = None
    source: str | None = None
    _sorted: dict[str, np.ndarray] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.metric not in ("mean", "percent"):
            raise NormTableError(f"metric must be 'mean' or 'percent', got {self.metric!r}")
        for scale, orgs in self.values.items():
            for org, value in orgs.items():
                if not isinstance(value, (int, float)) or not math.isfinite(value):
                    raise NormTableError(
                        f"comparison set: value of {org!r} on scale {scale!r} must be a finite "
                        f"number, got {value!r}"
                    )
            self._sorted[scale] = np.sort(np.array(list(orgs.values()), dtype=np.float64))

    @property
    def scales(self) -> tuple[str, ...]:
        """Scales with at least one organisation."""
        return tuple(s for s, v in self.values.items() if v)

    def size(self, scale: str) -> int:
        """Organisations with a value on ``scale`` (0 when the scale is absent)."""
        return len(self.values.get(scale, {}))

    def sample(self, scale: str, exclude: str | None = None) -> np.ndarray:
        """Sorted values on ``scale``, optionally without organisation ``exclude``."""
        if exclude is not None and exclude in self.values.get(scale, {}):
            others = [v for o, v in self.values[scale].items() if o != exclude]
            return np.sort(np.array(others, dtype=np.float64))
        return self._sorted.get(scale, np.zeros(0))

    @classmethod
    def from_means(
        cls,
        means: Mapping[str, Mapping[str, float]] | pd.DataFrame,
        *,
        metric: Metric = "mean",
        instrument: str | None = None,
        source: str | None = None,
    ) -> ComparisonSet:
        """Build a comparison set from organisation means.

        Parameters
        ----------
        means : mapping or DataFrame
            ``{organisation: {scale: value}}``, or a DataFrame indexed by
            organisation with one column per scale (NaN = no value).
        metric, instrument, source
            See the class attributes.

        Returns
        -------
        ComparisonSet

        Examples
        --------
        >>> from mes.groups import ComparisonSet
        >>> cs = ComparisonSet.from_means({f"T{i}": {"index": 3 + i / 10} for i in range(6)})
        >>> cs.size("index"), cs.sample("index", exclude="T0").tolist()[:2]
        (6, [3.1, 3.2])
        """
        if isinstance(means, pd.DataFrame):
            means = {str(org): {str(s): float(v) for s, v in row.items() if pd.notna(v)}
                     for org, row in means.iterrows()}
        by_scale: dict[str, dict[str, float]] = {}
        for org, per_scale in means.items():
            if not isinstance(per_scale, Mapping):
                raise NormTableError(
                    f"organisation {org!r}: expected a mapping of scale -> value, got "
                    f"{type(per_scale).__name__}"
                )
            for scale, value in per_scale.items():
                if value is None or (isinstance(value, float) and math.isnan(value)):
                    continue
                by_scale.setdefault(str(scale), {})[str(org)] = _number(value, org, scale)
        return cls(by_scale, metric=metric, instrument=instrument, source=source)

    @classmethod
    def from_values(
        cls,
        values: Mapping[str, Any],
        *,
        metric: Metric = "mean",
        instrument: str | None = None,
        source: str | None = None,
    ) -> ComparisonSet:
        """Build a comparison set from anonymous lists: ``{scale: [value, ...]}``.

        Examples
        --------
        >>> from mes.groups import ComparisonSet
        >>> ComparisonSet.from_values({"index": [3.2, 3.4, 3.5]}).size("index")
        3
        """
        out = {str(s): {f"#{i + 1}": _number(v, f"#{i + 1}", s) for i, v in enumerate(vals)}
               for s, vals in values.items()}
        return cls(out, metric=metric, instrument=instrument, source=source)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe summary: metric, source, instrument and the size per scale."""
        return {"metric": self.metric, "source": self.source, "instrument": self.instrument,
                "sizes": {s: self.size(s) for s in self.values}}


def _number(value: Any, org: Any, scale: Any) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise NormTableError(
            f"organisation {org!r}, scale {scale!r}: {value!r} is not a number"
        ) from None
    if not math.isfinite(x):
        raise NormTableError(f"organisation {org!r}, scale {scale!r}: {value!r} is not finite")
    return x


def load_norm_table(path: str | Path) -> ComparisonSet:
    """Read a norm table (CSV or YAML; format in the module docstring).

    Parameters
    ----------
    path : str or Path
        ``.csv``, ``.yaml`` or ``.yml``.

    Returns
    -------
    ComparisonSet

    Raises
    ------
    NormTableError
        Naming the file, the line or key, and the fix.
    FileNotFoundError

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from mes.groups import load_norm_table
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "norms.csv"
    >>> _ = p.write_text("organisation,scale,mean\\nA,index,3.4\\nB,index,3.9\\n")
    >>> load_norm_table(p).size("index")
    2
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{p}: no such norm-table file")
    suffix = p.suffix.lower()
    if suffix == ".csv":
        return _load_csv(p)
    if suffix in (".yaml", ".yml"):
        return _load_yaml(p)
    raise NormTableError(f"{p}: unknown norm-table format {suffix!r}; use .csv, .yaml or .yml")


def _load_csv(p: Path) -> ComparisonSet:
    try:
        frame = pd.read_csv(p, comment="#", dtype={"organisation": str, "scale": str},
                            skipinitialspace=True)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise NormTableError(f"{p}: cannot read as CSV ({exc}). Fix: see docs/norm-tables.md") \
            from None
    columns = [str(c).strip() for c in frame.columns]
    frame.columns = columns
    value_cols = [c for c in ("mean", "percent") if c in columns]
    missing = [c for c in ("organisation", "scale") if c not in columns]
    if missing or len(value_cols) != 1:
        raise NormTableError(
            f"{p}: header must have 'organisation', 'scale' and exactly one of 'mean' or "
            f"'percent'; found {', '.join(columns)}"
        )
    metric: Metric = "mean" if value_cols[0] == "mean" else "percent"
    out: dict[str, dict[str, float]] = {}
    for i, row in enumerate(frame.itertuples(index=False)):
        rec = dict(zip(columns, row, strict=True))
        line = i + 2
        org, scale, value = rec["organisation"], rec["scale"], rec[metric]
        if pd.isna(value):
            continue
        if pd.isna(org) or pd.isna(scale):
            raise NormTableError(f"{p}, row {line}: organisation and scale must not be empty")
        try:
            x = float(value)
        except ValueError:
            raise NormTableError(f"{p}, row {line}: {metric} {value!r} is not a number") from None
        if not math.isfinite(x):
            raise NormTableError(f"{p}, row {line}: {metric} {value!r} is not finite")
        per = out.setdefault(str(scale).strip(), {})
        if str(org) in per:
            raise NormTableError(
                f"{p}, row {line}: organisation {org!r} appears twice for scale {scale!r}; "
                "keep one row per organisation and scale"
            )
        per[str(org)] = x
    return ComparisonSet(out, metric=metric, source=p.name)


def _load_yaml(p: Path) -> ComparisonSet:
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise NormTableError(f"{p}: not valid YAML ({exc})") from None
    if not isinstance(data, Mapping) or not isinstance(data.get("organisations"), Mapping):
        raise NormTableError(
            f"{p}: expected a mapping with 'organisations: {{name: {{scale: value}}}}' "
            "(see docs/norm-tables.md)"
        )
    unknown = set(data) - {"instrument", "metric", "source", "organisations"}
    if unknown:
        raise NormTableError(f"{p}: unknown key(s) {', '.join(sorted(map(str, unknown)))}")
    metric = data.get("metric", "mean")
    if metric not in ("mean", "percent"):
        raise NormTableError(f"{p}: metric must be 'mean' or 'percent', got {metric!r}")
    try:
        return ComparisonSet.from_means(
            data["organisations"], metric=metric,
            instrument=None if data.get("instrument") is None else str(data["instrument"]),
            source=str(data.get("source") or p.name),
        )
    except NormTableError as exc:
        raise NormTableError(f"{p}: {exc}") from None

"""Axis ticks at round values ("nice numbers"): 0, 10, 20 ... rather than 47.1892.

A reader compares a bar with the gridlines, so the gridlines must sit at values
that need no arithmetic: a step of 1, 2 or 5 times a power of ten (Heckbert,
"Nice numbers for graph labels", Graphics Gems, 1990), with the axis widened to
the nearest such multiples on either side of the data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["Ticks", "format_number", "nice_ticks"]

_MANTISSAS = (1.0, 2.0, 5.0)


@dataclass(frozen=True)
class Ticks:
    """Round tick values from ``lo`` to ``hi`` in steps of ``step``.

    Attributes
    ----------
    lo, hi : float
        The axis range: multiples of ``step`` covering the data.
    step : float
        1, 2 or 5 times a power of ten.

    Examples
    --------
    >>> Ticks(0.0, 50.0, 10.0).values
    [0.0, 10.0, 20.0, 30.0, 40.0, 50.0]
    >>> Ticks(-0.2, 0.4, 0.2).labels("")
    ['-0.2', '0.0', '0.2', '0.4']
    """

    lo: float
    hi: float
    step: float

    @property
    def values(self) -> list[float]:
        """Every tick, ``lo`` and ``hi`` included."""
        count = round((self.hi - self.lo) / self.step)
        return [_snap(self.lo + i * self.step, self.step) for i in range(count + 1)]

    @property
    def decimals(self) -> int:
        """Decimals a label needs to show the step (0 for 10, 1 for 0.2)."""
        return _decimals(self.step)

    def labels(self, unit: str = "") -> list[str]:
        """Tick labels, with ``unit`` appended (``"%"``)."""
        return [format_number(v, self.decimals) + unit for v in self.values]


def _decimals(step: float) -> int:
    return max(0, -math.floor(math.log10(step) + 1e-9))


def _snap(value: float, step: float) -> float:
    # Repeated addition of 0.1 gives 0.30000000000000004: round to the step's decimals
    # (and turn -0.0 into 0.0).
    return round(value, _decimals(step) + 1) + 0.0


def format_number(value: float, decimals: int) -> str:
    """``value`` with ``decimals`` decimals, never as ``-0``.

    Examples
    --------
    >>> format_number(-0.0001, 2), format_number(12.5, 0), format_number(-0.25, 2)
    ('0.00', '12', '-0.25')
    """
    text = f"{value:.{decimals}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def nice_ticks(lo: float, hi: float, *, max_intervals: int = 10) -> Ticks:
    """The finest round ticks covering ``lo`` to ``hi`` in at most ``max_intervals`` steps.

    Parameters
    ----------
    lo, hi : float
        The data range (``hi`` greater than ``lo``).
    max_intervals : int
        Most gaps between ticks: what fits across the plot without labels
        touching.

    Returns
    -------
    Ticks
        Its ``lo`` and ``hi`` are the data range widened to multiples of the step.

    Raises
    ------
    ValueError
        If ``hi`` is not greater than ``lo``, either is not finite, or
        ``max_intervals`` is below 1.

    Examples
    --------
    >>> nice_ticks(0, 47.1892, max_intervals=5)
    Ticks(lo=0.0, hi=50.0, step=10.0)
    >>> nice_ticks(0, 100).values[:3]
    [0.0, 10.0, 20.0]
    >>> nice_ticks(-0.23, 0.41, max_intervals=8)
    Ticks(lo=-0.3, hi=0.5, step=0.1)
    """
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError(f"lo and hi must be finite numbers; got {lo} and {hi}")
    if hi <= lo:
        raise ValueError(f"hi ({hi}) must be greater than lo ({lo})")
    if max_intervals < 1:
        raise ValueError(f"max_intervals must be at least 1; got {max_intervals}")
    exponent = math.floor(math.log10((hi - lo) / max_intervals))
    while True:
        for mantissa in _MANTISSAS:
            step = mantissa * 10.0**exponent
            first = math.floor(lo / step + 1e-9) * step
            last = math.ceil(hi / step - 1e-9) * step
            if round((last - first) / step) <= max_intervals:
                return Ticks(_snap(first, step), _snap(last, step), step)
        exponent += 1

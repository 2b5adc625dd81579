"""Colours that a colour-blind reader and a greyscale printer can still tell apart.

About one man in twelve does not see red and green as different colours, and
reports are often printed in black and white, so colour never carries meaning
on its own here: every coloured mark also has a text label. The colours are
chosen so that they still help where they are seen:

* single-series marks and "up/down" use the Okabe & Ito (2008) palette, built
  to stay distinct under the common colour-vision deficiencies;
* ordered bands (lowest ... highest) use ColorBrewer's diverging RdBu scheme
  (Brewer, colorbrewer2.org), marked colour-blind safe and print friendly: the
  ends differ in lightness as well as hue, so the order survives greyscale.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "BAND_COLOURS",
    "DECREASE",
    "INCREASE",
    "NO_BAND",
    "OKABE_ITO",
    "SERIES",
    "band_colours",
    "contrast_ratio",
    "luminance",
    "text_colour_on",
]

OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky blue": "#56B4E9",
    "bluish green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish purple": "#CC79A7",
}
"""Okabe M, Ito K (2008). Color universal design (CUD): how to make figures and
presentations that are friendly to colorblind people. jfly.uni-koeln.de/color."""

SERIES = OKABE_ITO["blue"]
"""A bar or line that stands for one series: nothing to tell apart."""

INCREASE = OKABE_ITO["blue"]
DECREASE = OKABE_ITO["vermillion"]
NO_BAND = "#8c8c8c"
"""A bar without a benchmark band in a chart where the others have one."""

# ColorBrewer RdBu, n classes from the low (red) end to the high (blue) end.
_RDBU: dict[int, tuple[str, ...]] = {
    2: ("#ef8a62", "#67a9cf"),
    3: ("#ef8a62", "#f7f7f7", "#67a9cf"),
    4: ("#ca0020", "#f4a582", "#92c5de", "#0571b0"),
    5: ("#ca0020", "#f4a582", "#f7f7f7", "#92c5de", "#0571b0"),
    6: ("#b2182b", "#ef8a62", "#fddbc7", "#d1e5f0", "#67a9cf", "#2166ac"),
    7: ("#b2182b", "#ef8a62", "#fddbc7", "#f7f7f7", "#d1e5f0", "#67a9cf", "#2166ac"),
    8: ("#b2182b", "#d6604d", "#f4a582", "#fddbc7", "#d1e5f0", "#92c5de", "#4393c3",
        "#2166ac"),
    9: ("#b2182b", "#d6604d", "#f4a582", "#fddbc7", "#f7f7f7", "#d1e5f0", "#92c5de",
        "#4393c3", "#2166ac"),
}

BAND_COLOURS = dict(zip(("lowest", "low", "medium", "high", "highest"), _RDBU[5], strict=True))
"""The default benchmark bands (quintiles of the percentile rank), lowest to highest."""


def band_colours(labels: Sequence[str]) -> dict[str, str]:
    """A diverging colour for each of ``labels``, given from the lowest band to the highest.

    Parameters
    ----------
    labels : sequence of str
        Band labels in order; any number (beyond nine, colours are interpolated
        between ColorBrewer's nine-class steps).

    Returns
    -------
    dict of str -> str
        Label to ``#rrggbb``, in the order given.

    Raises
    ------
    ValueError
        If a label is repeated.

    Examples
    --------
    >>> band_colours(["below", "above"])
    {'below': '#ef8a62', 'above': '#67a9cf'}
    >>> band_colours(["lowest", "low", "medium", "high", "highest"]) == BAND_COLOURS
    True
    """
    if len(set(labels)) != len(labels):
        raise ValueError(f"band labels must be distinct; got {list(labels)}")
    if len(labels) <= 1:
        return dict.fromkeys(labels, _RDBU[3][1])
    colours = _RDBU.get(len(labels)) or _interpolate(_RDBU[9], len(labels))
    return dict(zip(labels, colours, strict=True))


def _interpolate(stops: Sequence[str], n: int) -> tuple[str, ...]:
    """``n`` colours evenly spaced along the piecewise-linear path through ``stops``."""
    rgb = [_rgb(s) for s in stops]
    out = []
    for i in range(n):
        at = i * (len(rgb) - 1) / (n - 1)
        j = min(int(at), len(rgb) - 2)
        f = at - j
        mixed = (round(a + (b - a) * f) for a, b in zip(rgb[j], rgb[j + 1], strict=True))
        out.append("#{:02x}{:02x}{:02x}".format(*mixed))
    return tuple(out)


def _rgb(colour: str) -> tuple[int, int, int]:
    if len(colour) != 7 or not colour.startswith("#"):
        raise ValueError(f"colour must be '#rrggbb'; got {colour!r}")
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def luminance(colour: str) -> float:
    """WCAG 2 relative luminance of ``#rrggbb`` (0 black, 1 white).

    Examples
    --------
    >>> luminance("#000000"), luminance("#ffffff")
    (0.0, 1.0)
    """
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in _rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def text_colour_on(fill: str) -> str:
    """Black or white, whichever contrasts more with ``fill`` (WCAG 2 contrast ratio).

    Examples
    --------
    >>> text_colour_on("#0571b0"), text_colour_on("#f7f7f7")
    ('#ffffff', '#000000')
    """
    black, white = "#000000", "#ffffff"
    return black if contrast_ratio(fill, black) >= contrast_ratio(fill, white) else white


def contrast_ratio(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two colours, 1 (none) to 21 (black on white).

    Examples
    --------
    >>> round(contrast_ratio("#000000", "#ffffff"), 1)
    21.0
    """
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)

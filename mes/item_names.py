"""Which column names look like item ids, and which item a misspelt one probably means.

A responses file names its item columns by item id; the usual mistakes are a
different case (``MES03``), a number without its leading zero (``mes3``), a
number the instrument does not have (``mes31``) and a letter dropped or
swapped (``mse03``). These rules let errors name the stray column beside the
item it probably is, and let ``strict`` refuse item-like columns while keeping
attribute columns such as ``site``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from functools import lru_cache

__all__ = ["item_like_columns", "probable_item"]

_STEM_NUMBER = re.compile(r"^([A-Za-z_]+?)[_.-]?(\d+)$")
_CLOSE = 0.75
"""difflib similarity at which two names are taken for the same (as in 'mes03' / 'mse03')."""


def probable_item(column: str, items: Sequence[str]) -> str | None:
    """The item id that ``column`` most probably means, or None.

    Same name but for case first; then the same letters and the same number
    (``mes3`` is ``mes03``; ``mes31`` is no item when the instrument has no
    31st); then the closest name by difflib similarity (at least 0.75), for
    names that are not letters-and-number.

    Parameters
    ----------
    column : str
        A column name that is not an item id.
    items : sequence of str
        The instrument's item ids.

    Returns
    -------
    str or None

    Examples
    --------
    >>> from mes.item_names import probable_item
    >>> items = [f"mes{i:02d}" for i in range(1, 31)]
    >>> probable_item("MES3", items), probable_item("mes31", items), probable_item("mse03", items)
    ('mes03', None, 'mes03')
    """
    lowered = {i.lower(): i for i in items}
    name = column.lower()
    if name in lowered:
        return lowered[name]
    parts = _STEM_NUMBER.match(name)
    if parts is not None:
        for item in items:
            other = _STEM_NUMBER.match(item.lower())
            if (other is not None and other.group(1) == parts.group(1)
                    and int(other.group(2)) == int(parts.group(2))):
                return item
        if _stem_of_items(parts.group(1), items):
            return None
    match = difflib.get_close_matches(name, list(lowered), n=1, cutoff=_CLOSE)
    return lowered[match[0]] if match else None


def item_like_columns(items: Sequence[str], columns: Sequence[str]) -> list[str]:
    """The columns, none of them an item, that look like item ids (probable typos).

    A column looks like an item when :func:`probable_item` finds the item it
    means, or when it is an item id's letters followed by another number
    (``mes31`` beside ``mes01`` ... ``mes30``). Attribute columns such as
    ``site`` or ``grade`` do not.

    Parameters
    ----------
    items : sequence of str
        The instrument's item ids.
    columns : sequence of str
        Column names that are not item ids.

    Returns
    -------
    list of str
        In the order given.

    Examples
    --------
    >>> from mes.item_names import item_like_columns
    >>> items = [f"mes{i:02d}" for i in range(1, 31)]
    >>> item_like_columns(items, ["site", "mes3", "MES04", "mes31", "grade", "respondnt"])
    ['mes3', 'MES04', 'mes31']
    """
    every = tuple(items)
    return [column for column in map(str, columns) if _looks_like_item(every, column)]


# Every submitted batch asks this of its attribute names (site, grade, ...): the same few
# names against the same items, and difflib is slow, so the answers are remembered.
@lru_cache(maxsize=4096)
def _looks_like_item(items: tuple[str, ...], column: str) -> bool:
    parts = _STEM_NUMBER.match(column.lower())
    return probable_item(column, items) is not None or (
        parts is not None and _stem_of_items(parts.group(1), items))


def _stem_of_items(stem: str, items: Sequence[str]) -> bool:
    """Whether some item id is ``stem`` followed by a number (case ignored)."""
    return any((m := _STEM_NUMBER.match(i.lower())) is not None and m.group(1) == stem
               for i in items)

"""Exceptions raised by :mod:`mes`.

Every exception says what was wrong, where, and how to fix it. They subclass
:class:`ValueError` as well as :class:`MesError` so that callers who only know
the standard library can still catch them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mes.item_names import probable_item

__all__ = [
    "InstrumentError",
    "InstrumentProblem",
    "InvalidResponsesError",
    "MesError",
    "ResponseColumnsError",
    "ResponseProblem",
]


class MesError(Exception):
    """Base class of every error :mod:`mes` raises on purpose."""


def bullet_list(problems: Sequence[object], limit: int = 20) -> str:
    """The first ``limit`` problems as an indented bullet list, with a count of the rest."""
    shown = [f"  - {p}" for p in problems[:limit]]
    if len(problems) > limit:
        shown.append(f"  ... and {len(problems) - limit} more (see .problems)")
    return "\n".join(shown)


@dataclass(frozen=True)
class InstrumentProblem:
    """One broken rule in an instrument definition.

    Attributes
    ----------
    path : str
        Where inside the definition, as a dotted path (``scales[2].items``).
    message : str
        What is wrong.
    fix : str
        How to fix it.
    """

    path: str
    message: str
    fix: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message} Fix: {self.fix}"


class InstrumentError(MesError, ValueError):
    """An instrument definition breaks a rule of the format (:mod:`mes.instrument`).

    Attributes
    ----------
    source : str
        The file (or ``"<mapping>"`` for a definition given as data).
    problems : list of InstrumentProblem
        Every broken rule found, not just the first.
    """

    def __init__(self, source: str, problems: Sequence[InstrumentProblem]) -> None:
        self.source = source
        self.problems = list(problems)
        super().__init__(
            f"{source}: invalid instrument definition ({len(self.problems)} problem(s))\n"
            + bullet_list(self.problems, limit=100)
        )


@dataclass(frozen=True)
class ResponseProblem:
    """One invalid answer.

    Attributes
    ----------
    row : int
        0-based position of the respondent in the input.
    item : str
        Item id (the column).
    value : Any
        The value as it was given.
    message : str
        Why it is invalid and what is allowed.
    """

    row: int
    item: str
    value: Any
    message: str

    def __str__(self) -> str:
        return f"row {self.row}, item {self.item!r}, value {self.value!r}: {self.message}"


class InvalidResponsesError(MesError, ValueError):
    """Answers outside the response scale, non-integers or unknown codes.

    Raised by :func:`mes.score` with ``errors="raise"``. ``problems`` lists every
    invalid cell; pass ``errors="missing"`` to treat them as missing instead.
    """

    def __init__(self, problems: Sequence[ResponseProblem]) -> None:
        self.problems = list(problems)
        super().__init__(
            f"{len(self.problems)} invalid answer(s):\n"
            + bullet_list(self.problems)
            + "\nFix the values, or pass errors='missing' to score them as missing answers."
        )


def _misspelt_items(missing: Sequence[str], present: Sequence[str]) -> dict[str, str]:
    """Each missing item -> the present column that probably is it (first such column)."""
    found: dict[str, str] = {}
    for column in map(str, present):
        item = probable_item(column, missing)
        if item is not None and item not in found:
            found[item] = column
    return found


class ResponseColumnsError(MesError, ValueError):
    """The responses lack item columns, or carry item-like ones with ``strict=True``.

    Attributes
    ----------
    missing, unknown : list of str
        Item columns absent; columns that look like item ids but are not items
        (see :func:`mes.item_names.item_like_columns`).
    suggestions : dict of str -> str
        A missing item -> the column present that is probably it, misspelled
        (``mes3`` for ``mes03``).
    """

    def __init__(
        self,
        missing: Sequence[str] = (),
        unknown: Sequence[str] = (),
        others: Sequence[str] = (),
        items: Sequence[str] = (),
    ) -> None:
        self.missing = list(missing)
        self.unknown = list(unknown)
        self.suggestions = _misspelt_items(self.missing, others)
        parts = []
        if self.missing:
            typos = "".join(
                f"; is {column!r} meant to be {item!r}?"
                for item, column in self.suggestions.items()
            )
            parts.append(
                f"missing item column(s) {', '.join(map(repr, self.missing))}: every item of the "
                f"instrument needs a column (leave its cells empty where unanswered){typos}"
            )
        if self.unknown:
            meant = {c: probable_item(c, items) for c in self.unknown}
            hints = "".join(f"; is {c!r} meant to be {i!r}?" for c, i in meant.items() if i)
            parts.append(
                f"column(s) {', '.join(map(repr, self.unknown))} look like item ids but are not "
                f"items of the instrument{hints}: rename or remove them (columns that are not "
                "item-like, such as 'site', are kept as attributes)"
            )
        super().__init__("responses: " + "; ".join(parts))

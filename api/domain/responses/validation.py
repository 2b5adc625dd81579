"""Check a batch of responses against an instrument and a survey's attributes.

Every problem of every row is collected (never just the first) as a
:class:`~api.errors.FieldError`, with its CSV line when the batch came from one;
answer values are checked by the library's own
:func:`mes.responses.response_matrix` (what :func:`mes.score` runs first), so the service
accepts exactly what the library scores. Answers that arrived as JSON
numbers are converted as one matrix, in C; codes and text take the library's
text path.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

import mes
from api.domain.responses.parsing import Batch, listed
from api.errors import FieldError
from mes.instrument import EXACT_INTEGER_LIMIT
from mes.item_names import item_like_columns, probable_item
from mes.responses import response_matrix

__all__ = ["CheckedBatch", "answer_matrix", "check_batch"]


def answer_matrix(instrument: mes.Instrument, rows: Sequence[Mapping[str, Any]]) -> np.ndarray:
    """A (respondents x items) object array of answers in the instrument's item order.

    Unknown keys are left out; an item a row lacks is None (missing).
    """
    items = instrument.item_ids
    matrix = np.empty((len(rows), len(items)), dtype=object)
    matrix[:] = [[row.get(item) for item in items] for row in rows] if rows else []
    return matrix


@dataclass(frozen=True)
class CheckedBatch:
    """The problems of a batch and, when there are none, its validated answers.

    Attributes
    ----------
    problems : list of FieldError
        Every problem, ordered by row; empty when the batch can be stored.
    values : ndarray of float64, shape (rows, items)
        Answers in item order (codes as their values), NaN where missing;
        invalid answers are NaN too, so use it only when ``problems`` is empty.
    """

    problems: list[FieldError]
    values: np.ndarray


def check_batch(
    instrument: mes.Instrument,
    batch: Batch,
    declared_attributes: Mapping[str, list[str] | None] | None,
) -> CheckedBatch:
    """Every problem of a read batch, ordered by row (with CSV lines), and its answer matrix.

    Parameters
    ----------
    instrument : mes.Instrument
        The survey's pinned instrument.
    batch : Batch
        As :func:`api.domain.responses.parsing.parse_batch` read it.
    declared_attributes : mapping or None
        Attribute name -> allowed values (None = any value); None: attributes free.

    Returns
    -------
    CheckedBatch
    """
    problems: list[FieldError] = list(batch.problems)
    first_row: dict[str, int] = {}
    for i, respondent in enumerate(batch.respondents):
        if not respondent:  # a row the reader could not read; its problem is listed
            continue
        if respondent in first_row:
            problems.append(
                FieldError(
                    row=i,
                    field="respondent",
                    value=respondent,
                    message=f"respondent {respondent!r} also appears in row "
                    f"{first_row[respondent]}; a respondent id is unique within a survey.",
                )
            )
        else:
            first_row[respondent] = i
    problems.extend(_attribute_name_problems(instrument, batch.attributes, declared_attributes))
    if declared_attributes is not None:
        for i, attributes in enumerate(batch.attributes):
            problems.extend(_attribute_value_problems(i, attributes, declared_attributes))
    answers = batch.answers
    try:
        checked = response_matrix(instrument, answers, errors="missing")
    except OverflowError:
        # A JSON whole number too large for float64 (beyond 1e308): such answers are named
        # and left out, the rest judged as usual.
        answers, too_large = _without_huge_numbers(instrument, answers)
        problems.extend(too_large)
        checked = response_matrix(instrument, answers, errors="missing")
    problems.extend(
        FieldError(
            row=p.row, field=f"answers.{p.item}", value=_jsonable(p.value), message=p.message
        )
        for p in checked.invalid
    )
    problems.sort(key=lambda p: p.row if p.row is not None else -1)  # stable: reader's first
    return CheckedBatch([batch.locate(p) for p in problems], checked.values)


def _without_huge_numbers(
    instrument: mes.Instrument, answers: np.ndarray
) -> tuple[np.ndarray, list[FieldError]]:
    """The answers without whole numbers float64 cannot hold, and a problem for each."""
    scale = instrument.response_scale
    cleaned = answers.copy()
    problems = []
    for (row, column), value in np.ndenumerate(answers):
        if value.__class__ is int and not -EXACT_INTEGER_LIMIT <= value <= EXACT_INTEGER_LIMIT:
            cleaned[row, column] = None
            problems.append(
                FieldError(
                    row=row,
                    field=f"answers.{instrument.item_ids[column]}",
                    value=f"{str(value)[:20]}... ({len(str(value))} digits)",
                    message=f"outside the response scale {scale.min}..{scale.max}; expected "
                    f"a whole number from {scale.min} to {scale.max}.",
                )
            )
    return cleaned, problems


def _attribute_name_problems(
    instrument: mes.Instrument,
    rows: Sequence[Mapping[str, Any]],
    declared: Mapping[str, list[str] | None] | None,
) -> list[FieldError]:
    """One problem per attribute name that cannot be stored, at the first row that has it.

    A name that looks like an item id (``mes3`` for ``mes03``) is a misnamed item
    column whatever the survey declares: stored as an attribute, its answers
    would be lost. A name the survey does not declare is refused when it
    declares any. Either is said once, with the number of rows, not once a row.
    """
    first: dict[str, int] = {}
    count: Counter[str] = Counter()
    for i, attributes in enumerate(rows):
        for name in attributes:
            first.setdefault(name, i)
            count[name] += 1
    # An attribute named exactly as an item is refused by the reader already.
    names = [name for name in first if name not in instrument.item_ids]
    item_like = set(item_like_columns(instrument.item_ids, names))
    problems = []
    for name in names:
        where = f"found in {count[name]} row(s)"
        if name in item_like:
            meant = probable_item(name, instrument.item_ids)
            hint = f" (is it {meant!r}?)" if meant else ""
            message = (f"{name!r} looks like an item id but is not an item of "
                       f"{instrument.id!r}{hint}: name the column by its item id, or remove "
                       f"it; {where}.")
        elif declared is not None and name not in declared:
            message = (f"attribute {name!r} is not declared by the survey; declared: "
                       f"{listed(sorted(declared)) or 'none'}; {where}.")
        else:
            continue
        problems.append(FieldError(row=first[name], field=f"attributes.{name}",
                                   value=rows[first[name]][name], message=message))
    return problems


def _attribute_value_problems(
    row: int,
    attributes: Mapping[str, Any],
    declared: Mapping[str, list[str] | None],
) -> list[FieldError]:
    problems = []
    for name, value in attributes.items():
        allowed = declared.get(name)
        if allowed is not None and value is not None and str(value) not in allowed:
            problems.append(
                FieldError(
                    row=row,
                    field=f"attributes.{name}",
                    value=value,
                    message=f"{value!r} is not an allowed value of {name!r}; allowed: "
                    f"{listed(allowed)}.",
                )
            )
    return problems


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, bool)):
        return value
    if isinstance(value, float):  # JSON numbers arrive as float: 9 is quoted as 9, not 9.0
        if value.is_integer():
            return int(value)
        return value if value == value and abs(value) != float("inf") else str(value)
    return str(value)

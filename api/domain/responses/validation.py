"""Check a batch of responses against an instrument and a survey's attributes.

Every problem of every row is collected (never just the first) as a
:class:`~api.errors.FieldError`; answer values are checked by :func:`mes.score`
itself, so the service accepts exactly what the library scores.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

import mes
from api.domain.responses.schemas import ResponseIn
from api.errors import FieldError

__all__ = ["answer_frame", "batch_problems"]


def answer_frame(instrument: mes.Instrument, rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """A (respondents x items) object frame of answers in the instrument's item order."""
    frame = pd.DataFrame.from_records(
        [dict(r) for r in rows], columns=list(instrument.item_ids)
    ).astype(object)
    return frame.where(frame.notna(), None)


def _list(values: Sequence[str], limit: int = 12) -> str:
    shown = ", ".join(values[:limit])
    return shown + (f", ... ({len(values)} in all)" if len(values) > limit else "")


def batch_problems(
    instrument: mes.Instrument,
    rows: Sequence[ResponseIn],
    declared_attributes: Mapping[str, list[str] | None] | None,
) -> list[FieldError]:
    """Every problem of a batch, ordered by row.

    Parameters
    ----------
    instrument : mes.Instrument
        The survey's pinned instrument.
    rows : sequence of ResponseIn
        The batch.
    declared_attributes : mapping or None
        Attribute name -> allowed values (None = any value); None: attributes free.

    Returns
    -------
    list of FieldError
        Empty when the batch can be stored.
    """
    problems: list[FieldError] = []
    items = set(instrument.item_ids)
    first_row: dict[str, int] = {}
    for i, row in enumerate(rows):
        respondent = row.respondent
        if not respondent.strip():
            problems.append(
                FieldError(
                    row=i,
                    field="respondent",
                    value=respondent,
                    message="the respondent id is blank.",
                )
            )
        elif respondent in first_row:
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
        for key, value in row.answers.items():
            if key not in items:
                problems.append(
                    FieldError(
                        row=i,
                        field=f"answers.{key}",
                        value=value,
                        message=f"unknown item {key!r} for instrument {instrument.id!r} "
                        f"version {instrument.version!r}; items: {_list(instrument.item_ids)}.",
                    )
                )
        for name, value in row.attributes.items():
            if name in items or name == "respondent":
                problems.append(
                    FieldError(
                        row=i,
                        field=f"attributes.{name}",
                        value=value,
                        message=f"an attribute cannot be named {name!r}: that is "
                        + ("an item id" if name in items else "the respondent id column")
                        + " of the CSV layout; rename the attribute.",
                    )
                )
        problems.extend(_attribute_problems(i, row.attributes, declared_attributes))

    try:
        mes.score(instrument, answer_frame(instrument, [r.answers for r in rows]))
    except mes.InvalidResponsesError as exc:
        problems.extend(
            FieldError(
                row=p.row, field=f"answers.{p.item}", value=_jsonable(p.value), message=p.message
            )
            for p in exc.problems
        )
    problems.sort(key=lambda p: p.row if p.row is not None else -1)
    return problems


def _attribute_problems(
    row: int,
    attributes: Mapping[str, Any],
    declared: Mapping[str, list[str] | None] | None,
) -> list[FieldError]:
    if declared is None:
        return []
    problems = []
    for name, value in attributes.items():
        if name not in declared:
            problems.append(
                FieldError(
                    row=row,
                    field=f"attributes.{name}",
                    value=value,
                    message=f"attribute {name!r} is not declared by the survey; declared: "
                    f"{_list(sorted(declared)) or 'none'}.",
                )
            )
            continue
        allowed = declared[name]
        if allowed is not None and value is not None and str(value) not in allowed:
            problems.append(
                FieldError(
                    row=row,
                    field=f"attributes.{name}",
                    value=value,
                    message=f"{value!r} is not an allowed value of {name!r}; allowed: "
                    f"{_list(allowed)}.",
                )
            )
    return problems


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, bool)):
        return value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else str(value)
    return str(value)

"""Pieces shared by the sub-commands that read a responses file."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from mes.errors import InvalidResponsesError, MesError
from mes.instrument import Instrument
from mes.io.csv import ResponsesCsv, read_responses_csv
from mes.io.formula_escape import write_csv
from mes.io.numbers import Kind
from mes.responses import RESPONDENT_COLUMN

_PROGRESS_FROM_BYTES = 4_000_000


def read_csv_arg(path: Path, instrument: Instrument, *, ids: bool = True) -> ResponsesCsv:
    """Read a responses CSV, with a progress bar on large files when stderr is a terminal.

    Columns that are not items of ``instrument`` (respondent, attributes) stay text.
    With ``ids`` (scores and group reports), every row needs a respondent id, each
    once: scores are matched to people by it, and a person counted twice would
    inflate their group. Reliability, like ``psych::alpha``, takes any table.

    Raises
    ------
    InvalidFileError
        With ``ids``: no ``respondent`` column, or an id blank or repeated (with
        their lines).
    """
    parsed = _read(path, instrument)
    if ids:
        _check_respondents(parsed)
    return parsed


def _check_respondents(parsed: ResponsesCsv) -> None:
    if RESPONDENT_COLUMN not in parsed.frame.columns:
        raise InvalidFileError(
            f"{parsed.source}: no {RESPONDENT_COLUMN!r} column. Fix: add one with a unique id "
            "per row (scores are matched to respondents by it)."
        )
    ids = parsed.frame[RESPONDENT_COLUMN]
    blank = ids.isna() | (ids.astype(str).str.strip() == "")
    repeated = ids.duplicated(keep=False) & ~blank
    if not (blank.any() or repeated.any()):
        return
    problems = [
        f"line {parsed.line_of(i)}: no respondent id" for i in np.flatnonzero(blank).tolist()
    ]
    problems += [
        f"line {parsed.line_of(i)}: respondent {ids.iloc[i]!r} appears more than once"
        for i in np.flatnonzero(repeated).tolist()
    ]
    shown = "; ".join(problems[:10]) + (f"; ... ({len(problems)} in all)" if len(problems) > 10
                                         else "")
    raise InvalidFileError(
        f"{parsed.source}: {shown}. Fix: give every row its own respondent id."
    )


def _read(path: Path, instrument: Instrument) -> ResponsesCsv:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    if path.stat().st_size < _PROGRESS_FROM_BYTES or not sys.stderr.isatty():
        return read_responses_csv(path, items=instrument.item_ids)
    columns = (TextColumn("reading {task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    with Progress(*columns, transient=True) as progress:
        task = progress.add_task(path.name, total=None)

        def update(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        return read_responses_csv(path, items=instrument.item_ids, on_progress=update)


class UsageError(Exception):
    """Bad arguments or a missing input file: exit code 2."""


def output_kind(output: str, kinds: tuple[str, ...] = (".csv", ".json")) -> str:
    """The kind of file ``-o OUTPUT`` asks for (its suffix; ``-`` is CSV on stdout).

    Raises
    ------
    UsageError
        For any other suffix, rather than writing CSV into a file named ``.xlsx``.

    Examples
    --------
    >>> output_kind("scores.JSON"), output_kind("-")
    ('.json', '.csv')
    """
    if output == "-":
        return ".csv"
    suffix = Path(output).suffix.lower()
    if suffix not in kinds:
        raise UsageError(
            f"cannot write {output!r}: name a {' or '.join(kinds)} file (or '-' for CSV on "
            "standard output)"
        )
    return suffix


def write_csv_arg(
    frame: pd.DataFrame, output: str, kinds: Mapping[str, Kind] | None = None
) -> None:
    """Write a table to the CSV file ``output`` (``-``: stdout), safe to open in a
    spreadsheet, numbers rounded by kind (:func:`mes.io.formula_escape.write_csv`;
    ``kinds`` names the kind of columns whose names do not say it)."""
    write_csv(frame, sys.stdout if output == "-" else output, kinds=kinds)


class InvalidFileError(MesError, ValueError):
    """Invalid answers reported with the file's own line numbers."""


def with_line_numbers(exc: InvalidResponsesError, parsed: ResponsesCsv, limit: int = 50) -> str:
    """Rewrite an :class:`InvalidResponsesError` with the file's line numbers."""
    lines = [
        f"{parsed.source}, line {parsed.line_of(p.row)}, column {p.item!r}: "
        f"value {p.value!r} is {p.message}"
        for p in exc.problems[:limit]
    ]
    if len(exc.problems) > limit:
        lines.append(f"... and {len(exc.problems) - limit} more")
    lines.append(
        f"{len(exc.problems)} invalid answer(s). Correct them, or pass --errors missing to "
        "score them as missing."
    )
    return "\n".join(lines)

"""Read survey responses from CSV, keeping every row's line number in the file.

Survey tools export CSV in many dialects. :func:`read_responses_csv` accepts
UTF-8 with or without a byte-order mark, LF or CRLF line ends, and comma or
semicolon delimiters (chosen from the header line). Only an empty cell is
missing: text such as ``NA`` stays text so that a code or typo is reported,
not silently dropped. Errors, here and in scoring, name the file's own line
numbers (:meth:`ResponsesCsv.line_of`). Text cells and column names that an
export escaped against spreadsheet formulas (``'=x`` for ``=x``) read as they
were before (:func:`mes.io.formula_escape.unescape_cell`), so that an export
re-imports unchanged.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from mes.errors import MesError
from mes.io.formula_escape import unescape_cell, unescape_frame
from mes.responses import RESPONDENT_COLUMN

__all__ = [
    "CsvFormatError",
    "CsvLimitError",
    "CsvRecords",
    "ResponsesCsv",
    "read_csv_records",
    "read_responses_csv",
]

_CHUNK_ROWS = 200_000


class CsvFormatError(MesError, ValueError):
    """The CSV cannot be read as a table (wrong field count, empty file, duplicate columns)."""

    def __init__(self, source: str, line: int | None, message: str, fix: str) -> None:
        self.source, self.line = source, line
        where = f"{source}, line {line}" if line is not None else source
        super().__init__(f"{where}: {message} Fix: {fix}")


class CsvLimitError(CsvFormatError):
    """The CSV is larger than a limit allows (too many columns, rows, or a cell too long).

    Attributes
    ----------
    limit : int
        The limit that was exceeded.
    """

    def __init__(self, source: str, line: int | None, message: str, fix: str, limit: int) -> None:
        self.limit = limit
        super().__init__(source, line, message, fix)


@dataclass(frozen=True)
class ResponsesCsv:
    """A parsed responses file.

    Attributes
    ----------
    frame : pandas.DataFrame
        Every column of the file; ``respondent`` and non-numeric columns as text,
        empty cells as NaN.
    source : str
        The file name (or ``"<csv>"``), used in messages.
    delimiter : str
        ``","`` or ``";"``.
    lines : ndarray of int64
        Physical line number (1-based, header = line 1) where each row starts.
    """

    frame: pd.DataFrame
    source: str
    delimiter: str
    lines: np.ndarray

    def line_of(self, row: int) -> int:
        """The file's line number of 0-based data row ``row``."""
        return int(self.lines[row])


def read_responses_csv(
    source: str | Path | bytes,
    *,
    name: str | None = None,
    items: Collection[str] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> ResponsesCsv:
    """Read a responses CSV.

    Parameters
    ----------
    source : str, pathlib.Path or bytes
        A file path, or the file's bytes (e.g. an uploaded body).
    name : str, optional
        Name used in messages (defaults to the path, or ``"<csv>"`` for bytes).
    items : collection of str, optional
        The instrument's item ids. When given, every other column (``respondent``,
        attributes) is read as text exactly as written (``"001"`` stays ``"001"``);
        otherwise only ``respondent`` is, and the types of the rest are inferred.
    on_progress : callable(rows_done, rows_total), optional
        Called after each chunk of rows is parsed (large files are parsed in chunks).

    Returns
    -------
    ResponsesCsv

    Raises
    ------
    CsvFormatError
        Empty file, no header, duplicate column names, or a row with the wrong
        number of fields (with its line number).

    Examples
    --------
    >>> from mes.io.csv import read_responses_csv
    >>> data = b"\\xef\\xbb\\xbfrespondent;q1;q2\\r\\nr1;4;SD\\r\\n\\r\\nr2;;5\\r\\n"
    >>> parsed = read_responses_csv(data)
    >>> parsed.delimiter, parsed.frame["q2"].tolist(), parsed.line_of(1)
    (';', ['SD', '5'], 4)
    """
    if isinstance(source, bytes):
        raw, label = source, name or "<csv>"
    else:
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such file")
        raw, label = path.read_bytes(), name or str(path)
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text_head = raw[:65536].decode("utf-8", errors="strict")
    except UnicodeDecodeError as exc:
        if exc.start < 65532:  # not merely a character cut at the sample's end
            raise _not_utf8(label, raw, exc.start) from None
        text_head = raw[: exc.start].decode("utf-8")
    delimiter = _delimiter(label, text_head)
    # The whole head, not its first line: a quoted column name may hold a line break.
    header = next(csv.reader(io.StringIO(text_head, newline=""), delimiter=delimiter))
    _check_header(label, [unescape_cell(h) for h in header])

    lines = _row_lines(raw, delimiter)
    total = max(len(lines), 1)
    chunks = []
    done = 0
    try:
        reader = pd.read_csv(
            io.BytesIO(raw),
            sep=delimiter,
            dtype=_text_columns(header, items),
            keep_default_na=False,
            na_values=[""],
            skip_blank_lines=True,
            encoding="utf-8",
            chunksize=_CHUNK_ROWS,
            low_memory=False,
        )
        for chunk in reader:
            chunks.append(chunk)
            done += len(chunk)
            if on_progress is not None:
                on_progress(done, total)
    except pd.errors.ParserError as exc:
        raise _parser_error(label, str(exc)) from None
    except UnicodeDecodeError as exc:
        raise _not_utf8(label, raw, exc.start) from None
    frame = pd.concat(chunks, ignore_index=True) if chunks else pd.DataFrame(columns=header)
    frame = _as_text_where_mixed(frame)
    if b"'" in raw:  # escaped cells start with it; most files have none to undo
        frame = unescape_frame(frame)
    if len(lines) != len(frame):  # quoted fields span lines: count with the csv module
        lines = _row_lines_by_csv(raw, delimiter)
    return ResponsesCsv(frame=frame, source=label, delimiter=delimiter, lines=lines)


@dataclass(frozen=True)
class CsvRecords:
    """A CSV read strictly, cell by cell (:func:`read_csv_records`).

    Attributes
    ----------
    header : list of str
        Column names as written (formula escaping undone).
    rows : list of list of str
        Each data row's cells as text (formula escaping undone), as many as the
        header has; an empty cell is ``""``.
    lines : list of int
        The file's line number (header = line 1) where each row starts.
    source : str
        The name used in messages.
    """

    header: list[str]
    rows: list[list[str]]
    lines: list[int]
    source: str


def read_csv_records(
    raw: bytes,
    *,
    name: str = "<csv>",
    max_columns: int,
    max_rows: int,
    max_cell_chars: int,
) -> CsvRecords:
    """Read CSV bytes into text cells, refusing anything ragged or over a limit.

    The dialect is :func:`read_responses_csv`'s (UTF-8 with or without a
    byte-order mark, LF or CRLF, comma or semicolon chosen from the header
    line; blank lines skipped), but nothing is inferred or filled in: every
    row must have exactly the header's number of fields, quotes must be
    balanced, and the work stops at the first row, column or cell over a
    limit. One pass over the text, linear in its size.

    Parameters
    ----------
    raw : bytes
        The file's bytes.
    name : str
        What messages call the file.
    max_columns, max_rows, max_cell_chars : int
        Most columns in the header, data rows, and characters in one cell.

    Returns
    -------
    CsvRecords

    Raises
    ------
    CsvLimitError
        A limit is exceeded (its line and the limit named).
    CsvFormatError
        Not UTF-8, no header, blank or duplicate column names, unbalanced
        quotes, or a row with more or fewer fields than the header (its line).

    Examples
    --------
    >>> records = read_csv_records(b"respondent;q1\\r\\nr1;'=1\\r\\n\\r\\nr2;\\r\\n",
    ...                            max_columns=5, max_rows=10, max_cell_chars=20)
    >>> records.rows, records.lines
    ([['r1', '=1'], ['r2', '']], [2, 4])
    >>> read_csv_records(b"respondent,q1\\nr1\\n", max_columns=5, max_rows=10, max_cell_chars=20)
    Traceback (most recent call last):
    ...
    mes.io.csv.CsvFormatError: <csv>, line 2: 1 field(s) where the header has 2. Fix: ...
    """
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _not_utf8(name, raw, exc.start) from None
    delimiter = _delimiter(name, text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    # Without quotes, no cell is longer than the longest run of bytes between separators:
    # when that is within the limit (most files), no row needs its cells measured.
    measure_cells = b'"' in raw or _longest_run(raw, delimiter) > max_cell_chars
    escaped = "'" in text  # cells an export escaped start with it; most files have none
    rows: list[list[str]] = []
    lines: list[int] = []
    try:
        header = next(reader)
        if len(header) > max_columns:
            raise CsvLimitError(
                name, 1, f"the header has {len(header)} columns; the limit is {max_columns}.",
                "send the respondent column, the item columns and at most the allowed "
                "number of attribute columns.", max_columns,
            )
        if escaped:
            header = [unescape_cell(cell) for cell in header]
        _check_header(name, header)
        width = len(header)
        start = reader.line_num + 1
        for row in reader:
            if not row:  # a blank line
                start = reader.line_num + 1
                continue
            if len(row) != width:
                raise CsvFormatError(
                    name, start, f"{len(row)} field(s) where the header has {width}.",
                    "give every row one field per column (an empty field for a missing "
                    "answer) and quote any field that contains the delimiter.",
                )
            if len(rows) == max_rows:
                raise CsvLimitError(
                    name, start, f"more than {max_rows} data rows.",
                    "split the file into batches of at most that many rows.", max_rows,
                )
            longest = max(map(len, row)) if measure_cells else 0
            if longest > max_cell_chars:
                column = next(i for i, cell in enumerate(row) if len(cell) == longest)
                raise CsvLimitError(
                    name, start,
                    f"the {header[column]!r} cell has {longest} characters; the limit is "
                    f"{max_cell_chars}.",
                    "shorten it (answers and attribute values are short labels).",
                    max_cell_chars,
                )
            rows.append([unescape_cell(cell) for cell in row] if escaped else row)
            lines.append(start)
            start = reader.line_num + 1
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):  # the csv module's own bound
            raise CsvLimitError(
                name, reader.line_num,
                f"a cell has more than {max_cell_chars} characters (the limit).",
                "shorten it (answers and attribute values are short labels).",
                max_cell_chars,
            ) from None
        raise CsvFormatError(
            name, reader.line_num, f"not a readable CSV row ({exc}).",
            "quote fields that contain the delimiter, a quote or a line break, and double "
            "any quote inside a quoted field.",
        ) from None
    return CsvRecords(header=header, rows=rows, lines=lines, source=name)


def _delimiter(label: str, text: str) -> str:
    """The delimiter the header line uses (``;`` when it has more of them than commas)."""
    end = text.find("\n")
    header_line = text if end < 0 else text[:end]
    if not header_line.strip():
        raise CsvFormatError(
            label, 1, "the file is empty or its first line is blank.",
            "put the header row (respondent, item ids, attribute columns) on line 1.",
        )
    return ";" if header_line.count(";") > header_line.count(",") else ","


def _longest_run(raw: bytes, delimiter: str) -> int:
    """The most bytes between two separators (delimiter or line break) of ``raw``."""
    buf = np.frombuffer(raw, dtype=np.uint8)
    separators = np.flatnonzero(
        (buf == ord(delimiter)) | (buf == ord("\n")) | (buf == ord("\r"))
    )
    edges = np.concatenate(([-1], separators, [len(buf)]))
    return int(np.diff(edges).max()) - 1


def _text_columns(header: list[str], items: Collection[str] | None) -> dict[str, type] | None:
    """Columns to keep as text: respondent ids and, when the items are known, attributes
    (keyed by the file's own, possibly escaped, column names)."""
    names = {unescape_cell(column): column for column in header}
    if items is None:
        return {names[RESPONDENT_COLUMN]: str} if RESPONDENT_COLUMN in names else None
    known = set(items)
    return {column: str for name, column in names.items() if name not in known} or None


def _check_header(label: str, header: list[str]) -> None:
    names = [h.strip() for h in header]
    blank = [i + 1 for i, h in enumerate(names) if not h]
    if blank:
        raise CsvFormatError(
            label, 1, f"header column(s) {blank} have no name.", "name every column in the header."
        )
    dup = sorted({h for h in names if names.count(h) > 1})
    if dup:
        raise CsvFormatError(
            label, 1, f"duplicate column name(s) {', '.join(map(repr, dup))}.",
            "give every column a unique name.",
        )


def _row_lines(raw: bytes, delimiter: str) -> np.ndarray:
    """Line numbers of the non-blank lines after the header, assuming no quoted newlines."""
    buf = np.frombuffer(raw, dtype=np.uint8)
    breaks = np.flatnonzero(buf == ord("\n"))
    starts = np.concatenate(([0], breaks + 1))
    ends = np.concatenate((breaks, [len(buf)]))
    lengths = ends - starts
    # A line holding only "\r" is blank too.
    has_cr = lengths > 0
    has_cr[has_cr] = buf[ends[has_cr] - 1] == ord("\r")
    blank = (lengths - has_cr) == 0
    numbers = np.flatnonzero(~blank) + 1
    return numbers[1:].astype(np.int64)


def _row_lines_by_csv(raw: bytes, delimiter: str) -> np.ndarray:
    reader = csv.reader(io.StringIO(raw.decode("utf-8"), newline=""), delimiter=delimiter)
    lines = []
    start = 1
    for i, row in enumerate(reader):
        if i > 0 and row:  # the csv module yields [] for a blank line, as pandas skips it
            lines.append(start)
        start = reader.line_num + 1
    return np.asarray(lines, dtype=np.int64)


def _as_text_where_mixed(frame: pd.DataFrame) -> pd.DataFrame:
    """Keep text columns as Python str objects (pandas may choose its string dtype)."""
    for column in frame.columns:
        if pd.api.types.is_string_dtype(frame[column].dtype) and frame[column].dtype != object:
            frame[column] = frame[column].astype(object).where(frame[column].notna(), np.nan)
    return frame


def _parser_error(label: str, message: str) -> CsvFormatError:
    match = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", message)
    if match:
        expected, line, saw = (int(g) for g in match.groups())
        return CsvFormatError(
            label, line, f"{saw} fields where the header has {expected}.",
            "check the delimiter and quote any field that contains it.",
        )
    return CsvFormatError(label, None, f"not a readable CSV table ({message}).",
                          "save the file as CSV (UTF-8, comma or semicolon separated).")


def _not_utf8(label: str, raw: bytes, offset: int) -> CsvFormatError:
    line = raw.count(b"\n", 0, offset) + 1
    return CsvFormatError(
        label, line, "the file is not UTF-8 text.",
        "save it as 'CSV UTF-8' (Excel) or convert it with iconv.",
    )

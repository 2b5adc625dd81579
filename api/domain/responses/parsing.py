"""Read a submitted body (JSON, CSV or FHIR) into one :class:`Batch`, strictly and within limits.

``POST /v1/surveys/{id}/responses`` takes three formats; each has a reader
here that turns the body into the same :class:`Batch`: respondent ids
(normalised by :func:`mes.identifiers.normalise_respondent_id`), raw answers
in the instrument's item order, attributes, and where each row came from (a
CSV line, a FHIR resource's position) so that every later error can say so.

Strict, because a lax reader stores a guess: a JSON boolean is not an answer,
a repeated key or an unknown field (``"attribtues"``) is an error naming it,
``NaN`` is not JSON, and a CSV row with more or fewer fields than its header
is an error on its line. Bounded, because a worker parsing a hostile body
answers nobody else: rows, attribute columns, and the length of every cell
and attribute name have limits (:class:`IngestLimits`), each refused with the
limit named, and every reader is one linear pass over the body.

What the readers leave to :mod:`api.domain.responses.validation`: whether an
answer is on the response scale, respondents repeated within the batch, and
the survey's declared attributes, which are the same questions for every
format.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

import mes
from api.errors import FieldError, ProblemError
from mes.identifiers import (
    InvalidRespondentIdError,
    attribute_name_problem,
    normalise_respondent_id,
)
from mes.instrument import EXACT_INTEGER_LIMIT
from mes.responses import RESPONDENT_COLUMN

__all__ = [
    "CSV",
    "FHIR",
    "JSON",
    "MAX_LISTED_PROBLEMS",
    "Batch",
    "IngestLimits",
    "listed",
    "parse_batch",
    "reject",
]

JSON = "application/json"
CSV = "text/csv"
FHIR = "application/fhir+json"

MAX_LISTED_PROBLEMS = 1000
"""A rejection lists at most this many problems (and says how many there were)."""

AttributeValue = str | int | float | bool | None


@dataclass(frozen=True)
class IngestLimits:
    """How much one batch may hold; each limit is refused naming it (413 for a body over a
    limit; in JSON an over-long attribute value is one of the batch's listed 422 problems).

    Attributes
    ----------
    max_rows : int
        Respondents in one batch.
    max_attributes : int
        Attributes of one respondent (CSV: attribute columns).
    max_value_chars : int
        Characters in one answer or attribute value (a CSV cell).
    """

    max_rows: int
    max_attributes: int = 50
    max_value_chars: int = 200


@dataclass(frozen=True)
class Batch:
    """A submitted batch as read from any format, before its answers are judged.

    Attributes
    ----------
    respondents : list of str
        Normalised ids, one per row.
    answers : ndarray of object, shape (rows, items)
        Each answer as sent (a number, a code, or None when missing), in the
        instrument's item order.
    attributes : list of dict
        Each row's attributes (a missing CSV cell is left out).
    lines : list of int or None
        For a CSV body: the line where each row starts (the header is line 1).
    problems : list of FieldError
        What the reader found wrong with rows (an unknown field, a boolean answer,
        an id it refuses), each with its row; the batch is judged further
        (:func:`api.domain.responses.validation.check_batch`) so that one 422 lists
        every problem.
    """

    respondents: list[str]
    answers: np.ndarray
    attributes: list[dict[str, AttributeValue]]
    lines: list[int] | None = None
    problems: list[FieldError] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.respondents)

    def locate(self, problem: FieldError) -> FieldError:
        """The problem with its CSV line added, when the batch came from a CSV body."""
        if self.lines is None or problem.row is None or not 0 <= problem.row < len(self.lines):
            return problem
        return problem.model_copy(update={"line": self.lines[problem.row]})


def reject(problems: Sequence[FieldError], what: str = "batch") -> ProblemError:
    """The 422 that rejects a batch: every problem (up to :data:`MAX_LISTED_PROBLEMS`)."""
    shown = list(problems[:MAX_LISTED_PROBLEMS])
    more = (
        f"; the first {MAX_LISTED_PROBLEMS} are listed in errors"
        if len(problems) > MAX_LISTED_PROBLEMS
        else ", all listed in errors"
    )
    return ProblemError(
        422,
        f"the {what} was rejected and nothing was written: {len(problems)} problem(s){more}",
        errors=shown,
    )


def parse_batch(
    instrument: mes.Instrument,
    media_type: str,
    body: bytes,
    limits: IngestLimits,
    *,
    unnamed_prefix: str | None = None,
) -> Batch:
    """Read a body of any accepted media type into a :class:`Batch`.

    Parameters
    ----------
    instrument : mes.Instrument
        The survey's instrument: its item ids say which CSV columns are answers
        and which FHIR linkIds are read.
    media_type : {"application/json", "text/csv", "application/fhir+json"}
    body : bytes
    limits : IngestLimits
    unnamed_prefix : str, optional
        FHIR only: how to name a resource without ``identifier.value``, ``id``
        or ``fullUrl`` (this prefix and its position). None: such a resource
        is refused.

    Returns
    -------
    Batch
        With the problems of its rows in ``problems`` (not raised, so that they
        are listed with those found later).

    Raises
    ------
    ProblemError
        413 naming the limit a body exceeds; 422 when the body cannot be read as
        a batch at all (not JSON, a ragged CSV row with its line, an invalid
        FHIR resource).

    Examples
    --------
    >>> inst = mes.load_instrument("uwes9")
    >>> batch = parse_batch(inst, CSV, b"respondent,uwes1,site\\n\\n r1 ,4,North\\n",
    ...                     IngestLimits(max_rows=10))
    >>> batch.respondents, batch.answers[0, :2].tolist(), batch.attributes, batch.lines
    (['r1'], [4, None], [{'site': 'North'}], [3])
    """
    readers: dict[str, Callable[[], Batch]] = {
        JSON: lambda: _parse_json(instrument, body, limits),
        CSV: lambda: _parse_csv(instrument, body, limits),
        FHIR: lambda: _parse_fhir(instrument, body, limits, unnamed_prefix),
    }
    if media_type not in readers:
        raise ProblemError(415, f"Content-Type {media_type!r} is not a batch format")
    batch = readers[media_type]()
    if not len(batch):
        raise ProblemError(422, "the body holds no responses")
    return batch


# ----- rows shared by every format ------------------------------------------------------------


@dataclass
class _Rows:
    """Rows being read, and every problem found so far (each with its row)."""

    instrument: mes.Instrument
    limits: IngestLimits
    problems: list[FieldError] = field(default_factory=list)
    judged: set[tuple[tuple[str, Any], ...]] = field(default_factory=set)

    def problem(self, row: int | None, where: str, message: str, value: Any = None) -> None:
        self.problems.append(FieldError(row=row, field=where, value=_shown(value), message=message))

    def respondent(self, row: int, value: Any) -> str:
        if not isinstance(value, str):
            self.problem(row, "respondent", "the respondent id must be text.", value)
            return ""
        try:
            return normalise_respondent_id(value)
        except InvalidRespondentIdError as exc:
            self.problem(row, "respondent", f"the respondent id {exc.reason}.", value)
            return value

    def attributes(self, row: int, values: dict[str, Any]) -> dict[str, AttributeValue]:
        # Most rows repeat a few combinations (site x staff group): each is judged once.
        try:
            combination = tuple(values.items())
            if combination in self.judged:
                return values
        except TypeError:  # an unhashable value (a list, an object): judged below
            combination = None
        count = len(self.problems)
        self._judge_attributes(row, values)
        if combination is not None and len(self.problems) == count:
            self.judged.add(combination)
        return values

    def _judge_attributes(self, row: int, values: Mapping[str, Any]) -> None:
        limits = self.limits
        if len(values) > limits.max_attributes:
            self.problem(
                row, "attributes",
                f"{len(values)} attributes; the limit is {limits.max_attributes} per respondent "
                "(MES_MAX_ATTRIBUTES).",
            )
        items = self.instrument.item_ids
        for name, value in values.items():
            where = f"attributes.{name}"
            reason = attribute_name_problem(name)
            if reason is None and (name in items or name == RESPONDENT_COLUMN):
                reason = (
                    f"is {'an item id' if name in items else 'the respondent id column'} of "
                    "the CSV layout; rename the attribute"
                )
            if reason is not None:
                self.problem(row, where, f"the attribute name {reason}.", value)
            if value is not None and value.__class__ not in _ATTRIBUTE_TYPES:
                self.problem(
                    row, where, "an attribute value is text, a number, true/false or null.",
                    value,
                )
            elif isinstance(value, (int, float)) and not isinstance(value, bool) and not (
                math.isfinite(value) and abs(value) <= EXACT_INTEGER_LIMIT
            ):
                self.problem(
                    row, where,
                    "a number attribute must be finite and within +/-2**53 (send a larger "
                    "code as text).",
                    str(value)[:40],
                )
            elif isinstance(value, str) and len(value) > limits.max_value_chars:
                self.problem(
                    row, where,
                    f"the value has {len(value)} characters; the limit is "
                    f"{limits.max_value_chars} (MES_MAX_VALUE_CHARS).",
                    value[:40] + "...",
                )

    def done(self, batch: Batch) -> Batch:
        return replace(batch, problems=self.problems)


_ATTRIBUTE_TYPES = frozenset({str, int, float, bool})
_ANSWER_TYPES = frozenset({str, int, float, type(None)})


def _shown(value: Any) -> Any:
    """A value as an error quotes it: JSON scalars as they are, long text cut, others named."""
    if isinstance(value, str) and len(value) > 200:
        return value[:40] + "..."
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return f"(a JSON {'object' if isinstance(value, dict) else 'array'})"


def _too_many_rows(rows: int, limits: IngestLimits) -> ProblemError:
    return ProblemError(
        413,
        f"the batch has {rows} rows; the limit is {limits.max_rows} rows per batch "
        "(MES_MAX_BATCH_ROWS): split it into smaller batches",
        limit=limits.max_rows,
    )


# ----- JSON ------------------------------------------------------------------------------------

_BODY_FIELDS = frozenset({"responses"})
_ROW_FIELDS = frozenset({"respondent", "answers", "attributes", "submitted_at"})
"""A row's fields; ``submitted_at`` is what the JSON exports carry, accepted so that an
export re-imports unchanged, and ignored: the service stamps its own time."""


class _RepeatedKeys(dict[str, Any]):
    """A JSON object that named a key twice (``repeated``); the reader reports it."""

    repeated: list[str]


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook``: a dict, marked when a key repeats (JSON's last-wins hides it)."""
    obj = dict(pairs)
    if len(obj) == len(pairs):
        return obj
    marked = _RepeatedKeys(obj)
    marked.repeated = sorted(k for k, n in Counter(k for k, _ in pairs).items() if n > 1)
    return marked


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number; send null for a missing answer")


def _load_json(body: bytes) -> Any:
    try:
        return json.loads(body, object_pairs_hook=_object, parse_constant=_no_constants)
    except json.JSONDecodeError as exc:
        message = f"the body is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
    except ValueError as exc:  # NaN, Infinity; or bytes that are not UTF-8
        message = f"the body is not valid JSON: {exc}"
    # 400, as for every other route's unreadable JSON: the body is not a document at all.
    raise ProblemError(400, message, errors=[FieldError(field="body", message=message)])


def _fields(
    rows: _Rows, row: int | None, where: str, obj: Any, allowed: frozenset[str], about: str
) -> bool:
    """Check that ``obj`` is an object with only ``allowed`` fields, each once; False if not
    an object at all."""
    if obj.__class__ is dict and not allowed:  # the common case: nothing to report
        return True
    if not isinstance(obj, dict):
        rows.problem(row, where or "body", f"{about} must be a JSON object.", obj)
        return False
    prefix = f"{where}." if where else ""
    if isinstance(obj, _RepeatedKeys):
        for key in obj.repeated:
            rows.problem(row, prefix + key, f"the key {key!r} appears more than once.")
    for key in sorted(obj.keys() - allowed) if allowed else ():
        rows.problem(
            row, prefix + key,
            f"unknown field {key!r}; {about} has: {', '.join(sorted(allowed))}.",
        )
    return True


def _parse_json(instrument: mes.Instrument, body: bytes, limits: IngestLimits) -> Batch:
    document = _load_json(body)
    rows = _Rows(instrument, limits)
    if not _fields(rows, None, "", document, _BODY_FIELDS, "the body"):
        raise reject(rows.problems)
    responses = document.get("responses")
    if not isinstance(responses, list) or not responses:
        rows.problem(None, "responses", "responses must be a non-empty JSON array of rows.")
        raise reject(rows.problems)
    if len(responses) > limits.max_rows:
        raise _too_many_rows(len(responses), limits)
    items = instrument.item_ids
    item_set = frozenset(items)
    blank: list[Any] = [None] * len(items)
    answers: list[list[Any]] = []
    respondents: list[str] = []
    attributes: list[dict[str, AttributeValue]] = []
    for i, row in enumerate(responses):
        # The common row is checked in C: an object with known fields, none repeated.
        common = row.__class__ is dict and row.keys() <= _ROW_FIELDS
        if not common and not _fields(rows, i, "", row, _ROW_FIELDS, "a row"):
            respondents.append("")
            answers.append(blank)
            attributes.append({})
            continue
        if "respondent" in row:
            respondents.append(rows.respondent(i, row["respondent"]))
        else:
            rows.problem(i, "respondent", "every row needs a respondent id.")
            respondents.append("")
        given = row.get("answers")
        if given.__class__ is dict and (
            given.keys() <= item_set
            and set(map(type, given.values())) <= _ANSWER_TYPES
        ):
            answers.append(list(map(given.get, items)))
        elif "answers" not in row:
            rows.problem(i, "answers", "every row needs answers (an object: item id -> answer).")
            answers.append(blank)
        elif _fields(rows, i, "answers", given, frozenset(), "answers"):
            refused = _json_answers(rows, i, given, item_set)
            answers.append([None if item in refused else given.get(item) for item in items])
        else:
            answers.append(blank)
        extra = row.get("attributes", {})
        if _fields(rows, i, "attributes", extra, frozenset(), "attributes"):
            attributes.append(rows.attributes(i, extra))
        else:
            attributes.append({})
    matrix = np.empty((len(answers), len(items)), dtype=object)
    matrix[:] = answers
    return rows.done(Batch(respondents, matrix, attributes))


def _json_answers(
    rows: _Rows, row: int, given: dict[str, Any], items: frozenset[str]
) -> frozenset[str]:
    """Note the row's unknown items and answers of a type no scale has; the refused keys."""
    instrument = rows.instrument
    for key in given.keys() - items:  # a set operation in C; the loop is rare
        rows.problem(
            row, f"answers.{key}",
            f"unknown item {key!r} for instrument {instrument.id!r} version "
            f"{instrument.version!r}; items: {listed(instrument.item_ids)}.",
            given[key],
        )
    # Numbers, however large, are judged with every other answer (check_batch): one rule.
    refused = frozenset(k for k, v in given.items() if v.__class__ not in _ANSWER_TYPES)
    for key in refused:
        value = given[key]
        kind = "true/false" if isinstance(value, bool) else "a JSON object or array"
        rows.problem(
            row, f"answers.{key}",
            f"{kind} is not an answer; send a number on the response scale, a code, or null "
            "when unanswered.",
            value,
        )
    return refused


def listed(values: Sequence[str], limit: int = 12) -> str:
    """Names for a message: the first ``limit``, then how many there are in all.

    Examples
    --------
    >>> listed(["a", "b", "c"], limit=2)
    'a, b, ... (3 in all)'
    """
    shown = ", ".join(values[:limit])
    return shown + (f", ... ({len(values)} in all)" if len(values) > limit else "")


# ----- CSV -------------------------------------------------------------------------------------


def _csv_answer(text: str) -> Any:
    """A cell as an answer: empty is missing, a whole number is that number (so that ``4``
    is stored as 4, as JSON and FHIR store it), anything else text for validation to judge."""
    if not text:
        return None
    if text.isascii() and (text.isdigit() or (text[0] == "-" and text[1:].isdigit())):
        return int(text)
    return text


def _parse_csv(instrument: mes.Instrument, body: bytes, limits: IngestLimits) -> Batch:
    from mes.io.csv import CsvFormatError, CsvLimitError, read_csv_records

    items = instrument.item_ids
    try:
        records = read_csv_records(
            body,
            name="request body",
            max_columns=1 + len(items) + limits.max_attributes,
            max_rows=limits.max_rows,
            max_cell_chars=limits.max_value_chars,
        )
    except CsvLimitError as exc:
        raise ProblemError(
            413, str(exc), limit=exc.limit,
            errors=[FieldError(line=exc.line, field="body", message=str(exc))],
        ) from None
    except CsvFormatError as exc:
        raise ProblemError(
            422, str(exc), errors=[FieldError(line=exc.line, field="body", message=str(exc))]
        ) from None
    header = records.header
    if RESPONDENT_COLUMN not in header:
        raise ProblemError(
            422,
            "the CSV has no 'respondent' column; the header must name it, the item ids "
            "and any attribute columns",
            errors=[FieldError(line=1, field="respondent", message="missing column 'respondent'.")],
        )
    rows = _Rows(instrument, limits)
    position = {name: k for k, name in enumerate(header)}
    attribute_columns = [
        (name, k)
        for k, name in enumerate(header)
        if name not in items and name != RESPONDENT_COLUMN
    ]
    for name, _ in attribute_columns:
        reason = attribute_name_problem(name)
        if reason is not None:
            rows.problem(None, f"attributes.{name}", f"the column name {reason}.")
    if rows.problems:
        raise reject([p.model_copy(update={"line": 1}) for p in rows.problems])
    who = position[RESPONDENT_COLUMN]
    cells = np.array(records.rows, dtype=object).reshape(len(records.rows), len(header))
    answers = np.full((len(records.rows), len(items)), None, dtype=object)
    converted: dict[str, Any] = {}  # most cells repeat a handful of texts ("1".."5")
    for j, item in enumerate(items):
        if item in position:
            column = cells[:, position[item]].tolist()
            answers[:, j] = [
                converted[c] if c in converted else converted.setdefault(c, _csv_answer(c))
                for c in column
            ]
    respondents = [rows.respondent(i, cell) for i, cell in enumerate(cells[:, who].tolist())]
    attributes: list[dict[str, AttributeValue]] = [
        {name: cell for name, k in attribute_columns if (cell := record[k])}
        for record in records.rows
    ]
    return rows.done(Batch(respondents, answers, attributes, lines=records.lines))


# ----- FHIR ------------------------------------------------------------------------------------


def _parse_fhir(
    instrument: mes.Instrument, body: bytes, limits: IngestLimits, unnamed_prefix: str | None
) -> Batch:
    from mes.io.fhir import FhirError, read_fhir

    document = _load_json(body)  # the same strict JSON: no repeated keys hidden, no NaN
    if not isinstance(document, dict):
        message = (
            "a FHIR body is one resource, a QuestionnaireResponse or a Bundle of them (a "
            "JSON object with resourceType)."
        )
        raise reject([FieldError(field="body", value=_shown(document), message=message)],
                     "FHIR input")
    repeated = _repeated_anywhere(document)
    if repeated:
        raise reject(
            [
                FieldError(field="body", message=f"the key {key!r} appears more than once in "
                           "one JSON object.")
                for key in repeated
            ]
        )
    entries = document.get("entry") if isinstance(document, dict) else None
    if isinstance(entries, list) and len(entries) > limits.max_rows:
        raise _too_many_rows(len(entries), limits)
    try:
        frame = read_fhir(instrument, document, unnamed_prefix=unnamed_prefix)
    except FhirError as exc:
        raise reject(
            [
                FieldError(
                    row=p.resource,
                    field=p.path,
                    resource_id=p.resource_id,
                    link_id=p.link_id,
                    value=p.value if isinstance(p.value, (str, int, float, bool)) else None,
                    message=f"{_where(p)}{p.message} Fix: {p.fix}",
                )
                for p in exc.problems
            ],
            "FHIR input",
        ) from None
    rows = _Rows(instrument, limits)
    values = frame[list(instrument.item_ids)].to_numpy(dtype=np.float64)
    answers = values.astype(object)
    answers[np.isnan(values)] = None
    respondents = [rows.respondent(i, rid) for i, rid in enumerate(frame[RESPONDENT_COLUMN])]
    return rows.done(Batch(respondents, answers, [{} for _ in respondents]))


def _repeated_anywhere(node: Any) -> list[str]:
    """Keys named twice in any object of a parsed document."""
    found: list[str] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            if isinstance(current, _RepeatedKeys):
                found.extend(current.repeated)
            stack.extend(current.values())
        elif isinstance(current, list):
            stack.extend(current)
    return sorted(set(found))


def _where(problem: Any) -> str:
    """``resource 1 (id 'qr-1'), linkId 'mes01': `` -- the message names both."""
    if problem.resource is None:
        return ""
    where = f"resource {problem.resource}"
    if problem.resource_id is not None:
        where += f" (id {problem.resource_id!r})"
    if problem.link_id is not None:
        where += f", linkId {problem.link_id!r}"
    return where + ": "


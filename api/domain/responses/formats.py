"""CSV and FHIR submissions, turned into the JSON batch shape before validation.

``POST /v1/surveys/{id}/responses`` takes the JSON core shape, ``text/csv``
(columns ``respondent``, item ids, attribute columns) and
``application/fhir+json`` (a QuestionnaireResponse or a Bundle of them). The
library reads the two other formats (:func:`mes.io.csv.read_responses_csv`,
:func:`mes.read_fhir`); this module only reshapes their table into
``{"responses": [{"respondent", "answers", "attributes"}]}`` so that every
format goes through the same validation, transaction and idempotency rules.
The CSV reader already undoes the exports' formula escaping (a leading ``'``,
:mod:`mes.io.formula_escape`), once, for values and column names; FHIR, being
JSON, is taken as sent.
"""

from __future__ import annotations

import math
import re
import uuid
from dataclasses import dataclass
from typing import Any

import pandas as pd
from litestar import Request
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIType, Operation, RequestBody, Schema

import mes
from api.errors import FieldError, ProblemError

__all__ = [
    "CSV",
    "FHIR",
    "SubmissionOperation",
    "batch_from_csv",
    "batch_from_fhir",
    "convert_submission",
]

CSV = "text/csv"
FHIR = "application/fhir+json"


def _cell(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if hasattr(value, "item"):  # numpy scalar
        return _cell(value.item())
    return value


_WHOLE_NUMBER = re.compile(r"-?[0-9]+")


def _answer(value: Any) -> Any:
    """A whole number written as text in a column that also holds codes is that number.

    So that ``4`` is stored as 4 whichever column it came in, as JSON and FHIR
    store it; codes and anything else stay text for validation to judge.
    """
    if isinstance(value, str) and _WHOLE_NUMBER.fullmatch(value):
        return int(value)
    return value


def _rows_from_frame(frame: pd.DataFrame, items: set[str]) -> list[dict[str, Any]]:
    columns = [c for c in frame.columns if c != "respondent"]
    rows = []
    for record in frame.to_dict("records"):
        answers: dict[str, Any] = {}
        attributes: dict[str, Any] = {}
        for column in columns:
            value = _cell(record[column])
            if value is None:
                continue
            if column in items:
                answers[str(column)] = _answer(value)
            else:
                attributes[str(column)] = value
        respondent = _cell(record.get("respondent"))
        rows.append(
            {
                "respondent": "" if respondent is None else str(respondent),
                "answers": answers,
                "attributes": attributes,
            }
        )
    return rows


def batch_from_csv(body: bytes, instrument: mes.Instrument) -> tuple[dict[str, Any], list[int]]:
    """The JSON batch of a CSV body, and the file's line number of each row.

    Columns that are not items of the instrument are attributes. 422 when the CSV
    cannot be read as a table.

    Examples
    --------
    >>> inst = mes.load_instrument("uwes9")
    >>> batch, lines = batch_from_csv(b"respondent,uwes1,site\\n\\nr1,4,North\\n", inst)
    >>> batch["responses"], lines
    ([{'respondent': 'r1', 'answers': {'uwes1': 4}, 'attributes': {'site': 'North'}}], [3])
    """
    from mes.io.csv import CsvFormatError, read_responses_csv

    try:
        parsed = read_responses_csv(body, name="request body", items=instrument.item_ids)
    except CsvFormatError as exc:
        raise ProblemError(
            422, str(exc), errors=[FieldError(row=None, field="body", message=str(exc))]
        ) from None
    if "respondent" not in parsed.frame.columns:
        raise ProblemError(
            422,
            "the CSV has no 'respondent' column; the header must name it, the item ids "
            "and any attribute columns",
            errors=[FieldError(field="respondent", message="missing column 'respondent'.")],
        )
    rows = _rows_from_frame(parsed.frame, set(instrument.item_ids))
    return {"responses": rows}, parsed.lines.tolist()


def batch_from_fhir(body: bytes, instrument: mes.Instrument) -> dict[str, Any]:
    """The JSON batch of a FHIR QuestionnaireResponse or Bundle (422 listing every problem)."""
    from mes.io.fhir import FhirError

    try:
        frame = mes.read_fhir(instrument, body)
    except FhirError as exc:
        raise ProblemError(
            422,
            f"the FHIR input was rejected and nothing was written: {len(exc.problems)} "
            "problem(s), all listed in errors",
            errors=[
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
        ) from None
    return {"responses": _rows_from_frame(frame, set(instrument.item_ids))}


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


async def convert_submission(request: Request[Any, Any, Any], media_type: str) -> None:
    """Parse a CSV or FHIR body and hand the route its JSON equivalent.

    The converted batch is cached as the request's JSON, so the route's usual
    parsing, validation and transaction apply; the raw body (what
    ``Idempotency-Key`` fingerprints) is left untouched.
    """
    from api.auth.guards import principal_of
    from api.domain.surveys.services import SurveyService

    principal = principal_of(request)
    survey_id = request.path_params["survey_id"]
    if not isinstance(survey_id, uuid.UUID):
        survey_id = uuid.UUID(str(survey_id))
    async with request.app.state.session_maker() as session:
        surveys = SurveyService(session, principal.tenant_id)
        instrument = await surveys.instrument_of(await surveys.get_model(survey_id))
    body = await request.body()
    if media_type == CSV:
        batch, lines = batch_from_csv(body, instrument)
        request.state.csv_lines = lines  # problem_response adds each row's line to errors
    else:
        batch = batch_from_fhir(body, instrument)
    if not batch["responses"]:
        raise ProblemError(422, "the body holds no responses")
    # Litestar reads the route's `data` from the request's cached JSON.
    request._json = request._connection_state.json = batch


@dataclass
class SubmissionOperation(Operation):
    """The submit operation's OpenAPI entry: the JSON body plus its CSV and FHIR forms."""

    def __post_init__(self) -> None:
        if isinstance(self.request_body, RequestBody):
            self.request_body.content[CSV] = OpenAPIMediaType(
                schema=Schema(
                    type=OpenAPIType.STRING,
                    description="Header row: respondent, item ids, attribute columns; one "
                    "respondent per row; an empty cell is a missing answer.",
                )
            )
            self.request_body.content[FHIR] = OpenAPIMediaType(
                schema=Schema(
                    type=OpenAPIType.OBJECT,
                    description="A FHIR R4 QuestionnaireResponse, or a Bundle of them; items "
                    "are matched by linkId (see mes.read_fhir).",
                    required=["resourceType"],
                )
            )

"""Streamed exports of a survey's scores: CSV and JSON Lines (every respondent).

CSV columns are those of ``mes score -o scores.csv``: ``respondent``, then for
every scale (the instrument's scale order) ``<scale>``, ``<scale>_pct`` and
``<scale>_answered``; an unscorable scale is an empty cell. Numbers are rounded
as every CSV of the library rounds them (:mod:`mes.io.numbers`): scores to 3
decimals, percentages to 1, counts whole. JSON Lines: one item of the JSON page
per line. FHIR: a Bundle of Observations, one per respondent and scale
(:func:`scores_fhir`), never with attributes, values as in the JSON page.

Access
------
Every score route needs the scope ``responses:read``: individual scores are
personal data (next to attributes such as site or grade they would undo the
small-group suppression of the reports), so a ``reports:read`` key, which reads
aggregates only, is refused. Attributes are left out unless asked for
(``attributes=true``); asking needs no second check, since a ``responses:read``
key already reads every respondent's attributes and answers.

The whole survey is scored before the first byte (median or mean imputation is
defined on all of its data); only the writing is streamed.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any

from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, OpenAPIType, Schema
from litestar.params import QueryParameter

from api.domain.responses.exports import (
    CHUNK_ROWS,
    FHIR_EXPORT,
    ExportOperation,
    csv_line,
    number_cell,
    safe_cell,
)
from api.domain.scores.services import ScoredSurvey, rows_of

__all__ = [
    "FHIR_EXPORT",
    "IncludeAttributes",
    "ScoreExportOperation",
    "scores_csv",
    "scores_fhir",
    "scores_jsonl",
]

IncludeAttributes = Annotated[
    bool,
    QueryParameter(
        description="Add each respondent's attributes (personal data, covered by the "
        "responses:read scope that every score route needs).",
    ),
]


async def scores_csv(scored: ScoredSurvey, include_attributes: bool) -> AsyncIterator[str]:
    """The CSV export, header first, then chunks of rows."""
    data = scored.data
    scales = list(data.instrument.scale_ids)
    names = data.answers.attribute_names() if include_attributes else []
    attributes = data.answers.attribute_dicts() if names else []
    header = ["respondent"]
    for scale in scales:
        header += [scale, f"{scale}_pct", f"{scale}_answered"]
    yield csv_line([*header, *names])
    table = scored.table
    if table is None:
        return
    scores, percent, answered = table.score_matrix, table.percent_matrix, table.answered_matrix
    respondents = data.respondents
    for start in range(0, len(respondents), CHUNK_ROWS):
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        for i in range(start, min(start + CHUNK_ROWS, len(respondents))):
            cells = [safe_cell(respondents[i])]
            for j in range(len(scales)):
                cells += [
                    number_cell(float(scores[i, j]), "statistic"),
                    number_cell(float(percent[i, j]), "percent"),
                    number_cell(int(answered[i, j]), "count"),
                ]
            if names:
                cells += [safe_cell(attributes[i].get(name)) for name in names]
            writer.writerow(cells)
        yield buffer.getvalue()


async def scores_jsonl(scored: ScoredSurvey, include_attributes: bool) -> AsyncIterator[str]:
    """The JSON Lines export: one JSON page item per line."""
    if scored.table is None:
        return
    respondents = scored.data.respondents
    attributes = scored.data.answers.attribute_dicts() if include_attributes else None
    exclude = None if include_attributes else {"attributes"}
    for start in range(0, len(respondents), CHUNK_ROWS):
        rows = rows_of(scored.table, respondents, start, start + CHUNK_ROWS, attributes)
        yield "".join(row.model_dump_json(exclude=exclude) + "\n" for row in rows)


_DATA_ABSENT = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
_UCUM = "http://unitsofmeasure.org"


def _observation(scored: ScoredSurvey, i: int, j: int, scale: str) -> dict[str, Any]:
    table = scored.table
    assert table is not None
    instrument = scored.data.instrument
    score = float(table.score_matrix[i, j])
    answered = int(table.answered_matrix[i, j])
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "status": "final",
        "code": {
            "coding": [
                {
                    "system": f"urn:mes:instrument:{instrument.id}:{instrument.version}",
                    "code": scale,
                }
            ],
            "text": instrument.scale(scale).title or scale,
        },
        "subject": {
            "identifier": {
                "system": f"urn:mes:survey:{scored.data.survey.id}:respondent",
                "value": scored.data.respondents[i],
            }
        },
        "component": [
            {"code": {"text": "items answered"}, "valueInteger": answered},
        ],
    }
    if math.isnan(score):
        resource["dataAbsentReason"] = {
            "coding": [{"system": _DATA_ABSENT, "code": "unknown"}],
            "text": f"too few items answered ({answered}; the scale needs "
            f"{instrument.min_answered_count(scale)})",
        }
    else:
        resource["valueQuantity"] = {"value": score, "unit": "score"}
        resource["component"].insert(
            0,
            {
                "code": {"text": "percent of the scale range"},
                "valueQuantity": {
                    "value": float(table.percent_matrix[i, j]),
                    "unit": "%",
                    "system": _UCUM,
                    "code": "%",
                },
            },
        )
    return resource


async def scores_fhir(scored: ScoredSurvey) -> AsyncIterator[str]:
    """A FHIR R4 Bundle (type collection): one Observation per respondent and scale.

    ``code`` names the scale (system ``urn:mes:instrument:<id>:<version>``),
    ``subject.identifier`` the respondent, ``valueQuantity`` the score, with
    components for the percent and the items answered; an unscorable scale has
    a ``dataAbsentReason`` instead of a value. Streamed an entry at a time.
    """
    yield '{"resourceType":"Bundle","type":"collection","entry":['
    if scored.table is not None:
        scales = list(scored.data.instrument.scale_ids)
        per_chunk = max(1, CHUNK_ROWS // len(scales))  # about CHUNK_ROWS Observations
        first = True
        n = len(scored.data.respondents)
        for start in range(0, n, per_chunk):
            parts = []
            for i in range(start, min(start + per_chunk, n)):
                for j, scale in enumerate(scales):
                    entry = {"resource": _observation(scored, i, j, scale)}
                    parts.append(("" if first else ",") + json.dumps(entry, ensure_ascii=False))
                    first = False
            yield "".join(parts)
    yield "]}"


@dataclass
class ScoreExportOperation(ExportOperation):
    """The scores list: JSON pages, or every row as CSV, JSON Lines or a FHIR Bundle."""

    def __post_init__(self) -> None:
        super().__post_init__()
        ok = (self.responses or {}).get("200")
        if isinstance(ok, OpenAPIResponse) and ok.content is not None:
            ok.content[FHIR_EXPORT] = OpenAPIMediaType(
                schema=Schema(
                    type=OpenAPIType.OBJECT,
                    description="A FHIR R4 Bundle (collection) of Observations, one per "
                    "respondent and scale; never with attributes.",
                    required=["resourceType"],
                )
            )

"""``/v1/surveys/{id}/responses``: submit a batch, list, erase one respondent."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Any, Literal, cast

from litestar import Controller, Request, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.openapi.spec import (
    OpenAPIMediaType,
    OpenAPIType,
    Operation,
    Reference,
    RequestBody,
    Schema,
)
from litestar.params import FromPath, HeaderParameter, QueryParameter
from litestar.response import Stream
from litestar.status_codes import HTTP_201_CREATED

from api.auth.guards import requires
from api.domain.pagination import Limit, Offset, Page
from api.domain.responses.exports import (
    CSV_EXPORT,
    JSONL_EXPORT,
    ExportFormat,
    ExportOperation,
    download_headers,
    export_format,
    responses_csv,
    responses_jsonl,
    stored_rows,
)
from api.domain.responses.parsing import CSV, FHIR, JSON
from api.domain.responses.schemas import BatchResult, ResponseOut
from api.domain.responses.services import ResponseService, Submission
from api.openapi_responses import problem_responses
from api.request_checks import media_type_of

__all__ = ["BATCH_MEDIA_TYPES", "ResponseController", "SubmissionOperation"]

BATCH_MEDIA_TYPES = (JSON, CSV, FHIR)


@dataclass
class SubmissionOperation(Operation):
    """The submit operation's OpenAPI entry: its body in each of the three formats.

    The route reads the raw body itself (:func:`api.domain.responses.parsing.parse_batch`),
    so the request body is described here rather than derived from a parameter.
    """

    def __post_init__(self) -> None:
        rows = Reference(ref="#/components/schemas/ResponseIn")
        self.request_body = RequestBody(
            required=True,
            content={
                JSON: OpenAPIMediaType(
                    schema=Schema(
                        type=OpenAPIType.OBJECT,
                        title="ResponseBatch",
                        description="A batch of respondents, written all or nothing.",
                        required=["responses"],
                        properties={
                            "responses": Schema(type=OpenAPIType.ARRAY, items=rows, min_items=1)
                        },
                        additional_properties=False,
                    )
                ),
                CSV: OpenAPIMediaType(
                    schema=Schema(
                        type=OpenAPIType.STRING,
                        description="Header row: respondent, item ids, attribute columns; one "
                        "respondent per row, as many fields as the header; an empty cell is a "
                        "missing answer.",
                    )
                ),
                FHIR: OpenAPIMediaType(
                    schema=Schema(
                        type=OpenAPIType.OBJECT,
                        description="A FHIR R4 QuestionnaireResponse, or a Bundle of them; "
                        "items are matched by linkId (see mes.read_fhir).",
                        required=["resourceType"],
                    )
                ),
            },
        )


class ResponseController(Controller):
    """A survey's responses."""

    path = "/surveys/{survey_id:uuid}"
    tags = ["responses"]  # noqa: RUF012

    @post(
        "/responses",
        guards=[requires("responses:write")],
        operation_id="submitResponses",
        opt={"body_types": BATCH_MEDIA_TYPES},
        operation_class=SubmissionOperation,
        summary="Submit a batch of responses (all or nothing)",
        status_code=HTTP_201_CREATED,
        responses=problem_responses(401, 403, 404, 409, 413, 415, 422, 429),
    )
    async def submit_responses(
        self,
        request: Request[Any, Any, Any],
        response_service: NamedDependency[ResponseService],
        survey_id: FromPath[uuid.UUID],
        on_conflict: Annotated[
            Literal["reject", "replace"],
            QueryParameter(
                description="reject (409 listing respondents that already exist) or replace them."
            ),
        ] = "reject",
        unnamed_prefix: Annotated[
            str | None,
            QueryParameter(
                min_length=1,
                max_length=50,
                description="FHIR: name a QuestionnaireResponse that has no identifier.value, "
                "id or fullUrl by this prefix and its position in the Bundle (e.g. "
                "'upload-2026-03-' names the third 'upload-2026-03-2'). Without it such a "
                "resource is refused: a bare position would name another person in the next "
                "file.",
            ),
        ] = None,
        idempotency_key: Annotated[
            str | None,
            HeaderParameter(
                name="Idempotency-Key",
                min_length=1,
                max_length=200,
                description="Retry safely: the same key and a batch of the same meaning (the "
                "same rows, however serialised) replay the first result; the same key with "
                "another batch is 409.",
            ),
        ] = None,
    ) -> Response[BatchResult]:
        """Validate every row, then store the batch in one transaction.

        The body is the JSON shape below, or ``text/csv`` (columns ``respondent``,
        item ids, attribute columns), or ``application/fhir+json`` (a
        QuestionnaireResponse or a Bundle of them).

        Any invalid row rejects the whole batch (422 listing every problem as
        ``errors: [{row, line, field, value, message}]``) and nothing is written.
        Booleans are not answers; repeated keys, unknown fields and CSV rows with
        more or fewer fields than the header are problems too. Respondent ids are
        stored in Unicode NFC without surrounding white space; ids with control,
        invisible or full-width characters are refused.
        """
        submitted = await response_service.submit(
            survey_id,
            Submission(
                media_type=media_type_of(request),
                body=await request.body(),
                replace=on_conflict == "replace",
                idempotency_key=idempotency_key,
                unnamed_prefix=unnamed_prefix,
            ),
        )
        return Response(
            submitted.result,
            status_code=submitted.status_code,
            headers={"Idempotent-Replayed": "true"} if submitted.replayed else None,
        )

    @get(
        "/responses",
        guards=[requires("responses:read")],
        operation_id="listResponses",
        opt={"audit": "responses"},
        operation_class=ExportOperation,
        summary="Stored respondents (JSON pages; every row as CSV or JSON Lines by Accept)",
        responses=problem_responses(401, 403, 404, 422, 429),
    )
    async def list_responses(
        self,
        request: Request[Any, Any, Any],
        response_service: NamedDependency[ResponseService],
        survey_id: FromPath[uuid.UUID],
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> Response[Page[ResponseOut]]:
        """A page of respondents with their answers and attributes, by respondent id.

        ``Accept: text/csv`` or ``application/x-ndjson`` streams every respondent
        instead (``limit`` and ``offset`` apply to JSON pages only), as the
        ``responses.csv`` and ``responses.jsonl`` routes do.
        """
        wanted = export_format(request)
        if wanted != "json":
            return cast(
                "Response[Page[ResponseOut]]",
                await _export(request, response_service, survey_id, wanted),
            )
        items, total = await response_service.page(survey_id, limit, offset)
        return Response(Page[ResponseOut](items=items, total=total, limit=limit, offset=offset))

    @get(
        "/responses.csv",
        guards=[requires("responses:read")],
        operation_id="exportResponsesCsv",
        opt={"audit": "responses.csv"},
        response_description="Every respondent, streamed: header row, then one row each (CRLF).",
        summary="Every stored respondent as CSV, in the layout the CSV upload takes",
        media_type=CSV_EXPORT,
        responses=problem_responses(401, 403, 404, 429),
    )
    async def export_responses_csv(
        self,
        request: Request[Any, Any, Any],
        response_service: NamedDependency[ResponseService],
        survey_id: FromPath[uuid.UUID],
    ) -> Stream:
        """``respondent``, the item ids in the instrument's order, then the stored
        attribute names (sorted); answers as stored, missing = empty cell; CRLF.

        Uploading the file to a survey of the same instrument stores the same
        answers and attributes. Text cells and column names that would start a
        spreadsheet formula (``=``, ``+``, ``-``, ``@``, tab, carriage return; not
        numbers) get a leading ``'``, as does one starting with ``'`` and one of
        those or another ``'``; the upload removes exactly that ``'`` again.
        """
        return await _export(request, response_service, survey_id, "csv")

    @get(
        "/responses.jsonl",
        guards=[requires("responses:read")],
        operation_id="exportResponsesJsonLines",
        opt={"audit": "responses.jsonl"},
        response_description="Every respondent, streamed: one JSON object per line.",
        summary="Every stored respondent as JSON Lines",
        media_type=JSONL_EXPORT,
        responses=problem_responses(401, 403, 404, 429),
    )
    async def export_responses_jsonl(
        self,
        request: Request[Any, Any, Any],
        response_service: NamedDependency[ResponseService],
        survey_id: FromPath[uuid.UUID],
    ) -> Stream:
        """One respondent per line, shaped like the JSON page's items."""
        return await _export(request, response_service, survey_id, "jsonl")

    @delete(
        "/responses/{respondent:path}",
        guards=[requires("responses:write")],
        operation_id="eraseRespondent",
        summary="Erase one respondent for good",
        responses=problem_responses(401, 403, 404, 429),
    )
    async def erase_respondent(
        self,
        response_service: NamedDependency[ResponseService],
        survey_id: FromPath[uuid.UUID],
        respondent: FromPath[str],
    ) -> None:
        """Delete a respondent's answers and attributes (right to erasure).

        The id is the rest of the path, so ids holding ``/`` (sent as ``%2F``) can be
        erased too.
        """
        await response_service.erase(survey_id, respondent.removeprefix("/"))


async def _export(
    request: Request[Any, Any, Any],
    response_service: ResponseService,
    survey_id: uuid.UUID,
    wanted: ExportFormat,
) -> Stream:
    """Check everything that can fail, then stream the rows from a session of their own."""
    survey, items, attributes = await response_service.export_columns(survey_id)
    rows = stored_rows(request.app.state.session_maker, survey.id)
    if wanted == "csv":
        return Stream(
            responses_csv(rows, items, attributes),
            media_type=CSV_EXPORT,
            headers=download_headers(f"responses-{survey.id}.csv"),
        )
    return Stream(
        responses_jsonl(rows),
        media_type=JSONL_EXPORT,
        headers=download_headers(f"responses-{survey.id}.jsonl"),
    )

"""``/v1/surveys/{id}/responses``: submit a batch, list, erase one respondent."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal, cast

from litestar import Controller, Request, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, HeaderParameter, JSONBody, QueryParameter
from litestar.response import Stream
from litestar.status_codes import HTTP_201_CREATED, HTTP_409_CONFLICT

from api.auth import Principal
from api.auth.guards import requires
from api.domain.pagination import Limit, Offset, Page
from api.domain.responses import idempotency
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
from api.domain.responses.formats import SubmissionOperation
from api.domain.responses.schemas import BatchResult, ResponseBatch, ResponseOut
from api.domain.responses.services import ResponseService
from api.errors import ProblemError, problem_responses

__all__ = ["ResponseController"]


class ResponseController(Controller):
    """A survey's responses."""

    path = "/surveys/{survey_id:uuid}"
    tags = ["responses"]  # noqa: RUF012

    @post(
        "/responses",
        guards=[requires("responses:write")],
        operation_id="submitResponses",
        opt={"csv_fhir": True},
        operation_class=SubmissionOperation,
        summary="Submit a batch of responses (all or nothing)",
        status_code=HTTP_201_CREATED,
        responses=problem_responses(401, 403, 404, 409, 413, 415, 422, 429),
    )
    async def submit_responses(
        self,
        request: Request[Any, Any, Any],
        response_service: NamedDependency[ResponseService],
        principal: NamedDependency[Principal],
        survey_id: FromPath[uuid.UUID],
        data: JSONBody[ResponseBatch],
        on_conflict: Annotated[
            Literal["reject", "replace"],
            QueryParameter(
                description="reject (409 listing respondents that already exist) or replace them."
            ),
        ] = "reject",
        idempotency_key: Annotated[
            str | None,
            HeaderParameter(
                name="Idempotency-Key",
                min_length=1,
                max_length=200,
                description="Retry safely: the same key and body replay the first result; "
                "the same key with another body is 409.",
            ),
        ] = None,
    ) -> Response[BatchResult]:
        """Validate every row, then store the batch in one transaction.

        The body is the JSON shape below, or ``text/csv`` (columns ``respondent``,
        item ids, attribute columns), or ``application/fhir+json`` (a
        QuestionnaireResponse or a Bundle of them).

        Any invalid row rejects the whole batch (422 listing every problem as
        ``errors: [{row, field, value, message}]``) and nothing is written.
        """
        fingerprint = ""
        if idempotency_key:
            # Wait for a concurrent request on this survey (it may be this key's first try)
            # before looking for a result to replay: the lock is held until this commits.
            await response_service.surveys.get_model(survey_id, for_update=True)
            fingerprint = idempotency.request_fingerprint(
                request.method, request.url.path, request.url.query or "", await request.body()
            )
            replay = await idempotency.find_replay(
                response_service.session, principal.tenant_id, idempotency_key, fingerprint
            )
            if replay is not None:
                return Response(
                    BatchResult.model_validate(replay.body),
                    status_code=replay.status_code,
                    headers={"Idempotent-Replayed": "true"},
                )
        try:
            result = await response_service.submit(
                survey_id, data.responses, replace=on_conflict == "replace"
            )
        except ProblemError as exc:
            if exc.status != HTTP_409_CONFLICT or not idempotency_key:
                raise
            # A concurrent request with this key may have committed while this one waited:
            # its result, visible to a fresh session, is this retry's answer.
            async with request.app.state.session_maker() as session:
                replay = await idempotency.find_replay(
                    session, principal.tenant_id, idempotency_key, fingerprint
                )
            if replay is None:
                raise
            return Response(
                BatchResult.model_validate(replay.body),
                status_code=replay.status_code,
                headers={"Idempotent-Replayed": "true"},
            )
        if idempotency_key:
            await idempotency.remember(
                response_service.session,
                principal.tenant_id,
                idempotency_key,
                fingerprint,
                HTTP_201_CREATED,
                result.model_dump(mode="json"),
            )
        return Response(result, status_code=HTTP_201_CREATED)

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

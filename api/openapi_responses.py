"""The error answers each route lists in the OpenAPI document: problem documents
(:class:`api.errors.Problem`), one description per status."""

from __future__ import annotations

from litestar.openapi.datastructures import ResponseSpec

from api.errors import PROBLEM_MEDIA_TYPE, Problem, status_title

__all__ = ["problem_responses"]

_DESCRIPTIONS = {
    400: "Malformed request (for example a body that is not JSON).",
    401: "No API key, or the key is unknown or revoked.",
    403: "The key lacks the scope this route needs (named in detail).",
    404: "No such resource for this tenant.",
    409: "Conflict: duplicate respondents, an Idempotency-Key reused with another body, "
    "a closed survey (no new responses), a survey still open (no group statistics until "
    "fieldwork is closed), a released survey (cannot be reopened), or a definition that "
    "already exists.",
    413: "Request body or batch larger than the configured limit.",
    415: "Unsupported Content-Type.",
    422: "Invalid request: errors lists every problem.",
    429: "Rate limit of the key exceeded; see Retry-After.",
    500: "Unexpected error: logged; detail and error_id give the id to quote.",
    503: "The database is not reachable.",
}


def problem_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI response entries (problem+json) for the given error statuses.

    400 (malformed request), 422 (invalid parameters) and 500 (unexpected error,
    opaque id) are always added.
    """
    statuses = tuple(sorted({400, 422, 500, *statuses}))
    return {
        status: ResponseSpec(
            data_container=Problem,
            description=_DESCRIPTIONS.get(status, status_title(status)),
            media_type=PROBLEM_MEDIA_TYPE,
            generate_examples=False,
        )
        for status in statuses
    }

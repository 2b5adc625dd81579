"""Scores and reliability of stored responses, and stateless scoring."""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
import numpy as np

import mes
from api.domain.instruments.services import InstrumentService
from api.domain.reports.releases import ReleaseService
from api.domain.responses.parsing import JSON, IngestLimits, parse_batch, reject
from api.domain.responses.schemas import ResponseIn
from api.domain.responses.validation import check_batch
from api.domain.scores.schemas import (
    ReliabilityReport,
    ScaleScore,
    ScorePage,
    ScoreResult,
    ScoreRow,
)
from api.domain.surveys.services import SurveyData, SurveyService
from api.errors import ProblemError

__all__ = ["ScoredSurvey", "ScoringService", "rows_of", "score_rows", "score_table"]


def _f(x: float) -> float | None:
    return None if math.isnan(x) else float(x)


def score_rows(
    instrument: mes.Instrument,
    respondents: Sequence[str],
    answers: np.ndarray,
    start: int = 0,
    stop: int | None = None,
) -> list[ScoreRow]:
    """Score every respondent with :func:`mes.score`, return rows ``start:stop``.

    The whole set is scored (median or mean imputation is defined on all the
    data), and only the requested slice is turned into rows.
    """
    if not respondents:
        return []
    return rows_of(score_table(instrument, answers), respondents, start, stop)


def score_table(instrument: mes.Instrument, answers: np.ndarray) -> mes.ScoreTable:
    """:func:`mes.score` of validated answers (respondents x items, NaN = missing)."""
    return mes.score(instrument, answers, errors="missing")


def rows_of(
    table: mes.ScoreTable,
    respondents: Sequence[str],
    start: int = 0,
    stop: int | None = None,
    attributes: Sequence[dict[str, Any]] | None = None,
) -> list[ScoreRow]:
    """Rows ``start:stop`` of a score table (with each respondent's attributes if given)."""
    scores, percent, answered = table.score_matrix, table.percent_matrix, table.answered_matrix
    stop = len(respondents) if stop is None else min(stop, len(respondents))
    scale_ids = table.scale_ids
    rows = []
    for i in range(start, stop):
        rows.append(
            ScoreRow(
                respondent=respondents[i],
                scores={
                    s: ScaleScore(
                        score=_f(scores[i, j]),
                        percent=_f(percent[i, j]),
                        answered=int(answered[i, j]),
                    )
                    for j, s in enumerate(scale_ids)
                },
                attributes=None if attributes is None else attributes[i],
            )
        )
    return rows


@dataclass(frozen=True)
class ScoredSurvey:
    """Every stored respondent of a survey (read with respondent ids, in their order) and
    their scores (``table`` is None when there are none)."""

    data: SurveyData
    table: mes.ScoreTable | None


class ScoringService:
    """Scores for one tenant."""

    def __init__(
        self, surveys: SurveyService, instruments: InstrumentService, releases: ReleaseService
    ) -> None:
        self.surveys = surveys
        self.instruments = instruments
        self.releases = releases

    async def scored_survey(self, survey_id: uuid.UUID) -> ScoredSurvey:
        """Every respondent of a survey (404 if not the tenant's), scored together.

        The whole survey is scored at once: median or mean imputation is defined
        on all of its data, so a page or an export gives the same numbers.
        """
        data = await self.surveys.data(survey_id, respondents=True)
        table = score_table(data.instrument, data.answers.values) if len(data.answers) else None
        return ScoredSurvey(data, table)

    async def survey_scores(
        self, survey_id: uuid.UUID, limit: int, offset: int, *, attributes: bool = False
    ) -> ScorePage:
        """A page of respondents' scores, ordered by respondent id."""
        scored = await self.scored_survey(survey_id)
        data = scored.data
        rows = (
            []
            if scored.table is None
            else rows_of(
                scored.table,
                data.respondents,
                offset,
                offset + limit,
                data.answers.attribute_dicts() if attributes else None,
            )
        )
        return ScorePage(
            survey=str(data.survey.id),
            instrument=data.instrument.id,
            instrument_version=data.instrument.version,
            scales=list(data.instrument.scale_ids),
            items=rows,
            total=len(data.respondents),
            limit=limit,
            offset=offset,
        )

    async def survey_reliability(self, survey_id: uuid.UUID) -> ReliabilityReport:
        """Reliability of every scale, from the survey's release.

        Item means, variances and correlations are sums over every respondent, so a
        reliability report read before and after one response gives that response
        away: like every group statistic it is released once, after fieldwork (409
        while open), and needs at least ``MES_MIN_GROUP_SIZE`` respondents (422). Beside
        another release sharing responses it is withheld where the two together would
        describe fewer (422, :func:`mes.groups.release_discloses_items`).
        """
        survey = await self.surveys.get_model(survey_id)
        release = await self.releases.release(survey)
        payload = self.releases.reliability_payload(release)
        minimum = max(2, self.releases.floor)
        if payload is None and release.respondents >= minimum:
            raise ProblemError(
                422,
                f"survey {survey_id} shares responses with other released surveys of this "
                "tenant (a snapshot of the same fieldwork, the same answers released again, "
                "a release before an erasure): its item statistics beside theirs would "
                f"describe fewer than {self.releases.floor} respondents, so they are not "
                "published",
            )
        if payload is None:
            raise ProblemError(
                422,
                f"reliability needs at least {minimum} respondents (MES_MIN_GROUP_SIZE); "
                f"survey {survey_id} had fewer when its reports were released",
                limit=minimum,
            )
        return ReliabilityReport(
            survey=str(survey.id),
            instrument=survey.instrument_id,
            instrument_version=survey.instrument_version,
            n=release.respondents,
            method="mes.reliability",
            scales=payload["scales"],
            intercorrelations=payload["intercorrelations"],
        )

    async def score_stateless(
        self, instrument_id: str, version: str | None, rows: Sequence[ResponseIn]
    ) -> ScoreResult:
        """Score responses without storing anything (422 listing every problem)."""
        instrument, _ = await self.instruments.get(instrument_id, version)
        # The rows as a batch body, read by the same strict reader as a submission: one
        # rule for ids, items, answers and attributes whether responses are stored or not.
        body = msgspec.json.encode({"responses": [row.model_dump() for row in rows]})
        batch = parse_batch(instrument, JSON, body, IngestLimits(max_rows=len(rows)))
        checked = check_batch(instrument, batch, None)
        if checked.problems:
            raise reject(checked.problems, "request")
        return ScoreResult(
            instrument=instrument.id,
            instrument_version=instrument.version,
            scales=list(instrument.scale_ids),
            items=score_rows(instrument, batch.respondents, checked.values),
        )

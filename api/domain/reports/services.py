"""Group reports of a survey through :func:`mes.summarise`, small groups suppressed.

The suppression threshold is the service's ``MES_MIN_GROUP_SIZE``; a request
may raise it but never lower it, so that no endpoint shows a group smaller
than the configured minimum.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

import mes
from api.domain.responses.services import ResponseService
from api.domain.responses.validation import answer_frame
from api.errors import FieldError, ProblemError

__all__ = ["ReportService", "SurveyReport", "parse_by"]


def parse_by(by: str | None) -> list[str]:
    """``"grade, site"`` -> ``["grade", "site"]`` (blank entries dropped).

    Examples
    --------
    >>> parse_by(" grade,site ,")
    ['grade', 'site']
    """
    return [part.strip() for part in (by or "").split(",") if part.strip()]


@dataclass(frozen=True)
class SurveyReport:
    """A computed report with what the HTML page also needs."""

    title: str
    instrument: mes.Instrument
    report: Any  # mes.groups.GroupReport
    reliability: Any  # mapping scale -> ScaleReliability, or None


class ReportService:
    """Group reports of one tenant's surveys."""

    def __init__(self, responses: ResponseService, floor: int) -> None:
        self.responses = responses
        self.floor = floor

    async def report(
        self, survey_id: uuid.UUID, by: list[str], min_group_size: int | None
    ) -> SurveyReport:
        """Summarise the stored responses by the given attributes.

        Raises
        ------
        ProblemError
            404 unknown survey; 422 unknown attribute or a threshold below the floor.
        """
        threshold = self.floor if min_group_size is None else min_group_size
        if threshold < self.floor:
            raise ProblemError(
                422,
                f"min_group_size must be at least {self.floor} (MES_MIN_GROUP_SIZE): groups "
                "smaller than that are never shown",
                errors=[
                    FieldError(
                        field="query.min_group_size",
                        value=min_group_size,
                        message=f"must be >= {self.floor}.",
                    )
                ],
                limit=self.floor,
            )
        survey = await self.responses.surveys.get_model(survey_id)
        instrument = await self.responses.surveys.instrument_of(survey)
        stored = await self.responses.answers_of(survey)
        known = sorted(set(survey.declared_attributes or {}) | {k for _, _, a in stored for k in a})
        unknown = [b for b in by if b not in known]
        if unknown:
            raise ProblemError(
                422,
                f"unknown attribute(s) {', '.join(unknown)} in by; this survey's attributes: "
                f"{', '.join(known) or 'none'}",
                errors=[
                    FieldError(field="query.by", value=b, message="unknown attribute.")
                    for b in unknown
                ],
            )
        frame = answer_frame(instrument, [a for _, a, _ in stored])
        attributes = pd.DataFrame(
            {name: [a.get(name) for _, _, a in stored] for name in by}, dtype=object
        )
        try:
            with np.errstate(all="ignore"):
                report = mes.summarise(
                    instrument,
                    frame,
                    attributes,
                    by=by,
                    min_group_size=threshold,
                    errors="missing",
                )
        except mes.MesError as exc:
            raise ProblemError(422, str(exc)) from None
        reliability = None
        if len(stored) >= max(2, threshold):
            from api.domain.scores.reliability import library_reliability

            full = library_reliability()
            if full is not None:
                with np.errstate(all="ignore"):
                    reliability = full(instrument, frame, errors="missing")
        return SurveyReport(survey.title, instrument, report, reliability)

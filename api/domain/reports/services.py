"""Group reports of a survey through :func:`mes.summarise`, small groups suppressed.

The suppression threshold is the service's ``MES_MIN_GROUP_SIZE``; a request
may raise it but never lower it, so that no endpoint shows a group smaller
than the configured minimum.

The service also compares two waves (:func:`mes.compare_waves`) and places a
report's groups within a comparison set (:func:`mes.groups.benchmark_report`);
the comparison sets come from :mod:`api.domain.benchmarks`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

import mes
from api.db.models import Survey
from api.domain.responses.services import ResponseService
from api.errors import FieldError, ProblemError

if TYPE_CHECKING:
    from api.domain.benchmarks.services import BenchmarkService

__all__ = ["LoadedSurvey", "ReportOptions", "ReportService", "SurveyReport", "parse_by"]


def parse_by(by: str | None) -> list[str]:
    """``"grade, site"`` -> ``["grade", "site"]`` (blank entries dropped).

    Examples
    --------
    >>> parse_by(" grade,site ,")
    ['grade', 'site']
    """
    return [part.strip() for part in (by or "").split(",") if part.strip()]


@dataclass(frozen=True)
class ReportOptions:
    """What a report shows besides the groups: the previous wave and a comparison set."""

    previous: uuid.UUID | None = None
    benchmark: str | None = None  # "stored" or a norm table id
    reliability: bool = False  # the HTML page shows it; JSON and CSV reports do not carry it


@dataclass(frozen=True)
class SurveyReport:
    """A computed report with what the HTML page also needs."""

    title: str
    instrument: mes.Instrument
    report: Any  # mes.groups.GroupReport
    reliability: Any  # mapping scale -> ScaleReliability, or None
    change: Any = None  # mes.groups.WaveComparison, or None
    benchmarks: Any = None  # list of mes.groups.Benchmark, or None
    comparison: dict[str, Any] | None = None  # the comparison set's summary

    def to_dict(self) -> dict[str, Any]:
        """The report's JSON: the group report, plus ``change`` and ``benchmarks`` when asked."""
        out: dict[str, Any] = self.report.to_dict()
        if self.change is not None:
            out["change"] = self.change.to_dict()
        if self.benchmarks is not None:
            out["benchmarks"] = {
                "comparison": self.comparison,
                "items": [b.to_dict() for b in self.benchmarks],
            }
        return out


@dataclass(frozen=True)
class LoadedSurvey:
    """A survey's stored answers as the library takes them."""

    survey: Survey
    instrument: mes.Instrument
    answers: np.ndarray  # (respondents x items) validated answers, NaN = missing
    attributes: pd.DataFrame
    n: int


class ReportService:
    """Group reports of one tenant's surveys."""

    def __init__(
        self,
        responses: ResponseService,
        floor: int,
        benchmarks: BenchmarkService | None = None,
    ) -> None:
        self.responses = responses
        self.floor = floor
        self.benchmarks = benchmarks

    def threshold(self, min_group_size: int | None) -> int:
        """The suppression threshold of a request: the floor unless raised (422 if lowered)."""
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
        return threshold

    async def load(self, survey_id: uuid.UUID, by: list[str], *, what: str = "") -> LoadedSurvey:
        """A survey's answers and the ``by`` attributes (404 unknown survey, 422 unknown attr)."""
        survey = await self.responses.surveys.get_model(survey_id)
        instrument = await self.responses.surveys.instrument_of(survey)
        stored = await self.responses.stored(survey, instrument)
        known = sorted(set(survey.declared_attributes or {}) | set(stored.attribute_names()))
        unknown = [b for b in by if b not in known]
        if unknown:
            raise ProblemError(
                422,
                f"unknown attribute(s) {', '.join(unknown)} in by; {what or 'this survey'}'s "
                f"attributes: {', '.join(known) or 'none'}",
                errors=[
                    FieldError(field="query.by", value=b, message="unknown attribute.")
                    for b in unknown
                ],
            )
        return LoadedSurvey(
            survey, instrument, stored.values, stored.attribute_frame(by), len(stored)
        )

    async def report(
        self,
        survey_id: uuid.UUID,
        by: list[str],
        min_group_size: int | None,
        options: ReportOptions | None = None,
    ) -> SurveyReport:
        """Summarise the stored responses by the given attributes.

        With ``options.previous`` the change since that survey is added; with
        ``options.benchmark`` the groups are placed within that comparison set.

        Raises
        ------
        ProblemError
            404 unknown survey (or previous survey, or norm table); 422 unknown
            attribute, a threshold below the floor, another instrument, or too
            few organisations to benchmark against.
        """
        options = options or ReportOptions()
        threshold = self.threshold(min_group_size)
        loaded = await self.load(survey_id, by)
        try:
            with np.errstate(all="ignore"):
                report = mes.summarise(
                    loaded.instrument,
                    loaded.answers,
                    loaded.attributes,
                    by=by,
                    min_group_size=threshold,
                    errors="missing",
                )
        except mes.MesError as exc:
            raise ProblemError(422, str(exc)) from None
        reliability = None
        if options.reliability and loaded.n >= max(2, threshold):
            with np.errstate(all="ignore"):
                reliability = mes.reliability(loaded.instrument, loaded.answers, errors="missing")
        change = None
        if options.previous is not None:
            change, _ = await self._compare(options.previous, loaded, by, threshold, "previous")
        benchmarks, comparison = None, None
        if options.benchmark is not None:
            if self.benchmarks is None:  # pragma: no cover - wired in every controller
                raise ProblemError(501, "benchmarks are not available here")
            comparison_set = await self.benchmarks.comparison_set(loaded.survey, options.benchmark)
            benchmarks = self.benchmarks.place(report, comparison_set, exclude=str(survey_id))
            comparison = self.benchmarks.describe(comparison_set, exclude=str(survey_id))
        return SurveyReport(
            loaded.survey.title,
            loaded.instrument,
            report,
            reliability,
            change=change,
            benchmarks=benchmarks,
            comparison=comparison,
        )

    async def compare(
        self, survey_id: uuid.UUID, other_id: uuid.UUID, by: list[str], min_group_size: int | None
    ) -> tuple[Any, Survey, Survey]:
        """Change from survey ``other_id`` (before) to ``survey_id`` (after).

        Returns
        -------
        (WaveComparison, this survey, the other survey)
        """
        threshold = self.threshold(min_group_size)
        loaded = await self.load(survey_id, by)
        comparison, before = await self._compare(other_id, loaded, by, threshold, "other_id")
        return comparison, loaded.survey, before

    async def _compare(
        self, other_id: uuid.UUID, after: LoadedSurvey, by: list[str], threshold: int, name: str
    ) -> tuple[Any, Survey]:
        before_survey = await self.responses.surveys.get_model(other_id)
        a = after.survey
        if (before_survey.instrument_id, before_survey.instrument_version) != (
            a.instrument_id,
            a.instrument_version,
        ):
            raise ProblemError(
                422,
                f"survey {a.id} uses instrument {a.instrument_id} version {a.instrument_version} "
                f"but survey {other_id} uses {before_survey.instrument_id} version "
                f"{before_survey.instrument_version}: waves can only be compared on the same "
                "instrument id and version",
                errors=[
                    FieldError(
                        field=f"{'query' if name == 'previous' else 'path'}.{name}",
                        value=str(other_id),
                        message="another instrument or version.",
                    )
                ],
            )
        before = await self.load(other_id, by, what=f"survey {other_id}")
        try:
            with np.errstate(all="ignore"):
                comparison = mes.compare_waves(
                    after.instrument,
                    before.answers,
                    after.answers,
                    by,
                    attributes_before=before.attributes,
                    attributes_after=after.attributes,
                    min_group_size=threshold,
                    errors="missing",
                )
        except mes.MesError as exc:
            raise ProblemError(422, str(exc)) from None
        return comparison, before.survey

"""Group reports of a survey, served from its release, and comparisons and benchmarks.

Every group statistic comes from the survey's release (:mod:`api.domain.reports.releases`):
computed once after fieldwork closed, every breakdown of the reporting plan protected
together. The suppression threshold is the service's ``MES_MIN_GROUP_SIZE``; a request
may raise it (the released report then hides more, never less) but never lower it.

The service also compares two released waves (:func:`mes.groups.compare_reports`) and
places a report's groups within a comparison set (:func:`mes.groups.benchmark_report`);
the comparison sets come from :mod:`api.domain.benchmarks`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import mes
from api.db.models import Survey
from api.domain.reports.releases import ReleaseService
from api.errors import FieldError, ProblemError
from mes.groups import compare_reports

if TYPE_CHECKING:
    from api.domain.benchmarks.services import BenchmarkService

__all__ = ["ReportOptions", "ReportService", "SurveyReport", "parse_by"]


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
    intercorrelations: Any = None  # mes.ScaleCorrelations (HTML only), or None

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


class ReportService:
    """Group reports of one tenant's surveys."""

    def __init__(self, releases: ReleaseService, benchmarks: BenchmarkService) -> None:
        self.releases = releases
        self.floor = releases.floor  # MES_MIN_GROUP_SIZE, the releases' threshold
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

    async def report(
        self,
        survey_id: uuid.UUID,
        by: list[str],
        min_group_size: int | None,
        options: ReportOptions | None = None,
    ) -> SurveyReport:
        """The released report of one breakdown of the survey's plan.

        With ``options.previous`` the change since that survey is added; with
        ``options.benchmark`` the groups are placed within that comparison set.

        Raises
        ------
        ProblemError
            404 unknown survey (or previous survey, or norm table); 409 a survey still
            open; 422 a breakdown outside the plan, a threshold below the floor,
            another instrument, or too few organisations to benchmark against.
        """
        options = options or ReportOptions()
        threshold = self.threshold(min_group_size)
        survey = await self.releases.surveys.get_model(survey_id)
        release = await self.releases.release(survey)
        report = self.releases.report(release, by, threshold)
        instrument = await self.releases.surveys.instrument_of(survey)
        shown = options.reliability and release.respondents >= threshold
        reliability = self.releases.reliability(release) if shown else None
        between = self.releases.intercorrelations(release) if shown else None
        change = None
        if options.previous is not None:
            change, _ = await self._compare(options.previous, survey, report, by, threshold,
                                            "query.previous")
        benchmarks, comparison = None, None
        if options.benchmark is not None:
            comparison_set = await self.benchmarks.comparison_set(survey, options.benchmark)
            benchmarks = self.benchmarks.place(report, comparison_set, exclude=str(survey_id))
            comparison = self.benchmarks.describe(comparison_set, exclude=str(survey_id))
        return SurveyReport(
            survey.title,
            instrument,
            report,
            reliability,
            change=change,
            benchmarks=benchmarks,
            comparison=comparison,
            intercorrelations=between,
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
        survey = await self.releases.surveys.get_model(survey_id)
        report = self.releases.report(await self.releases.release(survey), by, threshold)
        comparison, before = await self._compare(other_id, survey, report, by, threshold,
                                                 "path.other_id")
        return comparison, survey, before

    async def _compare(
        self, other_id: uuid.UUID, after: Survey, report: mes.GroupReport, by: list[str],
        threshold: int, field: str,
    ) -> tuple[Any, Survey]:
        before_survey = await self.releases.surveys.get_model(other_id)
        a = after
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
                    FieldError(field=field, value=str(other_id),
                               message="another instrument or version.")
                ],
            )
        release = await self.releases.release(before_survey)
        before = self.releases.report(release, by, threshold, field=field)
        try:
            comparison = compare_reports(before, report)
        except mes.MesError as exc:
            raise ProblemError(422, str(exc)) from None
        return comparison, before_survey

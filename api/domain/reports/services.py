"""Group reports of a survey, served from its release, and comparisons, trends and benchmarks.

Every group statistic comes from the survey's release (:mod:`api.domain.reports.releases`):
computed once after fieldwork closed, every breakdown of the reporting plan protected
together. The suppression threshold is the service's ``MES_MIN_GROUP_SIZE``; a request
may raise it (the released report then hides more, never less) but never lower it.

The service also compares two released waves (:func:`mes.groups.compare_reports`),
follows a series of released waves (:func:`mes.groups.trend_from_reports`: every wave is
the report that wave's release gives at the request's threshold, so a trend shows nothing
that a single report of any of its waves withholds), and places a report's groups within
a comparison set (:func:`mes.groups.benchmark_report`); the comparison sets come from
:mod:`api.domain.benchmarks`.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

import mes
from api.db.models import Survey
from api.domain.benchmarks.services import BenchmarkService
from api.domain.reports.releases import ReleaseService
from api.errors import FieldError, ProblemError
from mes.groups import (
    Benchmark,
    GroupReport,
    Trend,
    WaveComparison,
    compare_reports,
    trend_from_reports,
)
from mes.reliability import ScaleCorrelations, ScaleReliability

__all__ = [
    "MAX_WAVES",
    "SURVEY_ID_PATTERN",
    "ReportOptions",
    "ReportService",
    "SurveyReport",
    "parse_by",
    "parse_previous",
    "wave_labels",
]

MAX_WAVES = 10
"""Most waves in one trend (this survey and up to 9 previous): what a chart can show."""
SURVEY_ID_PATTERN = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
"""A survey id as the service writes it (a UUID in its canonical form)."""


def parse_by(by: str | None) -> list[str]:
    """``"grade, site"`` -> ``["grade", "site"]`` (blank entries dropped).

    Examples
    --------
    >>> parse_by(" grade,site ,")
    ['grade', 'site']
    """
    return [part.strip() for part in (by or "").split(",") if part.strip()]


def parse_previous(previous: str | None, field: str = "query.previous") -> list[uuid.UUID]:
    """``"<id>,<id>"`` -> the previous waves' ids, oldest first (None: no previous wave).

    Only the form is checked here, exactly as the OpenAPI document states it (survey ids
    separated by commas, nothing else); whether the surveys exist, differ and can be read
    together is the service's to say (:meth:`ReportService.trend`).

    Raises
    ------
    ProblemError
        422 when an entry is not a survey id (a blank one included), or for more than
        ``MAX_WAVES - 1`` ids (naming the limit).

    Examples
    --------
    >>> parse_previous("6f1c4b8e-0d0e-4c6e-9a53-1b2d3c4e5f60,6F1C4B8E-0D0E-4C6E-9A53-1B2D3C4E5F61")
    [UUID('6f1c4b8e-0d0e-4c6e-9a53-1b2d3c4e5f60'), UUID('6f1c4b8e-0d0e-4c6e-9a53-1b2d3c4e5f61')]
    """
    if previous is None:
        return []
    parts = previous.split(",")
    if len(parts) > MAX_WAVES - 1:
        raise ProblemError(
            422,
            f"a trend covers at most {MAX_WAVES} waves (this survey and {MAX_WAVES - 1} "
            f"previous ones); {len(parts)} previous surveys were given",
            errors=[FieldError(field=field, value=previous,
                               message=f"at most {MAX_WAVES - 1} survey ids.")],
            limit=MAX_WAVES,
        )
    for part in parts:
        if not re.fullmatch(SURVEY_ID_PATTERN, part):
            raise ProblemError(
                422,
                f"{part!r} is not a survey id: give the previous waves' survey ids, oldest "
                "first, separated by commas",
                errors=[FieldError(field=field, value=part, message="not a survey id.")],
            )
    return [uuid.UUID(part) for part in parts]


def wave_labels(surveys: list[Survey]) -> list[str]:
    """The label of each wave: its survey's title, with the start of its id where two
    waves share a title (every wave needs its own label).

    Examples
    --------
    >>> import uuid
    >>> from types import SimpleNamespace as S
    >>> a, b = uuid.UUID("1" * 32), uuid.UUID("2" * 32)
    >>> wave_labels([S(title="Doctors", id=a), S(title="Doctors", id=b),
    ...              S(title="Doctors 2026", id=b)])
    ['Doctors (11111111)', 'Doctors (22222222)', 'Doctors 2026']
    """
    titles = [s.title.strip() or str(s.id) for s in surveys]
    labels = []
    for survey, title in zip(surveys, titles, strict=True):
        labels.append(title if titles.count(title) == 1 else f"{title} ({str(survey.id)[:8]})")
    if len(set(labels)) < len(labels):  # ids alike in their first characters
        labels = [f"{t} ({s.id})" if labels.count(label) > 1 else label
                  for s, t, label in zip(surveys, titles, labels, strict=True)]
    return labels


@dataclass(frozen=True)
class ReportOptions:
    """What a report shows besides the groups: the previous waves and a comparison set."""

    previous: uuid.UUID | None = None
    trend: tuple[uuid.UUID, ...] = ()  # earlier waves of a trend, oldest first (none: no trend)
    benchmark: str | None = None  # "stored" or a norm table id
    reliability: bool = False  # the HTML page shows it; JSON and CSV reports do not carry it


@dataclass(frozen=True)
class SurveyReport:
    """A computed report with what the HTML page also needs."""

    title: str
    instrument: mes.Instrument
    report: GroupReport
    reliability: dict[str, ScaleReliability] | None  # the HTML page's, when shown
    change: WaveComparison | None = None
    trend: Trend | None = None
    benchmarks: list[Benchmark] | None = None
    comparison: dict[str, Any] | None = None  # the comparison set's summary
    intercorrelations: ScaleCorrelations | None = None  # the HTML page's, when shown

    def to_dict(self) -> dict[str, Any]:
        """The report's JSON: the group report, plus ``change``, ``trend`` and
        ``benchmarks`` when asked."""
        out: dict[str, Any] = self.report.to_dict()
        if self.change is not None:
            out["change"] = self.change.to_dict()
        if self.trend is not None:
            out["trend"] = self.trend.to_dict()
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
        self.surveys = releases.surveys  # the same tenant's
        self.floor = releases.floor  # MES_MIN_GROUP_SIZE, the releases' threshold
        self.benchmarks = benchmarks

    @classmethod
    def for_tenant(cls, session: AsyncSession, tenant_id: uuid.UUID, floor: int) -> ReportService:
        """The report service of ``tenant_id`` on ``session``, at the suppression floor
        ``floor`` (``MES_MIN_GROUP_SIZE``), with its comparison sets for benchmarks."""
        releases = ReleaseService(session, tenant_id, floor)
        return cls(releases, BenchmarkService(releases))

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

        With ``options.previous`` the change since that survey is added, with
        ``options.trend`` the trend over those surveys and this one; with
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
        survey = await self.surveys.get_model(survey_id)
        waves = await self._waves(list(options.trend), survey) if options.trend else []
        release = await self.releases.release(survey)
        report = self.releases.report(release, by, threshold)
        instrument = await self.surveys.instrument_of(survey)
        shown = options.reliability and release.respondents >= threshold
        reliability = self.releases.reliability(release) if shown else None
        between = self.releases.intercorrelations(release) if shown else None
        trend = await self._trend(waves, report, by, threshold) if waves else None
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
            trend=trend,
            benchmarks=benchmarks,
            comparison=comparison,
            intercorrelations=between,
        )

    async def compare(
        self, survey_id: uuid.UUID, other_id: uuid.UUID, by: list[str], min_group_size: int | None
    ) -> tuple[WaveComparison, Survey, Survey]:
        """Change from survey ``other_id`` (before) to ``survey_id`` (after).

        Returns
        -------
        (WaveComparison, this survey, the other survey)
        """
        threshold = self.threshold(min_group_size)
        survey = await self.surveys.get_model(survey_id)
        report = self.releases.report(await self.releases.release(survey), by, threshold)
        comparison, before = await self._compare(other_id, survey, report, by, threshold,
                                                 "path.other_id")
        return comparison, survey, before

    async def trend(
        self, survey_id: uuid.UUID, previous: list[uuid.UUID], by: list[str],
        min_group_size: int | None,
    ) -> tuple[Trend, list[Survey]]:
        """The trend over the ``previous`` surveys (oldest first) and this one, the latest.

        Returns
        -------
        (Trend, the surveys of its waves, oldest first)

        Raises
        ------
        ProblemError
            404 an unknown survey (or another tenant's); 409 a wave still open; 422
            fewer than 2 waves, another instrument, a survey named twice, a breakdown
            outside a wave's plan. The first three are found before any wave is released.
        """
        if not previous:
            raise ProblemError(
                422,
                "a trend needs at least 2 waves: give the previous waves' survey ids, oldest "
                "first, in previous",
                errors=[FieldError(field="query.previous", value=None,
                                   message="at least one survey id.")],
            )
        survey = await self.surveys.get_model(survey_id)
        waves = await self._waves(previous, survey)
        threshold = self.threshold(min_group_size)
        return await self._trend(waves, None, by, threshold), waves

    async def _waves(self, previous: list[uuid.UUID], latest: Survey) -> list[Survey]:
        """The surveys of a trend, oldest first, each checked before any is released (so
        that a trend refused for one wave releases none): known and this tenant's, each
        named once, the same instrument, closed."""
        surveys = [await self.surveys.get_model(i) for i in previous] + [latest]
        if latest.id in previous:
            raise ProblemError(
                422,
                f"survey {latest.id} is the latest wave of its own trend: name only the "
                "previous waves in previous",
                errors=[FieldError(field="query.previous", value=str(latest.id),
                                   message="the survey itself.")],
            )
        repeated = sorted({str(i) for i in previous if previous.count(i) > 1})
        if repeated:
            raise ProblemError(
                422,
                f"survey {', '.join(repeated)} is named more than once: each wave of a trend "
                "is a different survey",
                errors=[FieldError(field="query.previous", value=r,
                                   message="named more than once.") for r in repeated],
            )
        for other in surveys[:-1]:
            self._same_instrument(other, latest, "query.previous")
        for wave in surveys:
            self.releases.check_closed(wave)
        return surveys

    async def _trend(
        self, surveys: list[Survey], latest: GroupReport | None, by: list[str],
        threshold: int,
    ) -> Trend:
        """The trend over checked surveys (:meth:`_waves`), each wave its release's report
        at ``threshold``; ``latest`` is the last wave's report when already read."""
        reports = []
        for i, wave in enumerate(surveys):
            if latest is not None and i == len(surveys) - 1:
                reports.append(latest)
                continue
            release = await self.releases.release(wave)
            try:
                reports.append(self.releases.report(release, by, threshold))
            except ProblemError as exc:
                raise ProblemError(exc.status, f"survey {wave.id} ({wave.title}): {exc.detail}",
                                   errors=exc.errors, **exc.extra) from None
        try:
            return trend_from_reports(reports, wave_labels(surveys), min_group_size=threshold)
        except mes.MesError as exc:
            raise ProblemError(422, str(exc)) from None

    @staticmethod
    def _same_instrument(other: Survey, survey: Survey, field: str) -> None:
        """422 unless ``other`` pins the instrument id and version ``survey`` pins."""
        if (other.instrument_id, other.instrument_version) != (
            survey.instrument_id,
            survey.instrument_version,
        ):
            raise ProblemError(
                422,
                f"survey {survey.id} uses instrument {survey.instrument_id} version "
                f"{survey.instrument_version} but survey {other.id} uses {other.instrument_id} "
                f"version {other.instrument_version}: waves can only be compared on the same "
                "instrument id and version",
                errors=[
                    FieldError(field=field, value=str(other.id),
                               message="another instrument or version.")
                ],
            )

    async def _compare(
        self, other_id: uuid.UUID, after: Survey, report: GroupReport, by: list[str],
        threshold: int, field: str,
    ) -> tuple[WaveComparison, Survey]:
        before_survey = await self.surveys.get_model(other_id)
        self._same_instrument(before_survey, after, field)
        release = await self.releases.release(before_survey)
        before = self.releases.report(release, by, threshold, field=field)
        try:
            comparison = compare_reports(before, report)
        except mes.MesError as exc:
            raise ProblemError(422, str(exc)) from None
        return comparison, before_survey

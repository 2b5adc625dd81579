"""Report releases: a survey's group statistics are computed once, after fieldwork.

Reports protected one by one still leak through time: read ``report?by=site``, let one
doctor respond, read it again, and the difference of the two sums is that doctor's
score; an erasure gives the erased doctor away the same way. So group statistics are
*released*, not computed on demand:

- While a survey is open (collecting responses) no group statistic is served: report,
  comparison, benchmark, reliability and share reads answer 409. Only the number of
  responses is shown (``GET /v1/surveys/{id}``), which says nothing about an answer.
- The first report read after the survey is closed releases it: every report of the
  survey's reporting plan is computed in one pass (:func:`mes.summarise_plan`: every
  cell of every breakdown protected together) with the reliability report, and stored
  in ``report_release``. Every later read of any breakdown, format, comparison,
  benchmark or share link is served from that release, so no two reads can differ.
- A released survey cannot be reopened or given another plan. An erasure still
  deletes the person's answers and respondent id; the release, which holds only
  aggregates over groups of at least ``MES_MIN_GROUP_SIZE``, stays as it was and so
  reveals nothing about the person erased (``docs/confidentiality.md``).
- Surveys sharing responses are released as one system: a release is protected together
  with the tenant's earlier releases of the same instrument (a snapshot of fieldwork
  and the final data, the same answers under another plan, a release before an
  erasure; :mod:`mes.groups.overlap`), and releases of one tenant are stored one at a
  time, each checked against every release stored before it.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import fcntl
import os
import uuid
import weakref
from collections.abc import AsyncIterator
from typing import Any

import anyio.to_thread
import numpy as np
from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

import mes
from api.db.models import ReportRelease, Survey
from api.domain.surveys.services import SurveyData, SurveyService
from api.errors import FieldError, ProblemError
from mes.groups import (
    GroupReport,
    Release,
    raise_threshold,
    release_discloses_items,
    sharing_releases,
)
from mes.groups.plan import Breakdown, allowed_breakdowns, default_plan, plan_attributes
from mes.reliability import ScaleCorrelations, ScaleReliability

__all__ = ["ReleaseService", "breakdown_key", "survey_plan"]

# A release is computed again when another survey of the tenant was released meanwhile
# (by another process); this many times, then the request is refused with 503.
_ATTEMPTS = 3

# One lock per tenant while some request of this process is releasing one of its surveys.
_RELEASING: weakref.WeakValueDictionary[uuid.UUID, asyncio.Lock] = weakref.WeakValueDictionary()


def _lock_key(tenant_id: uuid.UUID) -> int:
    """A PostgreSQL advisory lock key (signed 64-bit) for releases of one tenant."""
    return int.from_bytes(tenant_id.bytes[:8], "big", signed=True)


def breakdown_key(by: Breakdown) -> str:
    """``("site", "grade")`` -> ``"site,grade"`` (``""`` for the overall group alone)."""
    return ",".join(by)


def survey_plan(survey: Survey, stored_attributes: list[str]) -> list[list[str]]:
    """The survey's reporting plan, or the default: each attribute on its own.

    The default takes the declared attributes, or when the survey declares none the
    attributes its responses carry (those that ``by=`` can name: no comma, no
    surrounding space).
    """
    if survey.reporting_plan is not None:
        return [list(b) for b in survey.reporting_plan]
    names = list(survey.declared_attributes or {}) if survey.declared_attributes is not None \
        else [a for a in stored_attributes if "," not in a and a == a.strip() and a]
    return [list(b) for b in default_plan(names)]


class ReleaseService:
    """The released reports of one tenant's surveys."""

    def __init__(self, session: AsyncSession, tenant_id: uuid.UUID, floor: int) -> None:
        self.session = session
        self.tenant_id = tenant_id
        self.floor = floor
        # Without the answer cache: a survey is released once, so its answers would only
        # take the place of the score pages' entries, which are read again and again.
        self.surveys = SurveyService(session, tenant_id)

    async def release(self, survey: Survey) -> ReportRelease:
        """The survey's release, made now if this is the first read after closing.

        Raises
        ------
        ProblemError
            409 while the survey is open; 503 if other releases of the tenant kept
            appearing while this one was computed.
        """
        self.check_closed(survey)
        found = await self._find(survey.id)
        if found is not None:
            return found
        data = await self.surveys.data(survey)
        async with self._one_release_at_a_time():
            for _ in range(_ATTEMPTS):
                others = await self._released_alongside(survey)
                row = await self._compute(survey, data, others)
                stored = await self._store(row, survey, {o.id for o, _ in others})
                if stored is not None:
                    return stored
        raise ProblemError(
            503, f"survey {survey.id} could not be released: other surveys of this tenant were "
            "being released at the same time; retry the request",
        )

    @contextlib.asynccontextmanager
    async def _one_release_at_a_time(self) -> AsyncIterator[None]:
        """Releases of this tenant one after another, so that each is protected against
        every release stored before it: in this process by a lock; across processes on
        PostgreSQL by an advisory lock on a connection of its own, on SQLite by a lock on a
        file beside the database (the processes of one SQLite database share its disk).
        The check in :meth:`_store` covers whatever else stores a release meanwhile."""
        lock = _RELEASING.setdefault(self.tenant_id, asyncio.Lock())
        async with lock:
            engine = self.session.bind
            if not isinstance(engine, AsyncEngine):  # pragma: no cover - always an engine
                yield
                return
            if engine.dialect.name == "postgresql":
                key = {"key": _lock_key(self.tenant_id)}
                async with engine.connect() as connection:
                    await connection.execute(text("SELECT pg_advisory_lock(:key)"), key)
                    try:
                        yield
                    finally:
                        await connection.execute(text("SELECT pg_advisory_unlock(:key)"), key)
                return
            database = engine.url.database
            if not database or database == ":memory:" or database.startswith("file:"):
                yield  # one process holds an in-memory database
                return
            descriptor = os.open(f"{database}.release-lock", os.O_CREAT | os.O_RDWR, 0o600)
            try:
                # Waiting in a worker thread: the event loop keeps serving meanwhile.
                await anyio.to_thread.run_sync(fcntl.flock, descriptor, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(descriptor, fcntl.LOCK_UN)
            finally:
                os.close(descriptor)

    async def _released_alongside(
        self, survey: Survey, session: AsyncSession | None = None
    ) -> list[tuple[Survey, ReportRelease]]:
        """The tenant's other released surveys of the same instrument, with their releases:
        a reader may hold their reports beside this survey's."""
        rows = await (session or self.session).execute(
            select(Survey, ReportRelease)
            .join(ReportRelease, ReportRelease.survey_id == Survey.id)
            .where(
                Survey.tenant_id == self.tenant_id,
                Survey.id != survey.id,
                Survey.instrument_id == survey.instrument_id,
                Survey.instrument_version == survey.instrument_version,
            )
            .order_by(Survey.created_at, Survey.id)
        )
        return [(s, r) for s, r in rows.all()]

    async def _compute(
        self, survey: Survey, data: SurveyData, others: list[tuple[Survey, ReportRelease]]
    ) -> ReportRelease:
        """Every report of the plan and the reliability report, protected together with
        the other releases (:mod:`mes.groups.overlap`)."""
        instrument, stored = data.instrument, data.answers
        plan = survey_plan(survey, stored.attribute_names())
        names = list(plan_attributes([tuple(b) for b in plan]))
        for _, earlier in others:
            names.extend(plan_attributes([tuple(b) for b in earlier.plan]))
        names = list(dict.fromkeys(names))
        releases = []
        for other, other_release in others:
            answers = (await self.surveys.data(other)).answers
            releases.append(Release(
                answers.values, answers.attribute_frame(names),
                reports={tuple(k.split(",")) if k else (): GroupReport.from_dict(v)
                         for k, v in other_release.reports.items()},
                item_statistics=other_release.reliability is not None, name=str(other.id),
            ))
        attributes = stored.attribute_frame(names)
        floor = self.floor

        def compute() -> tuple[dict[Breakdown, GroupReport], dict[str, Any] | None]:
            with np.errstate(all="ignore"):
                reports = mes.summarise_plan(instrument, stored.values, attributes, plan,
                                             min_group_size=floor, errors="missing",
                                             releases=releases)
                if len(stored) < max(2, floor) or release_discloses_items(
                        instrument, stored.values, releases, floor, errors="missing"):
                    return reports, None
                # An item answered by a few shows none of its statistics. Response
                # frequencies are counts per item and answer: no value given by a few is
                # shown, and none at all beside a release sharing responses (the difference
                # of two surveys' counts would be the late few's answers).
                sharing = sharing_releases(instrument, stored.values, releases,
                                           errors="missing")
                scales = {s: r.hide_rare_items(floor)
                          .hide_frequencies(None if sharing else floor).to_dict()
                          for s, r in mes.reliability(instrument, stored.values,
                                                      errors="missing").items()}
                between = mes.scale_intercorrelations(instrument, stored.values,
                                                      errors="missing").to_dict()
                return reports, {"scales": scales, "intercorrelations": between}

        try:
            # Seconds for a large survey, once: in a worker thread, so that the process
            # keeps answering other requests meanwhile.
            reports, reliability = await anyio.to_thread.run_sync(compute)
        except mes.MesError as exc:
            raise ProblemError(422, str(exc)) from None
        return ReportRelease(
            tenant_id=self.tenant_id, survey_id=survey.id, plan=plan,
            min_group_size=self.floor, respondents=len(stored),
            reports={breakdown_key(b): r.to_dict() for b, r in reports.items()},
            reliability=reliability,
        )

    async def _store(
        self, row: ReportRelease, survey: Survey, seen: set[uuid.UUID]
    ) -> ReportRelease | None:
        """Store the release unless another survey of the tenant was released meanwhile
        (then None: it must be protected against that one too)."""
        # Committed at once in a transaction of its own: a release is final whatever
        # becomes of the request, and the request's (read) transaction must not hold a
        # write lock while the audit entry of this read is written (SQLite). The request's
        # transaction ends first: releases are made by reads, which have written nothing,
        # and on SQLite a transaction that read before another one's commit could not
        # write afterwards (a share link stored after its report is released).
        if self.session.in_transaction():
            await self.session.commit()
        async with AsyncSession(self.session.bind, expire_on_commit=False) as own:
            own.add(row)
            try:
                await own.flush()
            except IntegrityError:  # another request released it first: serve that one
                await own.rollback()
                found = await self._find(survey.id, own)
                if found is None:  # pragma: no cover - the conflict names this survey
                    raise
                return found
            # Another process may have stored a release of the tenant while this one was
            # computed (on SQLite the insert above holds the write lock, so this read
            # sees every release committed before it).
            now = {o.id for o, _ in await self._released_alongside(survey, own)}
            if now != seen:
                await own.rollback()
                return None
            await own.execute(
                update(Survey).where(Survey.id == survey.id)
                .values(released_at=dt.datetime.now(dt.UTC))
            )
            await own.commit()
        return row

    @staticmethod
    def check_closed(survey: Survey) -> None:
        """409 while the survey is open: its group statistics are not released yet.

        A read of several surveys (a trend) checks every one first, so that a refused
        read releases none of them.
        """
        if survey.status != "closed":
            raise ProblemError(
                409,
                f"survey {survey.id} is open: group statistics are released once fieldwork "
                "is closed (PATCH /v1/surveys/{id} with status closed), so that no report read "
                "before and after a response can reveal it; the number of responses so far is "
                "in GET /v1/surveys/{id}",
            )

    async def _find(
        self, survey_id: uuid.UUID, session: AsyncSession | None = None
    ) -> ReportRelease | None:
        return await (session or self.session).scalar(
            select(ReportRelease).where(
                ReportRelease.survey_id == survey_id, ReportRelease.tenant_id == self.tenant_id
            )
        )

    @staticmethod
    def report(release: ReportRelease, by: list[str], threshold: int, *,
               field: str = "query.by") -> GroupReport:
        """The released report of one breakdown, at ``threshold`` (422 outside the plan)."""
        key = breakdown_key(tuple(by))
        data = release.reports.get(key)
        if data is None:
            allowed = [breakdown_key(b) or "(overall only)"
                       for b in allowed_breakdowns([tuple(b) for b in release.plan])]
            raise ProblemError(
                422,
                f"by={key} is not in this survey's reporting plan; breakdowns that may be "
                f"reported: {'; '.join(allowed)} (set reporting_plan when creating the survey, "
                "or before its reports are released)",
                errors=[FieldError(field=field, value=key, message="not in the reporting plan.")],
                plan=[list(b) for b in release.plan],
            )
        report = GroupReport.from_dict(data)
        return raise_threshold(report, max(threshold, report.min_group_size))

    @staticmethod
    def reliability(release: ReportRelease) -> dict[str, ScaleReliability] | None:
        """The released reliability report per scale (None with too few respondents)."""
        if release.reliability is None:
            return None
        return {s: ScaleReliability.from_dict(d)
                for s, d in release.reliability["scales"].items()}

    @staticmethod
    def intercorrelations(release: ReportRelease) -> ScaleCorrelations | None:
        """The released correlations between scale scores (None with too few respondents)."""
        if release.reliability is None:
            return None
        return ScaleCorrelations.from_dict(release.reliability["intercorrelations"])

    @staticmethod
    def reliability_payload(release: ReportRelease) -> dict[str, Any] | None:
        """The released reliability report as JSON data: ``scales`` (scale id ->
        ``ScaleReliability.to_dict()``) and ``intercorrelations``."""
        return None if release.reliability is None else dict(release.reliability)

"""Comparison sets for benchmarks and the tenant's stored norm tables.

Two kinds of comparison set place a report's groups (:func:`mes.groups.benchmark_report`):

* ``stored``: the tenant's other surveys of the same instrument id and version,
  each one organisation whose value is the survey's overall mean per scale.
  A survey whose overall row is suppressed (fewer respondents than the
  service's ``MES_MIN_GROUP_SIZE``) is left out.
* a norm table the tenant uploaded (CSV or YAML, docs/norm-tables.md).

Fewer than five organisations on a scale is refused (422, saying how many).
"""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.db.models import NormTable, Survey
from api.domain.benchmarks.schemas import NormTableCreate, NormTableRead
from api.domain.instruments.services import InstrumentService
from api.domain.reports.releases import ReleaseService
from api.errors import FieldError, ProblemError
from mes.groups import Benchmark, ComparisonSet, GroupReport, benchmark_report
from mes.groups.benchmarks import MIN_ORGANISATIONS, BenchmarkError
from mes.groups.norms import NormTableError, load_norm_table

__all__ = ["STORED", "BenchmarkService"]

STORED = "stored"


class BenchmarkService:
    """Norm tables and comparison sets of one tenant."""

    def __init__(self, releases: ReleaseService) -> None:
        self.releases = releases
        self.session: AsyncSession = releases.session
        self.tenant_id = releases.tenant_id
        self.floor = releases.floor

    # ----- norm tables ------------------------------------------------------------------

    async def create(self, data: NormTableCreate) -> NormTableRead:
        """Parse (with :func:`mes.groups.load_norm_table`) and store a norm table (422 if bad)."""
        comparison = _parse(data)
        instrument = data.instrument or comparison.instrument
        if data.instrument and comparison.instrument and data.instrument != comparison.instrument:
            raise ProblemError(
                422,
                f"the norm table says instrument {comparison.instrument!r} but the request "
                f"says {data.instrument!r}",
                errors=[
                    FieldError(
                        field="instrument",
                        value=data.instrument,
                        message="does not match the table's instrument.",
                    )
                ],
            )
        if instrument is not None:
            try:
                inst, _ = await InstrumentService(self.session, self.tenant_id).get(instrument)
            except ProblemError as exc:
                raise ProblemError(
                    422,
                    f"{exc.detail}: a norm table must name an instrument this tenant can use",
                    errors=[
                        FieldError(
                            field="instrument", value=instrument, message="unknown instrument."
                        )
                    ],
                ) from None
            unknown = sorted(set(comparison.values) - set(inst.scale_ids))
            if unknown:
                raise ProblemError(
                    422,
                    f"scale(s) {', '.join(unknown)} are not scales of instrument {inst.id}; "
                    f"its scales: {', '.join(inst.scale_ids)}",
                    errors=[
                        FieldError(field="content", value=s, message="unknown scale.")
                        for s in unknown
                    ],
                )
        row = NormTable(
            tenant_id=self.tenant_id,
            name=data.name,
            instrument_id=instrument,
            metric=comparison.metric,
            source=comparison.source if comparison.source != _FILE_NAMES[data.format] else None,
            values=comparison.values,
        )
        self.session.add(row)
        await self.session.flush()
        return _read(row)

    async def list_tables(self) -> list[NormTableRead]:
        """The tenant's norm tables, newest first."""
        rows = await self.session.scalars(
            select(NormTable)
            .where(NormTable.tenant_id == self.tenant_id)
            .order_by(NormTable.created_at.desc(), NormTable.id)
        )
        return [_read(r) for r in rows]

    async def get_model(self, table_id: uuid.UUID) -> NormTable:
        """One norm table; 404 when absent or another tenant's."""
        row = await self.session.scalar(
            select(NormTable).where(NormTable.id == table_id, NormTable.tenant_id == self.tenant_id)
        )
        if row is None:
            raise ProblemError(404, f"no norm table {table_id} for this tenant")
        return row

    async def get(self, table_id: uuid.UUID) -> NormTableRead:
        """Read one norm table."""
        return _read(await self.get_model(table_id))

    async def delete(self, table_id: uuid.UUID) -> None:
        """Delete one norm table (404 when absent)."""
        await self.session.delete(await self.get_model(table_id))
        await self.session.flush()

    # ----- comparison sets --------------------------------------------------------------

    async def comparison_set(self, survey: Survey, which: str) -> ComparisonSet:
        """``"stored"`` or a norm table id -> the comparison set (404 unknown, 422 invalid)."""
        if which == STORED:
            return await self.stored(survey)
        try:
            table_id = uuid.UUID(which)
        except ValueError:
            raise ProblemError(
                422,
                f"benchmark must be 'stored' or the id of a norm table, got {which!r}",
                errors=[
                    FieldError(
                        field="query.benchmark", value=which, message="'stored' or a norm table id."
                    )
                ],
            ) from None
        row = await self.get_model(table_id)
        return ComparisonSet(
            {s: dict(v) for s, v in row.values.items()},
            metric="percent" if row.metric == "percent" else "mean",
            instrument=row.instrument_id,
            source=row.source or f"norm table {row.name}",
        )

    async def stored(self, survey: Survey) -> ComparisonSet:
        """The overall means of the tenant's closed surveys of the same instrument id and
        version, each from its release (released now if it was not yet: its overall mean
        is published as part of this comparison set, so it must not change afterwards).

        Open surveys are left out: their means would move with every response. The
        survey being benchmarked is in the set under its id; benchmarks leave it out
        (``exclude``).
        """
        surveys = list(
            await self.session.scalars(
                select(Survey).where(
                    Survey.tenant_id == self.tenant_id,
                    Survey.instrument_id == survey.instrument_id,
                    Survey.instrument_version == survey.instrument_version,
                    Survey.status == "closed",
                )
            )
        )
        means: dict[str, dict[str, float]] = {}
        for other in surveys:
            release = await self.releases.release(other)
            overall = self.releases.report(release, [], self.floor).overall
            if overall.suppressed or not overall.n:
                continue
            means[str(other.id)] = {
                s: float(c.mean) for s, c in overall.scales.items() if c.mean is not None
            }
        return ComparisonSet.from_means(
            means,
            instrument=survey.instrument_id,
            source=f"this tenant's surveys of {survey.instrument_id} {survey.instrument_version}",
        )

    def place(
        self, report: GroupReport, comparison: ComparisonSet, *, exclude: str
    ) -> list[Benchmark]:
        """Benchmark every shown group of ``report`` on every scale of the report that has
        at least five organisations (422, saying how many there are, when none has)."""
        sizes = {
            s: int(comparison.sample(s, exclude=exclude).size)
            for s in report.scales
            if comparison.size(s)
        }
        scales = [s for s, n in sizes.items() if n >= MIN_ORGANISATIONS]
        if comparison.instrument is not None and comparison.instrument != report.instrument_id:
            scales = list(sizes)  # let the library name the mismatch
        elif not scales:
            most = max(sizes.values(), default=0)
            stored = bool(comparison.source and comparison.source.startswith("this tenant's"))
            raise ProblemError(
                422,
                f"a benchmark needs at least {MIN_ORGANISATIONS} organisations; "
                f"{_describe_source(comparison)} has {most}"
                + (f" (other surveys with at least {self.floor} responses)" if stored else "")
                + (
                    f" on every scale of the report (sizes: {sizes})"
                    if not stored and sizes
                    else ""
                ),
                limit=MIN_ORGANISATIONS,
            )
        try:
            return benchmark_report(report, comparison, scales=scales, exclude=exclude)
        except BenchmarkError as exc:
            raise ProblemError(422, str(exc)) from None

    @staticmethod
    def describe(comparison: ComparisonSet, *, exclude: str) -> dict[str, Any]:
        """The comparison set's summary: metric, source, instrument, organisations per scale."""
        out = comparison.to_dict()
        out["sizes"] = {
            s: int(comparison.sample(s, exclude=exclude).size) for s in comparison.values
        }
        out["skipped_scales"] = sorted(s for s, n in out["sizes"].items() if n < MIN_ORGANISATIONS)
        return out


_FILE_NAMES = {"csv": "norms.csv", "yaml": "norms.yaml"}


def _describe_source(comparison: ComparisonSet) -> str:
    return comparison.source or "the comparison set"


def _parse(data: NormTableCreate) -> ComparisonSet:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / _FILE_NAMES[data.format]
        path.write_text(data.content, encoding="utf-8")
        try:
            return load_norm_table(path)
        except NormTableError as exc:
            message = str(exc).replace(str(path), f"norm table ({data.format})")
            raise ProblemError(
                422,
                message,
                errors=[FieldError(field="content", value=None, message=message)],
            ) from None


def _read(row: NormTable) -> NormTableRead:
    return NormTableRead(
        id=row.id,
        name=row.name,
        instrument=row.instrument_id,
        metric="percent" if row.metric == "percent" else "mean",
        source=row.source,
        sizes={s: len(v) for s, v in row.values.items()},
        created_at=row.created_at,
    )

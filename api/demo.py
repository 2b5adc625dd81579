"""``mes demo``: a demo tenant with two waves of synthetic MES responses, then the service.

Seeds (idempotently: running it again adds nothing and reuses what is there)

* tenant ``demo`` and one admin key (a fresh key each run: keys are stored only
  as hashes, so the previous one cannot be shown again; earlier demo keys are
  revoked, leaving exactly one active);
* two surveys of the MES, ``Demo trust: MES 2025`` and ``Demo trust: MES 2026``,
  each of about 1,800 synthetic respondents across sites, specialties and staff
  groups (a fixed random seed: the same numbers every time), both closed (group
  statistics are released only once a survey's fieldwork is closed);
* a synthetic norm table of 12 comparison trusts, so that the report shows
  benchmark bands;
* a share link to the 2026 report by site with the change since 2025 and the
  benchmarks (reused while it is valid);

prints the key and the links, and serves the API (unless ``--no-serve``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import msgspec
import numpy as np
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

import mes
from api.auth.keys import create_key
from api.db.models import ApiKey, NormTable, ReportShare, Survey, Tenant
from api.domain.benchmarks.schemas import NormTableCreate
from api.domain.benchmarks.services import BenchmarkService
from api.domain.reports.releases import ReleaseService
from api.domain.responses.parsing import JSON, IngestLimits
from api.domain.responses.services import ResponseService, Submission
from api.domain.shares.schemas import ShareCreate
from api.domain.shares.services import ShareService
from api.domain.shares.signing import signing_key
from api.domain.surveys.schemas import SurveyUpdate
from api.domain.surveys.services import SurveyService
from api.settings import Settings

__all__ = ["DEMO_TENANT", "DemoSeed", "seed_demo", "synthetic_responses"]

DEMO_TENANT = "demo"
SEED = 20260501
SITES = {"North General": 0.15, "City Hospital": -0.10, "Riverside": 0.0, "Hillview": -0.25}
SPECIALTIES = {
    "Surgery": 0.05,
    "Medicine": -0.05,
    "Emergency medicine": -0.30,
    "Anaesthetics": 0.10,
    "Paediatrics": 0.20,
    "Radiology": 0.0,
    "Psychiatry": 0.05,
    "Obstetrics": -0.10,
}
STAFF_GROUPS = {"consultant": 0.20, "SAS doctor": -0.15, "trainee": -0.05}
# Wave 2 - wave 1 by site: Hillview's engagement programme, City Hospital's bad winter.
WAVE_CHANGE = {"North General": 0.05, "City Hospital": -0.20, "Riverside": 0.0, "Hillview": 0.35}
WAVES = (("Demo trust: MES 2025", 1, 1800), ("Demo trust: MES 2026", 2, 1850))
NORM_TABLE = "Demo comparison trusts (synthetic)"


@dataclass(frozen=True)
class DemoSeed:
    """What the demo made or found."""

    key: str
    surveys: tuple[uuid.UUID, uuid.UUID]
    norm_table: uuid.UUID
    share_url: str
    created: bool  # False when everything already existed


def synthetic_responses(wave: int, n: int, seed: int = SEED) -> list[dict[str, Any]]:
    """``n`` deterministic MES respondents of a wave: answers 1-5 and three attributes.

    Examples
    --------
    >>> a = synthetic_responses(1, 3)
    >>> a == synthetic_responses(1, 3), sorted(a[0]["attributes"])
    (True, ['site', 'specialty', 'staff_group'])
    """
    instrument = mes.load_instrument("mes")
    items = instrument.item_ids
    reverse = np.asarray(instrument.reverse_mask, dtype=bool)
    rng = np.random.default_rng([seed, wave])
    sites = rng.choice(list(SITES), size=n, p=[0.35, 0.3, 0.2, 0.15])
    specialties = rng.choice(list(SPECIALTIES), size=n)
    staff = rng.choice(list(STAFF_GROUPS), size=n, p=[0.45, 0.2, 0.35])
    item_offset = rng.normal(0, 0.25, size=len(items))
    latent = (
        3.35
        + np.array([SITES[s] for s in sites])
        + np.array([SPECIALTIES[s] for s in specialties])
        + np.array([STAFF_GROUPS[s] for s in staff])
        + (np.array([WAVE_CHANGE[s] for s in sites]) if wave == 2 else 0.0)
        + rng.normal(0, 0.45, size=n)
    )
    raw = latent[:, None] + item_offset[None, :] + rng.normal(0, 0.75, size=(n, len(items)))
    answers = np.clip(np.rint(raw), 1, 5).astype(int)
    answers[:, reverse] = 6 - answers[:, reverse]
    skipped = rng.random(size=answers.shape) < 0.01  # a few unanswered items
    return [
        {
            "respondent": f"w{wave}-{i:05d}",
            "answers": {
                item: int(answers[i, j]) for j, item in enumerate(items) if not skipped[i, j]
            },
            "attributes": {
                "site": str(sites[i]),
                "specialty": str(specialties[i]),
                "staff_group": str(staff[i]),
            },
        }
        for i in range(n)
    ]


def _norms_csv(seed: int = SEED) -> str:
    rng = np.random.default_rng([seed, 99])
    instrument = mes.load_instrument("mes")
    lines = [
        "# Synthetic comparison trusts for the demo (not real MES norms)",
        "organisation,scale,mean",
    ]
    for t in range(12):
        level = rng.normal(3.35, 0.18)
        for scale in instrument.scale_ids:
            lines.append(f"Comparison trust {t + 1:02d},{scale},{level + rng.normal(0, 0.08):.3f}")
    return "\n".join(lines) + "\n"


async def _tenant(session: AsyncSession) -> Tenant | None:
    return await session.scalar(select(Tenant).where(Tenant.name == DEMO_TENANT))


async def seed_demo(session: AsyncSession, settings: Settings, base_url: str) -> DemoSeed:
    """Seed the demo data (idempotent) and return a fresh key and the share link."""
    tenant = await _tenant(session)
    if tenant is not None:  # one active demo key: revoke the previous ones
        await session.execute(
            update(ApiKey)
            .where(ApiKey.tenant_id == tenant.id, ApiKey.revoked_at.is_(None))
            .values(revoked_at=dt.datetime.now(dt.UTC))
        )
    key = await create_key(session, DEMO_TENANT, ["admin"])
    tenant = await _tenant(session)
    assert tenant is not None
    created = False
    survey_ids: list[uuid.UUID] = []
    for title, wave, n in WAVES:
        survey = await session.scalar(
            select(Survey).where(Survey.tenant_id == tenant.id, Survey.title == title)
        )
        if survey is None:
            instrument = mes.load_instrument("mes")
            survey = Survey(
                tenant_id=tenant.id,
                title=title,
                instrument_id=instrument.id,
                instrument_version=instrument.version,
                status="open",
                declared_attributes={
                    "site": list(SITES),
                    "specialty": list(SPECIALTIES),
                    "staff_group": list(STAFF_GROUPS),
                },
                # What a trust reports: each site by staff group, specialties and staff
                # groups on their own, all protected together.
                reporting_plan=[["site", "staff_group"], ["specialty"], ["staff_group"]],
            )
            session.add(survey)
            await session.flush()
            created = True
        if not survey.response_count:
            body = msgspec.json.encode({"responses": synthetic_responses(wave, n)})
            await ResponseService(session, tenant.id, IngestLimits(max_rows=n)).submit(
                survey.id, Submission(JSON, body)
            )
            created = True
        if survey.status == "open":  # fieldwork over: its reports can be read
            await SurveyService(session, tenant.id).update(
                survey.id, SurveyUpdate(status="closed")
            )
        survey_ids.append(survey.id)
    benchmarks = BenchmarkService(ReleaseService(session, tenant.id, settings.min_group_size))
    table_id = await session.scalar(
        select(NormTable.id).where(NormTable.tenant_id == tenant.id, NormTable.name == NORM_TABLE)
    )
    if table_id is None:
        table = await benchmarks.create(
            NormTableCreate(name=NORM_TABLE, format="csv", content=_norms_csv(), instrument="mes")
        )
        table_id = table.id
        created = True
    await session.commit()  # the key made below is committed on its own
    share_key = await signing_key(session, settings)
    shares = ShareService(session, tenant.id, settings, share_key)
    options = {
        "by": ["site"],
        "min_group_size": None,
        "previous": str(survey_ids[0]),
        "benchmark": str(table_id),
    }
    existing = await session.scalar(
        select(ReportShare)
        .where(
            ReportShare.tenant_id == tenant.id,
            ReportShare.survey_id == survey_ids[1],
            ReportShare.revoked_at.is_(None),
            ReportShare.expires_at > dt.datetime.now(dt.UTC) + dt.timedelta(days=1),
        )
        .order_by(ReportShare.created_at.desc())
    )
    if existing is not None and existing.options == options:
        share = shares.read(existing, base_url)
    else:
        share = await shares.create(
            survey_ids[1],
            ShareCreate(
                by=["site"], previous=survey_ids[0], benchmark=str(table_id), expires_in_days=30
            ),
            base_url,
        )
        created = True
    return DemoSeed(key, (survey_ids[0], survey_ids[1]), table_id, share.url, created)


def describe(seed: DemoSeed, base_url: str) -> str:
    """What ``mes demo`` prints: the key, the API links and the share link."""
    before, after = seed.surveys
    report = f"{base_url}/v1/surveys/{after}/report"
    return "\n".join(
        [
            "MES demo " + ("seeded" if seed.created else "already seeded (nothing added)"),
            f"  API key (tenant {DEMO_TENANT!r}, admin; earlier demo keys revoked):",
            f"    {seed.key}",
            f"  Surveys: {before} (2025), {after} (2026)",
            f"  Report (JSON):  curl -H 'Authorization: Bearer {seed.key}' '{report}?by=site'",
            f"  Report (HTML):  {report}.html?by=site&previous={before}&benchmark={seed.norm_table}"
            "  (send the key)",
            f"  Compare waves:  {base_url}/v1/surveys/{after}/compare/{before}?by=site",
            "  Share link (no key needed, expires in 30 days):",
            f"    {seed.share_url}",
            f"  API docs:       {base_url}/schema",
        ]
    )

"""``mes demo``: a demo tenant with two waves of synthetic MES responses, then the service.

Seeds (idempotently: running it again adds nothing and reuses what is there)

* tenant ``demo`` and one admin key (a fresh key each run: keys are stored only
  as hashes, so the previous one cannot be shown again; earlier demo keys are
  revoked, leaving exactly one active);
* two surveys of the MES, ``Demo trust: MES 2025`` and ``Demo trust: MES 2026``,
  each of about 1,800 synthetic respondents across sites, specialties and staff
  groups (a fixed random seed: the same numbers every time), both closed (group
  statistics are released only once a survey's fieldwork is closed). The answers
  come from a factor model of the MES (:func:`synthetic_responses`): reliabilities,
  scale means, group differences and missing answers as a real trust's, and one
  specialty too small to be reported;
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
# Effects on every answer, in answer points (1-5 scale): North General and Paediatrics
# clearly above the trust, Hillview and Emergency medicine clearly below, yet most of the
# variation lies within groups, as in staff surveys (ICC(1) of the sites about 0.03).
SITES = {"North General": 0.12, "City Hospital": -0.03, "Riverside": 0.0, "Hillview": -0.15}
SITE_SHARES = (0.35, 0.30, 0.20, 0.15)
SPECIALTIES = {
    "Surgery": 0.05,
    "Medicine": -0.05,
    "Emergency medicine": -0.20,
    "Anaesthetics": 0.05,
    "Paediatrics": 0.20,
    "Radiology": 0.0,
    "Psychiatry": 0.05,
    "Obstetrics": -0.10,
    "Clinical genetics": 0.0,
}
SMALL_SPECIALTY = "Clinical genetics"
SMALL_GROUP_SIZE = 6
"""Respondents of the small specialty in each wave: below the threshold of 10, so that the
report shows a suppressed group (and the group hidden to protect it)."""
STAFF_GROUPS = {"consultant": 0.10, "SAS doctor": -0.10, "trainee": -0.05}
STAFF_SHARES = (0.45, 0.20, 0.35)
# Wave 2 - wave 1 by site: Hillview's engagement programme, City Hospital's bad winter.
WAVE_CHANGE = {"North General": 0.05, "City Hospital": -0.15, "Riverside": 0.0, "Hillview": 0.25}
WAVES = (("Demo trust: MES 2025", 1, 1800), ("Demo trust: MES 2026", 2, 1850))
NORM_TABLE = "Demo comparison trusts (synthetic)"

# The factor model behind the answers. Each answer is a continuous response, rounded and
# clipped to the 1-5 boxes: the item's mean, the respondent's group effects, three levels
# of common factors as the MES is built (general engagement behind all 30 items, one
# factor per meta-scale behind its 10, one per sub-scale behind its 5) and the item's
# own noise, all in answer points. These loadings give sub-scale alphas of about 0.75 to
# 0.85 and an index alpha of about 0.9, the range reported for the MES, so that the
# showcase report carries no low-alpha warning that real data would not.
GENERAL_LOADING = 0.40
META_LOADING = 0.32
SUBSCALES = {  # sub-scale: (mean of its items, sub-scale loading, SD of the item noise)
    "climate_for_positive_change": (3.30, 0.45, 0.72),
    "good_interpersonal_relationships": (3.85, 0.38, 0.70),
    "appraisal_and_rewards": (2.95, 0.48, 0.76),
    "participation_in_decision_making": (3.10, 0.42, 0.74),
    "development_orientation": (3.60, 0.40, 0.78),
    "work_satisfaction": (3.70, 0.52, 0.68),
}
"""The demo trust's doctors rate their relationships with colleagues highest and appraisal
and rewards lowest: scale means spread over a point, not all centred."""
ITEM_SPREAD = 0.15
"""SD of the items' means around their sub-scale's."""
SKIP_RATE = 0.018
"""Mean share of items a respondent leaves blank (each respondent has a rate of their own)."""
BREAKOFF_RATE = 0.015
"""Share of respondents who stop before the end (somewhere in the last third)."""


@dataclass(frozen=True)
class DemoSeed:
    """What the demo made or found."""

    key: str
    surveys: tuple[uuid.UUID, uuid.UUID]
    norm_table: uuid.UUID
    share_url: str
    created: bool  # False when everything already existed


@dataclass(frozen=True)
class _Structure:
    """Which sub-scale each item of the instrument is in, and which meta-scale each
    sub-scale is in (indices into :data:`SUBSCALES` and the meta-scales)."""

    subscale_of_item: np.ndarray
    meta_of_subscale: np.ndarray


def _structure(instrument: mes.Instrument) -> _Structure:
    """The sub-scale and meta-scale structure of the MES, read from the instrument.

    Raises
    ------
    ValueError
        When ``instrument`` does not have the sub-scales of :data:`SUBSCALES`, each in
        one meta-scale.
    """
    names = list(SUBSCALES)
    leaves = [s for s in instrument.scale_ids if instrument.scale(s).items]
    if leaves != names:
        raise ValueError(
            f"instrument {instrument.id!r} has sub-scales {leaves}; the demo's factor model "
            f"needs {names}"
        )
    item_index = {item: j for j, item in enumerate(instrument.item_ids)}
    subscale_of_item = np.full(len(item_index), -1)
    for k, name in enumerate(names):
        subscale_of_item[[item_index[i] for i in instrument.leaf_items(name)]] = k
    children = {s: set(instrument.scale(s).scales or ()) for s in instrument.scale_ids}
    metas = [s for s, kids in children.items() if kids and kids <= set(names)]
    meta_of_subscale = np.full(len(names), -1)
    for m, meta in enumerate(metas):
        for child in instrument.scale(meta).scales or ():
            meta_of_subscale[names.index(child)] = m
    if (subscale_of_item < 0).any() or (meta_of_subscale < 0).any():
        raise ValueError(
            f"instrument {instrument.id!r}: every item needs a sub-scale and every sub-scale "
            "a meta-scale for the demo's factor model"
        )
    return _Structure(subscale_of_item, meta_of_subscale)


def _attributes(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Site, specialty and staff group of ``n`` respondents; exactly
    :data:`SMALL_GROUP_SIZE` of them (when ``n`` allows) in the small specialty."""
    sites = rng.choice(list(SITES), size=n, p=SITE_SHARES)
    common = [s for s in SPECIALTIES if s != SMALL_SPECIALTY]
    specialties = rng.choice(common, size=n).astype(object)
    small = min(SMALL_GROUP_SIZE, n // 10)
    specialties[rng.choice(n, size=small, replace=False)] = SMALL_SPECIALTY
    staff = rng.choice(list(STAFF_GROUPS), size=n, p=STAFF_SHARES)
    return {"site": sites, "specialty": specialties, "staff_group": staff}


def _group_effects(attributes: dict[str, np.ndarray], wave: int) -> np.ndarray:
    """Each respondent's shift of every answer: site, specialty, staff group, and the
    site's change since the first wave."""
    sites = attributes["site"]
    shift = (
        np.array([SITES[s] for s in sites])
        + np.array([SPECIALTIES[s] for s in attributes["specialty"]])
        + np.array([STAFF_GROUPS[s] for s in attributes["staff_group"]])
    )
    if wave > 1:
        shift += np.array([WAVE_CHANGE[s] for s in sites])
    return shift


def _item_means(structure: _Structure, seed: int) -> np.ndarray:
    """Each item's mean: its sub-scale's, give or take :data:`ITEM_SPREAD`; the same in
    every wave (the items do not change between waves, the doctors' answers do)."""
    rng = np.random.default_rng([seed, 0])
    means = np.array([v[0] for v in SUBSCALES.values()])[structure.subscale_of_item]
    return means + rng.normal(0.0, ITEM_SPREAD, size=len(means))


def _answers(rng: np.random.Generator, shift: np.ndarray, structure: _Structure,
             means: np.ndarray, scale: tuple[int, int]) -> np.ndarray:
    """Answers of the factor model (see :data:`SUBSCALES`) of respondents shifted by
    ``shift`` on items of ``means``, rounded and clipped to ``scale``."""
    n, n_items = len(shift), len(structure.subscale_of_item)
    sub = structure.subscale_of_item
    loadings, noise = (np.array([v[k] for v in SUBSCALES.values()])[sub] for k in (1, 2))
    general = rng.normal(size=(n, 1))
    meta = rng.normal(size=(n, int(structure.meta_of_subscale.max()) + 1))
    subscale = rng.normal(size=(n, len(SUBSCALES)))
    response = (
        means
        + shift[:, None]
        + GENERAL_LOADING * general
        + META_LOADING * meta[:, structure.meta_of_subscale[sub]]
        + loadings * subscale[:, sub]
        + noise * rng.normal(size=(n, n_items))
    )
    return np.clip(np.rint(response), scale[0], scale[1]).astype(int)


def _unanswered(rng: np.random.Generator, n: int, n_items: int) -> np.ndarray:
    """Which answers are missing: about 2% in all, from respondents who skip the odd item
    (some more than others) and a few who stop before the end."""
    rate = rng.beta(1.0, 1.0 / SKIP_RATE - 1.0, size=(n, 1))
    skipped = rng.random(size=(n, n_items)) < rate
    stops = rng.random(n) < BREAKOFF_RATE
    last = rng.integers(2 * n_items // 3, n_items, size=n)
    skipped |= stops[:, None] & (np.arange(n_items)[None, :] >= last[:, None])
    return skipped


def synthetic_responses(wave: int, n: int, seed: int = SEED) -> list[dict[str, Any]]:
    """``n`` deterministic MES respondents of a wave: answers 1-5 and three attributes.

    The answers come from a factor model of the MES (general engagement, three
    meta-scales, six sub-scales; :data:`SUBSCALES`), with sites and specialties that
    differ, about 2% of answers missing, and a specialty too small to be reported.

    Examples
    --------
    >>> a = synthetic_responses(1, 3)
    >>> a == synthetic_responses(1, 3), sorted(a[0]["attributes"])
    (True, ['site', 'specialty', 'staff_group'])
    """
    instrument = mes.load_instrument("mes")
    items = instrument.item_ids
    rng = np.random.default_rng([seed, wave])
    attributes = _attributes(rng, n)
    rs = instrument.response_scale
    low, high = int(rs.min), int(rs.max)
    structure = _structure(instrument)
    answers = _answers(rng, _group_effects(attributes, wave), structure,
                       _item_means(structure, seed), (low, high))
    reverse = np.asarray(instrument.reverse_mask, dtype=bool)
    answers[:, reverse] = low + high - answers[:, reverse]
    skipped = _unanswered(rng, n, len(items))
    return [
        {
            "respondent": f"w{wave}-{i:05d}",
            "answers": {
                item: int(answers[i, j]) for j, item in enumerate(items) if not skipped[i, j]
            },
            "attributes": {name: str(values[i]) for name, values in attributes.items()},
        }
        for i in range(n)
    ]


def _typical_means(instrument: mes.Instrument) -> dict[str, float]:
    """Each scale's mean in the factor model before group effects: the mean of its items'."""
    item_means = np.array([v[0] for v in SUBSCALES.values()])[
        _structure(instrument).subscale_of_item
    ]
    index = {item: j for j, item in enumerate(instrument.item_ids)}
    return {
        scale: float(item_means[[index[i] for i in instrument.leaf_items(scale)]].mean())
        for scale in instrument.scale_ids
    }


def _norms_csv(seed: int = SEED) -> str:
    """12 comparison trusts: each scale's mean near the demo trust's, the trusts differing
    by about 0.15 points overall and 0.06 scale by scale."""
    rng = np.random.default_rng([seed, 99])
    typical = _typical_means(mes.load_instrument("mes"))
    lines = [
        "# Synthetic comparison trusts for the demo (not real MES norms)",
        "organisation,scale,mean",
    ]
    for t in range(12):
        level = rng.normal(0.0, 0.15)
        for scale, centre in typical.items():
            mean = centre + level + rng.normal(0.0, 0.06)
            lines.append(f"Comparison trust {t + 1:02d},{scale},{mean:.3f}")
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

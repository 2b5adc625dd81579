"""``mes demo``: seeds once, reuses what is there, prints a working key and share link."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pandas as pd
import pytest
from api_helpers import bearer
from litestar.testing import TestClient
from scipy import stats
from sqlalchemy import func, select

import mes
from api.cli import _run_in_session
from api.db.models import ApiKey, NormTable, ReportShare, Survey, SurveyResponse, Tenant
from api.demo import DEMO_TENANT, SMALL_SPECIALTY, WAVES, seed_demo, synthetic_responses
from api.settings import Settings
from mes.groups.protection import TOO_FEW

MES = mes.load_instrument("mes")


async def _counts(session: Any) -> dict[str, int]:
    tenant = await session.scalar(select(Tenant.id).where(Tenant.name == DEMO_TENANT))

    async def count(model: Any, *where: Any) -> int:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)))

    surveys = select(Survey.id).where(Survey.tenant_id == tenant)
    return {
        "surveys": await count(Survey, Survey.tenant_id == tenant),
        "responses": await count(SurveyResponse, SurveyResponse.survey_id.in_(surveys)),
        "tables": await count(NormTable, NormTable.tenant_id == tenant),
        "shares": await count(ReportShare, ReportShare.tenant_id == tenant),
        "active_keys": await count(ApiKey, ApiKey.tenant_id == tenant,
                                   ApiKey.revoked_at.is_(None)),
    }


def test_demo_is_idempotent_and_its_links_work(
    client: TestClient[Any], settings: Settings
) -> None:
    url = settings.database_url
    first = _run_in_session(url, lambda s: seed_demo(s, settings, "http://testserver.local"))
    counts = _run_in_session(url, _counts)
    assert counts == {"surveys": 2, "responses": sum(n for _, _, n in WAVES), "tables": 1,
                      "shares": 1, "active_keys": 1}
    second = _run_in_session(url, lambda s: seed_demo(s, settings, "http://testserver.local"))
    assert _run_in_session(url, _counts) == counts
    assert second.created is False
    assert second.surveys == first.surveys
    assert second.share_url == first.share_url
    assert second.key != first.key
    old_key = client.get(f"/v1/surveys/{first.surveys[1]}", headers=bearer(first.key))
    assert old_key.status_code == 401  # the previous demo key was revoked

    headers = bearer(second.key)
    before, after = (str(s) for s in second.surveys)
    for survey in (before, after):  # both waves closed: their reports can be read
        read = client.get(f"/v1/surveys/{survey}", headers=headers)
        assert read.json()["status"] == "closed", read.text
    report = client.get(f"/v1/surveys/{after}/report?by=site,staff_group", headers=headers)
    assert report.status_code == 200, report.text
    sites = {g["group"]["site"] for g in report.json()["groups"] if "site" in g["group"]}
    assert sites == {"North General", "City Hospital", "Riverside", "Hillview"}
    specialties = client.get(f"/v1/surveys/{after}/report?by=specialty", headers=headers)
    hidden = {g["group"]["specialty"]: g["suppressed_reason"]
              for g in specialties.json()["groups"] if g["suppressed"]}
    assert hidden[SMALL_SPECIALTY] == TOO_FEW  # the showcase shows a suppressed group
    change = client.get(f"/v1/surveys/{after}/compare/{before}?by=site", headers=headers).json()
    diff = {g["group"].get("site"): g["scales"]["index"]["difference"] for g in change["groups"]}
    assert diff["Hillview"] > 0.15 > diff["North General"] > diff["City Hospital"]

    page = client.get(urlparse(second.share_url).path)
    assert page.status_code == 200
    for section in ("id='change'", "id='benchmarks'", "<svg"):
        assert section in page.text


def _wave_frames(wave: int, n: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows = synthetic_responses(wave, n)
    answers = pd.DataFrame([r["answers"] for r in rows], columns=list(MES.item_ids))
    return answers, pd.DataFrame([r["attributes"] for r in rows])


@pytest.mark.parametrize(("wave", "n"), [(wave, n) for _, wave, n in WAVES])
def test_the_demo_trust_looks_like_published_mes_data(wave: int, n: int) -> None:
    """Sub-scale alphas of 0.70-0.90 and an index alpha of 0.85 or more (as published MES
    data have), no low-alpha warning, about 2% missing, groups that really differ, and one
    group too small to be shown."""
    answers, attributes = _wave_frames(wave, n)
    report = mes.reliability(MES, answers)
    subscales = [s for s in MES.scale_ids if MES.scale(s).items]
    assert len(subscales) == 6
    for scale in subscales:
        assert 0.70 <= report[scale].alpha <= 0.90, (scale, report[scale].alpha)
    assert report["index"].alpha >= 0.85
    assert [f.code for r in report.values() for f in r.flags if f.code == "low_alpha"] == []
    assert 0.01 <= answers.isna().to_numpy().mean() <= 0.03
    means = mes.score(MES, answers).to_frame()[list(MES.scale_ids)].mean()
    assert means.max() - means.min() > 0.5  # relationships high, appraisal low: not centred

    index = pd.Series(mes.score(MES, answers).scores["index"])
    by_specialty = index.groupby(attributes["specialty"].to_numpy())
    top, bottom = by_specialty.mean().idxmax(), by_specialty.mean().idxmin()
    assert (top, bottom) == ("Paediatrics", "Emergency medicine")
    result = stats.ttest_ind(by_specialty.get_group(top), by_specialty.get_group(bottom),
                             equal_var=False, nan_policy="omit")
    assert result.pvalue < 1e-6

    summary = mes.summarise(MES, answers, attributes, by=["specialty"], min_group_size=10)
    small = summary.group(specialty=SMALL_SPECIALTY)
    assert small.suppressed
    assert small.reason == TOO_FEW
    assert sum(g.suppressed for g in summary) >= 2  # and one more, so that it cannot be
    # worked out by subtraction from the overall


def test_synthetic_responses_are_deterministic() -> None:
    a, b = synthetic_responses(1, 50), synthetic_responses(1, 50)
    assert a == b
    assert a != synthetic_responses(2, 50)
    assert all(1 <= v <= 5 for r in a for v in r["answers"].values())


@pytest.mark.slow
def test_mes_demo_command(tmp_path: Path, database_url: str) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("the command is exercised once, on SQLite")
    db = f"sqlite+aiosqlite:///{tmp_path / 'demo.sqlite3'}"
    command = [sys.executable, "-m", "mes", "demo", "--no-serve", "--port", "9911",
               "--database-url", db]
    first = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)
    again = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)
    assert first.stdout.startswith("MES demo seeded")
    assert again.stdout.startswith("MES demo already seeded")
    keys = [line.strip() for line in first.stdout.splitlines() if line.strip().startswith("mes_")]
    assert len(keys) == 1
    share = [line.strip() for line in again.stdout.splitlines() if "/shared/" in line]
    assert share == [line.strip() for line in first.stdout.splitlines() if "/shared/" in line]
    assert share[0].startswith("http://127.0.0.1:9911/shared/")

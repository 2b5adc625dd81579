"""Helpers shared by the API tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient


def bearer(key: str) -> dict[str, str]:
    """The Authorization header of a key."""
    return {"Authorization": f"Bearer {key}"}


def mes_rows(n: int, seed: int = 0, **attributes: Any) -> list[dict[str, Any]]:
    """``n`` MES respondents with answers from a fixed random generator."""
    import numpy as np

    rng = np.random.default_rng(seed)
    base = rng.integers(1, 6, size=(n, 1))
    noise = rng.integers(-1, 2, size=(n, 30))
    answers = np.clip(base + noise, 1, 5)
    return [
        {
            "respondent": f"r{i:05d}",
            "answers": {f"mes{j + 1:02d}": int(answers[i, j]) for j in range(30)},
            "attributes": dict(attributes),
        }
        for i in range(n)
    ]


def create_survey(client: TestClient[Any], headers: dict[str, str], **body: Any) -> str:
    """Create a survey and return its id."""
    payload = {"title": "Doctors 2026", "instrument": "mes", **body}
    response = client.post("/v1/surveys", json=payload, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def close_survey(client: httpx.Client, headers: dict[str, str], survey_id: str) -> None:
    """Close a survey's fieldwork (``PATCH status=closed``; the key needs surveys:write).

    Group statistics (reports, comparisons, benchmarks, reliability, share links) are
    released only for a closed survey: close it after its data are written and before
    its first report is read. ``client`` is the in-process TestClient or an
    ``httpx.Client`` of a live server (``headers`` may then be ``{}``)."""
    response = client.patch(
        f"/v1/surveys/{survey_id}", json={"status": "closed"}, headers=headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "closed", response.text


REPO_ROOT = Path(__file__).resolve().parents[2]


def wait_until_serving(process: Any, base: str, log_path: Path, seconds: float) -> None:
    """Wait for a ``mes serve`` process to answer ``/health``; fail the test with its log
    when it exits or does not answer in time."""
    import time

    import httpx
    import pytest

    deadline = time.monotonic() + seconds
    while True:
        if process.poll() is not None:
            pytest.fail(f"mes serve exited: {log_path.read_text()}")
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"mes serve did not answer: {log_path.read_text()}")
        time.sleep(0.1)


def same_up_to_summation_order(got: Any, want: Any) -> bool:
    """Equal, floats to 1e-9 relative: rows read back from a database may come in another
    order (PostgreSQL groups them by attributes for reports), and a sum in another order
    can differ in the last digit. Counts, flags and texts must be equal."""
    if isinstance(want, dict):
        return isinstance(got, dict) and got.keys() == want.keys() and all(
            same_up_to_summation_order(got[k], want[k]) for k in want
        )
    if isinstance(want, list):
        return isinstance(got, list) and len(got) == len(want) and all(
            same_up_to_summation_order(g, w) for g, w in zip(got, want, strict=True)
        )
    if isinstance(want, float) and isinstance(got, float):
        return got == pytest.approx(want, rel=1e-9, abs=1e-12)
    return bool(got == want)

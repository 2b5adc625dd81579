"""The same responses sent as JSON, as CSV and as FHIR give identical scores.

A hypothesis property through the real app: any valid set of answers to the
bundled ``mes`` instrument, or to a tenant's own instrument (codes, reverse
keying, linkIds that differ from the item ids, median imputation), is stored
into three surveys, one per format; the three surveys' scores must be identical
and equal to :func:`mes.score` of the answers, and the CSV export of the JSON
survey must re-import to the same stored responses.
"""

from __future__ import annotations

import csv
import io
import json
import math
from typing import Any

import numpy as np
import pandas as pd
from api_helpers import create_survey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.testing import TestClient

import mes
from mes.testing.strategies import responses

CUSTOM = {
    "id": "roundtrip_custom",
    "version": "1",
    "title": "Round-trip instrument",
    "licence": "CC0-1.0 (test)",
    "response_scale": {
        "min": 0,
        "max": 4,
        "codes": {"never": 0, "rarely": 1, "sometimes": 2, "often": 3, "always": 4},
    },
    "scoring": {"method": "mean", "min_answered": 0.5, "missing": "median"},
    "items": [
        {"id": "q1", "link_id": "1.1"},
        {"id": "q2", "link_id": "1.2", "reverse": True},
        {"id": "q3", "link_id": "2.1"},
        {"id": "q4", "link_id": "2.2", "reverse": True},
        {"id": "q5", "link_id": "2.3"},
    ],
    "scales": [
        {"id": "first", "items": ["q1", "q2", "q3"]},
        {"id": "second", "items": ["q3", "q4", "q5"], "min_answered": 1.0},
        {"id": "total", "scales": ["first", "second"]},
    ],
}
SITES = ["North", "South", "Éast, upper"]
IDS = st.text(alphabet="abcdefXYZ0123456789-_.", min_size=1, max_size=6)


def _missing(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, float) and math.isnan(value))


def _answer(value: Any) -> Any:
    return value if isinstance(value, str) else int(value)


def _json_batch(inst: mes.Instrument, ids: list[str], frame: pd.DataFrame,
                sites: list[str | None]) -> dict[str, Any]:
    rows = []
    for i, respondent in enumerate(ids):
        answers = {
            item: _answer(v) for item, v in zip(inst.item_ids, frame.iloc[i], strict=True)
            if not _missing(v)
        }
        attributes = {} if sites[i] is None else {"site": sites[i]}
        rows.append({"respondent": respondent, "answers": answers, "attributes": attributes})
    return {"responses": rows}


def _csv_body(inst: mes.Instrument, ids: list[str], frame: pd.DataFrame,
              sites: list[str | None], delimiter: str) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(["respondent", *inst.item_ids, "site"])
    for i, respondent in enumerate(ids):
        cells = ["" if _missing(v) else _answer(v) for v in frame.iloc[i]]
        writer.writerow([respondent, *cells, sites[i] or ""])
    return buffer.getvalue().encode()


def _fhir_bundle(inst: mes.Instrument, ids: list[str], frame: pd.DataFrame,
                 nested: bool) -> bytes:
    entries = []
    for i, respondent in enumerate(ids):
        items = []
        for item, value in zip(inst.items, frame.iloc[i], strict=True):
            if _missing(value):
                continue
            answer = (
                {"valueCoding": {"system": "urn:test", "code": value}}
                if isinstance(value, str)
                else {"valueInteger": int(value)}
            )
            items.append({"linkId": item.link_id or item.id, "answer": [answer]})
        if nested:
            items = [{"linkId": "page", "item": items}]
        entries.append(
            {
                "fullUrl": f"urn:uuid:{i}",
                "resource": {
                    "resourceType": "QuestionnaireResponse",
                    "id": f"qr{i}",
                    "status": "completed",
                    "identifier": {"system": "urn:test:respondent", "value": respondent},
                    "item": items,
                },
            }
        )
    return json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries}).encode()


@st.composite
def cases(draw: st.DrawFn, instruments: list[mes.Instrument]) -> tuple[Any, ...]:
    inst = draw(st.sampled_from(instruments))
    frame = draw(responses(inst, min_size=1, max_size=8, missing=0.25, coded=0.4))
    ids = draw(st.lists(IDS, min_size=len(frame), max_size=len(frame), unique=True))
    sites = draw(st.lists(st.sampled_from([None, *SITES]), min_size=len(frame),
                          max_size=len(frame)))
    return inst, frame, ids, sites, draw(st.sampled_from([",", ";"])), draw(st.booleans())


def _scores(client: TestClient[Any], headers: dict[str, str], survey: str) -> list[Any]:
    page = client.get(f"/v1/surveys/{survey}/scores?limit=1000", headers=headers)
    assert page.status_code == 200, page.text
    return list(page.json()["items"])


def _stored(client: TestClient[Any], headers: dict[str, str], survey: str) -> list[Any]:
    page = client.get(f"/v1/surveys/{survey}/responses?limit=1000", headers=headers).json()
    return [{k: v for k, v in r.items() if k != "submitted_at"} for r in page["items"]]


def test_json_csv_and_fhir_give_identical_scores(
    client: TestClient[Any], admin: dict[str, str]
) -> None:
    registered = client.post("/v1/instruments", json=CUSTOM, headers=admin)
    assert registered.status_code in (200, 201), registered.text
    instruments = [mes.load_instrument("mes"), mes.instrument.instrument_from_mapping(CUSTOM)]

    @settings(max_examples=8, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(cases(instruments))
    def check(case: tuple[Any, ...]) -> None:
        inst, frame, ids, sites, delimiter, nested = case
        surveys = {f: create_survey(client, admin, instrument=inst.id) for f in ("json", "csv",
                                                                               "fhir")}
        sent = {
            "json": client.post(f"/v1/surveys/{surveys['json']}/responses",
                                json=_json_batch(inst, ids, frame, sites), headers=admin),
            "csv": client.post(f"/v1/surveys/{surveys['csv']}/responses",
                               content=_csv_body(inst, ids, frame, sites, delimiter),
                               headers={**admin, "content-type": "text/csv"}),
            "fhir": client.post(f"/v1/surveys/{surveys['fhir']}/responses",
                                content=_fhir_bundle(inst, ids, frame, nested),
                                headers={**admin, "content-type": "application/fhir+json"}),
        }
        for name, response in sent.items():
            assert response.status_code == 201, (name, response.text)
            assert response.json()["accepted"] == len(ids)
        got = {name: _scores(client, admin, survey) for name, survey in surveys.items()}
        assert got["csv"] == got["json"]
        assert got["fhir"] == got["json"]

        # ... and they are the library's scores of the answers, not merely consistent.
        expected = mes.score(inst, frame)
        position = {respondent: i for i, respondent in enumerate(ids)}
        assert sorted(ids) == [row["respondent"] for row in got["json"]]
        for row in got["json"]:
            i = position[row["respondent"]]
            for scale, cell in row["scores"].items():
                want = expected.scores[scale][i]
                assert (cell["score"] is None) == bool(np.isnan(want)), (scale, cell)
                if cell["score"] is not None:
                    assert cell["score"] == want
                assert cell["answered"] == expected.answered[scale][i]

        # Attributes travel with JSON and CSV alike; the CSV export re-imports unchanged.
        assert _stored(client, admin, surveys["csv"]) == _stored(client, admin, surveys["json"])
        export = client.get(f"/v1/surveys/{surveys['json']}/responses.csv", headers=admin)
        again = create_survey(client, admin, instrument=inst.id)
        reimported = client.post(f"/v1/surveys/{again}/responses", content=export.content,
                                 headers={**admin, "content-type": "text/csv"})
        assert reimported.status_code == 201, reimported.text
        assert _scores(client, admin, again) == got["json"]

    check()

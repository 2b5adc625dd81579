"""Benchmarks: against the tenant's stored surveys and against uploaded norm tables."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from api_helpers import bearer, close_survey, create_survey, mes_rows
from litestar.testing import TestClient

import mes
from mes.groups import ComparisonSet, benchmark_report, load_norm_table


def _survey(client: TestClient[Any], headers: dict[str, str], n: int, seed: int,
            specialties: tuple[str, ...] = ("Surgery",)) -> tuple[str, list[dict[str, Any]]]:
    survey = create_survey(client, headers, title=f"trust {seed}")
    rows = mes_rows(n, seed=seed)
    for i, row in enumerate(rows):
        row["attributes"] = {"specialty": specialties[i % len(specialties)]}
    response = client.post(f"/v1/surveys/{survey}/responses", json={"responses": rows},
                           headers=headers)
    assert response.status_code == 201, response.text
    close_survey(client, headers, survey)  # only closed surveys are organisations of a set
    return survey, rows


def _overall_means(rows: list[dict[str, Any]]) -> dict[str, float]:
    report = mes.summarise(mes.load_instrument("mes"), pd.DataFrame([r["answers"] for r in rows]))
    return {s: c.mean for s, c in report.overall.scales.items() if c.mean is not None}


NORMS = "organisation,scale,mean\n" + "".join(
    f"Trust {i},index,{1.0 + i / 10:.1f}\n" for i in range(6)
) + "Trust 0,open_culture,1.2\n"


def test_stored_benchmark_needs_five_other_organisations(
    client: TestClient[Any], admin: dict[str, str]
) -> None:
    target, target_rows = _survey(client, admin, 40, 100, ("Surgery", "Medicine", "Rad"))
    others = [_survey(client, admin, 12, 101 + i) for i in range(4)]
    _survey(client, admin, 5, 120)  # below the threshold: not an organisation of the set
    response = client.get(f"/v1/surveys/{target}/benchmarks?benchmark=stored", headers=admin)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "at least 5 organisations" in response.json()["detail"]
    assert "has 4" in response.json()["detail"]

    others.append(_survey(client, admin, 15, 105))
    response = client.get(
        f"/v1/surveys/{target}/benchmarks?benchmark=stored&by=specialty", headers=admin
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["comparison"]["sizes"]["index"] == 5
    comparison = ComparisonSet.from_means({sid: _overall_means(rows) for sid, rows in others})
    frame = pd.DataFrame([r["answers"] for r in target_rows])
    attrs = pd.DataFrame({"specialty": [r["attributes"]["specialty"] for r in target_rows]})
    report = mes.summarise(mes.load_instrument("mes"), frame, attrs, by=["specialty"])
    expected = [b.to_dict() for b in benchmark_report(report, comparison)]
    got = body["items"]
    assert [(b["group"], b["scale"], b["band"], b["comparison_size"]) for b in got] == [
        (b["group"], b["scale"], b["band"], b["comparison_size"]) for b in expected
    ]
    for g, e in zip(got, expected, strict=True):
        assert abs(g["percentile_rank"] - e["percentile_rank"]) < 1e-9


def test_norm_table_upload_list_benchmark_delete(
    client: TestClient[Any], admin: dict[str, str], tmp_path: Path
) -> None:
    survey, rows = _survey(client, admin, 30, 200, ("Surgery", "Medicine", "Radiology"))
    created = client.post("/v1/norm-tables", headers=admin,
                          json={"name": "National 2024", "format": "csv", "content": NORMS,
                                "instrument": "mes"})
    assert created.status_code == 201, created.text
    table = created.json()
    assert table["sizes"] == {"index": 6, "open_culture": 1}

    assert table["metric"] == "mean"
    assert table["instrument"] == "mes"
    listed = client.get("/v1/norm-tables", headers=admin).json()
    assert [t["id"] for t in listed] == [table["id"]]

    report = client.get(f"/v1/surveys/{survey}/report?by=specialty&benchmark={table['id']}",
                        headers=admin)
    assert report.status_code == 200, report.text
    bench = report.json()["benchmarks"]
    # open_culture has one organisation: skipped (said so), the index is benchmarked.
    assert bench["comparison"]["skipped_scales"] == ["open_culture"]
    # Every shown group scores ~3 on the index, above all six organisations (1.0-1.5).
    assert bench["items"]
    assert all(
        b["scale"] == "index" and b["band"] == "highest" and b["percentile_rank"] == 100.0
        and b["comparison_size"] == 6 for b in bench["items"]
    )
    (tmp_path / "n.csv").write_text(NORMS)
    summary = mes.summarise(
        mes.load_instrument("mes"), pd.DataFrame([r["answers"] for r in rows]),
        pd.DataFrame({"specialty": [r["attributes"]["specialty"] for r in rows]}),
        by=["specialty"])
    expected = benchmark_report(summary, load_norm_table(tmp_path / "n.csv"), scales=["index"])
    assert [b["group"] for b in bench["items"]] == [b.group for b in expected]
    html = client.get(f"/v1/surveys/{survey}/report.html?by=specialty&benchmark={table['id']}",
                      headers=admin)
    assert html.status_code == 200
    assert "id='benchmarks'" in html.text
    assert "band-highest" in html.text
    plain = client.get(f"/v1/surveys/{survey}/report.html?by=specialty", headers=admin)
    assert "id='benchmarks'" not in plain.text

    assert client.delete(f"/v1/norm-tables/{table['id']}", headers=admin).status_code == 204
    assert client.get(f"/v1/norm-tables/{table['id']}", headers=admin).status_code == 404
    gone = client.get(f"/v1/surveys/{survey}/report?benchmark={table['id']}", headers=admin)
    assert gone.status_code == 404
    assert "norm table" in gone.json()["detail"]


def test_suppressed_groups_are_never_benchmarked(
    client: TestClient[Any], admin: dict[str, str]
) -> None:
    survey = create_survey(client, admin)
    rows = mes_rows(44, seed=300)
    for i, row in enumerate(rows):
        row["attributes"] = {"site": "North" if i < 22 else "South" if i < 40 else "Tiny"}
    client.post(f"/v1/surveys/{survey}/responses", json={"responses": rows}, headers=admin)
    close_survey(client, admin, survey)
    table = client.post("/v1/norm-tables", headers=admin,
                        json={"name": "n", "format": "csv", "content": NORMS}).json()
    body = client.get(f"/v1/surveys/{survey}/benchmarks?by=site&benchmark={table['id']}",
                      headers=admin).json()
    groups = [b["group"].get("site", "overall") for b in body["items"]]
    assert "overall" in groups
    assert "Tiny" not in groups
    assert "South" not in groups
    assert groups == ["overall", "North"]


def test_yaml_table_of_another_instrument_and_bad_tables(
    client: TestClient[Any], admin: dict[str, str], make_key: Any
) -> None:
    survey, _ = _survey(client, admin, 12, 400)
    yaml_text = "instrument: uwes9\nmetric: mean\nsource: UWES norms\norganisations:\n" + "".join(
        f"  T{i}: {{total: {3 + i / 10}}}\n" for i in range(6)
    )
    created = client.post("/v1/norm-tables", headers=admin,
                          json={"name": "uwes", "format": "yaml", "content": yaml_text})
    assert created.status_code == 201, created.text
    assert created.json()["source"] == "UWES norms"
    assert created.json()["instrument"] == "uwes9"
    refused = client.get(f"/v1/surveys/{survey}/benchmarks?benchmark={created.json()['id']}",
                         headers=admin)
    assert refused.status_code == 422
    assert "uwes9" in refused.json()["detail"]

    bad = client.post("/v1/norm-tables", headers=admin,
                      json={"name": "bad", "format": "csv",
                            "content": "organisation,scale,mean\nA,index,high\n"})
    assert bad.status_code == 422
    assert "row 2" in bad.json()["detail"]
    assert "not a number" in bad.json()["detail"]
    assert "/tmp" not in bad.json()["detail"]
    wrong_scale = client.post("/v1/norm-tables", headers=admin,
                              json={"name": "x", "format": "csv", "instrument": "mes",
                                    "content": "organisation,scale,mean\nA,vigour,3\n"})
    assert wrong_scale.status_code == 422
    assert "vigour" in wrong_scale.json()["detail"]
    unknown = client.get(f"/v1/surveys/{survey}/benchmarks?benchmark=national", headers=admin)
    assert unknown.status_code == 422
    assert "stored" in unknown.json()["detail"]

    other = bearer(make_key("admin", tenant=f"other-{survey[:8]}"))
    assert client.get(f"/v1/norm-tables/{created.json()['id']}", headers=other).status_code == 404
    assert client.get("/v1/norm-tables", headers=other).json() == []
    reader = bearer(make_key("reports:read"))
    denied = client.post("/v1/norm-tables", headers=reader,
                         json={"name": "n", "format": "csv", "content": NORMS})
    assert denied.status_code == 403

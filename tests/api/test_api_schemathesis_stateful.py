"""Stateful property-based run against the live server: surveys -> responses -> reports.

Schemathesis builds a state machine from the OpenAPI links in ``openapi.yaml``
(``api/openapi.py``): a new survey's ``id`` feeds its submissions, a stored
batch feeds the same survey's report, scores, reliability, listing and the
erasure of one of its respondents, and an erasure feeds the report again; a
survey can be closed (or reopened) after any batch, and the reports follow.
Hypothesis then drives sequences of those calls against ``mes serve`` on each
backend.

Checks on every step: schemathesis' defaults (no 5xx; status codes, content
types, headers and bodies as documented; auth enforced; negative cases
refused) plus invariants against a model of what each survey of the run
holds: a valid batch is stored (201 with the right counts) unless the survey
is closed or a respondent already exists (409 naming exactly those); a batch
with one bad row is refused whole (422 naming the row); survey, listing,
and listing counts equal the stored respondents; an open survey answers 409
to every group statistic (report, CSV, reliability); a closed one releases
them at the first read, and from then on report and reliability counts are
the respondents of the release (erasures change the stored ones, not the
release), and a released survey cannot be reopened; a group below the
suppression threshold is hidden; erasure answers 204 exactly for stored
respondents, and an erased respondent no longer appears in any listing.

Schema-valid random bodies almost never pass validation (unknown instrument,
unknown items), so a schemathesis ``flatmap_case`` hook reshapes positive
cases: survey creations into MES surveys, submissions into MES batches (a
quarter of them with one invalid row), and most report queries into overall
or by-attribute reports. Negative cases stay as generated. The run is bounded
(``max_examples`` scenarios of at most ``stateful_step_count`` steps, about
30 s per backend) and asserts at the end that it really stored, reported and
erased, so a run that only ever met 404s and 422s fails.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
import schemathesis
from api_helpers import REPO_ROOT
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from schemathesis.config import SchemathesisConfig
from schemathesis.generation.modes import GenerationMode

from api.settings import Settings

OPERATIONS = [
    "createSurvey",
    "getSurvey",
    "updateSurvey",
    "submitResponses",
    "listResponses",
    "eraseRespondent",
    "listScores",
    "getReliability",
    "getReport",
    "getReportCsv",
]

# Only the links written in openapi.yaml (no inferred ones), only the operations of the
# surveys -> responses -> reports flow, so that the step budget goes there.
schema = schemathesis.openapi.from_path(
    REPO_ROOT / "openapi.yaml",
    config=SchemathesisConfig.from_dict(
        {"phases": {"stateful": {"inference": {"algorithms": []}}}}
    ),
).include(operation_id=OPERATIONS)

CREATE = "POST /v1/surveys"
SUBMIT = "POST /v1/surveys/{survey_id}/responses"
ERASE = "DELETE /v1/surveys/{survey_id}/responses/{respondent}"
REPORT = "GET /v1/surveys/{survey_id}/report"
REPORT_CSV = "GET /v1/surveys/{survey_id}/report.csv"
RELIABILITY = "GET /v1/surveys/{survey_id}/reliability"
UPDATE = "PATCH /v1/surveys/{survey_id}"
GROUP_STATISTICS = (REPORT, REPORT_CSV, RELIABILITY)

# The server's suppression floor (live_server passes this environment on; JSON reports say it).
FLOOR = Settings().min_group_size
ITEMS = [f"mes{j:02d}" for j in range(1, 31)]
CODES = ["SD", "D", "N", "A", "SA"]
SPECIALTIES = ["Surgery", "Medicine", "Psychiatry"]
GRADES = ["Consultant", "Registrar", "Foundation"]
DECLARED = {"specialty": SPECIALTIES, "grade": None}
PLAN = [["grade", "specialty"], ["specialty"]]  # the declared surveys' reporting plan
# A small pool so that batches overlap (409 or replace); a few ids that need care in a path.
RESPONDENTS = [f"r{i:02d}" for i in range(24)] + ["dr/smith", "Zoë Ünal", "50%"]

# What the run saw, per backend (the fixture resets it): (operation, status) -> count.
SEEN: Counter[tuple[str, int]] = Counter()
# How often each model invariant was actually exercised (a run that checks nothing proves nothing).
CHECKED: Counter[str] = Counter()
# Submissions reshaped by the hook: case id -> the row made invalid (None: a valid batch).
SHAPED: dict[str, int | None] = {}
CURRENT: dict[str, str] = {}


@schema.auth(refresh_interval=None)
class BearerKey:
    """The admin key of the backend under test (read at each use: backends change keys)."""

    def get(self, case: Any, context: Any) -> str:
        return CURRENT.get("key", "not-yet-created")

    def set(self, case: Any, data: str, context: Any) -> None:
        key = CURRENT.get("key", data)
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {key}"}


# ----- valid bodies ----------------------------------------------------------------------------

ANSWER = st.sampled_from([1, 2, 3, 4, 5] * 4 + [*CODES, None, ""])


@st.composite
def _answers(draw: st.DrawFn) -> dict[str, Any]:
    style = draw(st.sampled_from(["mixed", "mixed", "mixed", "straight", "sparse", "empty"]))
    if style == "straight":  # the same answer everywhere: zero variance within the respondent
        value = draw(st.integers(1, 5))
        return dict.fromkeys(ITEMS, value)
    if style == "empty":
        return {}
    answers = {item: draw(ANSWER) for item in ITEMS}
    if style == "sparse":  # most items left out: below min_answered on some scales
        keep = draw(st.sets(st.sampled_from(ITEMS), max_size=8))
        answers = {k: v for k, v in answers.items() if k in keep}
    return answers


@st.composite
def _attributes(draw: st.DrawFn) -> dict[str, Any]:
    attributes: dict[str, Any] = {}
    if draw(st.booleans()):
        attributes["specialty"] = draw(st.sampled_from(SPECIALTIES))
    if draw(st.booleans()):
        attributes["grade"] = draw(st.sampled_from(GRADES))
    return attributes


@st.composite
def valid_batches(draw: st.DrawFn) -> dict[str, Any]:
    """A valid JSON batch for a survey of the bundled MES (declared attributes respected)."""
    # Often at least the suppression floor, so that reports show their counts.
    # Mostly at least the floor: a survey is often closed after one or two batches, and
    # only then are its reports released.
    # (One small size keeps the small-group path in play; the run's order of steps moves
    # with the schema, so the sizes, not luck, make released counts common.)
    size = draw(st.sampled_from([3, 10, 12, 15, 20, 24, 24, 24]))
    ids = draw(st.permutations(RESPONDENTS))[:size]
    return {
        "responses": [
            {"respondent": rid, "answers": draw(_answers()), "attributes": draw(_attributes())}
            for rid in ids
        ]
    }


CORRUPTIONS = ["out of the scale", "unknown item", "repeated respondent", "blank respondent"]


@st.composite
def invalid_batches(draw: st.DrawFn) -> tuple[dict[str, Any], int]:
    """A batch with one bad row, and that row's index: the whole batch must be refused."""
    batch = draw(valid_batches())
    rows = batch["responses"]
    bad = draw(st.integers(0, len(rows) - 1))
    how = draw(st.sampled_from(CORRUPTIONS))
    if how == "out of the scale":
        rows[bad]["answers"][draw(st.sampled_from(ITEMS))] = draw(st.sampled_from([0, 6, 2.5, "x"]))
    elif how == "unknown item":
        rows[bad]["answers"]["mes31"] = 3
    elif how == "repeated respondent":
        rows.append({**rows[bad], "answers": {}})
        bad = len(rows) - 1
    else:
        rows[bad]["respondent"] = " "
    return batch, bad


@st.composite
def batches(draw: st.DrawFn) -> tuple[dict[str, Any], int | None]:
    """Mostly valid batches; some with one invalid row."""
    if draw(st.sampled_from(["valid", "valid", "valid", "invalid"])) == "invalid":
        return draw(invalid_batches())
    return draw(valid_batches()), None


def _reshape_submission(case: Any, shaped: tuple[dict[str, Any], int | None], conflict: Any) -> Any:
    case.body, bad_row = shaped
    case.media_type = "application/json"
    # Random Idempotency-Key values repeat across bodies (a 409 by design): not what is tested here.
    for name in [h for h in case.headers or {} if h.lower() == "idempotency-key"]:
        del case.headers[name]
    # on_conflict is chosen below; unnamed_prefix names FHIR resources only (and a generated
    # one holding U+0000 is refused, rightly, before the batch is judged).
    case.query = {
        k: v for k, v in (case.query or {}).items() if k not in ("on_conflict", "unnamed_prefix")
    }
    if conflict is not None:
        case.query["on_conflict"] = conflict
    SHAPED[case.id] = bad_row
    return case


def _reshape_survey(case: Any, declared: dict[str, Any] | None, version: str | None) -> Any:
    title = case.body.get("title") if isinstance(case.body, dict) else None
    body: dict[str, Any] = {"title": title or "stateful", "instrument": "mes"}
    if version is not None:
        body["instrument_version"] = version
    if declared is not None:
        body["attributes"] = declared
        body["reporting_plan"] = PLAN
    case.body = body
    case.media_type = "application/json"
    return case


def _reshape_update(case: Any, status: str) -> Any:
    case.body = {"status": status}
    case.media_type = "application/json"
    return case


def _reshape_report_query(case: Any, query: dict[str, Any] | None) -> Any:
    if query is not None:
        case.query = query
    return case


@schema.hook
def flatmap_case(context: Any, case: Any) -> Any:
    """Positive submissions and survey creations become MES ones (schema-valid is not enough)."""
    mode = case.meta.generation.mode if case.meta is not None else None
    if mode != GenerationMode.POSITIVE:
        return st.just(case)
    if case.operation.label == SUBMIT:
        conflict = st.sampled_from([None, "reject", "replace", "replace"])
        return st.tuples(batches(), conflict).map(lambda drawn: _reshape_submission(case, *drawn))
    if case.operation.label == CREATE:
        declared = st.sampled_from([None, None, DECLARED])
        version = st.sampled_from([None, "1"])
        return st.tuples(declared, version).map(lambda drawn: _reshape_survey(case, *drawn))
    if case.operation.label == UPDATE:
        # Mostly closing: fieldwork ends, and the reports can be released.
        return st.sampled_from(["closed", "closed", "open"]).map(
            lambda status: _reshape_update(case, status))
    if case.operation.label in (REPORT, REPORT_CSV):
        # Random `by`, `previous` and `benchmark` values are mostly unknown (404 / 422).
        queries = st.sampled_from([None, {}, {"by": "specialty"}, {"by": "grade,specialty"}])
        return queries.map(lambda query: _reshape_report_query(case, query))
    return st.just(case)


# ----- the model -------------------------------------------------------------------------------


@dataclass
class SurveyModel:
    """What one survey created in this scenario holds, as far as the run can tell."""

    declared: dict[str, list[str] | None] | None
    status: str = "open"
    stored: set[str] = field(default_factory=set)
    exact: bool = True  # False once something was stored that the model cannot follow
    released: set[str] | None = None  # who the reports were released over (None: not yet)
    # Released while another survey of the run was released already: the two are protected
    # together (surveys sharing responses, docs/confidentiality.md), which may hide a
    # large overall group that this model, not knowing the answers, cannot predict.
    beside_release: bool = False

    def admits(self, batch: dict[str, Any]) -> bool:
        """Whether the batch's attributes are all allowed by the survey's declaration."""
        if self.declared is None:
            return True
        for row in batch["responses"]:
            for name, value in row["attributes"].items():
                if name not in self.declared:
                    return False
                allowed = self.declared[name]
                if allowed is not None and value not in allowed:
                    return False
        return True


def _json(response: Any) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _overall(report: dict[str, Any]) -> dict[str, Any]:
    overall = [g for g in report["groups"] if g["level"] == []]
    assert len(overall) == 1, f"the report has {len(overall)} overall groups"
    return overall[0]


class Workflow(schema.as_state_machine()):  # type: ignore[misc]
    """Each step: schemathesis' checks, then the model's invariants."""

    def setup(self) -> None:
        self.surveys: dict[str, SurveyModel] = {}
        # A tenant of its own per run: releases of one tenant's surveys are protected
        # together (docs/confidentiality.md), so surveys left by an earlier run could change
        # what this run's reports show, and replaying a run must meet the same answers.
        from conftest import KeyMaker

        CURRENT["key"] = KeyMaker(CURRENT["database_url"])("admin")

    def get_call_kwargs(self, case: Any) -> dict[str, Any]:
        return {"base_url": CURRENT["base_url"]}

    def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
        SEEN[(case.operation.label, response.status_code)] += 1
        case.validate_response(
            response,
            excluded_checks=[
                # What a schema-valid request must hold here depends on state: the items of the
                # survey's instrument, its declared attributes, whether it is closed, which
                # respondents exist, how many there are (reliability needs two). The model
                # (check_model) states when such requests must be accepted.
                schemathesis.checks.positive_data_acceptance,
                # Litestar answers OPTIONS itself (as in the stateless run).
                schemathesis.checks.allow_header_conformance,
            ],
            transport_kwargs=kwargs or None,
            recorder=self.recorder,
        )
        self.check_model(response, case)

    def check_model(self, response: Any, case: Any) -> None:
        label = case.operation.label
        status = response.status_code
        body = _json(response)
        if label == CREATE:
            if status == 201:
                self.surveys[body["id"]] = SurveyModel(declared=body["attributes"])
                assert body["responses"] == 0, body
                assert body["status"] == "open", body
            return
        survey = self.surveys.get(str((case.path_parameters or {}).get("survey_id")))
        if survey is None:
            return  # a random id: schemathesis' checks only
        if label == UPDATE:
            if status == 200:
                survey.status = body["status"]
            wanted = case.body.get("status") if isinstance(case.body, dict) else None
            if survey.released is not None and wanted == "open":
                CHECKED["released stays closed"] += 1
                assert status != 200, f"a released survey answered {status} to reopening"
            return
        if label in GROUP_STATISTICS:
            if survey.status == "open":
                # Never a figure (409 when the request is otherwise fine; negative cases
                # may meet 401 or 422 first).
                CHECKED["open survey: no statistics"] += 1
                assert status != 200, f"{label} of an open survey answered {status}"
                return
            if survey.released is None and survey.exact:
                self.sync_release(survey, case)
        if label == SUBMIT:
            self.check_submission(survey, case, status, body)
        elif not survey.exact:
            return
        elif label == ERASE:
            # Path parameters are kept as sent: percent-encoded ("dr%2Fsmith").
            respondent = unquote(case.path_parameters["respondent"])
            if status in (204, 404):
                CHECKED["erase"] += 1
                stored = respondent in survey.stored
                assert (status == 204) == stored, (
                    f"erasing {respondent!r} answered {status}; stored: {sorted(survey.stored)}"
                )
                survey.stored.discard(respondent)
        elif status == 200:
            self.check_read(survey, label, case, response, body)

    def sync_release(self, survey: SurveyModel, case: Any) -> None:
        """Whether that read released the survey: its respondents then are the release's.

        A read can release the survey and still answer 422 (a ``by`` outside the plan,
        too few respondents for reliability), so the survey itself is asked."""
        survey_id = case.path_parameters["survey_id"]
        with httpx.Client(base_url=CURRENT["base_url"],
                          headers={"Authorization": f"Bearer {CURRENT['key']}"}) as http:
            released_at = http.get(f"/v1/surveys/{survey_id}").json()["released_at"]
        if released_at is not None:
            survey.released = set(survey.stored)
            survey.beside_release = any(
                other.released is not None
                for other in self.surveys.values()
                if other is not survey
            )

    def check_submission(self, survey: SurveyModel, case: Any, status: int, body: Any) -> None:
        if case.id not in SHAPED:
            if status == 201:
                survey.exact = False  # a generated body was stored: follow it no further
            return
        bad_row = SHAPED[case.id]
        rows = [row["respondent"] for row in case.body["responses"]]
        replace = (case.query or {}).get("on_conflict") == "replace"
        overlap = survey.stored & set(rows)
        if not survey.exact or not survey.admits(case.body):
            if status == 201:
                survey.stored |= set(rows)
            return
        CHECKED["submission"] += 1
        if survey.status == "closed":
            assert status == 409, f"a closed survey answered {status} to a batch"
            return
        if bad_row is not None:
            # All or nothing: refused (422 naming the bad row; or 409 for repeated ids), unstored.
            CHECKED["invalid batch"] += 1
            if status == 409 and overlap and not replace:
                return
            assert status == 422, f"a batch with an invalid row {bad_row} answered {status}"
            assert bad_row in {error.get("row") for error in body["errors"]}, body
            return
        if overlap and not replace:
            assert status == 409, f"a batch repeating {sorted(overlap)} answered {status}"
            assert sorted(body.get("duplicates", [])) == sorted(overlap), body
            return
        assert status == 201, f"a valid batch was refused ({status}): {body}"
        survey.stored |= set(rows)
        assert body["accepted"] == len(rows), body
        assert body["replaced"] == len(overlap), body
        assert body["total"] == len(survey.stored), body

    def check_read(
        self, survey: SurveyModel, label: str, case: Any, response: Any, body: Any
    ) -> None:
        stored = survey.stored
        released = survey.released if survey.released is not None else stored
        if label == REPORT_CSV:
            self.check_report_csv(released, case, response.text, survey.beside_release)
            return
        if not isinstance(body, dict):
            return  # listings and the report can answer CSV, JSON Lines, HTML by Accept
        if label == "GET /v1/surveys/{survey_id}":
            CHECKED["survey"] += 1
            assert body["responses"] == len(stored), (body, sorted(stored))
            assert body["status"] == survey.status, body
            assert (body["released_at"] is not None) == (survey.released is not None), body
        elif label in (
            "GET /v1/surveys/{survey_id}/responses",
            "GET /v1/surveys/{survey_id}/scores",
        ):
            CHECKED["listing"] += 1
            assert body["total"] == len(stored), (label, body["total"], sorted(stored))
            listed = [item["respondent"] for item in body["items"]]
            assert set(listed) <= stored, f"{label} lists {set(listed) - stored} (erased?)"
            if body["offset"] == 0 and body["limit"] >= len(stored):
                assert set(listed) == stored, (label, listed, sorted(stored))
        elif label == RELIABILITY:
            CHECKED["reliability"] += 1
            assert body["n"] == len(released), (body["n"], sorted(released))
            assert body["n"] >= FLOOR, body  # fewer is a 422
        elif label == REPORT:
            Workflow.check_report(released, _overall(body), body["min_group_size"],
                                  bool(body["by"]), survey.beside_release)

    def check_report_csv(
        self, stored: set[str], case: Any, text: str, beside_release: bool
    ) -> None:
        query = case.query or {}
        rows = [r for r in csv.DictReader(io.StringIO(text)) if r["level"] == "overall"]
        assert rows, "the CSV report has no overall rows"
        suppressed = {r["suppressed_group"] for r in rows}
        group_n = {r["group_n"] for r in rows}
        assert len(suppressed) == 1, rows  # one overall group, on every scale's row
        assert len(group_n) == 1, rows
        overall = {
            "suppressed": suppressed == {"true"},  # CSV booleans are true/false
            "n": int(float(group_n.pop())) if group_n != {""} else None,
        }
        threshold = int(query.get("min_group_size") or FLOOR)
        Workflow.check_report(stored, overall, threshold, bool(query.get("by")), beside_release)

    @staticmethod
    def check_report(
        stored: set[str],
        overall: dict[str, Any],
        threshold: int,
        grouped: bool,
        beside_release: bool,
    ) -> None:
        k = len(stored)
        CHECKED["report"] += 1
        if 0 < k < threshold:
            assert overall["suppressed"], (k, threshold, overall)
            assert overall["n"] is None, (k, threshold, overall)
            return
        if overall["suppressed"]:
            # Only complementary suppression (a breakdown by attributes) or another release
            # sharing responses may hide a large group.
            assert grouped or beside_release, (k, threshold, overall)
            assert k > 0, (k, threshold, overall)
            CHECKED["large group hidden" + ("" if grouped else " beside a release")] += 1
            return
        CHECKED["report n" if k else "empty report"] += 1
        assert overall["n"] == k, f"the report counts {overall['n']}; {k} are stored"


@pytest.fixture(scope="module")
def stateful_target(live_server: str, database_url: str) -> str:
    """An admin key of a fresh tenant on this backend; the counters reset."""
    from conftest import KeyMaker

    CURRENT.update(key=KeyMaker(database_url)("admin"), base_url=live_server,
                   database_url=database_url)
    SEEN.clear()
    CHECKED.clear()
    SHAPED.clear()
    return live_server


def _check_a_released_count(base_url: str) -> None:
    """Create a survey of a tenant of its own, store FLOOR + 2 respondents, close it and read
    its report: the model must find their count shown."""
    from conftest import KeyMaker

    key = KeyMaker(CURRENT["database_url"])("admin")
    rows = [
        {"respondent": f"c{i:02d}", "answers": {item: 1 + (i + j) % 5
                                                 for j, item in enumerate(ITEMS)},
         "attributes": {}}
        for i in range(FLOOR + 2)
    ]
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {key}"},
                      timeout=60) as http:
        created = http.post("/v1/surveys", json={"title": "count", "instrument": "mes"})
        survey = created.json()["id"]
        stored = http.post(f"/v1/surveys/{survey}/responses", json={"responses": rows})
        assert stored.status_code == 201, stored.text
        closed = http.patch(f"/v1/surveys/{survey}", json={"status": "closed"})
        assert closed.status_code == 200, closed.text
        report = http.get(f"/v1/surveys/{survey}/report")
        assert report.status_code == 200, report.text
        body = report.json()
    Workflow.check_report({r["respondent"] for r in rows}, _overall(body),
                          body["min_group_size"], False, False)


def test_surveys_responses_reports_statefully(stateful_target: str) -> None:
    Workflow.run(
        settings=settings(
            # Surveys of a run that share responses are released as one system, which hides
            # some overall groups: enough runs for a visible report count on either backend.
            max_examples=100,
            stateful_step_count=20,
            deadline=None,
            derandomize=True,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
    )
    if not CHECKED["report n"]:
        # Which steps a run takes moves with the server's answers (ids, timings), and some
        # runs release no survey with enough respondents to show its count: the invariant
        # is then checked once on a scenario of its own, through the same model.
        _check_a_released_count(stateful_target)
    seen = {f"{label} -> {status}": n for (label, status), n in sorted(SEEN.items())}
    checked = dict(CHECKED)
    print("status codes seen:", seen, "\ninvariants checked:", checked)  # shown on failure, or -s
    # The run went down the chain, not only into 404s and 422s...
    assert SEEN[(CREATE, 201)] >= 10, seen
    assert SEEN[(SUBMIT, 201)] >= 10, seen
    assert SEEN[(REPORT, 200)] + SEEN[(REPORT_CSV, 200)] >= 5, seen
    assert SEEN[(ERASE, 204)] >= 1, seen
    # ...a good share of the batches the model judged were stored...
    assert 4 * SEEN[(SUBMIT, 201)] >= checked["submission"], (checked, seen)
    # ...and every invariant was exercised, a visible report count included.
    invariants = ["submission", "invalid batch", "survey", "listing", "erase",
                  "open survey: no statistics"]
    for invariant in [*invariants, "report", "report n", "empty report"]:
        assert checked.get(invariant, 0) >= 1, (invariant, checked, seen)
    with httpx.Client(base_url=stateful_target) as http:
        assert http.get("/health").status_code == 200  # the server survived the run

"""Read HL7 FHIR R4 ``QuestionnaireResponse`` resources into an answer table.

Hospital systems and survey platforms that speak FHIR send questionnaire
answers as ``QuestionnaireResponse`` resources, one per respondent, often in a
``Bundle``. :func:`read_fhir` turns them into the table :func:`mes.score`
takes: a ``respondent`` column and one column per item of the instrument.

Rules
-----
Input
    One QuestionnaireResponse, a Bundle of them (any ``Bundle.type``; every
    ``entry[].resource``), or a sequence of QuestionnaireResponses; each as a
    parsed mapping or as JSON text (``str`` or ``bytes``). Bundle entries with
    ``search.mode`` ``"include"`` or ``"outcome"`` (resources a search server
    added alongside its matches) are skipped; any other entry that is not a
    QuestionnaireResponse is an error.
Items
    An answer belongs to the instrument item whose ``link_id`` (default: the
    item id) equals the FHIR ``linkId``. Items are found at any depth: inside
    groups (``item[].item[]``) and below answers (``item[].answer[].item[]``).
    Items the instrument does not know are ignored, so a total the sender
    stored (the PHQ-9 ``H1/TS`` item of the HL7 examples) is never read: scores
    are always computed from the answers by :func:`mes.score`. A resource that
    answers items but none of the instrument's is an error (the wrong
    instrument, or ``link_id`` not set).
Answers
    ``valueInteger`` and ``valueDecimal``: the number itself. ``valueCoding``:
    ``code`` looked up in the instrument's ``response_scale.codes`` (``system``
    and ``display`` are not used), else the number in the Coding's
    ``ordinalValue`` extension
    (``http://hl7.org/fhir/StructureDefinition/ordinalValue``) or its later
    name ``itemWeight`` (``http://hl7.org/fhir/StructureDefinition/itemWeight``).
    When both the instrument's code and an extension give a number they must
    agree (a disagreement usually means a reverse-keyed or differently
    weighted answer list). ``valueString``: a whole number written as text
    (``"4"``) or a code of ``response_scale.codes``, after trimming spaces, as
    survey platforms send open-choice answers. Every value must be a whole
    number within the response scale; reverse keying is left to
    :func:`mes.score`. An answer without a ``value[x]`` (only nested items) is
    no answer; an item without answers is missing (NaN).
Single answers
    Likert items take one answer: two or more answers to one item, or the same
    linkId answered twice in one resource, is an error.
Respondent id
    The first non-empty ``identifier.value`` (``identifier`` is one Identifier
    in R4 and a list in R5; ``system`` is not part of the id), else the
    resource ``id``, else the Bundle entry's ``fullUrl``, else the 0-based
    position of the resource in the input, as text, after ``unnamed_prefix``
    (with ``unnamed_prefix=None`` a resource without an id is an error: a
    position names another person in the next file). Ids must be unique.
Status
    A resource with ``status`` ``"entered-in-error"`` is an error (remove it);
    ``in-progress`` and ``stopped`` responses are read, and their missing
    answers are handled by the instrument's ``min_answered`` rule.
Errors
    :class:`FhirError` lists every problem of the whole input, each naming the
    resource (position and id), the linkId, the location inside the resource
    and the fix. Nothing is returned when there is any problem.

References
----------
HL7 (2019). FHIR R4 (4.0.1): resource QuestionnaireResponse; extension ordinalValue.
https://hl7.org/fhir/R4/questionnaireresponse.html

HL7 (2023). Structured Data Capture implementation guide 3.0.0: extension itemWeight; the
PHQ-9 example responses the tests read. https://hl7.org/fhir/uv/sdc/
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mes.errors import MesError, bullet_list
from mes.instrument import Instrument
from mes.responses import RESPONDENT_COLUMN

__all__ = [
    "ITEM_WEIGHT_URL",
    "ORDINAL_VALUE_URL",
    "FhirError",
    "FhirProblem",
    "read_fhir",
]

ORDINAL_VALUE_URL = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
"""Extension giving the numeric weight of a Coding (FHIR R4 core)."""

ITEM_WEIGHT_URL = "http://hl7.org/fhir/StructureDefinition/itemWeight"
"""The same extension under its later name (FHIR R5, SDC 3)."""

_WEIGHT_URLS = {ORDINAL_VALUE_URL: "ordinalValue", ITEM_WEIGHT_URL: "itemWeight"}
_SUPPORTED = ("valueInteger", "valueDecimal", "valueCoding", "valueString")
_SKIPPED_SEARCH_MODES = ("include", "outcome")
_QR = "QuestionnaireResponse"


@dataclass(frozen=True)
class FhirProblem:
    """One problem in FHIR input.

    Attributes
    ----------
    resource : int or None
        0-based position of the resource in the input (its ``Bundle.entry``
        index); None when the input as a whole is wrong.
    resource_id : str or None
        The resource's ``id``, when it has one.
    link_id : str or None
        The FHIR ``linkId`` of the item concerned, if any.
    item : str or None
        The instrument's item id for that linkId, if any.
    path : str
        Where inside the input, FHIRPath-like
        (``Bundle.entry[2].resource.item[0].item[4].answer[0]``).
    value : Any
        The offending value as sent (None when not applicable).
    message : str
        What is wrong.
    fix : str
        How to fix it.
    """

    resource: int | None
    resource_id: str | None
    link_id: str | None
    item: str | None
    path: str
    value: Any
    message: str
    fix: str

    def __str__(self) -> str:
        where = "input" if self.resource is None else f"resource {self.resource}"
        if self.resource_id is not None:
            where += f" (id {self.resource_id!r})"
        if self.link_id is not None:
            where += f", linkId {self.link_id!r}"
            if self.item is not None and self.item != self.link_id:
                where += f" (item {self.item!r})"
        return f"{where} at {self.path}: {self.message} Fix: {self.fix}"

    def to_dict(self) -> dict[str, Any]:
        """The problem as JSON-ready data, in the API's ``errors[]`` shape.

        ``row`` is the resource position and ``field`` the linkId; ``resource_id``,
        ``item``, ``path`` and ``fix`` are added.

        Examples
        --------
        >>> p = FhirProblem(0, "qr1", "q1", "a", "QuestionnaireResponse.item[0].answer[0]",
        ...                 9, "9 is outside the response scale 1..5.", "send 1 to 5.")
        >>> p.to_dict()["row"], p.to_dict()["field"]
        (0, 'q1')
        """
        return {
            "row": self.resource,
            "field": self.link_id,
            "value": self.value,
            "message": f"{self.message} Fix: {self.fix}",
            "resource_id": self.resource_id,
            "item": self.item,
            "path": self.path,
            "fix": self.fix,
        }


class FhirError(MesError, ValueError):
    """FHIR input that cannot be read; ``problems`` lists every problem, not just the first.

    Attributes
    ----------
    problems : list of FhirProblem
    """

    def __init__(self, problems: Sequence[FhirProblem]) -> None:
        self.problems = list(problems)
        super().__init__(
            f"FHIR input: {len(self.problems)} problem(s); nothing was read:\n"
            + bullet_list(self.problems)
        )


# ----- public entry point --------------------------------------------------------------------


def read_fhir(
    instrument: Instrument, resource_or_bundle: Any, *, unnamed_prefix: str | None = ""
) -> pd.DataFrame:
    """Read FHIR R4 QuestionnaireResponses into a table for :func:`mes.score`.

    The rules (which items, which answer types, the respondent id, what is an
    error) are those of the module docstring, :mod:`mes.io.fhir`.

    Parameters
    ----------
    instrument : Instrument
        The instrument answered; its items' ``link_id`` (default: the item id)
        match the FHIR ``linkId`` and its ``response_scale.codes`` resolve
        ``valueCoding`` and ``valueString`` codes.
    resource_or_bundle : mapping, str, bytes or sequence of mappings
        One QuestionnaireResponse, a Bundle of them, or a sequence of them;
        parsed or as JSON text.
    unnamed_prefix : str or None, default ""
        The respondent id of a resource with no ``identifier.value``, ``id`` or
        ``fullUrl`` is this prefix and the resource's 0-based position. None:
        such a resource is an error.

    Returns
    -------
    pandas.DataFrame
        One row per QuestionnaireResponse in input order: ``respondent`` (str)
        then one float64 column per item in the instrument's item order, NaN
        where unanswered. Raw answers: reverse keying happens in
        :func:`mes.score`.

    Raises
    ------
    FhirError
        Listing every problem: invalid JSON, a resource that is not a
        QuestionnaireResponse, an answer of an unsupported type, a Coding with
        neither a known code nor an ``ordinalValue``/``itemWeight`` extension,
        a code and an extension that disagree, a value outside the response
        scale or not a whole number, several answers to one item, duplicate
        respondent ids, a resource entered in error, a resource that answers
        none of the instrument's items.
    TypeError
        When the input is not a mapping, JSON text or a sequence of mappings.

    Examples
    --------
    >>> import mes
    >>> from mes.io.fhir import read_fhir
    >>> inst = mes.load_instrument("uwes9")
    >>> answers = [{"linkId": f"uwes{i}", "answer": [{"valueInteger": 4}]} for i in range(1, 10)]
    >>> qr = {"resourceType": "QuestionnaireResponse", "id": "r1", "status": "completed",
    ...       "item": [{"linkId": "page1", "item": answers}]}
    >>> frame = read_fhir(inst, qr)
    >>> frame.to_dict("records")[0]["respondent"], frame["uwes1"].tolist()
    ('r1', [4.0])
    >>> mes.score(inst, frame).scores["total"].tolist()
    [4.0]
    """
    document = _parse(resource_or_bundle)
    problems: list[FhirProblem] = []
    entries = _entries(document, problems)
    reader = _Reader(instrument)
    rows = [reader.read(entry, problems) for entry in entries]
    respondents = _respondent_ids(entries, problems, unnamed_prefix)
    if problems:
        # In input order: problems of the whole input first, then resource by resource.
        problems.sort(key=lambda p: -1 if p.resource is None else p.resource)
        raise FhirError(problems)
    return _frame(instrument, respondents, rows)


# ----- input -> list of resources --------------------------------------------------------------


@dataclass(frozen=True)
class _Entry:
    position: int
    resource: Any
    path: str
    full_url: str | None = None

    @property
    def resource_id(self) -> str | None:
        if isinstance(self.resource, Mapping):
            rid = self.resource.get("id")
            return rid if isinstance(rid, str) and rid else None
        return None


def _input_problem(message: str, fix: str, value: Any = None) -> FhirProblem:
    return FhirProblem(None, None, None, None, "(input)", value, message, fix)


def _parse(data: Any) -> Any:
    if isinstance(data, (str, bytes, bytearray)):
        if isinstance(data, str):
            data = data.removeprefix("\ufeff")  # a byte-order mark left by decoding
        try:
            return json.loads(data)
        except json.JSONDecodeError as exc:
            raise FhirError(
                [
                    _input_problem(
                        f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}.",
                        "send a FHIR JSON QuestionnaireResponse or Bundle.",
                    )
                ]
            ) from None
        except UnicodeDecodeError as exc:
            raise FhirError(
                [_input_problem(f"not UTF-8 text: {exc.reason}.", "send UTF-8 encoded JSON.")]
            ) from None
    if isinstance(data, Mapping) or (
        isinstance(data, Sequence) and all(isinstance(r, Mapping) for r in data)
    ):
        return data
    raise TypeError(
        "read_fhir takes a QuestionnaireResponse or Bundle as a mapping or JSON text, or a "
        f"sequence of QuestionnaireResponse mappings; got {type(data).__name__}"
    )


def _entries(document: Any, problems: list[FhirProblem]) -> list[_Entry]:
    if isinstance(document, Sequence) and not isinstance(document, (str, Mapping)):
        return [_Entry(k, r, f"[{k}]") for k, r in enumerate(document)]
    if not isinstance(document, Mapping):
        problems.append(
            _input_problem(
                f"expected a JSON object, got {type(document).__name__}.",
                "send one QuestionnaireResponse or a Bundle of them.",
            )
        )
        return []
    kind = document.get("resourceType")
    if kind == _QR:
        return [_Entry(0, document, _QR)]
    if kind != "Bundle":
        problems.append(
            _input_problem(
                f"expected a QuestionnaireResponse or a Bundle, got resourceType {kind!r}.",
                "send one QuestionnaireResponse or a Bundle whose entries hold them.",
                kind,
            )
        )
        return []
    return _bundle_entries(document, problems)


def _bundle_entries(bundle: Mapping[str, Any], problems: list[FhirProblem]) -> list[_Entry]:
    raw = bundle.get("entry", [])
    if not isinstance(raw, list):
        problems.append(
            FhirProblem(
                None,
                None,
                None,
                None,
                "Bundle.entry",
                None,
                "Bundle.entry must be a JSON array.",
                "put the entries in a list.",
            )
        )
        return []
    entries = []
    for k, entry in enumerate(raw):
        path = f"Bundle.entry[{k}]"
        if not isinstance(entry, Mapping) or not isinstance(entry.get("resource"), Mapping):
            problems.append(
                FhirProblem(
                    k,
                    None,
                    None,
                    None,
                    path,
                    None,
                    "the entry holds no resource.",
                    "give every entry a QuestionnaireResponse as 'resource'.",
                )
            )
            continue
        search = entry.get("search")
        if isinstance(search, Mapping) and search.get("mode") in _SKIPPED_SEARCH_MODES:
            continue
        full_url = entry.get("fullUrl")
        entries.append(
            _Entry(
                k,
                entry["resource"],
                f"{path}.resource",
                full_url if isinstance(full_url, str) and full_url else None,
            )
        )
    return entries


# ----- one resource -> one row of answers -----------------------------------------------------


@dataclass
class _Context:
    """Where we are, to name it in problems."""

    entry: _Entry
    problems: list[FhirProblem]

    def add(
        self,
        path: str,
        message: str,
        fix: str,
        *,
        link_id: str | None = None,
        item: str | None = None,
        value: Any = None,
    ) -> None:
        self.problems.append(
            FhirProblem(
                self.entry.position,
                self.entry.resource_id,
                link_id,
                item,
                path,
                value,
                message,
                fix,
            )
        )


@dataclass(frozen=True)
class _Node:
    path: str
    link_id: Any
    node: Mapping[str, Any]


@dataclass
class _Reader:
    instrument: Instrument
    link_ids: dict[str, str] = field(init=False)
    column: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        self.link_ids = self.instrument.link_ids()
        self.column = {item_id: j for j, item_id in enumerate(self.instrument.item_ids)}

    def read(self, entry: _Entry, problems: list[FhirProblem]) -> np.ndarray:
        """One row of answers (NaN where unanswered); problems appended to ``problems``."""
        row = np.full(len(self.column), np.nan)
        ctx = _Context(entry, problems)
        if _is_readable(entry, ctx):
            self._fill(row, entry.resource, ctx)
        return row

    def _fill(self, row: np.ndarray, resource: Mapping[str, Any], ctx: _Context) -> None:
        entry = ctx.entry
        answered_where: dict[str, str] = {}
        unknown_answered = False
        for node in _item_nodes(resource.get("item"), entry.path, ctx):
            answers = _answers(node, ctx)
            item_id = self.link_ids.get(node.link_id) if isinstance(node.link_id, str) else None
            if item_id is None:
                unknown_answered |= bool(answers)
                continue
            if not answers:
                continue
            value = self._value(node, item_id, answers, answered_where, ctx)
            if value is not None:
                row[self.column[item_id]] = value
        if unknown_answered and not answered_where:
            known = list(self.link_ids)
            expected = ", ".join(known[:5]) + (", ..." if len(known) > 5 else "")
            ctx.add(
                entry.path,
                "the response answers items, but none whose linkId belongs to instrument "
                f"{self.instrument.id!r} (linkIds expected: {expected}).",
                "send responses to this instrument only, or set each item's link_id in the "
                "instrument definition to the linkId the sender uses.",
            )

    def _value(
        self,
        node: _Node,
        item_id: str,
        answers: list[tuple[str, Mapping[str, Any]]],
        answered_where: dict[str, str],
        ctx: _Context,
    ) -> float | None:
        link_id = str(node.link_id)
        where = {"link_id": link_id, "item": item_id}
        if item_id in answered_where:
            ctx.add(
                node.path,
                f"the item is answered again (first at {answered_where[item_id]}).",
                "send each item once per QuestionnaireResponse.",
                **where,
            )
            return None
        answered_where[item_id] = node.path
        if len(answers) > 1:
            ctx.add(
                node.path,
                f"{len(answers)} answers to a single-answer item.",
                "send exactly one answer per item.",
                **where,
            )
            return None
        path, answer = answers[0]
        return _AnswerValue(self.instrument, path, ctx, where).read(answer)


def _is_readable(entry: _Entry, ctx: _Context) -> bool:
    """A QuestionnaireResponse that is not entered in error (else a problem is added)."""
    resource = entry.resource
    if not isinstance(resource, Mapping):
        ctx.add(
            entry.path,
            f"expected a QuestionnaireResponse object, got {type(resource).__name__} {resource!r}.",
            "send only QuestionnaireResponse resources.",
            value=resource,
        )
        return False
    if resource.get("resourceType") != _QR:
        kind = resource.get("resourceType")
        ctx.add(
            entry.path,
            f"expected a QuestionnaireResponse, got resourceType {kind!r}.",
            "send only QuestionnaireResponse resources.",
            value=kind,
        )
        return False
    if resource.get("status") == "entered-in-error":
        ctx.add(
            f"{entry.path}.status",
            "the response is marked entered-in-error.",
            "remove it from the input.",
            value="entered-in-error",
        )
        return False
    return True


def _item_nodes(items: Any, path: str, ctx: _Context) -> Iterator[_Node]:
    """Every item at any depth: item[].item[] and item[].answer[].item[]."""
    if items is None:
        return
    if not isinstance(items, list):
        ctx.add(f"{path}.item", "'item' must be a JSON array.", "put the items in a list.")
        return
    for k, node in enumerate(items):
        here = f"{path}.item[{k}]"
        if not isinstance(node, Mapping):
            ctx.add(here, "an item must be a JSON object.", "send items as objects with linkId.")
            continue
        yield _Node(here, node.get("linkId"), node)
        yield from _item_nodes(node.get("item"), here, ctx)
        answers = node.get("answer")
        if isinstance(answers, list):
            for a, answer in enumerate(answers):
                if isinstance(answer, Mapping):
                    yield from _item_nodes(answer.get("item"), f"{here}.answer[{a}]", ctx)


def _answers(node: _Node, ctx: _Context) -> list[tuple[str, Mapping[str, Any]]]:
    """The answers of an item that carry a value[x], with their paths."""
    raw = node.node.get("answer")
    if raw is None:
        return []
    if not isinstance(raw, list):
        ctx.add(
            f"{node.path}.answer",
            "'answer' must be a JSON array.",
            "put the answer in a list.",
            link_id=_text(node.link_id),
        )
        return []
    out = []
    for a, answer in enumerate(raw):
        if isinstance(answer, Mapping) and any(k.startswith("value") for k in answer):
            out.append((f"{node.path}.answer[{a}]", answer))
    return out


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


# ----- one answer -> one number ----------------------------------------------------------------


@dataclass
class _AnswerValue:
    instrument: Instrument
    path: str
    ctx: _Context
    where: dict[str, Any]

    @property
    def codes(self) -> Mapping[str, int]:
        return self.instrument.response_scale.codes or {}

    def problem(self, message: str, fix: str, value: Any, path: str | None = None) -> None:
        self.ctx.add(path or self.path, message, fix, value=value, **self.where)

    def read(self, answer: Mapping[str, Any]) -> float | None:
        keys = [k for k in answer if k.startswith("value")]
        if len(keys) > 1:
            self.problem(
                f"the answer has several values ({', '.join(keys)}).",
                "send one value[x] per answer.",
                None,
            )
            return None
        key = keys[0]
        raw = answer[key]
        path = f"{self.path}.{key}"
        if key not in _SUPPORTED:
            self.problem(
                f"answers of type {key} are not supported.",
                "send valueInteger, valueDecimal, valueCoding or valueString.",
                raw,
                path,
            )
            return None
        if key == "valueCoding":
            value = self._coding(raw, path)
        elif key == "valueString":
            value = self._string(raw, path)
        else:
            value = _number(raw)
            if value is None:
                self.problem(
                    f"{key} must be a finite number, got {raw!r}.",
                    f"send a whole number from {self._scale_text()}.",
                    raw,
                    path,
                )
                return None
        return None if value is None else self._on_scale(value, raw, path)

    def _scale_text(self) -> str:
        rs = self.instrument.response_scale
        return f"{rs.min} to {rs.max}"

    def _allowed(self) -> str:
        text = f"a whole number from {self._scale_text()}"
        if self.codes:
            text += f" or a code of the instrument ({', '.join(map(repr, self.codes))})"
        return text

    def _on_scale(self, value: float, raw: Any, path: str) -> float | None:
        rs = self.instrument.response_scale
        if value != math.floor(value):
            self.problem(f"{value:g} is not a whole number.", f"send {self._allowed()}.", raw, path)
            return None
        if not rs.min <= value <= rs.max:
            self.problem(
                f"{value:g} is outside the response scale {rs.min}..{rs.max}.",
                f"send {self._allowed()}.",
                raw,
                path,
            )
            return None
        return value

    def _string(self, raw: Any, path: str) -> float | None:
        if not isinstance(raw, str):
            self.problem(
                f"valueString must be text, got {raw!r}.", f"send {self._allowed()}.", raw, path
            )
            return None
        text = raw.strip()
        if text in self.codes:
            return float(self.codes[text])
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            self.problem(
                f"valueString {raw!r} is neither a number nor a code of the instrument.",
                f"send {self._allowed()}.",
                raw,
                path,
            )
            return None
        return value

    def _coding(self, coding: Any, path: str) -> float | None:
        if not isinstance(coding, Mapping):
            self.problem(
                "valueCoding must be a JSON object.", "send a Coding with a code.", coding, path
            )
            return None
        code = coding.get("code")
        mapped = self.codes.get(code) if isinstance(code, str) else None
        weight, ok = self._weight(coding, path)
        if not ok:
            return None
        if mapped is not None and weight is not None and float(mapped) != weight:
            self.problem(
                f"code {code!r} means {mapped} in the instrument, but the Coding's extension "
                f"gives {weight:g}.",
                "make the sender's ordinalValue/itemWeight agree with response_scale.codes "
                "(check for a reverse-keyed answer list), or remove one of them.",
                code,
                path,
            )
            return None
        if mapped is not None:
            return float(mapped)
        if weight is not None:
            return weight
        known = f" ({', '.join(map(repr, self.codes))})" if self.codes else " (it defines none)"
        self.problem(
            f"code {code!r} is not a code of instrument {self.instrument.id!r}{known} and the "
            "Coding has no ordinalValue or itemWeight extension.",
            "add the code to response_scale.codes, or send the Coding with the ordinalValue "
            f"extension ({ORDINAL_VALUE_URL}).",
            code,
            path,
        )
        return None

    def _weight(self, coding: Mapping[str, Any], path: str) -> tuple[float | None, bool]:
        """The Coding's ordinalValue/itemWeight: (value or None, False if it was broken)."""
        extensions = coding.get("extension")
        if not isinstance(extensions, list):
            return None, True
        found: dict[str, float] = {}
        for e, ext in enumerate(extensions):
            if not isinstance(ext, Mapping) or ext.get("url") not in _WEIGHT_URLS:
                continue
            name = _WEIGHT_URLS[ext["url"]]
            raw = ext.get("valueDecimal", ext.get("valueInteger"))
            number = _number(raw)
            if number is None:
                self.problem(
                    f"the {name} extension holds no number ({raw!r}).",
                    "give the extension a valueDecimal.",
                    raw,
                    f"{path}.extension[{e}]",
                )
                return None, False
            found[name] = number
        values = set(found.values())
        if len(values) > 1:
            self.problem(
                f"the Coding's extensions disagree: "
                f"{', '.join(f'{k} {v:g}' for k, v in found.items())}.",
                "send one weight, or the same number in both.",
                coding.get("code"),
                path,
            )
            return None, False
        return (values.pop() if values else None), True


def _number(raw: Any) -> float | None:
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        return None
    try:
        value = float(raw)
    except OverflowError:  # an integer too large for a float
        return None
    return value if math.isfinite(value) else None


# ----- respondents and the table ---------------------------------------------------------------


def _respondent_id(entry: _Entry) -> str | None:
    resource = entry.resource if isinstance(entry.resource, Mapping) else {}
    identifier = resource.get("identifier")
    candidates = identifier if isinstance(identifier, list) else [identifier]
    for ident in candidates:
        if isinstance(ident, Mapping):
            value = ident.get("value")
            if isinstance(value, str) and value.strip():
                return value
    return entry.resource_id or entry.full_url or None


def _respondent_ids(
    entries: list[_Entry], problems: list[FhirProblem], unnamed_prefix: str | None
) -> list[str]:
    ids = []
    for entry in entries:
        rid = _respondent_id(entry)
        if rid is None and unnamed_prefix is None:
            _Context(entry, problems).add(
                entry.path,
                "the resource has no identifier.value, id or fullUrl to name its respondent.",
                "give it an identifier.value (or id), or say how to name unnamed resources "
                "(the service's unnamed_prefix parameter).",
            )
        ids.append(f"{unnamed_prefix or ''}{entry.position}" if rid is None else rid)
    first: dict[str, _Entry] = {}
    for entry, rid in zip(entries, ids, strict=True):
        if rid in first:
            ctx = _Context(entry, problems)
            ctx.add(
                entry.path,
                f"respondent id {rid!r} is also the id of resource {first[rid].position}.",
                "give every QuestionnaireResponse its own identifier.value (or id).",
                value=rid,
            )
        else:
            first[rid] = entry
    return ids


def _frame(instrument: Instrument, respondents: list[str], rows: list[np.ndarray]) -> pd.DataFrame:
    values = np.vstack(rows) if rows else np.empty((0, len(instrument.items)))
    data: dict[str, Any] = {RESPONDENT_COLUMN: respondents}
    for j, item_id in enumerate(instrument.item_ids):
        data[item_id] = values[:, j]
    return pd.DataFrame(data)

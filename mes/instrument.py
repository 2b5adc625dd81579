"""Instrument definitions: the pydantic model and the rules a definition must keep.

An instrument is data, never code. :class:`Instrument`
validates the shape of a definition; :func:`check_instrument` enforces the
rules that span several fields (unique ids, references, cycles, ...), and
reports every broken rule with its path inside the definition and the fix.
Loading from files lives in :mod:`mes.loader`; the rules for instrument, scale and item
ids live in :mod:`mes.identifiers`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import cached_property
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from mes.errors import InstrumentError, InstrumentProblem
from mes.identifiers import InstrumentId, ItemId, ScaleId

__all__ = [
    "Instrument",
    "Item",
    "ResponseScale",
    "Scale",
    "ScoringRules",
    "check_instrument",
    "instrument_from_mapping",
]

class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ResponseScale(_Model):
    """The answers an item accepts: integers from ``min`` to ``max``."""

    min: int = Field(description="Lowest answer (integer).")
    max: int = Field(description="Highest answer (integer); must be greater than min.")
    labels: dict[int, str] | None = Field(
        default=None, description="Optional label of each answer value."
    )
    codes: dict[str, int] | None = Field(
        default=None,
        description="Optional coded answers (CSV text, FHIR valueCoding.code) mapped to values.",
    )
    favourable_min: int | None = Field(
        default=None,
        description="Keyed answers at or above this value count as favourable (top-two-box).",
    )


class ScoringRules(_Model):
    """How scale scores are formed (defaults for every scale)."""

    method: Literal["mean", "sum"] = Field(
        default="mean",
        description="mean of the answered items, or sum (prorated: mean x number of items).",
    )
    min_answered: float = Field(
        default=0.5,
        ge=0.0,
        le=1.0,
        description="A scale of k items is scored when answered >= ceil(min_answered * k).",
    )
    missing: Literal["available", "median", "mean"] = Field(
        default="available",
        description="Impute missing answers with the item median or mean of the data scored, "
        "or use the available items only.",
    )


class Item(_Model):
    """One question."""

    id: ItemId
    text: str | None = Field(
        default=None, description="Wording (licensed wording may be withheld)."
    )
    reverse: bool = Field(default=False, description="Reverse-keyed: recoded to min + max - x.")
    link_id: str | None = Field(default=None, description="FHIR linkId; defaults to id.")


class Scale(_Model):
    """A leaf scale (``items``) or a composite scale (``scales``)."""

    id: ScaleId
    title: str | None = None
    items: list[str] | None = Field(default=None, description="Item ids of a leaf scale.")
    scales: list[str] | None = Field(default=None, description="Scale ids of a composite scale.")
    min_answered: float | None = Field(
        default=None, ge=0.0, le=1.0, description="Overrides scoring.min_answered for this scale."
    )


class Instrument(_Model):
    """A validated instrument definition.

    Build one with :func:`mes.load_instrument` (from a bundled id or a file) or
    :func:`instrument_from_mapping` (from data). Constructing the model directly
    checks the shape and every rule of :func:`check_instrument`.

    Examples
    --------
    >>> import mes
    >>> inst = mes.load_instrument("mes")
    >>> len(inst.item_ids), inst.leaf_items("open_culture")[:2]
    (30, ('mes01', 'mes02'))
    """

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={"$id": "https://mes.invalid/instrument.schema.json"},
    )

    id: InstrumentId
    version: str = Field(min_length=1, max_length=32)
    title: str
    licence: str = Field(description="Licence terms, shown by `mes instruments show`.")
    description: str | None = None
    response_scale: ResponseScale
    scoring: ScoringRules = Field(default_factory=ScoringRules)
    items: list[Item] = Field(min_length=2)
    scales: list[Scale] = Field(min_length=1)

    @model_validator(mode="after")
    def _rules(self) -> Instrument:
        problems = check_instrument(self)
        if problems:
            # Collected and re-raised with the source by instrument_from_mapping.
            raise _RulesBrokenError(problems)
        return self

    # ----- derived structure (computed once per instrument) ---------------------------
    @cached_property
    def item_ids(self) -> tuple[str, ...]:
        """Item ids in definition order: the column order of array input."""
        return tuple(item.id for item in self.items)

    @cached_property
    def scale_ids(self) -> tuple[str, ...]:
        """Scale ids in definition order."""
        return tuple(scale.id for scale in self.scales)

    @cached_property
    def reverse_mask(self) -> np.ndarray:
        """Boolean array over items: True where the item is reverse-keyed."""
        return np.array([item.reverse for item in self.items], dtype=bool)

    def scale(self, scale_id: str) -> Scale:
        """Return the scale called ``scale_id`` (KeyError naming the known ids otherwise)."""
        for scale in self.scales:
            if scale.id == scale_id:
                return scale
        raise KeyError(
            f"scale {scale_id!r} is not in instrument {self.id!r}; "
            f"known scales: {', '.join(self.scale_ids)}"
        )

    def item(self, item_id: str) -> Item:
        """Return the item called ``item_id`` (KeyError naming the instrument otherwise)."""
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(f"item {item_id!r} is not in instrument {self.id!r}")

    @cached_property
    def _leaf_items(self) -> dict[str, tuple[str, ...]]:
        order = {item_id: i for i, item_id in enumerate(self.item_ids)}
        by_id = {scale.id: scale for scale in self.scales}
        resolved: dict[str, tuple[str, ...]] = {}

        def resolve(scale_id: str) -> tuple[str, ...]:
            if scale_id not in resolved:
                scale = by_id[scale_id]
                if scale.items is not None:
                    leaves = set(scale.items)
                else:
                    leaves = {i for child in scale.scales or [] for i in resolve(child)}
                resolved[scale_id] = tuple(sorted(leaves, key=order.__getitem__))
            return resolved[scale_id]

        for scale in self.scales:
            resolve(scale.id)
        return resolved

    def leaf_items(self, scale_id: str) -> tuple[str, ...]:
        """Item ids a scale is scored over: its items, or the union of its sub-scales' items."""
        if scale_id not in self._leaf_items:
            self.scale(scale_id)  # raises the helpful KeyError
        return self._leaf_items[scale_id]

    @cached_property
    def membership(self) -> np.ndarray:
        """Indicator matrix (items x scales) of :meth:`leaf_items`, as float64."""
        col = {item_id: i for i, item_id in enumerate(self.item_ids)}
        matrix = np.zeros((len(self.items), len(self.scales)), dtype=np.float64)
        for j, scale_id in enumerate(self.scale_ids):
            matrix[[col[i] for i in self.leaf_items(scale_id)], j] = 1.0
        return matrix

    def min_answered_count(self, scale_id: str) -> int:
        """Answered items needed to score a scale: ceil(min_answered * k)."""
        scale = self.scale(scale_id)
        fraction = (
            scale.min_answered if scale.min_answered is not None else self.scoring.min_answered
        )
        k = len(self.leaf_items(scale_id))
        # Round away floating noise first: ceil(0.6 * 5) must be 3, not 4.
        return math.ceil(round(fraction * k, 9))

    def link_ids(self) -> dict[str, str]:
        """Map each FHIR linkId to its item id (an item's link_id defaults to its id)."""
        return {item.link_id or item.id: item.id for item in self.items}


class _RulesBrokenError(ValueError):
    def __init__(self, problems: list[InstrumentProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(map(str, problems)))


EXACT_INTEGER_LIMIT = 2**53
"""Every whole number up to this size (either sign) is exact in float64."""


def check_instrument(inst: Instrument) -> list[InstrumentProblem]:
    """Return every broken cross-field rule of an instrument definition.

    Rules: unique ids; every referenced item or scale
    exists; a scale has items or scales, not both, and at least two items in
    total; no cycles; every item belongs to at least one scale;
    ``favourable_min`` within the scale; codes map to values within the scale;
    ``min`` and ``max`` within +/- 2**53, where every whole number is exact in
    float64 (answers are computed on float64: a wider scale would store and
    score answers other than those given).

    Parameters
    ----------
    inst : Instrument
        A definition whose fields have the right types.

    Returns
    -------
    list of InstrumentProblem
        Empty when the definition is sound.
    """
    problems: list[InstrumentProblem] = []

    def add(path: str, message: str, fix: str) -> None:
        problems.append(InstrumentProblem(path, message, fix))

    rs = inst.response_scale
    scale_ok = rs.min < rs.max
    if not scale_ok:
        add(
            "response_scale",
            f"min ({rs.min}) must be less than max ({rs.max}).",
            "set min to the lowest answer and max to the highest.",
        )
    for bound in ("min", "max"):
        value = getattr(rs, bound)
        if abs(value) > EXACT_INTEGER_LIMIT:
            scale_ok = False
            add(
                f"response_scale.{bound}",
                f"{value} is beyond +/-2**53, where float64 no longer holds every whole "
                "number exactly.",
                "use a response scale within -9007199254740992..9007199254740992.",
            )
    if scale_ok and rs.favourable_min is not None and not rs.min <= rs.favourable_min <= rs.max:
        add(
            "response_scale.favourable_min",
            f"{rs.favourable_min} is outside the response scale {rs.min}..{rs.max}.",
            f"choose a value between {rs.min} and {rs.max}.",
        )
    for code, value in (rs.codes or {}).items():
        if scale_ok and not rs.min <= value <= rs.max:
            add(
                f"response_scale.codes.{code}",
                f"code {code!r} maps to {value}, outside the response scale {rs.min}..{rs.max}.",
                f"map it to a value between {rs.min} and {rs.max}.",
            )
    for value in rs.labels or {}:
        if scale_ok and not rs.min <= value <= rs.max:
            add(
                f"response_scale.labels.{value}",
                f"label for {value}, outside the response scale {rs.min}..{rs.max}.",
                "label only values within the scale.",
            )

    item_ids = [item.id for item in inst.items]
    scale_ids = [scale.id for scale in inst.scales]
    _check_unique(item_ids, "items", add)
    _check_unique(scale_ids, "scales", add)
    link_ids = [item.link_id or item.id for item in inst.items]
    _check_unique(link_ids, "items", add, what="link_id")
    for name in set(item_ids) & set(scale_ids):
        add(
            "scales",
            f"id {name!r} names both an item and a scale.",
            "give the scale an id that no item uses.",
        )

    known_items, known_scales = set(item_ids), set(scale_ids)
    children: dict[str, list[str]] = {}
    for i, scale in enumerate(inst.scales):
        where = f"scales[{i}] ({scale.id})"
        if (scale.items is None) == (scale.scales is None):
            add(
                where,
                "a scale needs either 'items' (a leaf scale) or 'scales' (a composite), "
                "not both and not neither.",
                "keep exactly one of the two lists.",
            )
            continue
        if scale.items is not None:
            for j, ref in enumerate(scale.items):
                if ref not in known_items:
                    add(
                        f"{where}.items[{j}]",
                        f"item {ref!r} is not defined.",
                        "add it under 'items' or correct the id.",
                    )
            _check_unique(scale.items, f"{where}.items", add, what="item reference")
        else:
            refs = scale.scales or []
            for j, ref in enumerate(refs):
                if ref not in known_scales:
                    add(
                        f"{where}.scales[{j}]",
                        f"scale {ref!r} is not defined.",
                        "define it under 'scales' or correct the id.",
                    )
            children[scale.id] = [r for r in refs if r in known_scales]

    cycle = _find_cycle(children)
    if cycle:
        add(
            "scales",
            f"composite scales form a cycle: {' -> '.join(cycle)}.",
            "a composite scale may only contain scales that do not contain it.",
        )
        return problems  # leaf sets are undefined with a cycle

    by_id = {scale.id: scale for scale in inst.scales}

    def leaves(scale_id: str, seen: frozenset[str] = frozenset()) -> set[str]:
        scale = by_id[scale_id]
        if scale.items is not None:
            return {i for i in scale.items if i in known_items}
        return {
            i for child in children.get(scale_id, []) if child not in seen
            for i in leaves(child, seen | {scale_id})
        }

    covered: set[str] = set()
    for i, scale in enumerate(inst.scales):
        if (scale.items is None) == (scale.scales is None):
            continue
        members = leaves(scale.id)
        covered |= members
        if len(members) < 2:
            add(
                f"scales[{i}] ({scale.id})",
                f"the scale has {len(members)} item(s) in total; a scale needs at least two.",
                "add items to it or remove the scale.",
            )
    for j, item_id in enumerate(item_ids):
        if item_id not in covered:
            add(
                f"items[{j}] ({item_id})",
                "the item belongs to no scale.",
                "add it to a scale's 'items' or remove it.",
            )
    return problems


def _check_unique(ids: list[str], path: str, add: Any, what: str = "id") -> None:
    seen: set[str] = set()
    for j, value in enumerate(ids):
        if value in seen:
            add(f"{path}[{j}]", f"duplicate {what} {value!r}.",
                f"give every {what} a unique value.")
        seen.add(value)


def _find_cycle(children: Mapping[str, list[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for child in children.get(node, []):
            if state.get(child) == 1:
                return [*stack[stack.index(child) :], child]
            if child not in state:
                found = visit(child)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in children:
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def instrument_from_mapping(data: Any, source: str = "<mapping>") -> Instrument:
    """Validate a definition given as data (parsed YAML or JSON).

    Parameters
    ----------
    data : mapping
        The definition.
    source : str
        Named in errors: the file it came from.

    Returns
    -------
    Instrument

    Raises
    ------
    InstrumentError
        Listing every problem with its path inside the definition and the fix.

    Examples
    --------
    >>> from mes.instrument import instrument_from_mapping
    >>> inst = instrument_from_mapping({
    ...     "id": "tiny", "version": "1", "title": "Tiny", "licence": "CC0",
    ...     "response_scale": {"min": 1, "max": 5},
    ...     "items": [{"id": "a"}, {"id": "b"}],
    ...     "scales": [{"id": "total", "items": ["a", "b"]}]})
    >>> inst.leaf_items("total")
    ('a', 'b')
    """
    if not isinstance(data, Mapping):
        raise InstrumentError(
            source,
            [
                InstrumentProblem(
                    "(top level)",
                    f"expected a mapping of fields, got {type(data).__name__}.",
                    "write the definition as a YAML/JSON object with id, version, title, ...",
                )
            ],
        )
    try:
        return Instrument.model_validate(dict(data))
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            ctx_error = (err.get("ctx") or {}).get("error")
            if isinstance(ctx_error, _RulesBrokenError):
                problems.extend(ctx_error.problems)
                continue
            path = _dotted(err["loc"])
            problems.append(InstrumentProblem(path or "(top level)", err["msg"] + ".", _fix(err)))
        raise InstrumentError(source, problems) from None


def _dotted(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _fix(err: Any) -> str:
    kind = err["type"]
    if kind == "missing":
        return "add the field."
    if kind == "extra_forbidden":
        return "remove the field or correct its name (see instruments/instrument.schema.json)."
    if kind == "string_pattern_mismatch":
        return f"use only characters matching {err['ctx']['pattern']}."
    return "correct the value (see instruments/instrument.schema.json)."

"""Reporting plans: the breakdowns of a survey that may be reported, protected together.

Suppressing small groups report by report is not enough: a group hidden in
``by=site,grade`` follows from ``by=grade`` minus the visible cells of
``by=site,grade``. A *reporting plan* lists every breakdown that may be published
(``[["site"], ["grade"], ["site", "grade"]]``); :func:`mes.groups.summarise` protects
every cell of every breakdown of the plan at once, so that no combination of the
plan's reports pins down a small group, and a breakdown outside the plan is refused.

A breakdown ``[a, b]`` publishes its nested levels: the overall group, ``a``, and
``a x b``. Any prefix of a breakdown of the plan (``[a]``, or ``[]`` for the overall
group alone) may therefore be reported too: it shows a subset of the same cells.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

from mes.errors import MesError

__all__ = [
    "Breakdown",
    "PlanError",
    "allowed_breakdowns",
    "check_breakdown",
    "default_plan",
    "describe_plan",
    "normalise_plan",
    "plan_attributes",
    "plan_levels",
    "report_levels",
]

Breakdown = tuple[str, ...]
"""Attributes to group by, outermost first; ``()`` is the overall group alone."""


class PlanError(MesError, ValueError):
    """A reporting plan is malformed, or a breakdown is not in the plan (the message lists it)."""


def normalise_plan(plan: Any, *, name: str = "plan") -> tuple[Breakdown, ...]:
    """A plan as a tuple of breakdowns, validated; duplicates dropped, order kept.

    Parameters
    ----------
    plan : sequence of sequences of str
        ``[["site"], ["grade"], ["site", "grade"]]``. A bare string counts as a
        breakdown of one attribute.
    name : str
        How to name the argument in errors.

    Raises
    ------
    PlanError
        Not a list of lists of attribute names, an empty name, or an attribute named
        twice in one breakdown.

    Examples
    --------
    >>> from mes.groups.plan import normalise_plan
    >>> normalise_plan([["site"], "grade", ["site", "grade"], ["site"]])
    (('site',), ('grade',), ('site', 'grade'))
    """
    if isinstance(plan, (str, bytes)) or not isinstance(plan, Sequence):
        raise PlanError(
            f"{name} must be a list of breakdowns, each a list of attribute names "
            f'(e.g. [["site"], ["grade"], ["site", "grade"]]), got {type(plan).__name__}'
        )
    out: list[Breakdown] = []
    for i, breakdown in enumerate(plan):
        items = [breakdown] if isinstance(breakdown, str) else breakdown
        if not isinstance(items, Sequence) or not all(isinstance(a, str) for a in items):
            raise PlanError(f"{name}[{i}] must be a list of attribute names, got {breakdown!r}")
        names = tuple(a.strip() for a in items)
        if any(not a for a in names):
            raise PlanError(f"{name}[{i}]: attribute names cannot be empty")
        if len(set(names)) != len(names):
            raise PlanError(f"{name}[{i}]: an attribute is named twice ({', '.join(names)})")
        if names and names not in out:
            out.append(names)
    return tuple(out)


def default_plan(attributes: Sequence[str], *, margins: bool = False) -> tuple[Breakdown, ...]:
    """Every attribute on its own; with ``margins`` every combination, in the given order.

    Examples
    --------
    >>> from mes.groups.plan import default_plan
    >>> default_plan(["site", "grade"])
    (('site',), ('grade',))
    >>> default_plan(["site", "grade"], margins=True)
    (('site',), ('grade',), ('site', 'grade'))
    """
    names = list(dict.fromkeys(attributes))
    if not margins:
        return tuple((a,) for a in names)
    return tuple(
        combo for r in range(1, len(names) + 1) for combo in itertools.combinations(names, r)
    )


def plan_attributes(plan: Sequence[Breakdown]) -> tuple[str, ...]:
    """Every attribute the plan names, in order of first appearance."""
    return tuple(dict.fromkeys(a for breakdown in plan for a in breakdown))


def allowed_breakdowns(plan: Sequence[Breakdown]) -> tuple[Breakdown, ...]:
    """The breakdowns that may be reported: ``()`` and every prefix of every breakdown.

    Examples
    --------
    >>> from mes.groups.plan import allowed_breakdowns
    >>> allowed_breakdowns([("site", "grade"), ("grade",)])
    ((), ('site',), ('site', 'grade'), ('grade',))
    """
    out: dict[Breakdown, None] = {(): None}
    for breakdown in plan:
        for r in range(1, len(breakdown) + 1):
            out[breakdown[:r]] = None
    return tuple(out)


def plan_levels(plan: Sequence[Breakdown]) -> tuple[frozenset[str], ...]:
    """The levels (sets of attributes) whose cells the plan publishes, overall first.

    Examples
    --------
    >>> from mes.groups.plan import plan_levels
    >>> [sorted(level) for level in plan_levels([("site", "grade"), ("grade",)])]
    [[], ['site'], ['grade', 'site'], ['grade']]
    """
    return tuple(dict.fromkeys(frozenset(b) for b in allowed_breakdowns(plan)))


def describe_plan(plan: Sequence[Breakdown]) -> str:
    """``"site; grade; site,grade"`` (the form ``by=`` takes), or ``"overall only"``."""
    return "; ".join(",".join(b) for b in plan) or "overall only"


def report_levels(by: Sequence[str], *, margins: bool = False) -> tuple[Breakdown, ...]:
    """The levels a report by ``by`` publishes, each in the order of ``by``.

    Without ``margins`` the prefixes (overall, ``by[0]``, ``by[0] x by[1]``, ...);
    with ``margins`` every combination.

    Examples
    --------
    >>> from mes.groups.plan import report_levels
    >>> report_levels(["site", "grade"])
    ((), ('site',), ('site', 'grade'))
    >>> report_levels(["site", "grade"], margins=True)
    ((), ('site',), ('grade',), ('site', 'grade'))
    """
    names = tuple(by)
    if margins:
        return tuple(c for r in range(len(names) + 1) for c in itertools.combinations(names, r))
    return tuple(names[:r] for r in range(len(names) + 1))


def check_breakdown(
    by: Sequence[str], plan: Sequence[Breakdown], *, margins: bool = False
) -> Breakdown:
    """``by`` as a breakdown, if every level its report publishes is a level of the plan.

    The order of ``by`` only orders the report: ``by=grade,site`` is allowed by a
    plan that publishes grade and grade x site, in whatever order it lists them.

    Raises
    ------
    PlanError
        Naming the plan's breakdowns.

    Examples
    --------
    >>> from mes.groups.plan import check_breakdown
    >>> check_breakdown(["site"], [("site", "grade")])
    ('site',)
    >>> check_breakdown(["grade"], [("site", "grade")])
    Traceback (most recent call last):
    ...
    mes.groups.plan.PlanError: by=grade is not in the reporting plan (site,grade); \
breakdowns that may be reported: overall, site, site,grade
    """
    wanted = tuple(by)
    published = set(plan_levels(plan))
    if not all(frozenset(level) in published for level in report_levels(wanted, margins=margins)):
        shown = ", ".join(",".join(b) or "overall" for b in allowed_breakdowns(plan))
        raise PlanError(
            f"by={','.join(wanted)}{' with margins' if margins else ''} is not in the reporting "
            f"plan ({describe_plan(plan)}); breakdowns that may be reported: {shown}"
        )
    return wanted

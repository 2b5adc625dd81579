"""The aggregation check in words: can this report's groups be compared?

A chart of group means invites ranking the groups. ICC(1) and ICC(2)
(:mod:`mes.groups.aggregation`) say whether that is sound: ICC(1) is the share
of the variation in individual scores that lies between groups, ICC(2) the
reliability of the group means. The readings use the thresholds that module
documents (LeBreton & Senter 2008; Klein et al. 2000): ICC(2) of 0.70 or more
reliable, 0.50 to 0.70 marginal, below 0.50 unreliable; ICC(1) of 0.01, 0.10
and 0.25 a small, medium and large group effect. Figures are rounded by the
report's one rule (:mod:`mes.html.format`), so a printed 0.70 is never read as
"marginal".

The ICCs are those of the report: computed over the groups it shows, so they
disclose nothing about a suppressed group, and no per-group figure is printed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from html import escape

from mes.groups import ICCResult
from mes.html.format import num_against

__all__ = ["ICC1_CUTS", "ICC2_MARGINAL", "ICC2_RELIABLE", "icc_note", "icc_reading",
           "icc_section", "icc_verdict"]

ICC2_RELIABLE = 0.70
"""ICC(2) from which group means are reliable enough to compare groups."""
ICC2_MARGINAL = 0.50
"""ICC(2) from which group means are marginally reliable."""
ICC1_CUTS = (0.01, 0.10, 0.25)
"""ICC(1) of a small, a medium and a large group effect."""


def _figure(x: float, cuts: tuple[float, ...]) -> str:
    """An ICC as printed: rounded by the report's rule, or "below 0".

    A negative ICC only says that the groups differ less than chance would make
    them (Bliese 2000 reads it as 0); its size - ICC(2) can be -20 when the
    groups hardly differ - means nothing to a reader, so it is not printed.
    """
    return "below 0" if x < 0 else num_against(x, cuts, above=(0.0,))


def _stated(name: str, x: float, cuts: tuple[float, ...]) -> str:
    shown = _figure(x, cuts)
    return f"{name} is {shown}" if shown == "below 0" else f"{name} = {shown}"


def _icc2_text(icc2: float) -> str:
    shown = _stated("ICC(2)", icc2, (ICC2_MARGINAL, ICC2_RELIABLE))
    if icc2 >= ICC2_RELIABLE:
        use = "group means are reliable enough to compare groups"
    elif icc2 >= ICC2_MARGINAL:
        use = ("group means are only marginally reliable: compare groups with caution, and "
               "do not rank them")
    else:
        use = "group means are not stable enough to rank groups"
    return f"{shown}: {use}."


def _icc1_text(icc1: float) -> str:
    shown = _stated("ICC(1)", icc1, ICC1_CUTS)
    if icc1 <= 0:
        return f"{shown}: the groups differ no more than chance would make them differ."
    percent = num_against(icc1 * 100, [c * 100 for c in ICC1_CUTS], digits=0, above=(0.0,))
    if icc1 < ICC1_CUTS[0]:
        size = "almost no group effect"
    elif icc1 < ICC1_CUTS[1]:
        size = "a small group effect"
    elif icc1 < ICC1_CUTS[2]:
        size = "a medium group effect"
    else:
        size = "a large group effect"
    return (f"{shown}: {percent}% of the variation in individual scores lies between groups "
            f"({size}).")


def icc_verdict(result: ICCResult) -> str:
    """The answer in a few words: may groups be compared on this scale?

    Examples
    --------
    >>> from mes.groups import ICCResult
    >>> icc_verdict(ICCResult(0.02, 0.6, 3.0, 1.2, 2.5, 0.1, 4, 90, 22.5, ""))
    'with caution (marginal)'
    """
    if result.icc2 is None:
        return "not computed"
    if result.icc2 >= ICC2_RELIABLE:
        return "yes (reliable)"
    if result.icc2 >= ICC2_MARGINAL:
        return "with caution (marginal)"
    return "no: not stable enough to rank groups"


def icc_reading(result: ICCResult) -> str:
    """ICC(2), then ICC(1), in plain words.

    Parameters
    ----------
    result : ICCResult

    Returns
    -------
    str
        Plain text (not escaped).

    Examples
    --------
    >>> from mes.groups import ICCResult
    >>> r = ICCResult(0.05, 0.82, 3.0, 0.5, 6.0, 0.01, 4, 200, 50.0, "")
    >>> icc_reading(r)[:66]
    'ICC(2) = 0.82: group means are reliable enough to compare groups. '
    """
    if result.icc1 is None or result.icc2 is None:
        if result.n_groups < 2:
            return "Not computed: fewer than two groups are shown."
        return "Not computed: the groups' scores have no variation to split."
    return f"{_icc2_text(result.icc2)} {_icc1_text(result.icc1)}"


def icc_note(result: ICCResult) -> str:
    """One paragraph under a level's chart: may these groups be compared?"""
    return (f"<p class='icc-note'><strong>Can these groups be compared?</strong> "
            f"{escape(icc_reading(result))} <a href='#aggregation'>About this check</a></p>")


def _level_table(name: str, per_scale: Mapping[str, ICCResult], scales: Sequence[str],
                 title_of: Callable[[str], str]) -> str:
    rows = []
    for s in scales:
        r = per_scale.get(s)
        if r is None:
            continue
        label = f"<th scope='row'>{escape(title_of(s))}</th>"
        if r.icc1 is None or r.icc2 is None:
            rows.append(f"<tr>{label}<td>{r.n_groups}</td><td colspan='3' class='text muted'>"
                        f"{escape(icc_reading(r))}</td></tr>")
            continue
        rows.append(
            f"<tr>{label}<td>{r.n_groups}</td>"
            f"<td>{_figure(r.icc1, ICC1_CUTS)}</td>"
            f"<td>{_figure(r.icc2, (ICC2_MARGINAL, ICC2_RELIABLE))}</td>"
            f"<td class='verdict'>{escape(icc_verdict(r))}</td></tr>"
        )
    caption = f"Aggregation check across {name}"
    return (f"<div class='scroll' role='region' tabindex='0' aria-label='{escape(caption)}'>"
            f"<table class='by-scale'><caption>{escape(caption)}</caption><thead><tr>"
            "<th scope='col'>scale</th>"
            "<th scope='col'>groups shown</th><th scope='col'>ICC(1)</th>"
            "<th scope='col'>ICC(2)</th><th scope='col'>compare groups?</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table></div>")


def icc_section(
    aggregation: Mapping[str, Mapping[str, ICCResult]],
    levels: Sequence[tuple[str, ...]],
    scales: Sequence[str],
    title_of: Callable[[str], str],
    main_scale: str,
) -> str:
    """The "Can groups be compared?" section: per level, the main scale in words and a table.

    Parameters
    ----------
    aggregation : mapping of level name -> scale id -> ICCResult
        ``GroupReport.aggregation`` (levels named by their attributes joined with ``|``).
    levels : sequence of tuple of str
        The report's published levels; others in ``aggregation`` are ignored.
    scales : sequence of str
        Scale ids in the order to list them.
    title_of : callable
        Scale id to its title.
    main_scale : str
        The scale the level charts show, read out in words.

    Returns
    -------
    str
        The section's HTML, or ``""`` when no published level has an ICC.
    """
    parts = []
    for level in levels:
        per_scale = aggregation.get("|".join(level)) if level else None
        if not per_scale:
            continue
        name = " and ".join(level)
        lead = per_scale.get(main_scale)
        parts.append(f"<h3>By {escape(name)}</h3>")
        if lead is not None:
            parts.append(f"<p><strong>{escape(title_of(main_scale))}</strong>: "
                         f"{escape(icc_reading(lead))}</p>")
        parts.append(_level_table(name, per_scale, scales, title_of))
    if not parts:
        return ""
    return ("<section id='aggregation'><h2>Can groups be compared?</h2>"
            "<p>Ranking groups by their means is sound only if the groups really differ and "
            "each group's mean is a stable estimate. <strong>ICC(2)</strong> is the reliability "
            "of the group means: 0.70 or more means they are reliable enough to compare "
            "groups, 0.50 to 0.70 that they are marginal, below 0.50 that they are not stable "
            "enough to rank groups. <strong>ICC(1)</strong> is the share of the variation in "
            "individual scores that lies between groups (0.01 small, 0.10 medium, 0.25 large; "
            "Bliese 2000, LeBreton &amp; Senter 2008). Only the groups shown in this report "
            "are used.</p>" + "".join(parts) + "</section>")

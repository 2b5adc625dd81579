"""``mes reliability FILE --instrument ID_OR_PATH [--json] [--nan-policy P] [--scale S ...]``.

Prints, for every scale, the psych-style reliability summary (alpha with its
Feldt interval, standardised alpha, G6, average and median inter-item r,
omega total, n, k) followed by any flags in words, and with ``--items`` the
per-item table; then the correlations between scale scores as
``psych::scoreItems`` gives them (raw below the diagonal, alpha on it,
corrected for attenuation above it) with flags for scales that are barely
distinct. Scales are named by their titles, as ``mes score`` names them, wrapped at
word boundaries so that the tables fit an 80-column terminal. ``--json`` prints
exactly what ``ScaleReliability.to_dict()`` gives
(what the API serves) under ``scales``, and ``ScaleCorrelations.to_dict()``
under ``intercorrelations``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from mes.cli.common import InvalidFileError, UsageError, read_csv_arg, with_line_numbers
from mes.errors import InvalidResponsesError
from mes.loader import load_instrument
from mes.reliability import (
    ScaleCorrelations,
    ScaleReliability,
    reliability,
    scale_intercorrelations,
)
from mes.reliability.intercorrelation import BARELY_DISTINCT, IMPUTE


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "reliability",
        help="reliability (alpha, omega, item statistics) of each scale",
        description="Internal consistency of each scale of a responses CSV, with the figures "
        "R psych::alpha reports, and plain-language flags (low alpha, miskeyed items, items "
        "without variation, too few respondents).",
    )
    parser.add_argument("file", type=Path, metavar="FILE")
    parser.add_argument("--instrument", "-i", required=True, metavar="ID_OR_PATH",
                        help="bundled instrument id (see `mes instruments list`) or a YAML file")
    parser.add_argument("--scale", "-s", action="append", dest="scales", metavar="SCALE",
                        help="report only this scale (repeatable; default: every scale)")
    parser.add_argument("--nan-policy", choices=("pairwise", "listwise"), default="pairwise",
                        help="missing answers: pairwise deletion (default, as psych) or only "
                        "respondents who answered every item of the scale")
    parser.add_argument("--ci", type=float, default=0.95, metavar="LEVEL",
                        help="coverage of the confidence interval of alpha (default 0.95)")
    parser.add_argument("--impute", choices=IMPUTE, default="median",
                        help="scale scores behind the correlations between scales, as "
                        "psych::scoreItems: missing answers replaced by the item median "
                        "(default) or mean, or none (correlations from pairwise item "
                        "covariances)")
    parser.add_argument("--items", action="store_true",
                        help="also print the item statistics of each scale")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--errors", choices=("raise", "missing"), default="raise",
                        help="invalid answers: fail (default) or treat them as missing")
    parser.set_defaults(handler=_reliability)


def _reliability(args: argparse.Namespace) -> int:
    instrument = load_instrument(args.instrument)
    parsed = read_csv_arg(args.file, instrument, ids=False)
    if args.scales:
        unknown = [s for s in args.scales if s not in instrument.scale_ids]
        if unknown:
            raise UsageError(
                f"--scale {', '.join(unknown)}: not in instrument {instrument.id!r}; its scales "
                f"are {', '.join(instrument.scale_ids)}"
            )
    if not 0.0 < args.ci < 1.0:
        raise UsageError(f"--ci must be between 0 and 1 (e.g. 0.95), got {args.ci}")
    try:
        report = reliability(instrument, parsed.frame, scales=args.scales,
                             nan_policy=args.nan_policy, ci=args.ci, errors=args.errors)
        correlations = scale_intercorrelations(instrument, parsed.frame, scales=args.scales,
                                               impute=args.impute, errors=args.errors)
    except InvalidResponsesError as exc:
        raise InvalidFileError(with_line_numbers(exc, parsed)) from None
    if args.json:
        payload = {
            "instrument": {"id": instrument.id, "version": instrument.version},
            "file": str(args.file),
            "nan_policy": args.nan_policy,
            "scales": {scale_id: r.to_dict() for scale_id, r in report.items()},
            "intercorrelations": correlations.to_dict(),
        }
        sys.stdout.write(json.dumps(payload, indent=2, allow_nan=False) + "\n")
        return 0
    console = Console()
    # Titles are text, not rich markup: a "[" in one must print as it is.
    labels = {s: escape(instrument.scale(s).title or s) for s in instrument.scale_ids}
    _print(console, report, instrument.title, labels, args)
    _print_correlations(console, correlations, labels)
    return 0


def _num(x: float, digits: int = 2) -> str:
    return "-" if not math.isfinite(x) else f"{x:.{digits}f}"


_LABEL_WIDTH_CAP = 16
"""The most a label column asks for to keep its longest word whole: with the eight figures
of the reliability table it still fits 80 columns."""


def _add_label_column(table: Table, header: str, labels: list[str]) -> None:
    """The column of scale (or item) labels, as ``mes score`` shows them: wrapped at word
    boundaries, wide enough for the longest word, and a word too long for any terminal
    cut with an ellipsis rather than broken across lines."""
    longest = max((len(word) for label in labels for word in label.split()), default=1)
    table.add_column(header, overflow="ellipsis", min_width=min(longest, _LABEL_WIDTH_CAP))


def _print(console: Console, report: dict[str, ScaleReliability], title: str,
           labels: dict[str, str], args: argparse.Namespace) -> None:
    level = f"{args.ci:.0%}"
    table = Table(title=f"{title}: reliability ({args.nan_policy} deletion), {args.file.name}",
                  box=box.SIMPLE_HEAD, padding=(0, 1), show_edge=False,
                  caption="alpha: Cronbach's alpha, with its Feldt interval; G6: Guttman's "
                  "lambda 6; omega: omega total (one factor); mean, sd: of respondents' scale "
                  "means. --items adds standardised alpha, inter-item r and item statistics; "
                  "--json gives everything.")
    _add_label_column(table, "scale", [labels[s] for s in report])
    for column, width in (("n", 5), ("k", 2), ("alpha", 5), (f"{level} CI", 9), ("G6", 4),
                          ("omega", 5), ("mean", 4), ("sd", 4)):
        table.add_column(column, justify="right", no_wrap=True, min_width=width)
    for scale_id, r in report.items():
        table.add_row(
            labels[scale_id], str(r.n), str(r.k), _num(r.alpha),
            f"{_num(r.alpha_ci[0])}-{_num(r.alpha_ci[1])}", _num(r.g6),
            _num(r.omega_total), _num(r.mean), _num(r.sd),
        )
    console.print(table)
    if args.items:
        for scale_id, r in report.items():
            items = Table(title=f"{labels[scale_id]}: std alpha {_num(r.std_alpha)}, average r "
                          f"{_num(r.average_r)}, median r {_num(r.median_r)}, S/N "
                          f"{_num(r.signal_noise)}, ASE {_num(r.ase, 3)}",
                          box=box.SIMPLE_HEAD, show_edge=False,
                          caption="raw r, std r: item-total correlation (raw, standardised); "
                          "r drop: item vs rest of scale; alpha/std without: if the item were "
                          "dropped.")
            _add_label_column(items, "item", list(r.items))
            for column in ("n", "mean", "sd", "raw r", "std r", "r drop", "alpha without",
                           "std without"):
                items.add_column(column, justify="right", min_width=4)
            for item_id, s in r.items.items():
                items.add_row(item_id, str(s.n), _num(s.mean), _num(s.sd), _num(s.raw_r),
                              _num(s.std_r), _num(s.r_drop), _num(s.alpha_if_dropped),
                              _num(s.std_alpha_if_dropped))
            console.print(items)
    flags = [(scale_id, f) for scale_id, r in report.items() for f in r.flags]
    if flags:
        console.print("[bold]Flags[/bold]")
        for scale_id, flag in flags:
            console.print(f"  [yellow]{labels[scale_id]}[/yellow] ({flag.code}): {flag.message}",
                          highlight=False)
    else:
        console.print("No flags: every scale has alpha of at least 0.70, enough respondents "
                      "and no miskeyed or constant items.")


_IMPUTED = {
    "median": "missing answers replaced by the item median",
    "mean": "missing answers replaced by the item mean",
    "none": "from pairwise item covariances, without imputation",
}


def _print_correlations(console: Console, result: ScaleCorrelations,
                        labels: dict[str, str]) -> None:
    """psych's ``$corrected`` layout: raw r below the diagonal, alpha on it, corrected above."""
    if len(result.scales) < 2:
        return
    table = Table(title=f"Correlations between scale scores (n {result.n})",
                  box=box.SIMPLE_HEAD, padding=(0, 1), show_edge=False,
                  caption="Below the diagonal: correlation of scale scores (psych::scoreItems, "
                  f"{_IMPUTED[result.impute]}); on it: alpha of those scores (so it can "
                  "differ from the alpha above); above it: corrected for attenuation, "
                  "r / sqrt(alpha_i * alpha_j). Corrected values of "
                  f"{BARELY_DISTINCT:.2f} or more (marked) mean two scales are barely distinct.")
    names = [f"{i + 1} {labels.get(s, s)}" for i, s in enumerate(result.scales)]
    _add_label_column(table, "scale", names)
    for j in range(len(result.scales)):
        table.add_column(str(j + 1), justify="right", no_wrap=True, min_width=5)
    for i in range(len(result.scales)):
        cells = []
        for j in range(len(result.scales)):
            value = float(result.corrected[i, j])
            cell = _num(value)
            if j == i:
                cell = f"[bold]{cell}[/bold]"
            elif j > i and math.isfinite(value) and abs(value) >= BARELY_DISTINCT \
                    and not result.shared[i, j]:
                cell = f"[yellow]{cell}[/yellow]"
            cells.append(cell)
        table.add_row(names[i], *cells)
    console.print(table)
    if result.flags:
        console.print("[bold]Flags on the correlations[/bold]")
        for flag in result.flags:
            named = ", ".join(labels.get(s, s) for s in flag.scales)
            where = f"[yellow]{named}[/yellow] " if flag.scales else ""
            console.print(f"  {where}({flag.code}): {flag.message}", highlight=False)
    else:
        console.print(f"No two scales correlate {BARELY_DISTINCT:.2f} or more once corrected "
                      "for attenuation.")

"""``mes report FILE --instrument ID_OR_PATH --by a,b [--min-group-size N]
[--previous EARLIER.csv ...] [--json | -o OUT | --html OUT.html [--title TEXT]]``.

Prints a group report of a responses CSV: per group n, mean, 95% CI and percent
favourable of each scale, with small groups suppressed. ``--json`` prints the
full report as JSON (what the API serves, full precision); ``-o OUT.csv`` writes
it in long format (one row per group and scale, numbers rounded by kind as
:mod:`mes.io.numbers` says), ``-o OUT.json`` as JSON; ``--html`` writes the page
for people, titled ``--title`` or the instrument's title.

``--previous`` adds the change since the previous wave. Given more than once (oldest
first), it also adds the trend over those waves and FILE, the latest
(:func:`mes.groups.trend_from_reports`: every wave protected on its own, as its own
report would be): ``trend`` in the JSON, a "Trend over N waves" section in the HTML,
and with ``-o OUT.csv`` a second file ``OUT-trend.csv`` (one row per group, scale and
wave).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pandas as pd
from rich.console import Console
from rich.table import Table

from mes.cli.common import (
    InvalidFileError,
    UsageError,
    output_kind,
    read_csv_arg,
    with_line_numbers,
    write_csv_arg,
)
from mes.errors import InvalidResponsesError
from mes.groups.benchmarks import benchmark_report
from mes.groups.change import compare_reports
from mes.groups.norms import load_norm_table
from mes.groups.plan import PlanError
from mes.groups.report import GroupReport
from mes.groups.summary import GroupingError, summarise
from mes.groups.trends import Trend, trend_from_reports
from mes.html import render_report_html
from mes.io.numbers import clean_numbers
from mes.loader import load_instrument
from mes.reliability import reliability


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "report",
        help="group report of a CSV of responses (small groups suppressed)",
        description="Summarise every scale per group of respondents: n, mean, SD, 95% CI, "
        "percent favourable, response rate. Groups smaller than --min-group-size show no "
        "statistics and no exact n, nor does any group that would give one away by "
        "subtraction.",
    )
    parser.add_argument("file", type=Path, metavar="FILE")
    parser.add_argument("--instrument", "-i", required=True, metavar="ID_OR_PATH",
                        help="bundled instrument id (see `mes instruments list`) or a YAML file")
    parser.add_argument("--by", default="", metavar="ATTR1,ATTR2",
                        help="attribute columns to group by, outermost first (comma separated)")
    parser.add_argument("--min-group-size", type=int, default=10, metavar="N",
                        help="suppress groups with fewer respondents (default 10)")
    parser.add_argument("--margins", action="store_true",
                        help="also report each attribute on its own, not only nested levels")
    parser.add_argument("--plan", default=None, metavar="A,B;C",
                        help="every breakdown you will publish from this file, separated by "
                        "';' (e.g. 'site,grade;grade'): the report is protected together "
                        "with all of them, so that no combination reveals a small group; "
                        "--by must be one of them or a prefix of one")
    parser.add_argument("--headcounts", type=Path, metavar="CSV",
                        help="CSV with attribute columns and 'headcount', for response rates")
    parser.add_argument("--norms", type=Path, metavar="FILE",
                        help="norm table (.csv or .yaml, see docs/norm-tables.md): add "
                        "percentile ranks and bands")
    parser.add_argument("--previous", type=Path, metavar="CSV", action="append",
                        help="responses of the previous wave (same instrument and columns): "
                        "add the change of every group with its Welch CI and Hedges' g; give "
                        "it once per earlier wave, oldest first, for the trend over all the "
                        "waves (JSON 'trend', HTML section, -o OUT.csv adds OUT-trend.csv)")
    parser.add_argument("--wave-labels", metavar="A,B,C",
                        help="labels of the waves of the trend, oldest first, FILE's last "
                        "(default: the files' names)")
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print the report as JSON")
    output.add_argument("--html", type=Path, metavar="OUT.html",
                        help="write the human-readable report (charts, reliability, change)")
    output.add_argument("-o", "--output", metavar="OUT",
                        help="write the report to OUT.csv (one row per group and scale) or "
                        "OUT.json")
    parser.add_argument("--title", metavar="TEXT",
                        help="title of the --html report (default: the instrument's title)")
    parser.add_argument("--errors", choices=("raise", "missing"), default="raise",
                        help="invalid answers: fail (default) or score them as missing")
    parser.set_defaults(handler=_report)


def _report(args: argparse.Namespace) -> int:
    if args.output is not None:
        output_kind(args.output)  # before any work: an .xlsx name is refused at once
    _check_title(args)
    labels = _wave_labels(args)
    by = [b.strip() for b in args.by.split(",") if b.strip()]
    if args.min_group_size < 1:
        raise UsageError("--min-group-size must be at least 1")
    instrument = load_instrument(args.instrument)
    parsed = read_csv_arg(args.file, instrument)
    headcounts = None
    if args.headcounts is not None:
        if not args.headcounts.is_file():
            raise FileNotFoundError(f"{args.headcounts}: no such file")
        headcounts = pd.read_csv(args.headcounts, dtype=str, keep_default_na=False,
                                 na_values=[""])
    plan = None
    if args.plan is not None:
        plan = [[a.strip() for a in part.split(",") if a.strip()]
                for part in args.plan.split(";") if part.strip()]
    try:
        report = summarise(instrument, parsed.frame, by=by, plan=plan,
                           min_group_size=args.min_group_size, headcounts=headcounts,
                           margins=args.margins, errors=args.errors)
    except InvalidResponsesError as exc:
        raise InvalidFileError(with_line_numbers(exc, parsed)) from None
    except (GroupingError, PlanError) as exc:
        raise UsageError(str(exc).replace("by=", "--by ")) from None
    payload = report.to_dict()
    benchmarks = []
    if args.norms is not None:
        norms = load_norm_table(args.norms)
        benchmarks = benchmark_report(report, norms)
        payload["benchmarks"] = {
            "comparison": norms.to_dict(),
            "results": [b.to_dict() for b in benchmarks],
        }
    change, trend = None, None
    if args.previous:
        # Each earlier wave protected as its own report of the same breakdown and plan.
        reports = []
        for path in args.previous:
            previous = read_csv_arg(path, instrument)
            try:
                reports.append(summarise(instrument, previous.frame, by=by, plan=plan,
                                         min_group_size=args.min_group_size,
                                         margins=args.margins, errors=args.errors))
            except InvalidResponsesError as exc:
                raise InvalidFileError(with_line_numbers(exc, previous)) from None
            except (GroupingError, PlanError) as exc:
                raise UsageError(f"{path}: {exc}".replace("by=", "--by ")) from None
        change = compare_reports(reports[-1], report)
        payload["change"] = change.to_dict()
        if len(reports) > 1:
            trend = trend_from_reports([*reports, report], labels)
            payload["trend"] = trend.to_dict()
    if args.html is not None:
        page = render_report_html(
            instrument, report, title=args.title or instrument.title,
            reliability=reliability(instrument, parsed.frame, errors=args.errors),
            change=change, trend=trend, benchmarks=benchmarks,
            aggregation=report.aggregation,
        )
        args.html.write_text(page, encoding="utf-8")
        print(f"written {args.html}")
    elif args.json:
        print(_json_text(payload))
    elif args.output is None:
        _print(report, args.file)
        if trend is not None:
            _print_trend(trend, report)
    elif output_kind(args.output) == ".json":
        Path(args.output).write_text(_json_text(payload) + "\n")
    else:
        write_csv_arg(report.to_frame(), args.output)
        if trend is not None:
            beside = _trend_path(args.output)
            write_csv_arg(trend.to_frame(), str(beside))
            print(f"written {beside}")
    return 0


def _wave_labels(args: argparse.Namespace) -> list[str] | None:
    """The trend's wave labels (oldest first, FILE last), checked before any work.

    Default: the files' names without ``.csv``, or as given where two share a name.
    """
    previous = args.previous or []
    if len(previous) > 1 and args.output == "-":
        raise UsageError("-o - writes one table: the trend needs a file (-o OUT.csv writes "
                         "OUT-trend.csv beside it), or use --json or --html")
    if args.wave_labels is not None:
        labels = [part.strip() for part in args.wave_labels.split(",")]
        if len(previous) < 2:
            raise UsageError("--wave-labels names the waves of a trend: give --previous once "
                             "per earlier wave, oldest first")
        if len(labels) != len(previous) + 1 or not all(labels):
            raise UsageError(f"--wave-labels: give {len(previous) + 1} labels (each earlier "
                             "wave, oldest first, then FILE), separated by commas")
        if len(set(labels)) != len(labels):
            raise UsageError("--wave-labels: each wave needs its own label")
        return labels
    if len(previous) < 2:
        return None
    files = [*previous, args.file]
    if len({f.resolve() for f in files}) != len(files):
        raise UsageError("--previous: each wave is a different file (one is given twice)")
    stems = [f.stem for f in files]
    return stems if len(set(stems)) == len(stems) else [str(f) for f in files]


def _trend_path(output: str) -> Path:
    """``OUT.csv`` -> ``OUT-trend.csv``, beside it."""
    path = Path(output)
    return path.with_name(f"{path.stem}-trend{path.suffix}")

def _check_title(args: argparse.Namespace) -> None:
    """``--title`` names the HTML report, so it comes with ``--html`` and says something."""
    if args.title is None:
        return
    if args.html is None:
        raise UsageError("--title sets the title of the HTML report: use it with --html "
                         "OUT.html")
    if not args.title.strip():
        raise UsageError("--title is blank: give the report's title, or leave --title out "
                         "for the instrument's")


def _json_text(payload: dict[str, Any]) -> str:
    """The report as JSON: figures at full precision less arithmetic noise (15 significant
    digits, :mod:`mes.io.numbers`), as the API serves them."""
    return json.dumps(clean_numbers(payload), allow_nan=False, indent=2)


def _fmt(x: float | None, digits: int = 2) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def _print(report: GroupReport, path: Path) -> None:
    scale = report.distribution_scales[0] if report.distribution_scales else report.scales[0]
    table = Table(title=f"{report.instrument_id}: {scale} by {', '.join(report.by) or 'nothing'}"
                  f" ({path.name}; groups under {report.min_group_size} suppressed)")
    for column in ("group", "n", "mean", "95% CI", "% favourable", "response rate"):
        table.add_column(column, justify="left" if column == "group" else "right")
    for g in report.groups:
        cell = g.scales[scale]
        if g.suppressed or cell.suppressed:
            table.add_row(g.label, "suppressed" if g.n is None else str(g.n), "-", "-", "-",
                          "-")
            continue
        ci = f"{_fmt(cell.ci_low)} to {_fmt(cell.ci_high)}" if cell.ci_low is not None else "-"
        rate = "-" if g.response_rate is None else f"{g.response_rate:.0f}%"
        table.add_row(g.label, str(g.n), _fmt(cell.mean), ci, _fmt(cell.percent_favourable, 1),
                      rate)
    Console().print(table)
    for level, per_scale in report.aggregation.items():
        r = per_scale.get(scale)
        if r is not None:
            print(f"Aggregation check across {level} ({r.n_groups} groups shown): {r.reading}")
    print("All scales: add --json, or -o report.csv.")


def _print_trend(trend: Trend, report: GroupReport) -> None:
    """The overall mean of the report's lead scale in every wave, and each step's change."""
    scale = report.distribution_scales[0] if report.distribution_scales else report.scales[0]
    table = Table(title=f"Trend of {scale} (overall) over {len(trend.waves)} waves")
    for column in ("wave", "n", "mean", "95% CI", "change (95% CI)", "Hedges' g"):
        table.add_column(column, justify="left" if column == "wave" else "right")
    cell = trend.groups[0][1][scale]
    for i, point in enumerate(cell.points):
        step = cell.steps[i - 1] if i else None
        ci = (f"{_fmt(point.ci_low)} to {_fmt(point.ci_high)}" if point.ci_low is not None
              else "-")
        change = "-" if step is None or step.difference is None else (
            f"{step.difference:+.2f}"
            + (f" ({_fmt(step.ci_low)} to {_fmt(step.ci_high)})" if step.ci_low is not None
               else ""))
        g = "-" if step is None or step.hedges_g is None else f"{step.hedges_g:.2f}"
        if not point.shown:
            table.add_row(point.wave, "suppressed", "-", "-", change, g)
            continue
        table.add_row(point.wave, str(point.n), _fmt(point.mean), ci, change, g)
    Console().print(table)

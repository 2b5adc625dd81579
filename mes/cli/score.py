"""``mes score FILE --instrument ID_OR_PATH [-o OUT.csv|OUT.json|-]``.

The CSV rounds as every CSV export does (:mod:`mes.io.numbers`: scores to 3
decimals, percentages to 1, items answered whole); the JSON keeps full precision
(15 significant digits).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

from mes.cli.common import (
    InvalidFileError,
    output_kind,
    read_csv_arg,
    with_line_numbers,
    write_csv_arg,
)
from mes.errors import InvalidResponsesError
from mes.io.numbers import clean_float, score_column_kinds
from mes.loader import load_instrument
from mes.scoring import ScoreTable, score


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "score",
        help="score a CSV of responses",
        description="Score every respondent of a CSV file (header: respondent, item ids, any "
        "attribute columns). Without -o, prints a summary of each scale.",
    )
    parser.add_argument("file", type=Path, metavar="FILE")
    parser.add_argument("--instrument", "-i", required=True, metavar="ID_OR_PATH",
                        help="bundled instrument id (see `mes instruments list`) or a YAML file")
    parser.add_argument("-o", "--output", metavar="OUT",
                        help="write per-respondent scores to OUT.csv or OUT.json ('-': CSV on "
                        "stdout)")
    parser.add_argument("--errors", choices=("raise", "missing"), default="raise",
                        help="invalid answers: fail (default) or score them as missing")
    parser.add_argument("--strict", action="store_true",
                        help="reject columns that look like item ids but are not items of the "
                        "instrument (e.g. 'mes3' or 'mes31' for the MES); other columns are "
                        "attributes and are always allowed")
    parser.set_defaults(handler=_score)


def _score(args: argparse.Namespace) -> int:
    if args.output is not None:
        output_kind(args.output)  # before any work: an .xlsx name is refused at once
    instrument = load_instrument(args.instrument)
    parsed = read_csv_arg(args.file, instrument)
    try:
        table = score(instrument, parsed.frame, errors=args.errors, strict=args.strict)
    except InvalidResponsesError as exc:
        raise InvalidFileError(with_line_numbers(exc, parsed)) from None
    if table.invalid:
        print(
            f"mes score: {len(table.invalid)} invalid answer(s) scored as missing, first at "
            f"line {parsed.line_of(table.invalid[0].row)}, column {table.invalid[0].item!r}",
            file=sys.stderr,
        )
    if args.output is None:
        _print_summary(table, args.file)
    elif output_kind(args.output) == ".json":
        Path(args.output).write_text(json.dumps(_records(table), allow_nan=False) + "\n")
    else:
        write_csv_arg(_frame(table), args.output, score_column_kinds(table.scale_ids))
    return 0


def _frame(table: ScoreTable) -> pd.DataFrame:
    frame = table.to_frame()
    frame.index.name = "respondent"
    return frame.reset_index()


def _records(table: ScoreTable) -> list[dict[str, object]]:
    def clean(x: float) -> float | None:
        return None if math.isnan(x) else clean_float(x)

    records = []
    ids = table.scale_ids
    for row, label in enumerate(table.index):
        records.append({
            "respondent": label.item() if isinstance(label, np.generic) else label,
            "scores": {s: clean(table.score_matrix[row, j]) for j, s in enumerate(ids)},
            "percent": {s: clean(table.percent_matrix[row, j]) for j, s in enumerate(ids)},
            "answered": {s: int(table.answered_matrix[row, j]) for j, s in enumerate(ids)},
        })
    return records


def _print_summary(table: ScoreTable, path: Path) -> None:
    inst = table.instrument
    summary = Table(title=f"{inst.title}: {len(table)} respondents in {path.name}")
    for column in ("scale", "scored", "mean", "sd", "mean %"):
        summary.add_column(column, justify="left" if column == "scale" else "right")
    for j, scale_id in enumerate(table.scale_ids):
        values = table.score_matrix[:, j]
        scored = values[~np.isnan(values)]
        mean = f"{scored.mean():.2f}" if scored.size else "-"
        sd = f"{scored.std(ddof=1):.2f}" if scored.size > 1 else "-"
        pct = table.percent_matrix[:, j]
        mean_pct = f"{np.nanmean(pct):.1f}" if scored.size else "-"
        summary.add_row(inst.scale(scale_id).title or scale_id, str(scored.size), mean, sd,
                        mean_pct)
    Console().print(summary)
    print("Per-respondent scores: add -o scores.csv (or .json).")

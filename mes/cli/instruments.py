"""``mes instruments list|show|validate|schema``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.tree import Tree

from mes.errors import InstrumentError
from mes.instrument import Instrument
from mes.loader import bundled_ids, instrument_schema, load_instrument


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("instruments", help="list, show and validate instruments")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    actions.add_parser("list", help="the bundled instruments").set_defaults(handler=_list)

    show = actions.add_parser("show", help="structure, scale and licence of one instrument")
    show.add_argument("instrument", help="bundled id or path of a YAML/JSON definition")
    show.set_defaults(handler=_show)

    validate = actions.add_parser("validate", help="check definition files against every rule")
    validate.add_argument("files", nargs="+", type=Path, metavar="FILE")
    validate.set_defaults(handler=_validate)

    schema = actions.add_parser("schema", help="print the JSON Schema of a definition")
    schema.set_defaults(handler=_schema)


def _list(args: argparse.Namespace) -> int:
    table = Table(title="Bundled instruments")
    for column in ("id", "version", "title", "items", "scales"):
        table.add_column(column)
    for instrument_id in bundled_ids():
        inst = load_instrument(instrument_id)
        counts = str(len(inst.items)), str(len(inst.scales))
        table.add_row(inst.id, inst.version, inst.title, *counts)
    Console().print(table)
    return 0


def _show(args: argparse.Namespace) -> int:
    inst = load_instrument(args.instrument)
    console = Console()
    console.print(f"[bold]{inst.title}[/bold]  ({inst.id}, version {inst.version})")
    console.print(f"Licence: {inst.licence}")
    rs = inst.response_scale
    labels = ", ".join(f"{k}={v}" for k, v in (rs.labels or {}).items())
    console.print(f"Answers: {rs.min}..{rs.max}" + (f" ({labels})" if labels else ""))
    if rs.codes:
        console.print("Codes: " + ", ".join(f"{k}={v}" for k, v in rs.codes.items()))
    sc = inst.scoring
    console.print(
        f"Scoring: {sc.method} of items; scored when at least {sc.min_answered:g} of a scale's "
        f"items are answered; missing answers: {sc.missing}"
    )
    console.print(_scale_tree(inst))
    return 0


def _scale_tree(inst: Instrument) -> Tree:
    nested = {c for s in inst.scales for c in (s.scales or [])}
    tree = Tree("Scales")

    def add(node: Tree, scale_id: str) -> None:
        scale = inst.scale(scale_id)
        label = f"{scale.id}: {scale.title or ''} ({len(inst.leaf_items(scale_id))} items)"
        branch = node.add(label)
        if scale.items is not None:
            reversed_ = {i.id for i in inst.items if i.reverse}
            branch.add(", ".join(f"{i} (reversed)" if i in reversed_ else i for i in scale.items))
        for child in scale.scales or []:
            add(branch, child)

    for scale in inst.scales:
        if scale.id not in nested:
            add(tree, scale.id)
    return tree


def _validate(args: argparse.Namespace) -> int:
    console = Console(stderr=True)
    failed = 0
    for path in args.files:
        try:
            inst = load_instrument(path)
        except InstrumentError as exc:
            failed += 1
            console.print(str(exc), markup=False, highlight=False)
        else:
            print(f"{path}: ok ({inst.id} version {inst.version}, {len(inst.items)} items)")
    return 1 if failed else 0


def _schema(args: argparse.Namespace) -> int:
    print(json.dumps(instrument_schema(), indent=2, ensure_ascii=False))
    return 0

"""``python -m bench [--quick] [AREA ...]``: run benchmarks, print ratios, write results.json."""

from __future__ import annotations

import argparse
import importlib
import json
import platform
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench.harness import Result

AREAS = ["scoring", "reliability", "groups", "api_ingest", "api_report", "api_load"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes (about 10x faster)")
    parser.add_argument("areas", nargs="*", choices=[*AREAS, []], metavar="AREA",
                        help=f"areas to run (default: all of {', '.join(AREAS)})")
    args = parser.parse_args(argv)
    results: list[Result] = []
    console = Console(width=max(Console().width, 150))
    for area in args.areas or AREAS:
        try:
            module = importlib.import_module(f"bench.{area}")
        except ModuleNotFoundError as exc:
            if exc.name != f"bench.{area}":
                raise
            console.print(f"[yellow]skipped {area}: no bench/{area}.py[/yellow]")
            continue
        with console.status(f"running {area} ..."):
            results.extend(module.run(args.quick))
    table = Table(title="mes benchmarks (ratio = ours / baseline, same process)")
    for column in ("area", "what", "baseline", "ours s", "baseline s", "ratio", "target", "size"):
        table.add_column(column)
    for r in results:
        table.add_row(r.area, r.name, r.baseline, f"{r.seconds:.3f}", f"{r.baseline_seconds:.3f}",
                      f"{r.ratio:.2f}x", r.target, r.extra)
    console.print(table)
    out = Path(__file__).with_name("results.json")
    out.write_text(json.dumps({
        "machine": {"python": sys.version.split()[0], "platform": platform.platform()},
        "quick": args.quick,
        "results": [r.to_dict() for r in results],
    }, indent=2) + "\n")
    console.print(f"written {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

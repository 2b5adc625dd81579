"""The ``mes`` command line.

Each sub-command lives in its own module of this package with a
``register(subparsers)`` function that adds its parser and sets ``handler``.
Other distributions (the service in ``api/``) add sub-commands through the
``mes.commands`` entry-point group, so this package never imports them.

Exit codes: 0 success, 1 invalid data (the message says what and where),
2 usage (bad arguments, missing file).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import entry_points

from mes.cli import instruments, reliability, report, score
from mes.errors import MesError

__all__ = ["EXIT_INVALID", "EXIT_OK", "EXIT_USAGE", "UsageError", "build_parser", "main"]

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2

# Modules of this package that add sub-commands, in the order `mes --help` lists them.
COMMAND_MODULES = [instruments, score, report, reliability]


class UsageError(Exception):
    """Bad arguments or a missing input file: exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    """The full parser: built-in sub-commands plus those of installed plugins."""
    from mes import __version__

    parser = argparse.ArgumentParser(
        prog="mes",
        description="Score the Medical Engagement Scale and other Likert engagement instruments.",
    )
    parser.add_argument("--version", action="version", version=f"mes {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in COMMAND_MODULES:
        module.register(subparsers)
    for entry in entry_points(group="mes.commands"):
        register: Callable[[argparse._SubParsersAction], None] = entry.load()
        register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or EXIT_OK)
    except UsageError as exc:
        print(f"mes {args.command}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except FileNotFoundError as exc:
        print(f"mes {args.command}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except MesError as exc:
        print(f"mes {args.command}: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except KeyboardInterrupt:
        return 130


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())

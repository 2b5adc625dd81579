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
import os
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import entry_points

from mes.cli import instruments, reliability, report, score
from mes.cli.common import UsageError
from mes.errors import MesError

__all__ = ["EXIT_INVALID", "EXIT_OK", "EXIT_USAGE", "UsageError", "build_parser", "main"]

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what `yes | head` reports
SERVICE_EXTRA = "pip install 'medical-engagement-scale[service]'"

# Modules of this package that add sub-commands, in the order `mes --help` lists them.
COMMAND_MODULES = [instruments, score, report, reliability]


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
        try:
            register: Callable[[argparse._SubParsersAction], None] = entry.load()
        except ImportError as exc:  # the library installed without the service
            _unavailable(subparsers, entry.name, exc)
            continue
        register(subparsers)
    return parser


def _unavailable(
    subparsers: argparse._SubParsersAction, name: str, exc: ImportError
) -> None:
    """A sub-command whose code needs packages that are not installed: it says which."""

    def explain(_: argparse.Namespace) -> int:
        raise UsageError(
            f"this command needs the service's packages ({exc.name or exc}); install them "
            f"with: {SERVICE_EXTRA}"
        )

    # Whatever follows is taken, options included, so that the answer is the one above.
    parser = subparsers.add_parser(
        name, help=f"(needs: {SERVICE_EXTRA})", add_help=False, prefix_chars="\x00"
    )
    parser.add_argument("rest", nargs="*")
    parser.set_defaults(handler=explain)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or EXIT_OK)
    except UsageError as exc:
        print(f"mes {args.command}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ModuleNotFoundError as exc:  # a service command in a library-only install
        print(
            f"mes {args.command}: needs the package {exc.name!r}, which is not installed; "
            f"install the service with: {SERVICE_EXTRA}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    except BrokenPipeError:
        # The reader went away (`mes score ... -o - | head`): stop quietly, and keep Python
        # from failing again when it flushes standard output at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except OSError as exc:  # a file that cannot be read or written, named by the message
        where = f": {exc.filename!r}" if exc.filename else ""
        print(f"mes {args.command}: {exc.strerror or exc}{where}", file=sys.stderr)
        return EXIT_USAGE
    except MesError as exc:
        print(f"mes {args.command}: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except KeyboardInterrupt:
        return 130


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())

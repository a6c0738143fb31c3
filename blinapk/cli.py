"""The ``blinapk`` command line.

Each subcommand lives in its own module under :mod:`blinapk.commands` and
exposes ``NAME``, ``HELP``, ``add_arguments(parser)`` and ``run(args) -> int``.
Modules are imported lazily so ``blinapk --help`` stays fast.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import sys
import warnings
from collections.abc import Sequence
from typing import NoReturn

from blinapk._version import __version__
from blinapk.errors import BlinapkError

#: Subcommand modules, in the order ``--help`` lists them.
COMMANDS: tuple[str, ...] = ("demo", "validate", "simulate", "nca", "fit", "diagnose", "endpoints",
                             "er", "report")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """Build the argument parser with every subcommand.

    Parameters
    ----------
    command : str, optional
        Add the arguments of this subcommand only (the others are still
        listed with their help): what the run will parse. Some subcommands
        import their library to list its choices, and ``blinapk nca`` should
        not load the exposure-response layer. Default: every subcommand's.

    Returns
    -------
    argparse.ArgumentParser
        The top-level parser.
    """
    parser = argparse.ArgumentParser(
        prog="blinapk",
        description="Blinatumomab PK/PD toolkit: NCA, Bayesian population PK, exposure-response.",
    )
    parser.add_argument("--version", action="version", version=f"blinapk {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"blinapk.commands.{name}")
        p = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        if command is None or command == name:
            module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def run() -> NoReturn:
    """Console-script entry point (``blinapk``, ``python -m blinapk``): :func:`main`, then exit.

    Every output is written and closed when :func:`main` returns, so the
    objects alive at that point (several hundred thousand from PyMC, PyTensor,
    JAX and ArviZ) are frozen out of the garbage collector first: the
    interpreter's final collections would otherwise walk them all, which costs
    0.6-0.9 s at exit after a population-PK fit. Call :func:`main` instead
    when the process goes on (tests, notebooks).
    """
    code = main()
    gc.freeze()
    sys.exit(code)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name; defaults to ``sys.argv[1:]``.

    Returns
    -------
    int
        Process exit code: 0 on success, 2 on a blinapk error or a file that
        cannot be read or written (one message, no traceback), 141 when the
        reader of the output went away (``blinapk ... | head``), 130 on Ctrl-C.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    # top-level options take no value: the first other word is the subcommand
    word = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(word if word in COMMANDS else None)
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 0
    name = f"blinapk {args.command}"
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning(name)
        # printed by ArviZ on import once a day; not about the user's analysis
        warnings.filterwarnings("ignore", message=r"\s*ArviZ is undergoing a major refactor",
                                category=FutureWarning)
        try:
            code = int(args._run(args) or 0)
            sys.stdout.flush()  # a closed pipe shows here, not in Python's exit flush
            return code
        except BlinapkError as exc:
            print(f"{name}: error: {exc}", file=sys.stderr)
            return 2
        except BrokenPipeError:
            _silence_stdout()
            return 141
        except OSError as exc:  # a folder that cannot be written, a disk that is full ...
            where = f": {exc.filename}" if exc.filename else ""
            print(f"{name}: error: {exc.strerror or exc}{where}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print(f"{name}: interrupted", file=sys.stderr)
            return 130


def _show_warning(name: str):
    """Print warnings as one line naming the command, without a Python source path."""

    def show(message, category, filename, lineno, file=None, line=None):
        print(f"{name}: warning: {message}", file=file or sys.stderr)

    return show


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that Python's exit flush does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # pragma: no cover - no real stdout
        pass


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

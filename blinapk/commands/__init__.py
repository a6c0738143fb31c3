"""Subcommands of the ``blinapk`` command line, one module each, and what they share.

Argument groups and steps used by several subcommands live here, so that
no command imports another.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from blinapk.errors import BlinapkError

#: ``--help`` text of a dataset argument.
DATA_HELP = "NONMEM-style dataset CSV, or a CDISC ADaM ADPC/ADPPK file (see the data format page)"


def add_csv_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--sep``, ``--decimal`` and ``--encoding`` for reading the dataset CSV.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The subcommand parser.
    """
    parser.add_argument("--sep", default=",", metavar="CHAR",
                        help="field separator of the CSV file (default ','; ';' for files with "
                             "decimal commas, 'tab' for tab-separated files)")
    parser.add_argument("--decimal", default=".", choices=(".", ","),
                        help="decimal mark of the numbers (default '.')")
    parser.add_argument("--encoding", default=None, metavar="NAME",
                        help="text encoding of the CSV file (default: UTF-8, or UTF-16 with a "
                             "byte-order mark), e.g. latin-1")


def csv_options(args: argparse.Namespace) -> dict[str, Any]:
    """Keyword arguments of :func:`blinapk.data.read_dataset` from the CSV options.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments (see :func:`add_csv_options`).

    Returns
    -------
    dict
        ``sep``, ``decimal``, ``encoding``.
    """
    sep = {"tab": "\t", "\\t": "\t"}.get(args.sep, args.sep)
    return {"sep": sep, "decimal": args.decimal, "encoding": args.encoding}


def check_out_dir(path: str | Path) -> Path:
    """Make sure ``path`` can be created and written, without creating anything yet.

    Commands call this before their analysis, and create the directory only
    when they write, so that a failing run leaves nothing behind.

    Parameters
    ----------
    path : str or Path
        Output directory.

    Returns
    -------
    Path

    Raises
    ------
    BlinapkError
        ``path`` is a file, or the nearest existing folder is not writable.
    """
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise BlinapkError(f"cannot write into {out}: it is a file, not a folder (choose "
                           "another --out)")
    probe = out
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise BlinapkError(f"cannot create {out}: {probe} is a file, not a folder")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise BlinapkError(f"cannot write into {probe.resolve()}: permission denied (choose "
                           "another --out)")
    return out


def print_notes(dataset: Any, *, indent: str = "") -> None:
    """Print what the reader did that the user should know (``Dataset.notes``).

    Parameters
    ----------
    dataset : Dataset
        The dataset read.
    indent : str
        Prefix of each line.
    """
    for note in dataset.notes:
        print(f"{indent}note: {note}")


def add_diagnostic_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of the model diagnostics (shared by ``fit`` and ``diagnose``).

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The subcommand parser.
    """
    parser.add_argument("--n-sim", type=int, default=1000,
                        help="datasets simulated for NPDE and the VPC (default 1000)")
    parser.add_argument("--vpc-x", default="time", choices=("time", "since_change"),
                        help="VPC x axis: time since first dose (days, default) or time since "
                             "the last rate change (h)")
    parser.add_argument("--stratify", default=None, metavar="COLUMN",
                        help="stratify the VPC by a dataset column (e.g. SEX; a numeric column "
                             "is split at its median) or RATE (infusion rate in force)")


def run_diagnostics(result: Any, dataset: Any, args: argparse.Namespace) -> str:
    """Compute and write the diagnostics of a fit; return the text report.

    Parameters
    ----------
    result : PopPKFit
        The fit.
    dataset : Dataset
        The data it was fitted to.
    args : argparse.Namespace
        Parsed arguments (``out``, ``ci``, ``seed``, ``n_sim``, ``vpc_x``,
        ``stratify``, ``no_figures``).

    Returns
    -------
    str
        :func:`blinapk.report.diagnostics_text` with the files written.
    """
    from blinapk.diagnostics import diagnose
    from blinapk.report import diagnostics_text, write_diagnostics

    diag = diagnose(result, dataset, ci=args.ci, n_sim=args.n_sim, seed=args.seed,
                    vpc_x=args.vpc_x, stratify=args.stratify)
    paths = write_diagnostics(diag, args.out, figures=not args.no_figures)
    return diagnostics_text(diag, paths)

"""Subcommands of the ``blinapk`` command line, one module each.

Argument groups and steps used by several subcommands live here, so that
no command imports another.
"""

from __future__ import annotations

import argparse
from typing import Any

#: ``--help`` text of a dataset argument.
DATA_HELP = "NONMEM-style dataset CSV (see the data format page of the docs)"


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

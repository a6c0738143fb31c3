"""``blinapk diagnose FIT.nc DATA.csv``: model diagnostics of a stored population-PK fit.

Reloads the fit (:func:`blinapk.poppk.load_fit`, which checks that the data
are the ones fitted), computes every diagnostic
(:func:`blinapk.diagnostics.diagnose`) and writes them into ``--out DIR``
(:func:`blinapk.report.write_diagnostics`: ``predictions.csv``,
``npde_tests.csv``, ``vpc.csv``, ``loo.csv``, ``pareto_k.csv``,
``diagnostics.md``, ``gof.png``, ``vpc.png``, ``individual_fits.pdf``,
``prior_posterior.png``).
"""

from __future__ import annotations

import argparse

from blinapk.commands import DATA_HELP, add_diagnostic_arguments, run_diagnostics

NAME = "diagnose"
HELP = ("Model diagnostics of a stored population-PK fit (fit.nc from `blinapk fit`): "
        "predictions, NPDE, VPC with BLQ panel, LOO, individual fits.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``diagnose`` arguments.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The subcommand parser.
    """
    parser.add_argument("fit", metavar="FIT.nc", help="fit written by `blinapk fit` (fit.nc)")
    parser.add_argument("data", metavar="DATA.csv", help=DATA_HELP)
    parser.add_argument("--out", required=True, metavar="DIR", help="output directory")
    parser.add_argument("--ci", type=float, default=0.9,
                        help="interval and band mass (default 0.9)")
    parser.add_argument("--seed", type=int, default=None,
                        help="seed of the simulations (default: the fit's seed)")
    parser.add_argument("--no-figures", action="store_true", help="tables only")
    add_diagnostic_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Reload the fit, compute the diagnostics and write them.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments.

    Returns
    -------
    int
        0 on success.
    """
    from blinapk.data import read_dataset
    from blinapk.poppk import load_fit

    dataset = read_dataset(args.data)
    fit = load_fit(args.fit, dataset)
    print(run_diagnostics(fit, dataset, args))
    return 0

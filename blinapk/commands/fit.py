"""``blinapk fit DATA.csv``: Bayesian population-PK fit with summaries and diagnostics.

Writes into ``--out DIR`` what :func:`blinapk.report.write_fit` writes:
``summary.csv`` and ``summary.md`` (population parameters, shrinkage,
convergence gates, parameterisation, row counts), ``individual.csv``
(per-subject parameters and covariates), ``css_predicted.csv`` (model-predicted
Css per subject at each dose level given), ``shrinkage.csv`` (in %),
``fit.nc`` (the stamped InferenceData; reload with :func:`blinapk.poppk.load_fit`),
``ledger.csv`` and sampler figures (``trace.png``, ``rank.png``, ``pair.png``);
then, unless ``--no-diagnostics``, the model-qualification diagnostics of
:func:`blinapk.report.write_diagnostics` (``predictions.csv``,
``npde_tests.csv``, ``vpc.csv``, ``loo.csv``, ``pareto_k.csv``,
``diagnostics.md``, ``gof.png``, ``vpc.png``, ``individual_fits.pdf``,
``prior_posterior.png``).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from blinapk.commands import (
    DATA_HELP,
    add_csv_options,
    add_diagnostic_arguments,
    check_out_dir,
    csv_options,
    run_diagnostics,
)

NAME = "fit"
HELP = ("Fit a Bayesian population-PK model (PyMC; nutpie NUTS by default, or MAP/Laplace) "
        "and write summaries, individual estimates, the netCDF posterior, the row ledger, "
        "sampler plots and the model diagnostics (predictions, NPDE, VPC, LOO, individual fits).")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``fit`` arguments.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The subcommand parser.
    """
    parser.add_argument("data", metavar="DATA.csv", help=DATA_HELP)
    parser.add_argument("--out", required=True, metavar="DIR", help="output directory")
    parser.add_argument("--model", default="one-cmt",
                        help="structure: one-cmt (default) or two-cmt")
    parser.add_argument("--covariate", action="append", default=[],
                        metavar="P~COV[:FORM][@REF][=FIXED]",
                        help="covariate effect, e.g. CL~BSA:power, CL~WT:power@70 (reference "
                             "70), CL~WT:power@70=0.75 (exponent fixed at 0.75, not estimated) "
                             "(repeatable)")
    parser.add_argument("--bsv", default="CL,V",
                        help="parameters with between-subject variability (default CL,V)")
    parser.add_argument("--correlation", action="store_true",
                        help="correlated random effects (LKJ prior)")
    parser.add_argument("--parameterisation", default="auto",
                        help="auto (default: partially centered per subject), centered, "
                             "noncentered, partial, or P=centered,Q=noncentered")
    parser.add_argument("--residual", default="proportional",
                        choices=("proportional", "proportional_linear", "additive", "combined"),
                        help="proportional (log-normal, default), proportional_linear (NONMEM "
                             "Y=F+F*EPS), additive or combined")
    parser.add_argument("--dvid", default="BLIN",
                        help="analyte to model (DVID value, default BLIN); other analytes' "
                             "rows are listed in the ledger as excluded")
    parser.add_argument("--blq", default="M3", choices=("M3", "M1"),
                        help="M3 censored likelihood (default) or M1 (discard BLQ rows)")
    parser.add_argument("--card", default=None,
                        help="model card for informative priors (e.g. blinatumomab_zhu2020)")
    parser.add_argument("--sampler", default="default",
                        choices=("default", "nutpie", "pymc", "numpyro", "blackjax"))
    parser.add_argument("--draws", type=int, default=1000, help="draws per chain (default 1000)")
    parser.add_argument("--tune", type=int, default=1000, help="warm-up per chain (default 1000)")
    parser.add_argument("--chains", type=int, default=2, help="chains (default 2)")
    parser.add_argument("--seed", type=int, default=None, help="random seed")
    parser.add_argument("--target-accept", type=float, default=None,
                        help="NUTS target acceptance (default 0.8, or 0.99 when fewer than "
                             "20 subjects inform a random effect)")
    parser.add_argument("--precision", default=None, choices=("float32", "float64"),
                        help="NumPyro sampler: log density and gradient in single (faster) or "
                             "double precision (default float32, or float64 when fewer than "
                             "20 subjects inform a random effect); summaries are in double")
    method = parser.add_mutually_exclusive_group()
    method.add_argument("--map", action="store_true", help="posterior mode only (fast)")
    method.add_argument("--laplace", action="store_true",
                        help="Laplace approximation (MAP + Hessian; fast)")
    parser.add_argument("--ci", type=float, default=0.9, help="credible interval (default 0.9)")
    parser.add_argument("--no-figures", action="store_true", help="skip diagnostic figures")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    add_csv_options(parser)
    add_diagnostic_arguments(parser)
    parser.add_argument("--no-diagnostics", action="store_true",
                        help="skip the model diagnostics (predictions, NPDE, VPC, LOO, figures)")


def _parameterisation(text: str) -> Any:
    if "=" not in text:
        return text
    return dict(item.split("=", 1) for item in text.split(",") if item.strip())


def spec_from_args(args: argparse.Namespace) -> Any:
    """Return the :class:`~blinapk.poppk.PopPKSpec` described by parsed ``fit`` arguments.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments (see :func:`add_arguments`).

    Returns
    -------
    PopPKSpec

    Raises
    ------
    ModelSpecError
        A malformed covariate string or any other invalid choice.
    """
    from blinapk.poppk import PopPKSpec, parse_covariate

    return PopPKSpec(
        structure=args.model, covariates=tuple(parse_covariate(c) for c in args.covariate),
        bsv=tuple(p.strip() for p in args.bsv.split(",") if p.strip()),
        correlation=args.correlation, parameterisation=_parameterisation(args.parameterisation),
        residual=args.residual, blq=args.blq, dvid=args.dvid)


def run(args: argparse.Namespace) -> int:
    """Run the fit and write the outputs.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments.

    Returns
    -------
    int
        0 on success (also when convergence gates fail: they warn and are
        reported in ``summary.md``).
    """
    from blinapk.data import read_dataset
    from blinapk.poppk import fit
    from blinapk.report import fit_text, write_fit

    spec = spec_from_args(args)
    check_out_dir(args.out)
    dataset = read_dataset(args.data, **csv_options(args))
    method = "map" if args.map else ("laplace" if args.laplace else "nuts")
    result = fit(dataset, spec, card=args.card, sampler=args.sampler, draws=args.draws,
                 tune=args.tune, chains=args.chains, seed=args.seed,
                 progressbar=not args.quiet, method=method, target_accept=args.target_accept,
                 precision=args.precision)
    summary = result.summary(ci=args.ci)
    paths = write_fit(result, args.out, summary=summary, ci=args.ci, figures=not args.no_figures,
                      dataset=dataset)
    print(fit_text(result, summary, paths))
    if not args.no_diagnostics:
        print(run_diagnostics(result, dataset, args))
    return 0


def main(argv: Sequence[str] | None = None) -> int:  # pragma: no cover - convenience
    """Run ``blinapk fit`` directly (for ``python -m blinapk.commands.fit``)."""
    parser = argparse.ArgumentParser(prog="blinapk fit", description=HELP)
    add_arguments(parser)
    return run(parser.parse_args(argv))

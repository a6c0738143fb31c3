"""``blinapk er DATA.csv --assessments A.csv --endpoint crcrh --out DIR``: exposure-response.

Reads the event table and the clinical tables, takes exposures from a saved
population-PK fit (``--fit fit.nc``), from the observed NCA Css (``--nca``)
or from a population-PK fit made first, fits the E-R model
(:func:`blinapk.er.fit_er`) and writes the files of
:data:`blinapk.report.ER_OUTPUTS`.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

from blinapk.commands import DATA_HELP

NAME = "er"
HELP = ("Exposure-response: remission, MRD, CRS, neurologic events, survival or cytokine peaks "
        "versus exposure from the population-PK posterior (logistic, Emax, Weibull), with the "
        "exposure uncertainty plug-in, propagated or joint.")


def _window(text: str) -> tuple[float, float]:
    try:
        t0, t1 = (float(x) for x in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give two hours, e.g. 0,672") from None
    return t0, t1


def _names(values: list[str]) -> list[str]:
    return [n.strip() for v in values for n in v.split(",") if n.strip()]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``er`` arguments.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The subcommand parser.
    """
    from blinapk.er import ENDPOINTS, METRICS, UNCERTAINTY

    parser.add_argument("data", help=DATA_HELP + " (doses, PK samples, cytokines)")
    parser.add_argument("--subjects", metavar="CSV", help="subjects table (covariates, survival, "
                        "last dose; needed for safety and survival endpoints)")
    parser.add_argument("--assessments", metavar="CSV", help="response assessments (CR/CRh*, "
                        "MRD, RFS)")
    parser.add_argument("--adverse-events", dest="adverse_events", metavar="CSV",
                        help="adverse events (CRS, neurologic events)")
    parser.add_argument("--endpoint", default="crcrh", choices=list(ENDPOINTS),
                        help="endpoint modelled (default crcrh: CR/CRh* within 2 cycles)")
    parser.add_argument("--exposure", default=None, choices=list(METRICS),
                        help="exposure metric (default css; delta_css for cytokine peaks)")
    parser.add_argument("--uncertainty", default="propagated", choices=list(UNCERTAINTY),
                        help="how the exposure uncertainty is carried: propagated (default; "
                             "latent exposure with the PK posterior as prior, calibrated), "
                             "plugin (overconfident), joint (PK + E-R in one model, slower), "
                             "imputation (naive, attenuates the slope; comparison only)")
    parser.add_argument("--model", default=None,
                        help="logistic (binary default), emax, sigmoid_emax (peaks default "
                             "emax), weibull (survival)")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--fit", metavar="FIT.nc", help="population-PK fit of DATA.csv "
                        "(blinapk fit ... writes fit.nc); default: fit one first")
    source.add_argument("--nca", action="store_true",
                        help="plug in the observed NCA Css instead of the PK posterior")
    parser.add_argument("--covariate", action="append", default=[], metavar="COL",
                        help="subjects-table covariate(s), e.g. BLAST,AGEGROUP,ARM (repeatable)")
    parser.add_argument("--pk-covariate", action="append", default=[], metavar="EFFECT",
                        help="covariate of the PK model fitted when --fit is not given, e.g. "
                             "CL~BSA:power (repeatable)")
    parser.add_argument("--imputations", type=int, default=20,
                        help="PK posterior draws imputed (--uncertainty imputation only; "
                             "default 20)")
    parser.add_argument("--window", type=_window, default=None, metavar="T0,T1",
                        help="cavg: hours after the first infusion to average over (default: "
                             "the cycle-1 infusion)")
    parser.add_argument("--landmark", type=float, default=12.0, metavar="MONTHS",
                        help="survival endpoints: landmark of the curves (default 12)")
    parser.add_argument("--draws", type=int, default=1000, help="draws per chain (default 1000)")
    parser.add_argument("--tune", type=int, default=1000, help="warm-up per chain (default 1000)")
    parser.add_argument("--chains", type=int, default=2, help="chains (default 2)")
    parser.add_argument("--seed", type=int, default=None, help="random seed")
    parser.add_argument("--target-accept", type=float, default=0.9,
                        help="NUTS target acceptance (default 0.9)")
    parser.add_argument("--ci", type=float, default=0.9, help="credible interval (default 0.9)")
    parser.add_argument("--out", default="blinapk-er", help="output directory (created)")
    parser.add_argument("--no-figures", action="store_true", help="skip the PNG figure")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    """Run ``blinapk er``.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments (see :func:`add_arguments`).

    Returns
    -------
    int
        Exit code (0; convergence failures warn and are reported in ``summary.md``).
    """
    from blinapk.data import read_clinical, read_dataset
    from blinapk.er import fit_er, get_endpoint_kind, observed_exposure
    from blinapk.poppk import PopPKSpec, load_fit, parse_covariate
    from blinapk.report import er_text, write_er

    tables = {"subjects": args.subjects, "assessments": args.assessments,
              "adverse_events": args.adverse_events}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        dataset = read_dataset(args.data)
        clinical = (read_clinical(**tables, dataset=dataset) if any(tables.values())
                    else None)
        pk_fit = load_fit(args.fit, dataset) if args.fit else None
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    peak = get_endpoint_kind(args.endpoint) == "peak"
    metric = args.exposure or ("delta_css" if peak else "css")
    if args.nca:
        pk = observed_exposure(dataset, metric)
    else:
        pk = pk_fit if pk_fit is not None else dataset
    spec = PopPKSpec(covariates=tuple(parse_covariate(c) for c in _names(args.pk_covariate)))
    result = fit_er(clinical, pk, endpoint=args.endpoint, exposure=metric,
                    uncertainty="plugin" if args.nca else args.uncertainty, model=args.model,
                    dataset=dataset, covariates=_names(args.covariate),
                    n_imputations=args.imputations, pk_spec=spec,
                    pk_options={"draws": args.draws, "tune": args.tune, "chains": args.chains,
                                "seed": args.seed, "progressbar": not args.quiet},
                    window=args.window, landmark_months=args.landmark, draws=args.draws,
                    tune=args.tune, chains=args.chains, seed=args.seed,
                    target_accept=args.target_accept, progressbar=not args.quiet)
    files = write_er(result, args.out, ci=args.ci, figures=not args.no_figures)
    print(er_text(result, result.summary(ci=args.ci)))
    print(f"\nwrote {len(files)} file(s) to {Path(args.out).resolve()}")
    return 0

"""``blinapk nca DATA.csv --out DIR``: steady-state NCA, cytokine peaks, general NCA, files.

The files written are :data:`blinapk.report.NCA_OUTPUTS`. With ``--params``
(and ``--interval``) or ``--intervals FILE``, the general NCA registry
(:func:`blinapk.nca.compute_nca`) runs too, with the parameters and
intervals chosen.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from blinapk.commands import DATA_HELP, add_csv_options, check_out_dir, csv_options, print_notes

NAME = "nca"
HELP = ("Noncompartmental analysis: Css and CL = R0/Css per dose segment, cytokine peaks, and "
        "any parameter of the general NCA registry over the intervals you choose.")


def _interval(text: str) -> tuple[float, float]:
    try:
        start, end = (float(x) for x in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: give START,END in hours, e.g. 0,24 or 672,inf") from None
    if not math.isfinite(start) or not end > start:
        raise argparse.ArgumentTypeError(f"{text!r}: need a finite START and END > START")
    return start, end


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``nca`` arguments.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The subcommand parser.
    """
    from blinapk.nca.blq import BLQ_POLICIES
    from blinapk.nca.general import ROUTES

    parser.add_argument("data", help=DATA_HELP)
    parser.add_argument("--out", default="blinapk-nca", help="output directory (created)")
    parser.add_argument("--min-time", type=float, default=10.0, metavar="H",
                        help="samples count as steady state this many hours after the rate "
                             "started (default 10)")
    parser.add_argument("--blq", default="seed", choices=sorted(BLQ_POLICIES),
                        help="BLQ rule for Css and the general NCA (default: seed assay rule)")
    parser.add_argument("--summary", default="mean", choices=("mean", "median", "geometric"),
                        help="how the samples of a segment are combined (default mean)")
    parser.add_argument("--per", default="segment", choices=("segment", "dose_level"),
                        help="one Css per constant-rate segment, or pooled per dose level")
    parser.add_argument("--dose-unit", default="ug/h", choices=("ug/h", "ug/m2/h"),
                        help="ug/m2/h gives CL in L/h/m2 (needs BSA)")
    parser.add_argument("--by", default="CYCLE,DOSE_LEVEL",
                        help="comma-separated grouping columns of the summary: result columns "
                             "(CYCLE, DOSE_LEVEL) or any column of the data, e.g. SEX (first "
                             "value per subject)")
    parser.add_argument("--params", default="", metavar="P1,P2",
                        help="general NCA parameters, e.g. cmax,tmax,auclast,half_life (names: "
                             "see the general NCA page of the docs); computed per subject over "
                             "each --interval")
    parser.add_argument("--interval", action="append", type=_interval, default=[],
                        metavar="START,END",
                        help="interval of the general NCA in hours (repeatable; END may be "
                             "inf; default 0,inf)")
    parser.add_argument("--intervals", metavar="CSV",
                        help="intervals table instead of --params/--interval: columns start, "
                             "end, parameters (comma-separated), or PKNCA's one boolean column "
                             "per parameter")
    parser.add_argument("--route", default="iv_infusion", choices=ROUTES,
                        help="route of the general NCA (default iv_infusion)")
    parser.add_argument("--auc-method", default="lin-up/log-down",
                        choices=("lin-up/log-down", "linear", "lin-log"),
                        help="trapezoid rule of the general NCA")
    parser.add_argument("--studyid", default="", help="STUDYID of the PP export")
    parser.add_argument("--no-figures", action="store_true", help="skip the PNG figures")
    add_csv_options(parser)


def _intervals(args: argparse.Namespace):
    """Return the general-NCA intervals asked for, or None."""
    import pandas as pd

    from blinapk.errors import ModelSpecError
    from blinapk.nca.intervals import Interval, intervals_from_frame

    if args.intervals:
        if args.params or args.interval:
            raise ModelSpecError("give either --intervals FILE or --params/--interval, not both")
        path = Path(args.intervals)
        if not path.is_file():
            raise ModelSpecError(f"--intervals: no such file: {path}")
        try:
            table = pd.read_csv(path)
        except (ValueError, UnicodeDecodeError) as exc:  # pandas' ParserError is a ValueError
            raise ModelSpecError(f"--intervals: cannot read {path.name} as CSV: {exc}") from None
        return intervals_from_frame(table)
    params = tuple(p.strip() for p in args.params.split(",") if p.strip())
    if not params:
        if args.interval:
            raise ModelSpecError("--interval needs --params (the parameters to compute)")
        return None
    return tuple(Interval(s, e, params) for s, e in (args.interval or [(0.0, math.inf)]))


def run(args: argparse.Namespace) -> int:
    """Run ``blinapk nca``.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments (see :func:`add_arguments`).

    Returns
    -------
    int
        Exit code (0). Every input problem (data, a ``--by`` column that
        exists nowhere, an unknown parameter) raises before anything is written.
    """
    from blinapk.data import read_dataset
    from blinapk.nca import CYTOKINES, compute_css, compute_cytokine_peaks, compute_nca
    from blinapk.report import nca_text, write_nca

    out = check_out_dir(args.out)
    intervals = _intervals(args)
    ds = read_dataset(args.data, **csv_options(args))
    css = compute_css(ds, min_time_after_start=args.min_time, blq=args.blq,
                      summary=args.summary, per=args.per, dose_unit=args.dose_unit)
    by = [b.strip().upper() for b in args.by.split(",") if b.strip()]
    summary = css.summary(by=by, dataset=ds)
    has_cytokines = bool(ds.frame["DVID"].isin(CYTOKINES).any())
    peaks = compute_cytokine_peaks(ds) if has_cytokines else None
    general = None
    if intervals is not None:
        general = compute_nca(ds, intervals, route=args.route, auc_method=args.auc_method,
                              blq=args.blq)
    files = write_nca(css, summary, out, peaks=peaks, dataset=ds, studyid=args.studyid,
                      figures=not args.no_figures, general=general)
    print_notes(ds)
    print(nca_text(css, summary, peaks))
    if general is not None:
        n_est = int(general.to_frame()["value"].notna().sum())
        print(f"general NCA: {len(general.to_frame())} parameter value(s), {n_est} estimated "
              "(nca_params.csv; reasons for the others in its reason column)")
    print(f"\nwrote {len(files)} file(s) to {Path(out).resolve()}")
    return 0

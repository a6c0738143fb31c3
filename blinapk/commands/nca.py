"""``blinapk nca DATA.csv --out DIR``: steady-state NCA, cytokine peaks, tables and figures.

The files written are :data:`blinapk.report.NCA_OUTPUTS`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from blinapk.commands import DATA_HELP

NAME = "nca"
HELP = "Noncompartmental analysis: Css and CL = R0/Css per dose segment, cytokine peaks."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``nca`` arguments.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The subcommand parser.
    """
    from blinapk.nca.blq import BLQ_POLICIES

    parser.add_argument("data", help=DATA_HELP)
    parser.add_argument("--out", default="blinapk-nca", help="output directory (created)")
    parser.add_argument("--min-time", type=float, default=10.0, metavar="H",
                        help="samples count as steady state this many hours after the rate "
                             "started (default 10)")
    parser.add_argument("--blq", default="seed", choices=sorted(BLQ_POLICIES),
                        help="BLQ rule for Css (default: seed assay rule)")
    parser.add_argument("--summary", default="mean", choices=("mean", "median", "geometric"),
                        help="how the samples of a segment are combined (default mean)")
    parser.add_argument("--per", default="segment", choices=("segment", "dose_level"),
                        help="one Css per constant-rate segment, or pooled per dose level")
    parser.add_argument("--dose-unit", default="ug/h", choices=("ug/h", "ug/m2/h"),
                        help="ug/m2/h gives CL in L/h/m2 (needs BSA)")
    parser.add_argument("--by", default="CYCLE,DOSE_LEVEL",
                        help="comma-separated grouping columns of the summary")
    parser.add_argument("--studyid", default="", help="STUDYID of the PP export")
    parser.add_argument("--no-figures", action="store_true", help="skip the PNG figures")


def run(args: argparse.Namespace) -> int:
    """Run ``blinapk nca``.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments (see :func:`add_arguments`).

    Returns
    -------
    int
        Exit code (0).
    """
    from blinapk.data import read_dataset
    from blinapk.nca import CYTOKINES, compute_css, compute_cytokine_peaks
    from blinapk.report import nca_text, write_nca

    ds = read_dataset(args.data)
    css = compute_css(ds, min_time_after_start=args.min_time, blq=args.blq,
                      summary=args.summary, per=args.per, dose_unit=args.dose_unit)
    by = [b.strip().upper() for b in args.by.split(",") if b.strip()]
    summary = css.summary(by=[b for b in by if b in css.table.columns])
    has_cytokines = bool(ds.frame["DVID"].isin(CYTOKINES).any())
    peaks = compute_cytokine_peaks(ds) if has_cytokines else None
    files = write_nca(css, summary, args.out, peaks=peaks, dataset=ds, studyid=args.studyid,
                      figures=not args.no_figures)
    print(nca_text(css, summary, peaks))
    print(f"\nwrote {len(files)} file(s) to {Path(args.out).resolve()}")
    return 0

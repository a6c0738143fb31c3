"""``blinapk endpoints --subjects S.csv --assessments A.csv --out DIR``: clinical endpoints.

Reads the clinical tables, computes every endpoint
(:func:`blinapk.endpoints.compute_endpoints`) and writes the tables and
figures of :data:`blinapk.report.ENDPOINT_OUTPUTS`.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

NAME = "endpoints"
HELP = ("Clinical endpoints: response (CR/CRh*, MRD), OS/RFS/TTR/DFS with Kaplan-Meier and "
        "log-rank, adverse-event incidence, alloHSCT outcomes.")


def _landmarks(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: give months separated by commas, e.g. 12,24,36") from None
    if any(not v > 0 for v in values):
        raise argparse.ArgumentTypeError(f"{text!r}: landmarks must be positive months")
    return values


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``endpoints`` arguments.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The subcommand parser.
    """
    parser.add_argument("--subjects", required=True, metavar="CSV",
                        help="subjects table: one row per subject (see the clinical-data page "
                             "of the docs)")
    parser.add_argument("--assessments", required=True, metavar="CSV",
                        help="response assessments: one row per bone-marrow assessment")
    parser.add_argument("--adverse-events", dest="adverse_events", metavar="CSV",
                        help="adverse events: one row per event (optional)")
    parser.add_argument("--data", metavar="DATA.csv",
                        help="the study's event table (NONMEM-style CSV): adverse events are "
                             "then also counted per cycle and dosing episode (start, step-up, "
                             "restart) in ae_episodes.csv")
    parser.add_argument("--by", default="",
                        help="comma-separated subjects-table column(s) to group by, e.g. ARM "
                             "or a dose-level or exposure-group column (default: one group)")
    parser.add_argument("--landmarks", type=_landmarks, default=(12.0, 24.0, 36.0),
                        metavar="MONTHS", help="landmark times of the survival rates, months "
                                               "(default 12,24,36)")
    parser.add_argument("--censor-at-hsct", action="store_true",
                        help="censor every time-to-event endpoint at alloHSCT")
    parser.add_argument("--out", default="blinapk-endpoints", help="output directory (created)")
    parser.add_argument("--no-figures", action="store_true", help="skip the PNG figures")


def run(args: argparse.Namespace) -> int:
    """Run ``blinapk endpoints``.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments (see :func:`add_arguments`).

    Returns
    -------
    int
        Exit code (0). Invalid tables or an unknown ``--by`` column raise
        :class:`~blinapk.errors.DataValidationError`, which the CLI reports
        with exit code 2.
    """
    from blinapk.data import read_clinical, read_dataset
    from blinapk.endpoints import compute_endpoints
    from blinapk.report import endpoints_text, write_endpoints

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clinical = read_clinical(args.subjects, args.assessments, args.adverse_events)
        dataset = read_dataset(args.data) if args.data else None
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    by = [b.strip() for b in args.by.split(",") if b.strip()]
    results = compute_endpoints(clinical, by=by, landmarks_months=args.landmarks,
                                censor_at_hsct=args.censor_at_hsct, dataset=dataset)
    files = write_endpoints(results, args.out, figures=not args.no_figures)
    print(endpoints_text(results))
    print(f"\nwrote {len(files)} file(s) to {Path(args.out).resolve()}")
    return 0

"""``blinapk report``: one self-contained HTML report of a results directory."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "report"
HELP = ("Write one self-contained HTML report (figures embedded) of a results directory: data "
        "and row accounting, NCA, population PK, model qualification, endpoints, "
        "exposure-response, simulated regimens.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``report`` arguments.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The subcommand parser.
    """
    parser.add_argument("results", metavar="RESULTS_DIR",
                        help="directory written by `blinapk demo --out` or holding the --out "
                             "directories of nca, fit, endpoints, er and simulate")
    parser.add_argument("--out", default=None, metavar="REPORT.html",
                        help="HTML file to write (default RESULTS_DIR/report.html)")
    parser.add_argument("--title", default="blinapk report", help="title of the page")


def run(args: argparse.Namespace) -> int:
    """Write the report and print its path.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments.

    Returns
    -------
    int
        0 on success.
    """
    from blinapk.report.html import build_sections, write_html_report

    path = write_html_report(args.results, args.out, title=args.title)
    missing = [s.title for s in build_sections(Path(args.results)) if not s.present]
    if missing:
        print("sections without results: " + "; ".join(missing))
    print(f"report: {path.resolve()}")
    return 0

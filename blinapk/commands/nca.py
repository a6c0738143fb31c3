"""``blinapk nca DATA.csv --out DIR``: steady-state NCA, cytokine peaks, tables and figures."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "nca"
HELP = "Noncompartmental analysis: Css and CL = R0/Css per dose segment, cytokine peaks."

#: Files written by :func:`run_nca` (figures only with ``figures=True``).
OUTPUTS = ("css.csv", "summary.csv", "ledger.csv", "cytokine_peaks.csv", "cytokine_summary.csv",
           "cytokine_ledger.csv", "pp.csv", "css_by_dose.png", "profiles.png",
           "cytokines.png", "cytokine_peaks.png")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``nca`` arguments.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The subcommand parser.
    """
    from blinapk.nca.blq import BLQ_POLICIES

    parser.add_argument("data", help="dataset CSV file (shared/DATA_FORMAT.md)")
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


def run_nca(dataset, out: str | Path, *, min_time: float = 10.0, blq: str = "seed",
            summary: str = "mean", per: str = "segment", dose_unit: str = "ug/h",
            by=("CYCLE", "DOSE_LEVEL"), studyid: str = "", figures: bool = True) -> dict:
    """Run the NCA on a dataset and write every table and figure to ``out``.

    Parameters
    ----------
    dataset : Dataset
        Data (:func:`blinapk.data.read_dataset`).
    out : str or Path
        Output directory (created).
    min_time, blq, summary, per, dose_unit
        Passed to :func:`blinapk.nca.compute_css`.
    by : sequence of str
        Grouping of the Css/CL summary.
    studyid : str
        STUDYID of the PP export.
    figures : bool
        Write the PNG figures.

    Returns
    -------
    dict
        ``css`` (CssResult), ``summary`` (Summary), ``peaks`` (CytokinePeaks
        or None) and ``files`` (list of written paths).
    """
    import pandas as pd

    from blinapk.nca import compute_css, compute_cytokine_peaks, to_pp
    from blinapk.nca.cytokines import CYTOKINES

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    files = []

    def write(frame, name):
        path = out / name
        frame.to_csv(path, index=False)
        files.append(path)

    css = compute_css(dataset, min_time_after_start=min_time, blq=blq, summary=summary, per=per,
                      dose_unit=dose_unit)
    table = css.to_frame()
    by = [b for b in by if b in table.columns]
    summ = css.summary(by=by)
    write(table, "css.csv")
    write(summ.wide(), "summary.csv")
    write(css.ledger.to_frame(), "ledger.csv")
    pp_parts = [to_pp(css, studyid=studyid)]
    has_cyto = bool(dataset.frame["DVID"].isin(CYTOKINES).any())
    peaks = None
    if has_cyto:
        peaks = compute_cytokine_peaks(dataset)
        write(peaks.to_frame(), "cytokine_peaks.csv")
        write(peaks.summary().wide(), "cytokine_summary.csv")
        write(peaks.ledger.to_frame(), "cytokine_ledger.csv")
        pp_parts.append(to_pp(peaks, studyid=studyid))
    write(pd.concat(pp_parts, ignore_index=True), "pp.csv")
    if figures:
        files += _figures(dataset, css, peaks, out)
    return {"css": css, "summary": summ, "peaks": peaks, "files": files}


def _figures(dataset, css, peaks, out: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")  # files only; works without a display
    import matplotlib.pyplot as plt

    from blinapk.plotting import plot_css_by_dose, plot_cytokines, plot_profiles

    written = []

    def save(fig, name):
        path = out / name
        fig.savefig(path, dpi=110, bbox_inches="tight")
        plt.close(fig)
        written.append(path)

    save(plot_css_by_dose(css).figure, "css_by_dose.png")
    save(plot_profiles(dataset), "profiles.png")
    if peaks is not None and len(peaks):
        save(plot_cytokines(dataset, peaks), "cytokines.png")
        save(plot_cytokines(peaks), "cytokine_peaks.png")
    return written


def print_report(result: dict, *, max_rows: int = 12) -> None:
    """Print the Css/CL summary and the ledger counts (short).

    Parameters
    ----------
    result : dict
        Output of :func:`run_nca`.
    max_rows : int
        Rows of the summary to show.
    """
    import pandas as pd

    css = result["css"]
    wide = result["summary"].wide()
    cols = [*result["summary"].by, "PARAM", "UNIT", "N", "MEAN", "CV_PCT", "GMEAN", "GCV_PCT"]
    with pd.option_context("display.width", 120, "display.max_columns", 20,
                           "display.float_format", "{:.4g}".format):
        print(wide[cols].head(max_rows).to_string(index=False))
        if len(wide) > max_rows:
            print(f"... {len(wide) - max_rows} more row(s) in summary.csv")
    n_seg = len(css)
    n_ok = int(css.to_frame()["CSS"].notna().sum())
    counts = css.ledger.counts(by="status").set_index("STATUS")["N"]
    print(f"\nsegments: {n_seg} ({n_ok} with Css); BLIN samples: {int(counts.sum())} "
          f"(used {counts['used']}, modified {counts['modified']}, "
          f"excluded {counts['excluded']}; reasons in ledger.csv)")
    if result["peaks"] is not None:
        print(f"cytokine events: {len(result['peaks'])} rows in cytokine_peaks.csv")


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

    ds = read_dataset(args.data)
    by = tuple(b.strip().upper() for b in args.by.split(",") if b.strip())
    result = run_nca(ds, args.out, min_time=args.min_time, blq=args.blq, summary=args.summary,
                     per=args.per, dose_unit=args.dose_unit, by=by, studyid=args.studyid,
                     figures=not args.no_figures)
    print_report(result)
    print(f"\nwrote {len(result['files'])} file(s) to {Path(args.out).resolve()}")
    return 0

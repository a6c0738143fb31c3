"""NCA results to files: the tables, the CDISC PP export, figures and a short text report.

:func:`write_nca` writes what ``blinapk nca`` and ``blinapk demo`` leave in
their output directory (:data:`NCA_OUTPUTS`); :func:`nca_text` is the short
report they print. Tables whose columns have units carry a units row under
the header (:func:`blinapk.report.read_csv` reads them back); the others have
a unit column (``UNIT``, ``unit``, ``PPORRESU``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from blinapk.report.tables import write_csv

__all__ = ["NCA_OUTPUTS", "nca_text", "write_nca", "write_nca_figures"]

#: Files written by :func:`write_nca`, in order (the cytokine files only with
#: cytokine peaks, the general-NCA files only with ``general``, the figures
#: only with ``figures=True``).
NCA_OUTPUTS = ("css_observed.csv", "summary.csv", "ledger.csv", "cytokine_peaks.csv",
               "cytokine_summary.csv", "cytokine_ledger.csv", "nca_params.csv",
               "nca_params_summary.csv", "pp.csv", "pp_codes.csv", "css_by_dose.png",
               "profiles.png", "profiles.pdf",
               "cytokines.png", "cytokine_peaks.png")
_TIME_UNITS = {"TIME": "h"}


def _general_summary(general: Any) -> Any:
    """Statistics of each general-NCA parameter by interval."""
    from blinapk.nca import summarize

    long = general.to_frame()
    wide = general.wide()
    params = list(dict.fromkeys(long["parameter"]))
    units = dict(zip(long["parameter"], long["unit"], strict=True))
    return summarize(wide, params, by=["start", "end"], units=units)


def write_nca(css: Any, summary: Any, out_dir: str | Path, *, peaks: Any = None,
              dataset: Any = None, studyid: str = "", figures: bool = True,
              general: Any = None) -> list[Path]:
    """Write the tables (CSV) and figures (PNG) of a steady-state NCA.

    ``css_observed.csv`` (observed Css and CL per segment, with a units
    row), ``summary.csv`` (the wide ``summary``), ``ledger.csv`` (fate of
    every BLIN sample, and of the comment records the reader skipped), with
    ``peaks`` ``cytokine_peaks.csv``, ``cytokine_summary.csv`` (by cytokine
    and event kind) and ``cytokine_ledger.csv``, with ``general``
    ``nca_params.csv`` (long: parameter, interval, value, unit, reason) and
    ``nca_params_summary.csv``, then ``pp.csv`` (the PK parameters in the
    SDTM PP layout; cytokines are biomarkers and stay out of it) with
    ``pp_codes.csv`` (each test code, CDISC controlled terminology or
    sponsor-defined) and the figures of :func:`write_nca_figures`.

    Parameters
    ----------
    css : CssResult
        :func:`blinapk.nca.compute_css` result.
    summary : Summary
        Its summary (``css.summary(by=...)``), written as computed.
    out_dir : str or Path
        Output directory (created).
    peaks : CytokinePeaks, optional
        :func:`blinapk.nca.compute_cytokine_peaks` result; None when the data
        have no cytokines.
    dataset : Dataset, optional
        The data analysed; needed for the figures (its skipped comment
        records join the ledger).
    studyid : str
        ``STUDYID`` of the PP export.
    figures : bool, default True
        Write the figures.
    general : NCAResult, optional
        :func:`blinapk.nca.compute_nca` result (parameters and intervals
        chosen by the user).

    Returns
    -------
    list of Path
        The files written, in the order of :data:`NCA_OUTPUTS`.

    Raises
    ------
    ValueError
        ``figures=True`` without ``dataset``.
    """
    from blinapk.data import RowLedger
    from blinapk.nca.export import pp_test_codes, to_pp

    if figures and dataset is None:
        raise ValueError("write_nca: the figures need the dataset (or pass figures=False)")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ledger = css.ledger
    if dataset is not None and len(dataset.skipped):
        ledger = RowLedger.concat([ledger, dataset.skipped])
    # DOSE_LEVEL is a label carrying its own unit ("28 ug/day", "15 ug/m2/day")
    css_units = {k: v for k, v in css.units.items() if k != "DOSE_LEVEL"}
    files = [write_csv(css.to_frame(), out / "css_observed.csv", units=css_units),
             write_csv(summary.wide(), out / "summary.csv"),
             write_csv(ledger.to_frame(), out / "ledger.csv", units=_TIME_UNITS)]
    pp_parts = [to_pp(css, studyid=studyid)]
    if peaks is not None:
        files += [write_csv(peaks.to_frame(), out / "cytokine_peaks.csv", units=peaks.units),
                  write_csv(peaks.summary().wide(), out / "cytokine_summary.csv"),
                  write_csv(peaks.ledger.to_frame(), out / "cytokine_ledger.csv",
                            units=_TIME_UNITS)]
    if general is not None:
        files += [write_csv(general.to_frame(), out / "nca_params.csv"),
                  write_csv(_general_summary(general).wide(), out / "nca_params_summary.csv")]
        pp_parts.append(to_pp(general, studyid=studyid))
    pp = pd.concat(pp_parts, keys=range(len(pp_parts)), names=["_PART", None]).reset_index(0)
    # group and sequence numbers stay unique across the parts of the table
    pp["PPGRPID"] = pp.groupby(["_PART", "PPGRPID"], sort=False).ngroup().to_numpy() + 1
    pp = pp.drop(columns="_PART").reset_index(drop=True)
    pp["PPSEQ"] = pp.groupby("USUBJID", sort=False).cumcount() + 1
    files += [write_csv(pp, out / "pp.csv"), write_csv(pp_test_codes(pp), out / "pp_codes.csv")]
    if figures:
        files += write_nca_figures(dataset, css, out, peaks=peaks)
    return files


def write_nca_figures(dataset: Any, css: Any, out_dir: str | Path, *, peaks: Any = None
                      ) -> list[Path]:
    """Write the NCA figures (PNG, 110 dpi).

    ``css_by_dose.png`` (Css per dose level), ``profiles.png`` (every
    subject's concentration-time profile; overlaid when there are many),
    ``profiles.pdf`` (one panel per subject with the infusion rate, paged)
    and, with cytokine peaks,
    ``cytokines.png`` (profiles) and ``cytokine_peaks.png`` (peaks).

    Parameters
    ----------
    dataset : Dataset
        The data analysed.
    css : CssResult
        :func:`blinapk.nca.compute_css` result.
    out_dir : str or Path
        Existing output directory.
    peaks : CytokinePeaks, optional
        Cytokine peaks (no cytokine figures when None or empty).

    Returns
    -------
    list of Path
        The files written.
    """
    import matplotlib

    matplotlib.use("Agg")  # files only; works without a display
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    from blinapk.plotting import (
        plot_css_by_dose,
        plot_cytokines,
        plot_profile_pages,
        plot_profiles,
    )

    out = Path(out_dir)
    figures = [("css_by_dose.png", lambda: plot_css_by_dose(css).figure),
               ("profiles.png", lambda: plot_profiles(dataset)),
               ("profiles.pdf", lambda: plot_profile_pages(dataset))]
    if peaks is not None and len(peaks):
        figures += [("cytokines.png", lambda: plot_cytokines(dataset, peaks)),
                    ("cytokine_peaks.png", lambda: plot_cytokines(peaks))]
    written = []
    for name, make in figures:
        made = make()
        if isinstance(made, list):  # pages of one multi-page PDF
            with PdfPages(out / name) as pdf:
                for page in made:
                    pdf.savefig(page)
                    plt.close(page)
        else:
            made.savefig(out / name, dpi=110, bbox_inches="tight")
            plt.close(made)
        written.append(out / name)
    return written


def nca_text(css: Any, summary: Any, peaks: Any = None, *, max_rows: int = 12) -> str:
    """Short text report: the Css/CL summary table and the sample counts.

    Parameters
    ----------
    css : CssResult
        :func:`blinapk.nca.compute_css` result.
    summary : Summary
        Its summary.
    peaks : CytokinePeaks, optional
        Cytokine peaks (one line on their count).
    max_rows : int, default 12
        Rows of the summary shown; the rest are counted.

    Returns
    -------
    str
        Lines of text (no trailing newline), naming the files of
        :func:`write_nca` that hold the details.
    """
    wide = summary.wide()
    cols = [*summary.by, "PARAM", "UNIT", "N", "N_SUBJECTS", "MEAN", "CV_PCT", "GMEAN",
            "GCV_PCT"]
    with pd.option_context("display.width", 120, "display.max_columns", 20,
                           "display.float_format", "{:.4g}".format):
        lines = [wide[cols].head(max_rows).to_string(index=False)]
    if len(wide) > max_rows:
        lines.append(f"... {len(wide) - max_rows} more row(s) in summary.csv")
    n_ok = int(css.to_frame()["CSS"].notna().sum())
    counts = css.ledger.counts(by="status").set_index("STATUS")["N"]
    n_subj = int(css.to_frame()["ID"].nunique())
    lines += ["", "N counts segments, N_SUBJECTS subjects (a subject with an interruption "
              "has two segments at one dose level)",
              f"segments: {len(css)} ({n_ok} with Css) in {n_subj} subject(s); BLIN samples: "
              f"{int(counts.sum())} (used {counts['used']}, modified {counts['modified']}, "
              f"excluded {counts['excluded']}; reasons in ledger.csv)"]
    if peaks is not None:
        lines.append(f"cytokine events: {len(peaks)} rows in cytokine_peaks.csv")
    return "\n".join(lines)

"""Report sections of the data, the NCA, the population-PK fit and its qualification.

Each function takes the results directory and returns a
:class:`~blinapk.report.html.blocks.Section`: the results found, or what is
missing and the command that makes it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from blinapk.report.diagnostics import DIAGNOSTICS_OUTPUTS
from blinapk.report.endpoints import ENDPOINT_OUTPUTS
from blinapk.report.html.blocks import Section, Text, figure, find_dirs, output
from blinapk.report.html.format import html_table, read_table
from blinapk.report.html.markdown import markdown_part, markdown_table
from blinapk.report.nca import NCA_OUTPUTS
from blinapk.report.poppk import FIT_OUTPUTS

__all__ = ["data_section", "missing", "nca_section", "poppk_section", "qualification_section"]

#: Marker file of each kind of results directory.
NCA_MARKER = output(NCA_OUTPUTS, "css_observed.csv")
FIT_MARKER = output(FIT_OUTPUTS, "fit.nc")
DIAGNOSTICS_MARKER = output(DIAGNOSTICS_OUTPUTS, "predictions.csv")
ENDPOINTS_MARKER = output(ENDPOINT_OUTPUTS, "response.csv")


def missing(id_: str, title: str, what: str, command: str) -> Section:
    """Make the section of absent results: say so and name the command that makes them.

    Parameters
    ----------
    id_, title : str
        Anchor and heading.
    what : str
        What is missing (e.g. ``"exposure-response results"``).
    command : str
        The command to run.

    Returns
    -------
    Section
    """
    return Section(id_, title, (Text(f"No {what} in this results directory: run `{command}`.",
                                     kind="missing"),), present=False)


def _ledger_counts(path: Path) -> pd.DataFrame:
    """Rows by status and reason, with the subjects they come from."""
    ledger = read_table(path)
    ledger["REASON"] = ledger["REASON"].fillna("")
    ids = "ID" if "ID" in ledger.columns else ledger.columns[0]
    counts = (ledger.groupby(["STATUS", "REASON"], dropna=False)
              .agg(N_ROWS=(ids, "size"), N_SUBJECTS=(ids, "nunique")).reset_index())
    return counts.sort_values(["STATUS", "N_ROWS"], ascending=[False, False])


def data_section(results: Path, manifest: dict) -> Section:
    """Report the data analysed and the fate of every row (the ledgers of each analysis).

    Parameters
    ----------
    results : Path
        Results directory.
    manifest : dict
        ``run.json`` (may be empty).

    Returns
    -------
    Section
    """
    ledgers = [(d / output(NCA_OUTPUTS, "ledger.csv"), "NCA: blinatumomab samples")
               for d in find_dirs(results, NCA_MARKER)]
    ledgers += [(d / output(NCA_OUTPUTS, "cytokine_ledger.csv"), "NCA: cytokine samples")
                for d in find_dirs(results, NCA_MARKER)]
    ledgers += [(d / output(FIT_OUTPUTS, "ledger.csv"), "population PK: rows of the fit")
                for d in find_dirs(results, FIT_MARKER)]
    ledgers += [(d / output(ENDPOINT_OUTPUTS, "ledger.csv"), "endpoints: clinical records")
                for d in find_dirs(results, ENDPOINTS_MARKER)]
    ledgers = [(p, label) for p, label in ledgers if p.is_file()]
    if not ledgers:
        return missing("data", "Data and row accounting", "row ledgers",
                       "blinapk nca DATA.csv --out DIR/nca")
    blocks = [Text(f"Data file: {manifest.get('data') or 'not recorded'}. Every row an "
                   "analysis used, modified or left out is counted below with its reason "
                   "(the per-row lists are in each ledger.csv).")]
    for path, label in ledgers:
        blocks.append(html_table(_ledger_counts(path), f"{label} ({path.relative_to(results)})"))
    return Section("data", "Data and row accounting", tuple(blocks))


def nca_section(results: Path) -> Section:
    """Css and CL by cycle and dose level, cytokine peaks, figures.

    Parameters
    ----------
    results : Path
        Results directory.

    Returns
    -------
    Section
    """
    dirs = find_dirs(results, NCA_MARKER)
    if not dirs:
        return missing("nca", "Noncompartmental analysis", "NCA results",
                       "blinapk nca DATA.csv --out DIR/nca")
    cols = ["CYCLE", "DOSE_LEVEL", "DVID", "KIND", "PARAM", "UNIT", "N", "N_SUBJECTS", "MEAN",
            "CV_PCT", "GMEAN", "GCV_PCT", "MEDIAN", "MIN", "MAX"]
    blocks = []
    for d in dirs:
        blocks.append(html_table(read_table(d / output(NCA_OUTPUTS, "summary.csv")),
                                 "Css and CL = R0/Css by cycle and dose level (N: segments; "
                                 "CV_PCT, GCV_PCT in %)", columns=cols))
        cyto = d / output(NCA_OUTPUTS, "cytokine_summary.csv")
        if cyto.is_file():
            blocks.append(html_table(read_table(cyto), "Cytokine peaks by cytokine and event "
                                     "(PEAK in pg/mL, FOLD over baseline)", columns=cols))
        for name, caption in (("css_by_dose.png", "Css per dose level"),
                              ("profiles.png", "Concentration-time profiles"),
                              ("cytokine_peaks.png", "Cytokine peaks")):
            fig = figure(d / output(NCA_OUTPUTS, name), caption)
            if fig is not None:
                blocks.append(fig)
    return Section("nca", "Noncompartmental analysis", tuple(blocks))


def poppk_section(results: Path) -> Section:
    """Report the population parameters, convergence gates and sampler figures.

    Parameters
    ----------
    results : Path
        Results directory.

    Returns
    -------
    Section
    """
    dirs = find_dirs(results, FIT_MARKER)
    if not dirs:
        return missing("poppk", "Population PK", "population-PK fit",
                       "blinapk fit DATA.csv --out DIR/fit")
    blocks = []
    for d in dirs:
        md = d / output(FIT_OUTPUTS, "summary.md")
        text = md.read_text(encoding="utf-8") if md.is_file() else ""
        title = next((ln.lstrip("# ") for ln in text.splitlines() if ln.startswith("# ")), "")
        priors = next((ln for ln in text.splitlines() if ln.startswith("Priors:")), "")
        ci = re.search(r"\(([\d.]+) % credible intervals\)", text)
        if title or priors:
            blocks.append(Text(". ".join(x for x in (title, priors) if x)))
        blocks.append(html_table(
            read_table(d / output(FIT_OUTPUTS, "summary.csv")),
            f"Population parameters: posterior median and {ci.group(1) if ci else '90'} % "
            "credible interval (LOWER, UPPER)",
            columns=["PARAMETER", "LABEL", "UNIT", "MEDIAN", "LOWER", "UPPER", "ESS_BULK",
                     "R_HAT"]))
        gates = markdown_table(markdown_part(md, "Convergence gates"))
        if gates is not None:
            blocks.append(html_table(gates, "Convergence gates of the sampler",
                                     columns=["GATE", "VALUE", "THRESHOLD", "PASSED"]))
        timings = markdown_part(md, "Timings")
        if timings:
            blocks.append(Text(f"Timings (s): {timings}"))
        for name, caption in (("trace.png", "Trace plots"), ("rank.png", "Rank plots")):
            fig = figure(d / output(FIT_OUTPUTS, name), caption)
            if fig is not None:
                blocks.append(fig)
    return Section("poppk", "Population PK: posterior summary", tuple(blocks))


def qualification_section(results: Path) -> Section:
    """Goodness of fit, VPC, NPDE tests, shrinkage and PSIS-LOO.

    Parameters
    ----------
    results : Path
        Results directory.

    Returns
    -------
    Section
    """
    dirs = find_dirs(results, DIAGNOSTICS_MARKER)
    if not dirs:
        return missing("qualification", "Model qualification", "model diagnostics",
                       "blinapk diagnose FIT.nc DATA.csv --out DIR/fit")
    blocks = []
    for d in dirs:
        md = d / output(DIAGNOSTICS_OUTPUTS, "diagnostics.md")
        blocks.append(html_table(read_table(d / output(DIAGNOSTICS_OUTPUTS, "npde_tests.csv")),
                                 "NPDE tests (expected: mean 0, variance 1, normal)"))
        shrink = d / output(FIT_OUTPUTS, "shrinkage.csv")
        if shrink.is_file():
            blocks.append(html_table(read_table(shrink), "Eta shrinkage (flag above 30 %)"))
        for name, caption in (("loo.csv", "PSIS-LOO"),
                              ("pareto_k.csv", "Observations by Pareto k")):
            path = d / output(DIAGNOSTICS_OUTPUTS, name)
            if path.is_file():
                blocks.append(html_table(read_table(path), caption))
        vpc = markdown_part(md, "VPC")
        if vpc:
            blocks.append(Text(vpc))
        for name, caption in (("gof.png", "Goodness of fit and NPDE"),
                              ("vpc.png", "Visual predictive check"),
                              ("prior_posterior.png", "Prior vs posterior")):
            fig = figure(d / output(DIAGNOSTICS_OUTPUTS, name), caption)
            if fig is not None:
                blocks.append(fig)
        notes = markdown_part(md, "Notes")
        if notes:
            blocks.append(Text(notes))
        if (d / output(DIAGNOSTICS_OUTPUTS, "individual_fits.pdf")).is_file():
            blocks.append(Text("Individual fits of every subject: individual_fits.pdf."))
    return Section("qualification", "Model qualification", tuple(blocks))

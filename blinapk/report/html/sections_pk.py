"""Report sections of the data, the NCA, the population-PK fit and its qualification.

Each section is a :class:`~blinapk.report.html.blocks.SectionSpec`: the
file that marks its results and how to draw one result directory.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from blinapk.report.diagnostics import DIAGNOSTICS_OUTPUTS
from blinapk.report.endpoints import ENDPOINT_OUTPUTS
from blinapk.report.html.blocks import (
    Section,
    SectionSpec,
    Text,
    add_figures,
    add_tables,
    find_dirs,
    missing,
    output,
)
from blinapk.report.html.format import html_table, read_table
from blinapk.report.html.markdown import markdown_part, markdown_table
from blinapk.report.nca import NCA_OUTPUTS
from blinapk.report.poppk import FIT_OUTPUTS

__all__ = ["ENDPOINTS_MARKER", "NCA", "POPPK", "POSTERIOR_COLUMNS", "QUALIFICATION", "data_section"]

_NCA_MARKER = output(NCA_OUTPUTS, "css_observed.csv")
_FIT_MARKER = output(FIT_OUTPUTS, "fit.nc")
ENDPOINTS_MARKER = output(ENDPOINT_OUTPUTS, "response.csv")
_STATS = ["CYCLE", "DOSE_LEVEL", "DVID", "KIND", "PARAM", "UNIT", "N", "N_SUBJECTS", "MEAN",
          "CV_PCT", "GMEAN", "GCV_PCT", "MEDIAN", "MIN", "MAX"]
POSTERIOR_COLUMNS = ["PARAMETER", "LABEL", "UNIT", "MEDIAN", "LOWER", "UPPER", "ESS_BULK", "R_HAT"]


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
    found = [(_NCA_MARKER, NCA_OUTPUTS, "ledger.csv", "NCA: blinatumomab samples"),
             (_NCA_MARKER, NCA_OUTPUTS, "cytokine_ledger.csv", "NCA: cytokine samples"),
             (_FIT_MARKER, FIT_OUTPUTS, "ledger.csv", "population PK: rows of the fit"),
             (ENDPOINTS_MARKER, ENDPOINT_OUTPUTS, "ledger.csv", "endpoints: clinical records")]
    ledgers = [(d / output(outputs, name), label) for marker, outputs, name, label in found
               for d in find_dirs(results, marker)]
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


def _nca(d: Path) -> list:
    blocks: list = []
    add_tables(d, NCA_OUTPUTS, [
        ("summary.csv", "Css and CL = R0/Css by cycle and dose level (N: segments; CV_PCT, "
         "GCV_PCT in %)", _STATS),
        ("cytokine_summary.csv", "Cytokine peaks by cytokine and event (FOLD: over baseline)",
         _STATS)], blocks)
    add_figures(d, NCA_OUTPUTS, [("css_by_dose.png", "Css per dose level"),
                                 ("profiles.png", "Concentration-time profiles"),
                                 ("cytokine_peaks.png", "Cytokine peaks")], blocks)
    return blocks


def _poppk(d: Path) -> list:
    md = d / output(FIT_OUTPUTS, "summary.md")
    text = md.read_text(encoding="utf-8") if md.is_file() else ""
    title = next((ln.lstrip("# ") for ln in text.splitlines() if ln.startswith("# ")), "")
    priors = next((ln for ln in text.splitlines() if ln.startswith("Priors:")), "")
    ci = re.search(r"\(([\d.]+) % credible intervals\)", text)
    blocks: list = [Text(". ".join(x for x in (title, priors) if x))] if title or priors else []
    add_tables(d, FIT_OUTPUTS, [
        ("summary.csv", f"Population parameters: posterior median and "
         f"{ci.group(1) if ci else '90'} % credible interval (LOWER, UPPER)", POSTERIOR_COLUMNS)],
        blocks)
    gates = markdown_table(markdown_part(md, "Convergence gates"))
    if gates is not None:
        blocks.append(html_table(gates, "Convergence gates of the sampler",
                                 columns=["GATE", "VALUE", "THRESHOLD", "PASSED"], digits=4))
    timings = markdown_part(md, "Timings")
    if timings:
        blocks.append(Text(f"Timings (s): {timings}"))
    add_figures(d, FIT_OUTPUTS, [("trace.png", "Trace plots"), ("rank.png", "Rank plots")],
                blocks)
    return blocks


def _qualification(d: Path) -> list:
    md = d / output(DIAGNOSTICS_OUTPUTS, "diagnostics.md")
    blocks: list = []
    add_tables(d, DIAGNOSTICS_OUTPUTS, [
        ("npde_tests.csv", "NPDE tests (expected: mean 0, variance 1, normal)")], blocks)
    add_tables(d, FIT_OUTPUTS, [("shrinkage.csv", "Eta shrinkage (flag above 30 %)")], blocks)
    add_tables(d, DIAGNOSTICS_OUTPUTS, [("loo.csv", "PSIS-LOO"),
                                        ("pareto_k.csv", "Observations by Pareto k")], blocks)
    blocks += [Text(t) for t in (markdown_part(md, "VPC"),) if t]
    add_figures(d, DIAGNOSTICS_OUTPUTS, [("gof.png", "Goodness of fit and NPDE"),
                                         ("vpc.png", "Visual predictive check"),
                                         ("prior_posterior.png", "Prior vs posterior")], blocks)
    blocks += [Text(t) for t in (markdown_part(md, "Notes"),) if t]
    if (d / output(DIAGNOSTICS_OUTPUTS, "individual_fits.pdf")).is_file():
        blocks.append(Text("Individual fits of every subject: individual_fits.pdf."))
    return blocks


NCA = SectionSpec("nca", "Noncompartmental analysis", _NCA_MARKER, "NCA results",
                  "blinapk nca DATA.csv --out DIR/nca", _nca)
POPPK = SectionSpec("poppk", "Population PK: posterior summary", _FIT_MARKER,
                    "population-PK fit", "blinapk fit DATA.csv --out DIR/fit", _poppk)
QUALIFICATION = SectionSpec("qualification", "Model qualification",
                            output(DIAGNOSTICS_OUTPUTS, "predictions.csv"), "model diagnostics",
                            "blinapk diagnose FIT.nc DATA.csv --out DIR/fit", _qualification)

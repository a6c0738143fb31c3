"""Report sections of the endpoints, exposure-response, simulated regimens and dose finding.

Each function takes the results directory and returns a
:class:`~blinapk.report.html.blocks.Section`: the results found, or what is
missing and the command that makes it.
"""

from __future__ import annotations

from pathlib import Path

from blinapk.report.dose_finding import DOSE_FINDING_OUTPUTS
from blinapk.report.endpoints import ENDPOINT_OUTPUTS
from blinapk.report.er import ER_OUTPUTS
from blinapk.report.html.blocks import Section, Text, figure, find_dirs, output
from blinapk.report.html.format import html_table, read_table
from blinapk.report.html.sections_pk import ENDPOINTS_MARKER, missing
from blinapk.report.simulate import EXPOSURE_OUTPUTS

__all__ = ["dose_finding_section", "endpoints_section", "er_section", "simulation_section"]

ER_MARKER = output(ER_OUTPUTS, "er.nc")
SIMULATION_MARKER = output(EXPOSURE_OUTPUTS, "exposure_summary.csv")
DOSE_FINDING_MARKER = output(DOSE_FINDING_OUTPUTS, "dose_selection.csv")


def _tables(d: Path, outputs, items, blocks: list) -> None:
    """Append the tables ``items`` (name, caption[, columns]) of ``d`` that exist."""
    for name, caption, *cols in items:
        path = d / output(outputs, name)
        if path.is_file():
            blocks.append(html_table(read_table(path), f"{caption} ({name})",
                                     columns=cols[0] if cols else None))


def _figures(d: Path, outputs, items, blocks: list) -> None:
    """Append the figures ``items`` (name, caption) of ``d`` that exist."""
    for name, caption in items:
        fig = figure(d / output(outputs, name), caption)
        if fig is not None:
            blocks.append(fig)


def _fenced(path: Path) -> str:
    """Return the first fenced block of a Markdown file ("" when none)."""
    if not path.is_file():
        return ""
    parts = path.read_text(encoding="utf-8").split("```")
    return parts[1].strip() if len(parts) > 2 else ""


def endpoints_section(results: Path) -> Section:
    """Response rates, Kaplan-Meier summaries and curves, log-rank tests, adverse events.

    Parameters
    ----------
    results : Path
        Results directory.

    Returns
    -------
    Section
    """
    dirs = find_dirs(results, ENDPOINTS_MARKER)
    if not dirs:
        return missing("endpoints", "Clinical endpoints", "endpoint results",
                       "blinapk endpoints SUBJECTS.csv ASSESSMENTS.csv --out DIR/endpoints")
    blocks: list = []
    for d in dirs:
        _tables(d, ENDPOINT_OUTPUTS, [
            ("response_rates.csv", "Response rates (PCT, LOWER, UPPER in %)"),
            ("km_summary.csv", "Kaplan-Meier summary"),
            ("logrank.csv", "Log-rank tests"),
            ("ae_incidence.csv", "Adverse-event incidence"),
            ("hsct.csv", "Allogeneic HSCT")], blocks)
        _figures(d, ENDPOINT_OUTPUTS, [
            ("response.png", "Response"), ("km_os.png", "Kaplan-Meier: overall survival"),
            ("km_rfs.png", "Kaplan-Meier: relapse-free survival"),
            ("km_ttr.png", "Kaplan-Meier: time to relapse"),
            ("km_dfs.png", "Kaplan-Meier: disease-free survival"),
            ("ae_forest.png", "Adverse events")], blocks)
    return Section("endpoints", "Clinical endpoints", tuple(blocks))


def _er_one(d: Path) -> list:
    blocks: list = []
    what = _fenced(d / output(ER_OUTPUTS, "summary.md"))
    if what:
        blocks.append(Text(what.split("\n\n")[0]))
    _tables(d, ER_OUTPUTS, [
        ("summary.csv", "Named parameters: posterior median and credible interval",
         ["PARAMETER", "LABEL", "UNIT", "MEDIAN", "LOWER", "UPPER", "ESS_BULK", "R_HAT"]),
        ("regimens.csv", "Predicted response at the label regimens"),
        ("quartiles.csv", "Observed vs predicted response by exposure quartile")], blocks)
    excluded = d / output(ER_OUTPUTS, "excluded.csv")
    if excluded.is_file():
        n = len(read_table(excluded))
        blocks.append(Text(f"{n} unit(s) left out of the fit" + (" (reasons in excluded.csv)."
                                                                  if n else ".")))
    _figures(d, ER_OUTPUTS, [("er_curve.png", "Exposure-response curve")], blocks)
    return blocks


def er_section(results: Path) -> Section:
    """Each exposure-response fit: what was fitted, parameters, regimens, quartiles, curve.

    Parameters
    ----------
    results : Path
        Results directory.

    Returns
    -------
    Section
    """
    dirs = find_dirs(results, ER_MARKER)
    if not dirs:
        return missing("er", "Exposure-response", "exposure-response results",
                       "blinapk er FIT.nc DATA.csv --out DIR/er")
    if len(dirs) == 1:
        return Section("er", "Exposure-response", tuple(_er_one(dirs[0])))
    subs = tuple(Section(f"er-{i + 1}", f"{d.relative_to(results)}", tuple(_er_one(d)))
                 for i, d in enumerate(dirs))
    return Section("er", "Exposure-response", (Text(f"{len(dirs)} fits."),), subsections=subs)


def simulation_section(results: Path) -> Section:
    """Report simulated exposure: Css by scenario, group and dose level, target attainment.

    Parameters
    ----------
    results : Path
        Results directory.

    Returns
    -------
    Section
    """
    dirs = find_dirs(results, SIMULATION_MARKER)
    if not dirs:
        return missing("simulation", "Simulated regimens", "simulated exposure",
                       "blinapk simulate --fit FIT.nc --regimen adult_rr --out DIR/simulate")
    blocks: list = []
    for d in dirs:
        md = d / EXPOSURE_OUTPUTS["summary"]
        if md.is_file():
            head = md.read_text(encoding="utf-8").split("## Exposure")[0]
            lines = [ln.lstrip("#- ").strip() for ln in head.splitlines()[1:]]
            blocks.append(Text("\n".join(ln for ln in lines if ln)))
        dist = read_table(d / EXPOSURE_OUTPUTS["distribution"])
        dist = dist[dist["METRIC"] == "CSS"]
        bands = [c for c in dist.columns if c.endswith("_BAND")]
        blocks.append(html_table(dist, "Simulated Css (pg/mL) by scenario, group and dose "
                                 "level: mean and 5th, 50th, 95th percentiles",
                                 columns=["SCENARIO", *bands, "KEY", "N", "MEAN", "P5", "P50",
                                          "P95"]))
        path = d / EXPOSURE_OUTPUTS["attainment"]
        if path.is_file():
            att = read_table(path)
            att = att[att["METRIC"] == "CSS"] if "METRIC" in att.columns else att
            blocks.append(html_table(att, "Probability of target attainment (Css >= TARGET "
                                     "pg/mL)", columns=["SCENARIO", *bands, "KEY", "TARGET",
                                                        "N", "PTA", "PTA_LOWER", "PTA_UPPER"]))
        _figures(d, EXPOSURE_OUTPUTS, [
            (EXPOSURE_OUTPUTS["css_figure"], "Simulated Css distribution"),
            (EXPOSURE_OUTPUTS["curve_figure"], "Target attainment by BSA")], blocks)
    return Section("simulation", "Simulated regimens", tuple(blocks))


def dose_finding_section(results: Path) -> Section | None:
    """Operating characteristics of dose-finding designs; None when there are none.

    Dose finding is optional: the report has this section only when some
    directory holds its results.

    Parameters
    ----------
    results : Path
        Results directory.

    Returns
    -------
    Section or None
    """
    dirs = find_dirs(results, DOSE_FINDING_MARKER)
    if not dirs:
        return None
    blocks: list = []
    for d in dirs:
        _tables(d, DOSE_FINDING_OUTPUTS, [
            ("dose_finding_summary.csv", "Operating characteristics by design"),
            ("dose_selection.csv", "Probability of selecting each dose")], blocks)
        _figures(d, DOSE_FINDING_OUTPUTS, [("dose_selection.png", "Dose selection")], blocks)
    return Section("dose-finding", "Dose finding", tuple(blocks))

"""Report sections of the endpoints, exposure-response, simulated regimens and dose finding.

Each section is a :class:`~blinapk.report.html.blocks.SectionSpec`: the
file that marks its results and how to draw one result directory.
"""

from __future__ import annotations

from pathlib import Path

from blinapk.report.dose_finding import DOSE_FINDING_OUTPUTS
from blinapk.report.endpoints import ENDPOINT_OUTPUTS
from blinapk.report.er import ER_OUTPUTS
from blinapk.report.html.blocks import SectionSpec, Text, add_figures, add_tables, output
from blinapk.report.html.format import html_table, read_table
from blinapk.report.html.sections_pk import ENDPOINTS_MARKER, POSTERIOR_COLUMNS
from blinapk.report.simulate import EXPOSURE_OUTPUTS

__all__ = ["DOSE_FINDING", "ENDPOINTS", "ER", "SIMULATION"]

#: Adverse-event measures shown (the CSV also has every worst grade).
AE_MEASURES = ("any grade", "grade >= 3", "serious")


def _fenced(path: Path) -> str:
    """Return the first fenced block of a Markdown file ("" when none)."""
    if not path.is_file():
        return ""
    parts = path.read_text(encoding="utf-8").split("```")
    return parts[1].strip() if len(parts) > 2 else ""


def _endpoints(d: Path) -> list:
    blocks: list = []
    add_tables(d, ENDPOINT_OUTPUTS, [
        ("response_rates.csv", "Response rates (PCT, LOWER, UPPER in %)"),
        ("km_summary.csv", "Kaplan-Meier summary"), ("logrank.csv", "Log-rank tests")], blocks)
    path = d / output(ENDPOINT_OUTPUTS, "ae_incidence.csv")
    if path.is_file():
        ae = read_table(path)
        blocks.append(html_table(ae[ae["MEASURE"].isin(AE_MEASURES)],
                                 "Adverse-event incidence: any grade, grade >= 3, serious "
                                 "(every grade in ae_incidence.csv)"))
    add_tables(d, ENDPOINT_OUTPUTS, [("hsct.csv", "Allogeneic HSCT")], blocks)
    add_figures(d, ENDPOINT_OUTPUTS, [
        ("response.png", "Response"), ("km_os.png", "Kaplan-Meier: overall survival"),
        ("km_rfs.png", "Kaplan-Meier: relapse-free survival"),
        ("km_ttr.png", "Kaplan-Meier: time to relapse"),
        ("km_dfs.png", "Kaplan-Meier: disease-free survival"),
        ("ae_forest.png", "Adverse events")], blocks)
    return blocks


def _er(d: Path) -> list:
    what = _fenced(d / output(ER_OUTPUTS, "summary.md"))
    blocks: list = [Text(what.split("\n\n")[0])] if what else []
    add_tables(d, ER_OUTPUTS, [
        ("summary.csv", "Named parameters: posterior median and credible interval",
         POSTERIOR_COLUMNS),
        ("regimens.csv", "Predicted response at the label regimens"),
        ("quartiles.csv", "Observed vs predicted response by exposure quartile")], blocks)
    excluded = d / output(ER_OUTPUTS, "excluded.csv")
    if excluded.is_file():
        n = len(read_table(excluded))
        blocks.append(Text(f"{n} unit(s) left out of the fit"
                           + (" (reasons in excluded.csv)." if n else ".")))
    add_figures(d, ER_OUTPUTS, [("er_curve.png", "Exposure-response curve")], blocks)
    return blocks


def _simulation(d: Path) -> list:
    blocks: list = []
    md = d / EXPOSURE_OUTPUTS["summary"]
    if md.is_file():
        head = md.read_text(encoding="utf-8").split("## Exposure")[0]
        lines = [ln.lstrip("#- ").strip() for ln in head.splitlines()[1:]]
        blocks.append(Text("\n".join(ln for ln in lines if ln)))
    dist = read_table(d / EXPOSURE_OUTPUTS["distribution"])
    bands = [c for c in dist.columns if c.endswith("_BAND")]
    blocks.append(html_table(dist[dist["METRIC"] == "CSS"],
                             "Simulated Css (pg/mL) by scenario, group and dose level: mean and "
                             "5th, 50th, 95th percentiles",
                             columns=["SCENARIO", *bands, "KEY", "N", "MEAN", "P5", "P50", "P95"]))
    path = d / EXPOSURE_OUTPUTS["attainment"]
    if path.is_file():
        att = read_table(path)
        blocks.append(html_table(att[att["METRIC"] == "CSS"],
                                 "Probability of target attainment (Css >= TARGET pg/mL)",
                                 columns=["SCENARIO", *bands, "KEY", "TARGET", "N", "PTA",
                                          "PTA_LOWER", "PTA_UPPER"]))
    add_figures(d, EXPOSURE_OUTPUTS, [
        (EXPOSURE_OUTPUTS["css_figure"], "Simulated Css distribution"),
        (EXPOSURE_OUTPUTS["curve_figure"], "Target attainment by BSA")], blocks)
    return blocks


def _dose_finding(d: Path) -> list:
    blocks: list = []
    add_tables(d, DOSE_FINDING_OUTPUTS, [
        ("dose_finding_summary.csv", "Operating characteristics by design"),
        ("dose_selection.csv", "Probability of selecting each dose")], blocks)
    add_figures(d, DOSE_FINDING_OUTPUTS, [("dose_selection.png", "Dose selection")], blocks)
    return blocks


ENDPOINTS = SectionSpec("endpoints", "Clinical endpoints", ENDPOINTS_MARKER, "endpoint results",
                        "blinapk endpoints --subjects S.csv --assessments A.csv --out "
                        "DIR/endpoints", _endpoints)
ER = SectionSpec("er", "Exposure-response", output(ER_OUTPUTS, "er.nc"),
                 "exposure-response results",
                 "blinapk er DATA.csv --fit FIT.nc --endpoint ... --out DIR/er", _er)
SIMULATION = SectionSpec("simulation", "Simulated regimens",
                         output(EXPOSURE_OUTPUTS, "exposure_summary.csv"), "simulated exposure",
                         "blinapk simulate --fit FIT.nc --regimen adult_rr --out DIR/simulate",
                         _simulation)
#: Optional: the report has this section only when some directory holds its results.
DOSE_FINDING = SectionSpec("dose-finding", "Dose finding",
                           output(DOSE_FINDING_OUTPUTS, "dose_selection.csv"),
                           "dose-finding results", "", _dose_finding, optional=True)

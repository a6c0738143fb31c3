"""Results to files: tables (CSV, Markdown, HTML), text reports and figures.

Tables
    :func:`write_csv` (units row, integer counts), :func:`read_csv` (reads a
    table with its units row), :func:`to_markdown`, :func:`to_html` for any DataFrame.
NCA
    :func:`write_nca` (Css/CL tables, ledgers, cytokine peaks, PP export,
    figures; the file names are :data:`NCA_OUTPUTS`) and :func:`nca_text`.
Clinical endpoints
    :func:`write_endpoints` (response, time-to-event, KM, log-rank, AE and
    alloHSCT tables, ledger, figures; :data:`ENDPOINT_OUTPUTS`),
    :func:`endpoint_tables` and :func:`endpoints_text`.
Population PK
    :func:`write_fit` (population, individual, Css and shrinkage tables,
    ``summary.md``, ledger, ``fit.nc``, trace/rank/pair figures),
    :func:`fit_text`, :func:`summary_markdown`, :func:`population_markdown`.
Exposure-response
    :func:`write_er` (named parameters, curves, quartiles, label regimens,
    ``er.nc``, figure; :data:`ER_OUTPUTS`) and :func:`er_text`.
Dose finding
    :func:`write_dose_finding` (operating-characteristics tables and the
    dose-selection figure; file names in :data:`DOSE_FINDING_OUTPUTS`).

Simulated exposure
    :func:`write_exposure` (summary and attainment tables, per-patient table,
    settings, ``summary.md``, figures) and :func:`exposure_text`.

Model qualification
    :func:`write_diagnostics` (predictions, NPDE tests, VPC, LOO, Pareto k,
    ``diagnostics.md``, GOF/VPC/prior figures, ``individual_fits.pdf``; file
    names :data:`DIAGNOSTICS_OUTPUTS`), :func:`diagnostics_text`,
    :func:`diagnostics_markdown`.

Each writer takes result objects and an output directory and returns the
paths it wrote; every number comes from a library result object or its methods.
"""

from blinapk.report.diagnostics import (
    DIAGNOSTICS_OUTPUTS,
    diagnostics_markdown,
    diagnostics_text,
    write_diagnostics,
)
from blinapk.report.dose_finding import DOSE_FINDING_OUTPUTS, write_dose_finding
from blinapk.report.endpoints import (
    ENDPOINT_OUTPUTS,
    endpoint_tables,
    endpoints_text,
    write_endpoints,
    write_endpoints_figures,
)
from blinapk.report.er import ER_OUTPUTS, er_text, write_er
from blinapk.report.nca import NCA_OUTPUTS, nca_text, write_nca, write_nca_figures
from blinapk.report.poppk import (
    fit_text,
    population_markdown,
    summary_markdown,
    write_fit,
    write_fit_figures,
)
from blinapk.report.simulate import (
    EXPOSURE_OUTPUTS,
    exposure_text,
    patient_table,
    response_markdown,
    write_exposure,
)
from blinapk.report.tables import read_csv, to_html, to_markdown, write_csv

__all__ = [
    "DIAGNOSTICS_OUTPUTS",
    "DOSE_FINDING_OUTPUTS",
    "ENDPOINT_OUTPUTS",
    "EXPOSURE_OUTPUTS",
    "ER_OUTPUTS",
    "NCA_OUTPUTS",
    "diagnostics_markdown",
    "diagnostics_text",
    "endpoint_tables",
    "endpoints_text",
    "exposure_text",
    "response_markdown",
    "er_text",
    "fit_text",
    "nca_text",
    "patient_table",
    "population_markdown",
    "read_csv",
    "summary_markdown",
    "to_html",
    "to_markdown",
    "write_csv",
    "write_diagnostics",
    "write_dose_finding",
    "write_endpoints",
    "write_endpoints_figures",
    "write_exposure",
    "write_er",
    "write_fit",
    "write_fit_figures",
    "write_nca",
    "write_nca_figures",
]

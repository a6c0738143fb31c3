"""Results to files: tables (CSV, Markdown, HTML), text reports and figures.

Tables
    :func:`write_csv`, :func:`to_markdown`, :func:`to_html` for any DataFrame.
NCA
    :func:`write_nca` (Css/CL tables, ledgers, cytokine peaks, PP export,
    figures; the file names are :data:`NCA_OUTPUTS`) and :func:`nca_text`.
Population PK
    :func:`write_fit` (population, individual, Css and shrinkage tables,
    ``summary.md``, ledger, ``fit.nc``, trace/rank/pair figures),
    :func:`fit_text`, :func:`summary_markdown`, :func:`population_markdown`.
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
from blinapk.report.nca import NCA_OUTPUTS, nca_text, write_nca, write_nca_figures
from blinapk.report.poppk import (
    fit_text,
    population_markdown,
    summary_markdown,
    write_fit,
    write_fit_figures,
)
from blinapk.report.tables import to_html, to_markdown, write_csv

__all__ = [
    "DIAGNOSTICS_OUTPUTS",
    "NCA_OUTPUTS",
    "diagnostics_markdown",
    "diagnostics_text",
    "fit_text",
    "nca_text",
    "population_markdown",
    "summary_markdown",
    "to_html",
    "to_markdown",
    "write_csv",
    "write_diagnostics",
    "write_fit",
    "write_fit_figures",
    "write_nca",
    "write_nca_figures",
]

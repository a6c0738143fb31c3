"""Population-PK fit to files: tables, the Markdown summary, the posterior, figures.

:func:`write_fit` writes what ``blinapk fit`` and ``blinapk demo`` leave in
their output directory; :func:`fit_text` is the short report ``blinapk fit``
prints. The population table (:meth:`PopPKFit.summary
<blinapk.poppk.PopPKFit.summary>`) is computed once by the caller and passed
to both.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from blinapk.pk import PARAMETER_UNITS
from blinapk.report.tables import to_markdown, write_csv

__all__ = ["BASELINE_COVARIATES", "FIT_OUTPUTS", "fit_text", "population_markdown",
           "summary_markdown", "write_fit", "write_fit_figures"]

#: Files written by :func:`write_fit`, in order (``ledger.csv`` only when the fit has
#: its ledger, the figures only with ``figures=True``, ``trace.png`` and ``rank.png``
#: only for NUTS).
FIT_OUTPUTS = ("summary.csv", "individual.csv", "css_predicted.csv", "shrinkage.csv",
               "summary.md", "ledger.csv", "fit.nc", "trace.png", "rank.png", "pair.png")

#: Covariate columns of the data written beside the individual estimates (when present).
BASELINE_COVARIATES = ("BSA", "WT", "AGE", "SEX", "CRCL", "BLAST")


def population_markdown(summary: pd.DataFrame, *, blank_unit: str = "") -> str:
    """Render the population table as Markdown.

    Parameters
    ----------
    summary : DataFrame
        Population table (:func:`blinapk.poppk.summarize_population`).
    blank_unit : str, default ""
        Shown in ``UNIT`` for dimensionless quantities (whose unit is blank).

    Returns
    -------
    str
    """
    if blank_unit:
        summary = summary.assign(UNIT=summary["UNIT"].replace("", blank_unit))
    return to_markdown(summary)


def summary_markdown(fit: Any, summary: pd.DataFrame, shrinkage: pd.DataFrame, *,
                     ci: float = 0.9) -> str:
    """Render the ``summary.md`` page of a fit.

    Model, priors, card, seed and parameterisation, then the population table,
    eta shrinkage, the convergence gates (NUTS), the row counts by reason and
    the timings.

    Parameters
    ----------
    fit : PopPKFit
        The fit.
    summary : DataFrame
        Its population table.
    shrinkage : DataFrame
        Its eta shrinkage (:func:`blinapk.poppk.eta_shrinkage`).
    ci : float, default 0.9
        Credible-interval mass of ``summary`` (named in a heading).

    Returns
    -------
    str
    """
    lines = [f"# Population-PK fit ({fit.spec.structure}, {fit.method}, {fit.sampler})", ""]
    lines += [f"Spec: `{fit.spec.to_json()}`", "",
              f"Priors: {fit.priors.source}; card: {fit.card_name or 'none'}; seed {fit.seed}", "",
              "Parameterisation: " + ", ".join(f"{p} {c}" for p, c in
                                               fit.parameterisation.items()), "",
              f"## Population parameters ({100 * ci:g} % credible intervals)", "",
              population_markdown(summary), "## Eta shrinkage", "", to_markdown(shrinkage)]
    if fit.convergence is not None:
        lines += ["## Convergence gates", "", to_markdown(fit.convergence.to_frame())]
    if fit.ledger is not None:
        lines += ["## Rows", "", to_markdown(fit.ledger.counts(by="reason"))]
    if fit.timings:
        lines += ["## Timings (s)", "", ", ".join(f"{k} {v:.1f}" for k, v in fit.timings.items()),
                  ""]
    return "\n".join(lines)


def write_fit_figures(fit: Any, out_dir: str | Path) -> dict[str, Path]:
    """Write the trace, rank (NUTS only) and pair plots of the population parameters (PNG).

    Parameters
    ----------
    fit : PopPKFit
        The fit; one with a single draw (MAP) gets no figures.
    out_dir : str or Path
        Existing output directory.

    Returns
    -------
    dict
        ``trace``, ``rank``, ``pair`` (those written) -> path.
    """
    import matplotlib

    matplotlib.use("Agg")  # files only; works without a display
    import matplotlib.pyplot as plt

    from blinapk.plotting import plot_pair, plot_rank, plot_trace

    out = Path(out_dir)
    if fit.idata.posterior.sizes["draw"] < 2:
        return {}
    plots = [("pair", plot_pair)]
    if fit.method == "nuts":
        plots = [("trace", plot_trace), ("rank", plot_rank), *plots]
    written = {}
    with warnings.catch_warnings():
        # ArviZ's layout and sampling-quality chatter only; blinapk's own warnings stay visible
        warnings.filterwarnings("ignore", module=r"arviz(\.|$)")
        for name, plot in plots:
            fig = plot(fit)
            path = out / f"{name}.png"
            fig.savefig(path, dpi=80)
            plt.close(fig)
            written[name] = path
    return written


def _signif(x: pd.Series, digits: int = 6) -> pd.Series:
    """Round to ``digits`` significant digits.

    A rate stored to 9 decimals gives 4.249999992 ug/day for 4.25.
    """
    v = x.to_numpy(dtype=float)
    mag = np.floor(np.log10(np.abs(np.where(np.isfinite(v) & (v != 0), v, 1.0))))
    return pd.Series(np.round(v * 10.0 ** (digits - 1 - mag)) / 10.0 ** (digits - 1 - mag),
                     index=x.index)


def _individual(fit: Any, ci: float, dataset: Any) -> pd.DataFrame:
    """Per-subject estimates, with each subject's baseline covariates when the data are given."""
    table = fit.individual(ci=ci)
    if dataset is None:
        return table
    frame = dataset.frame
    wanted = [*(c.covariate for c in fit.spec.covariates), *BASELINE_COVARIATES]
    cols = [c for c in dict.fromkeys(wanted) if c in frame.columns]
    if not cols:
        return table
    covs = dataset.covariates(cols)
    covs["ID"] = covs["ID"].astype(str)
    out = table.assign(ID=table["ID"].astype(str)).merge(covs, on="ID", how="left")
    out["ID"] = table["ID"].to_numpy()
    return out


def _table_units(columns) -> dict[str, str]:
    """Units of the columns of the individual and predicted-Css tables."""
    units = {"RATE": "ug/h", "DOSE_PER_DAY": "ug/day", "SHRINKAGE_PCT": "%", "BSA": "m2",
             "WT": "kg", "AGE": "years", "CRCL": "mL/min", "BLAST": "%"}
    for col in columns:
        head = str(col).rsplit("_", 1)[0]
        if head in PARAMETER_UNITS:
            units[col] = PARAMETER_UNITS[head]
        elif head == "CSS":
            units[col] = "pg/mL"
    return units


def write_fit(fit: Any, out_dir: str | Path, *, summary: pd.DataFrame | None = None,
              ci: float = 0.9, figures: bool = True, dataset: Any = None) -> dict[str, Path]:
    """Write every output file of a population-PK fit.

    ``summary.csv`` (population table), ``individual.csv`` (per-subject
    parameters, with each subject's baseline covariates when ``dataset`` is
    given), ``css_predicted.csv`` (model-predicted Css per subject at each
    rate received; per-day doses to 6 significant digits), ``shrinkage.csv``
    (eta shrinkage in %), ``summary.md`` (:func:`summary_markdown`),
    ``ledger.csv`` (fate of every row; when the fit has its ledger),
    ``fit.nc`` (the stamped InferenceData; reload with
    :func:`blinapk.poppk.load_fit`) and the figures of
    :func:`write_fit_figures`.

    Parameters
    ----------
    fit : PopPKFit
        The fit.
    out_dir : str or Path
        Output directory (created).
    summary : DataFrame, optional
        The population table ``fit.summary(ci=ci)`` when already computed
        (written as given); computed here otherwise.
    ci : float, default 0.9
        Credible-interval mass of the tables.
    figures : bool, default True
        Write the diagnostic figures.
    dataset : Dataset, optional
        The data fitted: its covariates join ``individual.csv``.

    Returns
    -------
    dict
        ``summary``, ``individual``, ``css`` (written as ``css_predicted.csv``),
        ``shrinkage``, ``summary_md``,
        (``ledger``), ``netcdf``, (``trace``, ``rank``, ``pair``) -> path.

    Raises
    ------
    ValueError
        ``summary`` was computed with another credible-interval mass than ``ci``.
    """
    if summary is None:
        summary = fit.summary(ci=ci)
    elif summary.attrs.get("ci", ci) != ci:
        raise ValueError(f"write_fit: summary has ci={summary.attrs['ci']}, not ci={ci}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    css = fit.css(ci=ci)
    shrinkage = fit.shrinkage()
    tables = {"summary": summary, "individual": _individual(fit, ci, dataset),
              "css": css.assign(DOSE_PER_DAY=_signif(css["DOSE_PER_DAY"])),
              "shrinkage": shrinkage.assign(SHRINKAGE=100.0 * shrinkage["SHRINKAGE"]).rename(
                  columns={"SHRINKAGE": "SHRINKAGE_PCT"})}
    files = {"css": "css_predicted"}
    paths = {name: write_csv(table, out / f"{files.get(name, name)}.csv",
                             units=None if name == "summary" else _table_units(table.columns))
             for name, table in tables.items()}
    paths["summary_md"] = out / "summary.md"
    paths["summary_md"].write_text(summary_markdown(fit, summary, tables["shrinkage"], ci=ci),
                                   encoding="utf-8")
    if fit.ledger is not None:
        ledger = fit.ledger
        if dataset is not None and len(dataset.skipped):  # comment records skipped on reading
            ledger = type(ledger).concat([ledger, dataset.skipped])
        paths["ledger"] = write_csv(ledger.to_frame(), out / "ledger.csv", units={"TIME": "h"})
    paths["netcdf"] = fit.save(out / "fit.nc")
    if figures:
        paths.update(write_fit_figures(fit, out))
    return paths


def fit_text(fit: Any, summary: pd.DataFrame, paths: dict[str, Path] | None = None) -> str:
    """Short text report of a fit: size, method and time, the population table, the files.

    Parameters
    ----------
    fit : PopPKFit
        The fit.
    summary : DataFrame
        Its population table (median and credible interval per parameter).
    paths : dict, optional
        Files written (:func:`write_fit`), listed last.

    Returns
    -------
    str
        Lines of text (no trailing newline); failed convergence gates are named.
    """
    lines = [f"fitted {len(fit.idata.posterior['subject'])} subjects, "
             f"{fit.idata.observed_data['conc'].size} observations "
             f"({fit.method}, {fit.sampler}, {fit.timings.get('total_s', 0):.0f} s)"]
    lines += [f"  {row.PARAMETER:<24} {row.MEDIAN:>10.4g} [{row.LOWER:.4g}, {row.UPPER:.4g}] "
              f"{row.UNIT}" for row in summary.itertuples(index=False)]
    if fit.convergence is not None and not fit.convergence.passed:
        lines.append("convergence gates failed:\n" + fit.convergence.message())
    lines += [f"  {name}: {path}" for name, path in (paths or {}).items()]
    return "\n".join(lines)

"""Simulated exposure to files: summary tables, per-patient table, settings, figures.

:func:`write_exposure` writes what ``blinapk simulate --regimen ...`` leaves
in its output directory; :func:`exposure_text` is the short report it
prints. Every number comes from :func:`blinapk.simulate.simulate_exposure`
results and :func:`blinapk.simulate.summarize_exposure` tables computed by
the caller.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from blinapk.report.tables import to_markdown, write_csv

__all__ = ["EXPOSURE_OUTPUTS", "RESPONSE_UNITS", "exposure_text", "patient_table",
           "response_markdown", "write_exposure"]

#: Files written by :func:`write_exposure` (figures only with ``figures=True``).
EXPOSURE_OUTPUTS: Mapping[str, str] = {
    "distribution": "exposure_summary.csv",
    "attainment": "target_attainment.csv",
    "curve": "target_attainment_curve.csv",
    "patients": "patients.csv",
    "settings": "settings.json",
    "summary": "summary.md",
    "css_figure": "css_distribution.png",
    "curve_figure": "target_attainment_bsa.png",
    "responses": "predicted_rates.csv",
    "responses_figure": "predicted_rates.png",
}
#: Units row of ``predicted_rates.csv`` (rates are fractions, 0-1).
RESPONSE_UNITS: Mapping[str, str] = {"EXPOSURE_GMEAN": "pg/mL", "MEAN": "fraction",
                                     "MEDIAN": "fraction", "LOWER": "fraction",
                                     "UPPER": "fraction"}


def _lazy(ds: Any) -> bool:
    return any(getattr(v.data, "dask", None) is not None for v in ds.variables.values())


def patient_table(ds: Any) -> pd.DataFrame:
    """One row per patient and draw: covariates, parameters and every exposure, wide.

    Parameters
    ----------
    ds : xarray.Dataset
        An in-memory result of :func:`~blinapk.simulate.simulate_exposure`.

    Returns
    -------
    DataFrame
        ``DRAW, ID``, the per-patient variables, the parameters, then
        ``CSS[<dose level>]``, ``CAVG[<window>]``, ``TAT[<window>@<threshold>]``
        and ``FTA[<window>@<threshold>]``.
    """
    n_draw, n = ds.sizes["draw"], ds.sizes["subject"]
    out: dict[str, Any] = {"DRAW": np.repeat(ds["draw"].values, n),
                           "ID": np.tile(ds["subject"].values, n_draw)}
    for name, var in ds.data_vars.items():
        if var.dims == ("subject",):
            out[name] = np.tile(var.values, n_draw)
        elif var.dims == ("draw", "subject"):
            out[name] = var.values.ravel()
    for level in ds["dose_level"].values:
        out[f"CSS[{level}]"] = ds["CSS"].sel(dose_level=level).values.ravel()
    for w in ds["window"].values:
        out[f"CAVG[{w}]"] = ds["CAVG"].sel(window=w).values.ravel()
        for t in ds["threshold"].values:
            for name in ("TAT", "FTA"):
                out[f"{name}[{w}@{t:g}]"] = ds[name].sel(window=w, threshold=t).values.ravel()
    return pd.DataFrame(out)


def _summary_markdown(results: Mapping[str, Any], distribution: pd.DataFrame,
                      attainment: pd.DataFrame) -> str:
    lines = ["# Simulated exposure", ""]
    for label, ds in results.items():
        s = json.loads(ds.attrs.get("settings", "{}"))
        lines += [f"## {label}", "",
                  f"- parameter source: {s.get('source_name')} ({s.get('subjects')} subjects)",
                  f"- population: {s.get('population', {}).get('name')}",
                  f"- regimen: {s.get('regimen', {}).get('name')}",
                  f"- patients: {s.get('n'):,} x {s.get('n_draws')} draw(s); seed "
                  f"{s.get('seed')}, chunk size {s.get('chunk_size'):,}", ""]
    keep = ["SCENARIO", *[c for c in distribution.columns if c.endswith("_BAND")], "METRIC",
            "KEY", "THRESHOLD", "N", "MEAN", "P5", "P50", "P95"]
    main = distribution[distribution["METRIC"].isin(["CSS", "CAVG", "FTA"])]
    lines += ["## Exposure (pg/mL; FTA: fraction of the window above the threshold)", "",
              to_markdown(main[[c for c in keep if c in main.columns]]), ""]
    keep = ["SCENARIO", *[c for c in attainment.columns if c.endswith("_BAND")], "METRIC",
            "KEY", "TARGET", "N", "PTA", "PTA_MCSE", "PTA_LOWER", "PTA_UPPER"]
    lines += ["## Probability of target attainment", "",
              to_markdown(attainment[[c for c in keep if c in attainment.columns]]), ""]
    return "\n".join(lines)


def response_markdown(predictions: pd.DataFrame) -> str:
    """Markdown section of the predicted rates (:func:`~blinapk.simulate.predict_response`)."""
    ci = predictions.attrs.get("ci", 0.9)
    groups = [c for c in predictions.columns[1:list(predictions.columns).index("MODEL_NAME")]]
    table = predictions.assign(**{
        "RATE (%)": [f"{100 * m:.1f} ({100 * lo:.1f}-{100 * hi:.1f})" for m, lo, hi in
                     predictions[["MEDIAN", "LOWER", "UPPER"]].itertuples(index=False)]})
    keep = ["SCENARIO", *groups, "MODEL_NAME", "PREDICTION", "EXPOSURE", "N_SUBJECTS",
            "N_DRAWS", "EXPOSURE_GMEAN", "RATE (%)"]
    return "\n".join([
        "## Predicted rates from exposure-response models", "",
        f"Posterior median and {100 * ci:g} % credible interval of the rate over the "
        "virtual patients (E-R draws paired with PK draws); EXPOSURE_GMEAN in pg/mL.", "",
        to_markdown(table[keep]), ""])


def write_exposure(results: Any, summary: Any, out_dir: str | Path, *, curve: Any = None,
                   per_patient: bool | None = None, figures: bool = True,
                   responses: pd.DataFrame | None = None) -> dict[str, Path]:
    """Write the output files of a simulated-exposure run.

    Parameters
    ----------
    results : Dataset or mapping of str to Dataset
        Results of :func:`~blinapk.simulate.simulate_exposure` (labelled by scenario).
    summary : ExposureSummary
        Their :func:`~blinapk.simulate.summarize_exposure` tables.
    out_dir : str or Path
        Output directory (created).
    curve : ExposureSummary, optional
        A summary by narrow ``BSA_BAND`` for the target-attainment curve.
    per_patient : bool, optional
        Write ``patients.csv``; default: when every result is in memory.
    figures : bool, default True
        Write the PNG figures (in-memory results only for the Css distribution).
    responses : DataFrame, optional
        Predicted rates of :func:`~blinapk.simulate.predict_response`: written to
        ``predicted_rates.csv`` (units row), ``summary.md`` and ``predicted_rates.png``.

    Returns
    -------
    dict
        Keys of :data:`EXPOSURE_OUTPUTS` written -> path.
    """
    import xarray as xr

    results = {"": results} if isinstance(results, xr.Dataset) else dict(results)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    names = EXPOSURE_OUTPUTS
    paths = {"distribution": write_csv(summary.distribution, out / names["distribution"]),
             "attainment": write_csv(summary.attainment, out / names["attainment"])}
    if curve is not None:
        paths["curve"] = write_csv(curve.attainment, out / names["curve"])
    in_memory = not any(_lazy(ds) for ds in results.values())
    if per_patient if per_patient is not None else in_memory:
        table = pd.concat([patient_table(ds).assign(SCENARIO=label) if label else
                           patient_table(ds) for label, ds in results.items()],
                          ignore_index=True)
        paths["patients"] = write_csv(table, out / names["patients"])
    settings = {label or "run": json.loads(ds.attrs.get("settings", "{}"))
                for label, ds in results.items()}
    path = out / names["settings"]
    path.write_text(json.dumps(settings, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    paths["settings"] = path
    text = _summary_markdown({k or "run": v for k, v in results.items()},
                             summary.distribution, summary.attainment)
    if responses is not None:
        paths["responses"] = write_csv(responses, out / names["responses"],
                                       units=RESPONSE_UNITS)
        text += "\n" + response_markdown(responses)
    path = out / names["summary"]
    path.write_text(text, encoding="utf-8")
    paths["summary"] = path
    if figures:
        paths |= _figures(results, curve, out, in_memory)
        if responses is not None:
            paths |= _response_figure(responses, out)
    return paths


def _response_figure(responses: pd.DataFrame, out: Path) -> dict[str, Path]:
    import matplotlib

    matplotlib.use("Agg")  # files only; works without a display
    import matplotlib.pyplot as plt

    from blinapk.plotting import plot_response_rates

    fig = plot_response_rates(responses)
    path = out / EXPOSURE_OUTPUTS["responses_figure"]
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return {"responses_figure": path}


def _figures(results: Mapping[str, Any], curve: Any, out: Path, in_memory: bool
             ) -> dict[str, Path]:
    import matplotlib

    matplotlib.use("Agg")  # files only; works without a display
    import matplotlib.pyplot as plt

    from blinapk.plotting import plot_css_distribution, plot_target_attainment

    written = {}
    if in_memory:
        fig = plot_css_distribution(results)
        written["css_figure"] = out / EXPOSURE_OUTPUTS["css_figure"]
        fig.savefig(written["css_figure"], dpi=90)
        plt.close(fig)
    if curve is not None:
        fig = plot_target_attainment(curve)
        written["curve_figure"] = out / EXPOSURE_OUTPUTS["curve_figure"]
        fig.savefig(written["curve_figure"], dpi=90)
        plt.close(fig)
    return written


def exposure_text(summary: Any, paths: Mapping[str, Path] | None = None) -> str:
    """Short plain-text report: Css per scenario, group and dose level; files written.

    Parameters
    ----------
    summary : ExposureSummary
        Tables of the run.
    paths : mapping, optional
        Files written.

    Returns
    -------
    str
    """
    d, a = summary.distribution, summary.attainment
    groups = [c for c in d.columns if c.endswith("_BAND") or c in ("ARM", "GROUP", "SEX",
                                                                     "REGIMEN")]
    lines = []
    css = d[d["METRIC"] == "CSS"]
    pta = a[a["METRIC"] == "CSS"] if len(a) else a
    for _, row in css.iterrows():
        where = " ".join(f"{g}={row[g]}" for g in groups)
        line = (f"{row['SCENARIO']} {where} {row['KEY']}: Css mean {row['MEAN']:.0f}, median "
                f"{row['P50']:.0f} pg/mL (n = {int(row['N']):,})").replace("  ", " ")
        if len(pta):
            match = pta[(pta["KEY"] == row["KEY"]) & (pta["SCENARIO"] == row["SCENARIO"])]
            for g in groups:
                match = match[match[g] == row[g]]
            if len(match):
                m = match.iloc[0]
                line += f"; P(Css >= {m['TARGET']:g}) = {m['PTA']:.2f}"
        lines.append(line)
    if paths:
        lines.append("files:")
        lines += [f"  {p}" for p in paths.values()]
    return "\n".join(lines)

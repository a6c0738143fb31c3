"""An exposure-response fit to files: named parameters, curves, quartiles, regimens, posterior.

:func:`write_er` writes what ``blinapk er`` leaves in its output directory
(:data:`ER_OUTPUTS`); :func:`er_text` is the short report it prints.
Exposure columns are in pg/mL and say so (``EXPOSURE_PG_ML``); responses
are probabilities (binary), survival probabilities at the landmark (time to
event) or peaks above baseline in pg/mL (cytokines), as the ``RESPONSE``
line of ``summary.md`` states.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from blinapk.report.tables import to_markdown, write_csv

__all__ = ["ER_OUTPUTS", "er_tables", "er_text", "write_er"]

#: Files written by :func:`write_er`, in order (``er_curve.png`` with ``figures=True``).
ER_OUTPUTS = ("summary.csv", "curve.csv", "quartiles.csv", "regimens.csv", "units.csv",
              "excluded.csv", "convergence.csv", "summary.md", "er.nc", "er_curve.png")


def _pg_ml(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.rename(columns={c: f"{c}_PG_ML" for c in frame.columns
                                 if c.startswith("EXPOSURE")})


def er_tables(fit: Any, ci: float = 0.9) -> dict[str, pd.DataFrame]:
    """Return the CSV tables of :func:`write_er`, by file name.

    Parameters
    ----------
    fit : ERFit
        The fit.
    ci : float
        Credible-interval mass (also the level of the quartile intervals).

    Returns
    -------
    dict of DataFrame
    """
    conv = (fit.convergence.to_frame() if fit.convergence is not None
            else pd.DataFrame(columns=["GATE", "VALUE", "THRESHOLD", "PASSED", "WORST",
                                       "ADVICE"]))
    regimens = fit.regimens if fit.regimens is not None else pd.DataFrame()
    return {"summary.csv": fit.summary(ci=ci), "curve.csv": _pg_ml(fit.curve(ci=ci)),
            "quartiles.csv": _pg_ml(fit.quartiles(conf_level=ci)),
            "regimens.csv": _pg_ml(regimens), "units.csv": _pg_ml(fit.units),
            "excluded.csv": fit.excluded, "convergence.csv": conv}


def _fmt(x: float) -> str:
    return f"{x:.3g}" if np.isfinite(x) else "-"


def er_text(fit: Any, summary: pd.DataFrame | None = None) -> str:
    """Short plain-text report: what was fitted, the named parameters, the regimens, the gates.

    Parameters
    ----------
    fit : ERFit
        The fit.
    summary : DataFrame, optional
        ``fit.summary()``.

    Returns
    -------
    str
    """
    from blinapk.er.summary import response_label

    summary = fit.summary() if summary is None else summary
    ci = int(round(100 * summary.attrs.get("ci", 0.9)))
    mode = {"plugin": "plug-in", "propagated": "propagated (latent exposure, PK posterior prior)",
            "imputation": f"naive imputation ({fit.n_imputations} draws; slope attenuated)",
            "joint": "joint PK + E-R"}[fit.uncertainty]
    lines = [f"{fit.endpoint_label} vs {fit.metric_label}: {fit.model_name} model, exposure "
             f"{mode} ({fit.exposure_source}); {len(fit.units)} units analysed, "
             f"{len(fit.excluded)} excluded",
             f"RESPONSE: {response_label(fit)}", "",
             f"{'parameter':<20} {'median':>10} {f'{ci} % CrI':>22} {'ESS':>8} {'R-hat':>6}"]
    for r in summary.itertuples(index=False):
        lines.append(f"{r.PARAMETER:<20} {_fmt(r.MEDIAN):>10} "
                     f"{_fmt(r.LOWER) + ' to ' + _fmt(r.UPPER):>22} {_fmt(r.ESS_BULK):>8} "
                     f"{_fmt(r.R_HAT):>6}")
    if fit.regimens is not None and fit.regimens["MEDIAN"].notna().any():
        lines += ["", "label regimens (predicted):"]
        for r in fit.regimens.dropna(subset=["MEDIAN"]).itertuples(index=False):
            what = f" {r.EPISODE}" if r.EPISODE else ""
            lines.append(f"  {r.LABEL}{what}: {_fmt(r.MEDIAN)} ({_fmt(r.LOWER)}-"
                         f"{_fmt(r.UPPER)}), median exposure {_fmt(r.EXPOSURE_MEDIAN)} pg/mL, "
                         f"{r.N_SUBJECTS} subjects")
    if fit.convergence is not None:
        lines += ["", "convergence: all gates passed" if fit.convergence.passed
                  else "convergence: FAILED\n" + fit.convergence.message()]
    if fit.settings.get("pk_converged") is False:
        lines.append("the population-PK fit behind the exposures failed its convergence gates")
    return "\n".join(lines)


def write_er(fit: Any, out_dir: str | Path, *, ci: float = 0.9, figures: bool = True
             ) -> list[Path]:
    """Write the E-R tables (CSV), ``summary.md``, the netCDF posterior and the figure.

    Parameters
    ----------
    fit : ERFit
        :func:`blinapk.er.fit_er` result (or :func:`blinapk.er.load_er`).
    out_dir : str or Path
        Output directory (created).
    ci : float
        Credible-interval mass.
    figures : bool
        Write ``er_curve.png`` (:func:`blinapk.plotting.plot_er`).

    Returns
    -------
    list of Path
        The files written, in the order of :data:`ER_OUTPUTS`.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tables = er_tables(fit, ci)
    files = [write_csv(t, out / name) for name, t in tables.items()]
    md = [f"# {fit.endpoint_label} vs {fit.metric_label}", "", "```", er_text(
        fit, tables["summary.csv"]), "```", "", "## Named parameters", "",
        to_markdown(tables["summary.csv"]), ""]
    (out / "summary.md").write_text("\n".join(md), encoding="utf-8")
    files.append(out / "summary.md")
    files.append(fit.save(out / "er.nc"))
    if figures:
        import matplotlib

        matplotlib.use("Agg")  # files only; works without a display
        import matplotlib.pyplot as plt

        from blinapk.plotting.er import plot_er

        fig = plot_er(fit, curve=fit.curve(ci=ci), quartiles=fit.quartiles(conf_level=ci),
                      summary=tables["summary.csv"])
        fig.savefig(out / "er_curve.png", dpi=110, bbox_inches="tight")
        plt.close(fig)
        files.append(out / "er_curve.png")
    return files

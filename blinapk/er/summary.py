r"""Posterior summaries of an exposure-response fit: named parameters, curves, quartiles.

Named parameters (:func:`summarize_er`), each with mean, SD, median, central
credible interval (default 90 %), bulk/tail ESS and R-hat:

* logistic and Weibull: ``INTERCEPT``, ``BETA_LOG<METRIC>`` (per unit of
  natural-log exposure, e.g. ``BETA_LOGCSS``), ``OR_DOUBLING`` (binary:
  odds ratio per doubling of exposure, :math:`2^\beta`) or ``HR_DOUBLING``
  (time to event: hazard ratio per doubling), ``WEIBULL_SHAPE``;
* Emax models: ``E0``, ``EMAX`` (log-odds for binary endpoints; pg/mL above
  baseline for peaks), ``EC50`` (pg/mL), ``HILL`` (sigmoid only),
  ``EPISODE_RATIO`` (step-up / first-start peak), ``OMEGA``, ``SIGMA``
  (log-scale SDs);
* covariates: ``BETA_<TERM>`` and its ``OR_``/``HR_``/``RATIO_<TERM>``.

With the ``imputation`` mode the draws of all imputations are pooled; ESS is
the sum of the imputations' ESS and R-hat the largest of theirs.

:func:`er_curve` evaluates the model over the observed exposure range (a
typical subject at the reference covariates) with a credible band; for
peaks it gives the median peak after the first start and after a step-up.
:func:`observed_by_quartile` groups the units by quartile of the plug-in
exposure: responders with an exact Clopper-Pearson interval
(:func:`blinapk.endpoints.rates.proportion`), the Kaplan-Meier survival at
the landmark (:func:`blinapk.endpoints.compute_km`), or the median observed
peak.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from blinapk.er.models import linear_predictor, posterior_params, respond
from blinapk.mcmc.summary import draw_stats

__all__ = ["er_curve", "interval_covers", "observed_by_quartile", "pooled_params",
           "summarize_er"]

_LN2 = float(np.log(2.0))


def _per_imputation(da: Any) -> np.ndarray:
    """Draws of a scalar E-R variable as ``(imputation, chain, draw)``."""
    return np.asarray(da.transpose("imputation", "chain", "draw").values, dtype=float)


def _rows(fit: Any) -> list[tuple[str, str, str, str, Any]]:
    """(NAME, LABEL, UNIT, variable, transform) of every reported parameter."""
    sym, kind = fit.symbol, fit.kind
    ratio = {"binary": "OR", "tte": "HR", "peak": "RATIO"}[kind]
    scale = {"binary": "log-odds", "tte": "log hazard", "peak": "log peak"}[kind]
    ident = None
    rows = []
    if fit.model_name in ("logistic", "weibull"):
        at = "log-odds" if kind == "binary" else "log cumulative hazard at the mean follow-up"
        rows += [("INTERCEPT", f"{at} at the median exposure", "", "er_intercept", ident),
                 (f"BETA_LOG{sym}", f"{scale} per unit log {fit.metric_label}", "",
                  "er_slope", ident),
                 (f"{ratio}_DOUBLING", f"{'odds' if kind == 'binary' else 'hazard'} ratio "
                  f"per doubling of {fit.metric_label}", "", "er_slope",
                  lambda b: np.exp(_LN2 * b))]
    elif kind == "binary":
        rows += [("E0", "log-odds at zero exposure", "", "er_e0", ident),
                 ("EMAX", "maximal change in log-odds", "", "er_emax", ident)]
    else:
        rows += [("EMAX", "maximal peak above baseline (first start)", "pg/mL",
                  "er_log_emax", np.exp)]
    if fit.model_name in ("emax", "sigmoid_emax"):
        rows.append(("EC50", f"{fit.metric_label} giving half the maximal effect", "pg/mL",
                     "er_log_ec50", np.exp))
    if fit.model_name == "sigmoid_emax":
        rows.append(("HILL", "Hill coefficient", "", "er_hill", ident))
    if kind == "peak":
        rows += [("EPISODE_RATIO", "step-up peak / first-start peak", "", "er_log_ratio",
                  np.exp),
                 ("OMEGA", "between-subject SD of the log peak", "", "er_omega", ident),
                 ("SIGMA", "residual SD of the log peak", "", "er_sigma", ident)]
    if kind == "tte":
        rows.append(("WEIBULL_SHAPE", "Weibull shape (1: constant hazard)", "", "er_shape",
                     ident))
    return rows


def summarize_er(fit: Any, ci: float = 0.9) -> pd.DataFrame:
    """Named E-R parameters with median, credible interval, ESS and R-hat.

    Parameters
    ----------
    fit : ERFit
        The fit.
    ci : float
        Mass of the central credible interval.

    Returns
    -------
    DataFrame
        ``PARAMETER, LABEL, UNIT, MEAN, SD, MEDIAN, LOWER, UPPER, ESS_BULK,
        ESS_TAIL, R_HAT``; ``attrs["ci"]``.
    """
    if not 0.0 < ci < 1.0:
        raise ValueError(f"ci must be in (0, 1), got {ci}")
    post = fit.idata.posterior
    out = []
    for name, label, unit, var, f in _rows(fit):
        x = _per_imputation(post[var])
        out.append({"PARAMETER": name, "LABEL": label, "UNIT": unit,
                    **draw_stats(f(x) if f else x, ci)})
    ratio = {"binary": "OR", "tte": "HR", "peak": "RATIO"}[fit.kind]
    for t in fit.terms:
        g = _per_imputation(post["er_gamma"].sel(term=t.name))
        out.append({"PARAMETER": f"BETA_{t.name}", "LABEL": t.label, "UNIT": "",
                    **draw_stats(g, ci)})
        out.append({"PARAMETER": f"{ratio}_{t.name}", "LABEL": f"ratio, {t.label}",
                    "UNIT": "", **draw_stats(np.exp(g), ci)})
    table = pd.DataFrame(out)
    table.attrs["ci"] = ci
    return table


def interval_covers(summary: pd.DataFrame, parameter: str, value: float) -> bool:
    """Whether the credible interval of ``parameter`` in ``summary`` contains ``value``."""
    row = summary.loc[summary["PARAMETER"] == parameter].iloc[0]
    return bool(row["LOWER"] <= value <= row["UPPER"])


def pooled_params(fit: Any, max_draws: int | None = 4000) -> dict[str, np.ndarray]:
    """Pooled E-R draws by short name, thinned evenly to at most ``max_draws``."""
    p = posterior_params(fit.idata.posterior)
    n = next(iter(p.values())).shape[0]
    if max_draws is not None and n > max_draws:
        keep = np.linspace(0, n - 1, max_draws).round().astype(int)
        p = {k: v[keep] for k, v in p.items()}
    return p


def _band(resp: np.ndarray, ci: float) -> dict[str, np.ndarray]:
    lo, hi = (1.0 - ci) / 2.0, 1.0 - (1.0 - ci) / 2.0
    return {"MEDIAN": np.median(resp, axis=0), "LOWER": np.quantile(resp, lo, axis=0),
            "UPPER": np.quantile(resp, hi, axis=0)}


def er_curve(fit: Any, ci: float = 0.9, n_points: int = 60) -> pd.DataFrame:
    """Predicted response over the observed exposure range, with a credible band.

    Parameters
    ----------
    fit : ERFit
        The fit.
    ci : float
        Band mass.
    n_points : int
        Exposures, log-spaced between the smallest and largest plug-in exposure.

    Returns
    -------
    DataFrame
        ``EXPOSURE`` (pg/mL), ``EPISODE`` (peaks: ``first start``/``step-up``;
        else ``all``), ``MEDIAN, LOWER, UPPER`` of the probability (binary),
        survival at ``landmark_months`` (time to event) or median peak above
        baseline in pg/mL (peaks), for a typical subject at the reference
        covariates; ``attrs``: ``ci``, ``response``.
    """
    p = pooled_params(fit)
    x = fit.units["EXPOSURE"].to_numpy(float)
    grid = np.geomspace(x.min(), x.max(), n_points)
    X0 = np.zeros((1, len(fit.terms)))
    episodes = ((0, "first start"), (1, "step-up")) if fit.kind == "peak" else ((0, "all"),)
    parts = []
    for code, name in episodes:
        eta = linear_predictor(fit.kind, fit.model_name, p, np.log(grid)[None, :], X0, code,
                               fit.log_ref, np)
        resp = respond(fit.kind, eta, p, fit.landmark_months / fit.time_scale)
        parts.append(pd.DataFrame({"EXPOSURE": grid, "EPISODE": name, **_band(resp, ci)}))
    out = pd.concat(parts, ignore_index=True)
    out.attrs.update(ci=ci, response=response_label(fit))
    return out


def response_label(fit: Any) -> str:
    """Return what the curves show, for axis labels and table headers."""
    if fit.kind == "binary":
        return f"P({fit.endpoint_label})"
    if fit.kind == "tte":
        return f"{fit.endpoint_label} at {fit.landmark_months:g} months"
    return f"{fit.endpoint_label} (median, pg/mL)"


def _quartile(x: np.ndarray) -> np.ndarray:
    edges = np.quantile(x, [0.25, 0.5, 0.75])
    return np.searchsorted(edges, x, side="left") + 1


def observed_by_quartile(fit: Any, conf_level: float = 0.9) -> pd.DataFrame:
    """Observed responses by quartile of the plug-in exposure.

    Parameters
    ----------
    fit : ERFit
        The fit.
    conf_level : float
        Level of the exact (binary) or Kaplan-Meier (time to event) intervals.

    Returns
    -------
    DataFrame
        ``QUARTILE`` (1-4), ``EPISODE``, ``N``, ``EXPOSURE_MIN``,
        ``EXPOSURE_MEDIAN``, ``EXPOSURE_MAX``, then ``N_EVENTS, VALUE,
        LOWER, UPPER`` (binary: proportion with the Clopper-Pearson interval;
        time to event: Kaplan-Meier survival at the landmark; peaks:
        ``N_CENSORED`` and the median observed peak above baseline, NaN when
        half or more are below LLOQ).
    """
    from blinapk.endpoints import compute_km
    from blinapk.endpoints.rates import proportion

    u = fit.units.copy()
    u["EPISODE"] = (np.where(u["EPISODE"] == 1, "step-up", "first start")
                    if fit.kind == "peak" else "all")
    rows = []
    for episode, part in u.groupby("EPISODE", sort=True):
        x = part["EXPOSURE"].to_numpy(float)
        q = _quartile(x)
        for k in range(1, 5):
            g = part.loc[q == k]
            if g.empty:
                continue
            row = {"QUARTILE": k, "EPISODE": episode, "N": len(g),
                   "EXPOSURE_MIN": g["EXPOSURE"].min(),
                   "EXPOSURE_MEDIAN": g["EXPOSURE"].median(),
                   "EXPOSURE_MAX": g["EXPOSURE"].max()}
            if fit.kind == "binary":
                r = proportion(int(g["Y"].sum()), len(g), conf_level)
                row.update(N_EVENTS=r["N_SUBJECTS"], VALUE=r["PCT"] / 100.0,
                           LOWER=r["LOWER"] / 100.0, UPPER=r["UPPER"] / 100.0)
            elif fit.kind == "tte":
                km = compute_km(g[["TIME", "EVENT"]], conf_level=conf_level,
                                landmarks={"L": fit.landmark_months}).summary()
                row.update(N_EVENTS=int(g["EVENT"].sum()), VALUE=float(km["SURV_L"].iloc[0]),
                           LOWER=float(km["SURV_L_LOWER"].iloc[0]),
                           UPPER=float(km["SURV_L_UPPER"].iloc[0]))
            else:
                cens = g["CENS"].to_numpy() > 0
                y = np.where(cens, -np.inf, g["Y"].to_numpy(float))
                row.update(N_CENSORED=int(cens.sum()), N_EVENTS=int((~cens).sum()),
                           VALUE=float(np.exp(np.median(y))) if cens.mean() < 0.5 else np.nan,
                           LOWER=np.nan, UPPER=np.nan)
            rows.append(row)
    out = pd.DataFrame(rows)
    out.attrs.update(conf_level=conf_level, response=response_label(fit))
    return out

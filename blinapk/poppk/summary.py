r"""Posterior summaries of a population-PK fit on the natural scale, with units.

Population table (:func:`summarize_population`): typical values (CL L/h,
V L, Q L/h, V2 L), derived half-life (1-cmt :math:`\ln 2\, V/CL`; 2-cmt the
terminal :math:`\ln 2/\beta`), between-subject variability as :math:`\omega`
and as CV % :math:`= 100\sqrt{e^{\omega^2}-1}`, random-effect correlations,
covariate effects (the coefficient and the parameter ratio at chosen
covariate values vs the reference, e.g. CL at BSA 0.37 and 2.5 m2 vs 1.88,
by :func:`blinapk.pk.covariates.factor`),
residual error. Each row: mean, SD, median, central credible interval
(default 90 %), bulk and tail ESS and R-hat (computed on the derived
quantity's own draws).

Individual tables: per-subject parameters (:func:`summarize_individuals`),
predicted steady-state concentration :math:`C_{ss} = 1000 R_0 / CL` at every
infusion rate the subject actually received (:func:`summarize_css`), and eta
shrinkage :math:`1 - SD_i(E[\eta_i \mid y]) / \omega` (:func:`eta_shrinkage`;
Savic & Karlsson, AAPS J 2009).

All tables are DataFrames (:mod:`blinapk.report` renders and writes them).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from blinapk.mcmc.summary import draw_stats
from blinapk.pk import PARAMETER_LABELS, PARAMETER_UNITS, half_lives_2cmt
from blinapk.pk.covariates import factor

__all__ = [
    "DEFAULT_EFFECT_AT",
    "eta_shrinkage",
    "summarize_css",
    "summarize_individuals",
    "summarize_population",
]

#: Covariate values at which effect ratios are reported by default (vs the
#: reference): BSA 0.37 and 2.5 m2 (Zhu 2020 quote the ratio at 0.37 m2),
#: WT 20 and 100 kg. Other covariates: the 5th and 95th percentiles of the data.
DEFAULT_EFFECT_AT: Mapping[str, tuple[float, ...]] = {"BSA": (0.37, 2.5), "WT": (20.0, 100.0)}


def _draws(da: Any) -> np.ndarray:
    """(chain, draw) array of a scalar quantity."""
    return np.asarray(da.transpose("chain", "draw").values, dtype=float)


def _row(name: str, label: str, unit: str, x: np.ndarray, ci: float) -> dict[str, Any]:
    return {"PARAMETER": name, "LABEL": label, "UNIT": unit, **draw_stats(x, ci)}


def _attrs_json(fit: Any, key: str, default: Any) -> Any:
    raw = fit.idata.posterior.attrs.get(key)
    return json.loads(raw) if raw else default


def summarize_population(fit: Any, ci: float = 0.9,
                         effect_at: Mapping[str, Sequence[float]] | None = None) -> pd.DataFrame:
    """Summarise population parameters on the natural scale with units and diagnostics.

    Parameters
    ----------
    fit : PopPKFit
        The fit.
    ci : float, default 0.9
        Mass of the central credible interval (``LOWER``, ``UPPER``).
    effect_at : mapping, optional
        Covariate -> values at which to report the parameter ratio vs the
        reference (defaults: :data:`DEFAULT_EFFECT_AT`, else the 5th/95th
        percentiles of the data).

    Returns
    -------
    DataFrame
        ``PARAMETER, LABEL, UNIT, MEAN, SD, MEDIAN, LOWER, UPPER, ESS_BULK,
        ESS_TAIL, R_HAT``; ``attrs["ci"]`` holds ``ci``.
    """
    if not 0.0 < ci < 1.0:
        raise ValueError(f"ci must be in (0, 1), got {ci}")
    post = fit.idata.posterior
    spec = fit.spec
    rows = []
    typ = {p: _draws(post["typical"].sel(param=p)) for p in spec.params}
    for p in spec.params:
        rows.append(_row(f"TV_{p}", f"typical {PARAMETER_LABELS[p]}", PARAMETER_UNITS[p],
                         typ[p], ci))
    if spec.structure == "1cmt":
        rows.append(_row("THALF", "half-life ln2*V/CL", "h",
                         math.log(2.0) * typ["V"] / typ["CL"], ci))
    else:
        t_alpha, t_beta = half_lives_2cmt(typ["CL"], typ["V"], typ["Q"], typ["V2"])
        rows.append(_row("THALF_ALPHA", "distribution half-life ln2/alpha", "h", t_alpha, ci))
        rows.append(_row("THALF", "terminal half-life ln2/beta", "h", t_beta, ci))
    for p in spec.bsv:
        om = _draws(post[f"omega_{p}"])
        rows.append(_row(f"OMEGA_{p}", f"BSV of {p} (log-scale SD)", "", om, ci))
        rows.append(_row(f"CV_{p}", f"BSV of {p} as CV", "%",
                         100.0 * np.sqrt(np.expm1(om**2)), ci))
    if spec.correlation:
        for i, a in enumerate(spec.bsv):
            for b in spec.bsv[i + 1:]:
                r = _draws(post["corr_eta"].sel(eta_param=a, eta_param_bis=b))
                rows.append(_row(f"CORR_{a}_{b}", f"correlation of eta {a} and {b}", "", r, ci))
    ranges = _attrs_json(fit, "blinapk_covariate_ranges", {})
    at = dict(DEFAULT_EFFECT_AT) | dict(effect_at or {})
    for c in spec.covariates:
        var = post[f"beta_{c.name}"]
        if c.form == "categorical":
            for level in var[f"level_{c.name}"].values:
                b = _draws(var.sel({f"level_{c.name}": level}))
                rows.append(_row(f"BETA_{c.name}[{level}]", f"{c.covariate}={level}: log ratio "
                                 f"of {c.param} vs {c.reference}", "", b, ci))
                rows.append(_row(f"RATIO_{c.name}[{level}]", f"{c.param} ratio, {c.covariate}="
                                 f"{level} vs {c.reference}", "", np.exp(b), ci))
            continue
        b = _draws(var)
        kind = {"power": "exponent", "exponential": "coefficient per unit",
                "linear": "slope per unit"}[c.form]
        fixed = ", fixed" if c.is_fixed else ""
        row = _row(f"BETA_{c.name}", f"{c.covariate} on {c.param} ({c.form} {kind}{fixed})",
                   "", b, ci)
        if c.is_fixed:  # a constant: no Monte Carlo error to report
            row.update(SD=0.0, ESS_BULK=np.nan, ESS_TAIL=np.nan, R_HAT=np.nan)
        rows.append(row)
        values = at.get(c.covariate)
        if values is None and c.covariate in ranges:
            values = (ranges[c.covariate][1], ranges[c.covariate][2])
        ref = float(c.reference)  # type: ignore[arg-type]
        for x in values or ():
            ratio = factor(c.form, b, x, ref)
            rows.append(_row(f"RATIO_{c.name}@{x:g}", f"{c.param} ratio at {c.covariate} {x:g} vs "
                             f"{ref:g}", "", ratio, ci))
    if "sigma_prop" in post:
        s = _draws(post["sigma_prop"])
        unit = "log-scale SD" if spec.residual == "proportional" else "fraction"
        rows.append(_row("SIGMA_PROP", "proportional residual error", unit, s, ci))
    if "sigma_add" in post:
        rows.append(_row("SIGMA_ADD", "additive residual error", "pg/mL",
                         _draws(post["sigma_add"]), ci))
    out = pd.DataFrame(rows)
    out.attrs["ci"] = ci
    out.attrs["method"] = fit.method
    return out


def summarize_individuals(fit: Any, ci: float = 0.9) -> pd.DataFrame:
    """Per-subject posterior of every structural parameter (at baseline covariates).

    Parameters
    ----------
    fit : PopPKFit
        The fit.
    ci : float, default 0.9
        Credible-interval mass.

    Returns
    -------
    DataFrame
        ``ID`` then, per parameter ``P``: ``P_MEAN, P_MEDIAN, P_LOWER, P_UPPER``
        and, for BSV parameters, ``ETA_P_MEAN, ETA_P_SD``.
    """
    post = fit.idata.posterior
    lo, hi = (1.0 - ci) / 2.0, 1.0 - (1.0 - ci) / 2.0
    ind = post["indiv"].stack(sample=("chain", "draw")).transpose("subject", "param", "sample")
    vals = np.asarray(ind.values, dtype=float)
    out: dict[str, Any] = {"ID": post["subject"].values}
    for k, p in enumerate(post["param"].values):
        v = vals[:, k, :]
        out[f"{p}_MEAN"] = v.mean(axis=1)
        out[f"{p}_MEDIAN"] = np.median(v, axis=1)
        out[f"{p}_LOWER"] = np.quantile(v, lo, axis=1)
        out[f"{p}_UPPER"] = np.quantile(v, hi, axis=1)
    if "eta" in post:
        eta = post["eta"].stack(sample=("chain", "draw")).transpose("subject", "eta_param",
                                                                     "sample")
        e = np.asarray(eta.values, dtype=float)
        for k, p in enumerate(post["eta_param"].values):
            out[f"ETA_{p}_MEAN"] = e[:, k, :].mean(axis=1)
            out[f"ETA_{p}_SD"] = e[:, k, :].std(axis=1, ddof=1) if e.shape[2] > 1 else np.nan
    df = pd.DataFrame(out)
    df.attrs["ci"] = ci
    return df


def summarize_css(fit: Any, ci: float = 0.9) -> pd.DataFrame:
    """Predicted steady-state concentration at every infusion rate each subject received.

    :math:`C_{ss} = 1000 R_0 / CL_i` (pg/mL) with ``CL_i`` the subject's
    clearance at baseline covariates (exact for any linear model eliminating
    from the central compartment).

    Parameters
    ----------
    fit : PopPKFit
        The fit (``constant_data.dose_rate`` holds the rates).
    ci : float, default 0.9
        Credible-interval mass.

    Returns
    -------
    DataFrame
        ``ID, RATE`` (ug/h), ``DOSE_PER_DAY`` (ug/day), ``CSS_MEAN, CSS_MEDIAN,
        CSS_LOWER, CSS_UPPER`` (pg/mL), one row per subject and rate.
    """
    post = fit.idata.posterior
    lo, hi = (1.0 - ci) / 2.0, 1.0 - (1.0 - ci) / 2.0
    cl = post["indiv"].sel(param="CL").stack(sample=("chain", "draw")).transpose(
        "subject", "sample")
    cl = np.asarray(cl.values, dtype=float)
    rates = np.asarray(fit.idata.constant_data["dose_rate"].values, dtype=float)
    ids = post["subject"].values
    rows = []
    for i in range(rates.shape[0]):
        for r in rates[i][np.isfinite(rates[i])]:
            css = 1000.0 * r / cl[i]
            rows.append({"ID": ids[i], "RATE": r, "DOSE_PER_DAY": r * 24.0,
                         "CSS_MEAN": css.mean(), "CSS_MEDIAN": np.median(css),
                         "CSS_LOWER": np.quantile(css, lo), "CSS_UPPER": np.quantile(css, hi)})
    df = pd.DataFrame(rows, columns=["ID", "RATE", "DOSE_PER_DAY", "CSS_MEAN", "CSS_MEDIAN",
                                     "CSS_LOWER", "CSS_UPPER"])
    df.attrs["ci"] = ci
    return df


def eta_shrinkage(fit: Any) -> pd.DataFrame:
    """Eta shrinkage ``1 - SD(posterior-mean eta) / omega`` per BSV parameter.

    ``omega`` is the posterior mean of omega. Shrinkage near 0: individual
    estimates are informed by the data; above ~0.3: individual estimates (and
    plots of them against covariates) are pulled towards the typical value
    (Savic & Karlsson, AAPS J 2009;11:558-569).

    Parameters
    ----------
    fit : PopPKFit
        The fit.

    Returns
    -------
    DataFrame
        ``PARAMETER, OMEGA, SD_ETA, SHRINKAGE``.
    """
    post = fit.idata.posterior
    rows = []
    for p in fit.spec.bsv:
        eta_mean = np.asarray(post["eta"].sel(eta_param=p).mean(("chain", "draw")).values)
        omega = float(post[f"omega_{p}"].mean().values)
        sd = float(np.std(eta_mean, ddof=1)) if eta_mean.size > 1 else np.nan
        rows.append({"PARAMETER": p, "OMEGA": omega, "SD_ETA": sd,
                     "SHRINKAGE": 1.0 - sd / omega if omega > 0 else np.nan})
    return pd.DataFrame(rows, columns=["PARAMETER", "OMEGA", "SD_ETA", "SHRINKAGE"])

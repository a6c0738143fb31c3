"""DLT probability per dose from exposure: a logistic in log Css, or a safety E-R model.

For a continuous infusion the steady-state concentration is
``Css = R0 / CL``; with a daily dose ``D`` (ug/day) and clearance ``CL``
(L/h), ``Css [pg/mL] = 1000 * D / (24 * CL)``. A patient's DLT probability
is a logistic function of log Css,

    P(DLT | Css) = 1 / (1 + (css50 / Css) ** slope),

(``css50``: the Css with a 50 % DLT probability; ``slope``: the change of
the log-odds per unit log Css), and the population probability at a dose is
its average over the lognormal distribution of CL,
``log CL ~ N(log cl_median, cl_omega**2)``, by adaptive quadrature
(:func:`dlt_probabilities_from_exposure`). :func:`dlt_probabilities_from_er`
takes the model from an :class:`blinapk.er.ERFit` instead and the exposure
from virtual patients of a model card or posterior (:func:`predict_dose_levels`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.integrate import quad
from scipy.special import expit

__all__ = ["dlt_probabilities_from_er", "dlt_probabilities_from_exposure", "predict_dose_levels"]

SQRT_2PI = float(np.sqrt(2 * np.pi))


def _mean_logistic_normal(m: float, s: float) -> float:
    """E[expit(m - s Z)], Z ~ N(0, 1), by adaptive quadrature around the logistic's centre."""
    if s == 0:
        return float(expit(m))
    centre = m / s  # where the logistic is steepest: a breakpoint for the quadrature
    lo, hi = min(-12.0, centre - 1.0), max(12.0, centre + 1.0)

    def integrand(z: float) -> float:
        return float(expit(m - s * z) * np.exp(-0.5 * z * z)) / SQRT_2PI

    value, _ = quad(integrand, lo, hi, points=[centre], epsabs=1e-13, epsrel=1e-11, limit=200)
    return value


def dlt_probabilities_from_exposure(doses: Sequence[float] | np.ndarray, cl_median: float,
                                    cl_omega: float, *, css50: float, slope: float
                                    ) -> np.ndarray:
    """Compute the population DLT probability per dose: logistic in log Css, averaged over CL.

    Parameters
    ----------
    doses : array_like
        Daily doses in ug/day; or in ug/m2/day with ``cl_median`` in L/h/m2
        (clearance per m2 of BSA).
    cl_median : float
        Median clearance (L/h, or L/h/m2), > 0.
    cl_omega : float
        Between-subject log-SD of clearance, >= 0 (0: every patient has
        ``cl_median``).
    css50 : float
        Css (pg/mL) at which P(DLT) = 0.5, > 0.
    slope : float
        Log-odds of DLT per unit log Css (> 0: toxicity rises with exposure).

    Returns
    -------
    numpy.ndarray
        P(DLT) per dose (absolute error below 1e-10).

    Examples
    --------
    The dose whose median Css is ``css50`` has P(DLT) = 0.5 whatever the
    spread of CL (the logistic and the normal are both symmetric):

    >>> css_at_24 = 1000 * 24 / (24 * 2.0)  # 500 pg/mL for 24 ug/day and CL 2 L/h
    >>> p = dlt_probabilities_from_exposure([24.0], 2.0, 0.7, css50=css_at_24, slope=2.0)
    >>> round(float(p[0]), 10)
    0.5
    """
    dose = np.asarray(doses, dtype=float)
    if not (cl_median > 0 and cl_omega >= 0 and css50 > 0) or np.any(dose <= 0):
        raise ValueError("need doses > 0, cl_median > 0, cl_omega >= 0 and css50 > 0")
    # log Css = log Css_median - omega Z (higher CL, lower Css)
    log_css_median = np.log(1000.0 * dose / (24.0 * cl_median))
    centre = slope * (log_css_median - np.log(css50))
    return np.array([_mean_logistic_normal(float(m), slope * cl_omega) for m in centre.ravel()]
                    ).reshape(dose.shape)


def predict_dose_levels(doses: Sequence[float], er: Any, *, unit: str = "ug/day",
                        source: Any = "blinatumomab_zhu2020", population: Any = "adult",
                        n: int = 2000, seed: int = 0, n_draws: int = 1,
                        max_draws: int = 1000, ci: float = 0.9) -> pd.DataFrame:
    """Event rate per dose from an E-R model, through the simulated exposure at each dose.

    Each dose is given as a flat continuous infusion (one 28-day cycle,
    ``unit`` ``ug/day`` or ``ug/m2/day``) to the same ``n`` virtual patients
    (same ``seed``: common random numbers across doses), their exposure is
    simulated (:func:`~blinapk.simulate.simulate_exposure`, metric of the
    model: ``css``, ``css_start`` or ``cavg`` over the infusion or the fit's
    window) and the model predicts the rate
    (:func:`~blinapk.simulate.predict_response`).

    Parameters
    ----------
    doses : sequence of float
        Dose per level, lowest first.
    er : ERFit
        A binary E-R model of the toxicity (e.g. ``crs3``; :func:`blinapk.er.fit_er`
        or :func:`blinapk.er.given.given_er`).
    unit : str
        Dose unit.
    source, population, n, seed, n_draws
        As :func:`~blinapk.simulate.simulate_exposure`.
    max_draws, ci
        As :func:`~blinapk.simulate.predict_response`.

    Returns
    -------
    DataFrame
        ``DOSE``, ``UNIT``, ``EXPOSURE_GMEAN`` (pg/mL), ``MEAN`` (posterior
        mean rate: the probability for a new patient), ``MEDIAN``, ``LOWER``, ``UPPER``.
    """
    from blinapk.dosing import CycleSpec, Regimen, Step
    from blinapk.simulate.exposure import simulate_exposure
    from blinapk.simulate.response import predict_response

    window = dict(er.settings.get("exposure", {})).get("window") or (0.0, 28 * 24.0)
    rows = []
    for dose in np.asarray(doses, dtype=float):
        if not (np.isfinite(dose) and dose > 0):
            raise ValueError(f"doses must be > 0, got {dose!r}")
        reg = Regimen(f"{dose:g} {unit}", (CycleSpec(1, None, (Step(1, float(dose), unit),)),))
        ds = simulate_exposure(n, seed, source=source, population=population, regimen=reg,
                               n_draws=n_draws, windows={"ER": tuple(window)}, thresholds=())
        pick = {"x": ("CAVG", "ER")} if er.metric == "cavg" else None
        row = predict_response(ds, {"x": er}, exposure=pick, max_draws=max_draws,
                               ci=ci).iloc[0]
        rows.append({"DOSE": float(dose), "UNIT": unit, **{k: row[k] for k in (
            "EXPOSURE_GMEAN", "MEAN", "MEDIAN", "LOWER", "UPPER")}})
    return pd.DataFrame(rows)


def dlt_probabilities_from_er(doses: Sequence[float] | np.ndarray, er: Any, *,
                              statistic: str = "mean", **kwargs: Any) -> np.ndarray:
    """DLT probability per dose from a safety E-R model (see :func:`predict_dose_levels`).

    Parameters
    ----------
    doses : array_like
        Dose per level.
    er : ERFit
        Binary E-R model of the DLT-defining event.
    statistic : {"mean", "median"}
        ``mean``: posterior mean rate (the predictive probability of a DLT
        for a new patient); ``median``: posterior median.
    **kwargs
        Passed to :func:`predict_dose_levels`.

    Returns
    -------
    numpy.ndarray
        P(DLT) per dose, usable as ``p_dlt`` (or, wrapped in
        :func:`functools.partial`, as a callable of the doses).
    """
    if statistic not in ("mean", "median"):
        raise ValueError(f"statistic must be 'mean' or 'median', got {statistic!r}")
    table = predict_dose_levels(doses, er, **kwargs)
    return table[statistic.upper()].to_numpy(float)

r"""Residual error models and the BLQ (M3) censored likelihood.

Four residual models, for a prediction :math:`f` (pg/mL):

* ``proportional``: :math:`\log DV \sim N(\log f, \sigma_{prop})` (log-normal
  error; the usual choice for a bioassay whose CV is roughly constant);
* ``proportional_linear``: :math:`DV \sim N(f, \sigma_{prop} f)`, NONMEM's
  ``Y = F + F*EPS(1)`` (proportional on the natural scale; use it to reproduce
  a NONMEM model exactly);
* ``additive``: :math:`DV \sim N(f, \sigma_{add})`;
* ``combined``: :math:`DV \sim N(f, \sqrt{\sigma_{add}^2 + (\sigma_{prop} f)^2})`.

A below-LLOQ row (``CENS == 1``) contributes, with the M3 method of Beal
(J Pharmacokinet Pharmacodyn 2001;28:481-504), the probability of being
below the LLOQ under the same residual model:
:math:`\log \Phi((\log LLOQ - \log f)/\sigma_{prop})` (proportional) or
:math:`\log \Phi((LLOQ - f)/sd)` (proportional_linear, additive, combined). Quantified and censored
rows live in the single observed variable ``conc`` (one pointwise
log-likelihood per observation, for LOO). The censored-normal likelihood itself
(:func:`censored_normal_logp`, :func:`split_censored_logp`, :func:`log_ndtr`) lives in
:mod:`blinapk.mcmc.likelihood`, shared with exposure-response; it is re-exported here.

Note on LOO: the proportional model's likelihood is on the log scale, so its
ELPD is not comparable with a model on the natural scale (proportional_linear,
additive, combined) without the Jacobian
:math:`-\sum \log DV` of the quantified rows.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

from blinapk.mcmc.likelihood import censored_normal_logp, log_ndtr, split_censored_logp

__all__ = [
    "PRED_FLOOR",
    "add_observations",
    "censored_normal_logp",
    "log_ndtr",
    "obs_scale",
    "residual_sd",
    "split_censored_logp",
    "uses_sigma_add",
    "uses_sigma_prop",
]

#: Added to predictions before taking logs (pg/mL): keeps log f finite during
#: long wash-outs, where f underflows, at no measurable cost elsewhere.
PRED_FLOOR = 1e-9


def uses_sigma_prop(residual: str) -> bool:
    """Return True when the residual model has a proportional SD ``sigma_prop``."""
    return residual in ("proportional", "proportional_linear", "combined")


def uses_sigma_add(residual: str) -> bool:
    """Return True when the residual model has an additive SD ``sigma_add`` (pg/mL)."""
    return residual in ("additive", "combined")


def residual_sd(pred: Any, residual: str, sigma_prop: Any = None, sigma_add: Any = None,
                xp: ModuleType = np) -> Any:
    """Residual SD on the scale of the likelihood (log scale for proportional).

    For ``proportional_linear`` the SD is ``sigma_prop * (pred + PRED_FLOOR)``:
    the floor keeps it > 0 where the prediction underflows (long wash-outs).

    Parameters
    ----------
    pred : array
        Predictions (pg/mL).
    residual : {"proportional", "proportional_linear", "additive", "combined"}
        Residual model.
    sigma_prop, sigma_add : scalar
        Proportional (fraction / log-scale SD) and additive (pg/mL) SDs.
    xp : module
        Array namespace (numpy or pytensor.tensor).

    Returns
    -------
    array or scalar
        The SD.

    Examples
    --------
    >>> float(residual_sd(np.array(100.0), "combined", 0.3, 40.0))
    50.0
    >>> round(float(residual_sd(np.array(100.0), "proportional_linear", 0.3)), 9)
    30.0
    """
    if residual == "proportional":
        return sigma_prop
    if residual == "proportional_linear":
        return sigma_prop * (pred + PRED_FLOOR)
    if residual == "additive":
        return sigma_add
    return xp.sqrt(sigma_add**2 + (sigma_prop * pred) ** 2)


def obs_scale(values: Any, residual: str, xp: ModuleType = np) -> Any:
    """Transform DV / LLOQ / predictions to the likelihood scale (log for proportional)."""
    if residual == "proportional":
        return xp.log(values + PRED_FLOOR)
    return values


def _censored_random(mu, sigma, cens, lower, rng=None, size=None):
    """Posterior-predictive draws: normal, reported at the limit when below it (censored rows)."""
    draws = rng.normal(mu, sigma, size=size)
    return np.where(np.asarray(cens) > 0, np.maximum(draws, lower), draws)


def add_observations(pred: Any, data: Any, residual: str, sigma_prop: Any = None,
                     sigma_add: Any = None, name: str = "conc") -> Any:
    """Add the observed variable (quantified and censored rows) to the current PyMC model.

    Quantified rows use the normal density on the likelihood scale; censored
    rows (M3) the log CDF at their LLOQ (:func:`censored_normal_logp`). The
    variable's posterior predictive draws are censored the same way (a draw
    below the LLOQ of a row that was censored is reported at the LLOQ).

    Parameters
    ----------
    pred : pytensor variable, shape (n_obs,)
        Predicted concentrations (pg/mL).
    data : PopPKData
        Prepared data (``dv``, ``lloq``, ``cens``).
    residual : {"proportional", "proportional_linear", "additive", "combined"}
        Residual model.
    sigma_prop, sigma_add : pytensor scalars
        Residual SDs (None when unused).
    name : str
        Variable name (dims ``("obs",)``).

    Returns
    -------
    pymc variable
        The observed random variable.
    """
    import pymc as pm
    import pytensor.tensor as pt

    mu = obs_scale(pred, residual, pt)
    sd = residual_sd(pred, residual, sigma_prop, sigma_add, pt) + pt.zeros_like(mu)
    if residual == "proportional":
        y = np.log(data.dv)
        # only censored rows have a limit; LLOQ may be 0 ("none reported") elsewhere
        lower = np.log(np.where(data.cens, data.lloq, 1.0))
    else:
        y = np.asarray(data.dv, dtype=float)
        lower = np.asarray(data.lloq, dtype=float)
    if not data.cens.any():
        return pm.Normal(name, mu=mu, sigma=sd, observed=y, dims="obs")
    cens = data.cens.astype(np.int64)
    lower = np.where(data.cens, lower, y)
    cens_rows = np.flatnonzero(data.cens)

    def logp(value, mu, sigma, cens, lower):
        return split_censored_logp(value, mu, sigma, cens_rows, lower)

    return pm.CustomDist(name, mu, sd, cens, lower, logp=logp, random=_censored_random,
                         observed=np.where(data.cens, lower, y), dims="obs")

r"""Residual error models and the BLQ (M3) censored likelihood.

Three residual models, for a prediction :math:`f` (pg/mL):

* ``proportional``: :math:`\log DV \sim N(\log f, \sigma_{prop})` (log-normal
  error; the usual choice for a bioassay whose CV is roughly constant);
* ``additive``: :math:`DV \sim N(f, \sigma_{add})`;
* ``combined``: :math:`DV \sim N(f, \sqrt{\sigma_{add}^2 + (\sigma_{prop} f)^2})`.

A below-LLOQ row (``CENS == 1``) contributes, with the M3 method of Beal
(J Pharmacokinet Pharmacodyn 2001;28:481-504), the probability of being
below the LLOQ under the same residual model:
:math:`\log \Phi((\log LLOQ - \log f)/\sigma_{prop})` (proportional) or
:math:`\log \Phi((LLOQ - f)/sd)` (additive, combined). With PyMC this is a
:class:`pymc.Censored` variable whose lower bound is the LLOQ on censored rows
and :math:`-\infty` elsewhere, so every observation has one pointwise
log-likelihood (for LOO) in the single variable ``conc``.

Note on LOO: the proportional model's likelihood is on the log scale, so its
ELPD is not comparable with an additive/combined model's without the Jacobian
:math:`-\sum \log DV` of the quantified rows.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

__all__ = ["PRED_FLOOR", "add_observations", "obs_scale", "residual_sd"]

#: Added to predictions before taking logs (pg/mL): keeps log f finite during
#: long wash-outs, where f underflows, at no measurable cost elsewhere.
PRED_FLOOR = 1e-9


def residual_sd(pred: Any, residual: str, sigma_prop: Any = None, sigma_add: Any = None,
                xp: ModuleType = np) -> Any:
    """Residual SD on the scale of the likelihood (log scale for proportional).

    Parameters
    ----------
    pred : array
        Predictions (pg/mL).
    residual : {"proportional", "additive", "combined"}
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
    """
    if residual == "proportional":
        return sigma_prop
    if residual == "additive":
        return sigma_add
    return xp.sqrt(sigma_add**2 + (sigma_prop * pred) ** 2)


def obs_scale(values: Any, residual: str, xp: ModuleType = np) -> Any:
    """Transform DV / LLOQ / predictions to the likelihood scale (log for proportional)."""
    if residual == "proportional":
        return xp.log(values + PRED_FLOOR)
    return values


def add_observations(pred: Any, data: Any, residual: str, sigma_prop: Any = None,
                     sigma_add: Any = None, name: str = "conc") -> Any:
    """Add the observed variable (quantified and censored rows) to the current PyMC model.

    Parameters
    ----------
    pred : pytensor variable, shape (n_obs,)
        Predicted concentrations (pg/mL).
    data : PopPKData
        Prepared data (``dv``, ``lloq``, ``cens``).
    residual : {"proportional", "additive", "combined"}
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
    sd = residual_sd(pred, residual, sigma_prop, sigma_add, pt)
    if residual == "proportional":
        y = np.log(data.dv)
        lower_c = np.log(data.lloq)
    else:
        y = np.asarray(data.dv, dtype=float)
        lower_c = np.asarray(data.lloq, dtype=float)
    if not data.cens.any():
        return pm.Normal(name, mu=mu, sigma=sd, observed=y, dims="obs")
    lower = np.where(data.cens, lower_c, -np.inf)
    y = np.where(data.cens, lower_c, y)
    return pm.Censored(name, pm.Normal.dist(mu=mu, sigma=sd), lower=lower, upper=None,
                       observed=y, dims="obs")

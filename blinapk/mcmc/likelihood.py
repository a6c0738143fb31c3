r"""Normal likelihoods with left-censoring (Beal's M3), shared by every PyMC model.

A row below its limit (``cens == 1``) contributes the probability of being
below the limit, :math:`\log \Phi((L - \mu)/\sigma)` (M3 method of Beal,
J Pharmacokinet Pharmacodyn 2001;28:481-504); the other rows the normal
log-density. The log CDF (:func:`log_ndtr`) is written with ``erfc`` only, so
the same graph compiles for the C, numba and JAX backends. Population PK
(:mod:`blinapk.poppk.likelihood`: BLQ concentrations) and exposure-response
(:mod:`blinapk.er.models`: cytokine peaks below LLOQ) both use these.

This module knows no pharmacology: numpy, scipy and PyTensor only.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

__all__ = ["censored_normal_logp", "log_ndtr", "split_censored_logp"]


def log_ndtr(z: Any, xp: ModuleType = np) -> Any:
    r"""Log of the standard normal CDF, :math:`\log \Phi(z)`, accurate in the far left tail.

    For :math:`z \ge -8`: :math:`\log(\tfrac12 \operatorname{erfc}(-z/\sqrt2))` (erfc keeps
    full relative precision there). For :math:`z < -8`: the asymptotic series
    :math:`-z^2/2 - \log(-z) - \tfrac12\log 2\pi + \log(1 - z^{-2} + 3z^{-4} - 15z^{-6}
    + 105z^{-8})` (relative error < 1e-6 at -8, smaller beyond; Abramowitz & Stegun
    26.2.12). Each branch only sees arguments valid for it, so values and
    gradients stay finite for every finite ``z``. Written with ``erfc`` only,
    which every backend (C, numba, JAX) implements.

    Parameters
    ----------
    z : array
        Standardised value.
    xp : module
        Array namespace (numpy or pytensor.tensor); numpy needs scipy.

    Returns
    -------
    array
        :math:`\log \Phi(z)`.

    Examples
    --------
    >>> round(float(log_ndtr(np.array(0.0))), 6)
    -0.693147
    """
    if xp is np:
        from scipy.special import erfc
    else:
        erfc = xp.erfc
    z_mid = xp.maximum(z, -8.0)
    mid = xp.log(0.5 * erfc(-z_mid / np.sqrt(2.0)))
    z_tail = xp.minimum(z, -8.0)
    r = 1.0 / (z_tail * z_tail)
    series = 1.0 - r * (1.0 - r * (3.0 - r * (15.0 - 105.0 * r)))
    tail = -0.5 * z_tail * z_tail - xp.log(-z_tail) - 0.5 * np.log(2.0 * np.pi) + xp.log(series)
    return xp.where(z < -8.0, tail, mid)


def censored_normal_logp(value: Any, mu: Any, sigma: Any, cens: Any, lower: Any,
                         xp: ModuleType = np) -> Any:
    r"""Pointwise log-likelihood: normal density, or M3 :math:`\log\Phi((L-\mu)/\sigma)`.

    The M3 term applies to censored rows, the density to the others.

    Parameters
    ----------
    value : array
        Observed values (likelihood scale).
    mu, sigma : array
        Mean and SD of the normal on that scale.
    cens : array of 0/1
        1 where the observation is below the limit.
    lower : array
        The limit (LLOQ on the likelihood scale) on censored rows; any finite
        number elsewhere.
    xp : module
        Array namespace.

    Returns
    -------
    array
        Log-likelihood of each observation.
    """
    z_obs = (value - mu) / sigma
    logpdf = -0.5 * z_obs * z_obs - xp.log(sigma) - 0.5 * np.log(2.0 * np.pi)
    logcdf = log_ndtr((lower - mu) / sigma, xp)
    return xp.where(cens > 0, logcdf, logpdf)


def split_censored_logp(value: Any, mu: Any, sigma: Any, cens_rows: np.ndarray,
                        lower: Any) -> Any:
    r"""PyTensor form of :func:`censored_normal_logp` that pays for the log CDF only where needed.

    The normal log-density is evaluated on every row (a handful of flops);
    the M3 term :math:`\log\Phi((L-\mu)/\sigma)` -- ``erfc``, logs and the
    tail series -- only on the censored rows ``cens_rows``, and written over
    the density there. Same values as :func:`censored_normal_logp`, but the
    log-density and its gradient cost about half as much when, as usual, few
    rows are censored (docs/benchmarks-poppk.md: 5.0 -> 2.7 ms per
    gradient at N = 3000 subjects).

    Parameters
    ----------
    value, mu, sigma : pytensor vectors, shape (n_obs,)
        Observed value, mean and SD on the likelihood scale.
    cens_rows : ndarray of int
        Positions of the censored rows (a constant of the model).
    lower : pytensor vector, shape (n_obs,)
        The limit on the likelihood scale (read on censored rows only).

    Returns
    -------
    pytensor vector
        Log-likelihood of each observation.
    """
    import pytensor.tensor as pt

    z_obs = (value - mu) / sigma
    logpdf = -0.5 * z_obs * z_obs - pt.log(sigma) - 0.5 * np.log(2.0 * np.pi)
    if cens_rows.size == 0:
        return logpdf
    idx = pt.constant(cens_rows.astype(np.int64))
    logcdf = log_ndtr((lower[idx] - mu[idx]) / sigma[idx], pt)
    return pt.set_subtensor(logpdf[idx], logcdf)

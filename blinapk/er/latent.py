r"""Latent exposure with the PK posterior as its prior (the propagated mode of :func:`fit_er`).

Each unit's true log exposure :math:`\ell_u` is a parameter of the E-R model.
Its prior is the population-PK posterior of the exposures, approximated by a
multivariate normal fitted to the posterior draws:
:math:`\ell \sim N(m, \Sigma)`, with :math:`m` and :math:`\Sigma` the mean
and covariance of the log exposure draws. The outcomes then update
:math:`\ell` together with the E-R parameters. Because the E-R parameters are
a priori independent of the PK parameters, this is the joint posterior of
exposure and E-R parameters given PK data and outcomes, up to the normal
approximation: the two-stage (PPP&D-like) form of the joint model (Zhang et
al., J Pharmacokinet Pharmacodyn 2003;30:387-404; Bennett & Wakefield,
Biometrics 2001;57:803-812).

Imputing exposure draws without letting the outcome inform them (classical
multiple imputation of a covariate) is classical measurement error and
attenuates the slope toward 0 (Carroll et al., *Measurement Error in
Nonlinear Models*, 2nd ed. 2006, ch. 3); this form does not.

The covariance keeps the correlations between units: the exposures of one
subject (e.g. cytokine peaks after the start and the step, both driven by
the subject's clearance) and, through the typical values, between subjects.
With fewer draws than units the sample covariance is singular; it is shrunk
toward its diagonal by :math:`\lambda = n_{units} / (n_{units} + n_{draws})`
(a Ledoit-Wolf-type target). The parameterisation is non-centred,
:math:`\ell = m + L z`, :math:`z \sim N(0, I)`, with :math:`L L^T = \Sigma`
from an eigendecomposition (components with a negligible eigenvalue dropped).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["LatentPrior", "add_latent_exposure", "latent_prior"]

#: Eigenvalues below this fraction of the largest are dropped (exactly collinear units).
EIG_REL_TOL = 1e-9


@dataclass(frozen=True)
class LatentPrior:
    r"""Normal approximation of the PK posterior of the units' log exposures.

    Attributes
    ----------
    mean : ndarray, shape (n_units,)
        Posterior mean of the log exposure.
    loading : ndarray, shape (n_units, n_components)
        :math:`L` with :math:`L L^T = \Sigma` (shrunk covariance).
    sd : ndarray, shape (n_units,)
        Posterior SD of the log exposure.
    max_abs_skew : float
        Largest absolute skewness of a unit's log exposure draws: the check
        of the normal approximation (0 for a normal; recorded in
        ``ERFit.settings["latent_max_abs_skew"]``).
    shrinkage : float
        Weight :math:`\lambda` of the diagonal target.
    """

    mean: np.ndarray
    loading: np.ndarray
    sd: np.ndarray
    max_abs_skew: float
    shrinkage: float


def latent_prior(draws: np.ndarray) -> LatentPrior:
    """Fit the normal prior of the log exposures to PK posterior draws.

    Parameters
    ----------
    draws : ndarray, shape (n_units, n_draws)
        Exposure draws (natural scale, > 0), one row per unit.

    Returns
    -------
    LatentPrior

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> z = rng.standard_normal(4000)
    >>> draws = np.exp(np.vstack([5.0 + 0.2 * z, 6.0 + 0.4 * z]))  # one subject, two events
    >>> prior = latent_prior(draws)
    >>> np.round(prior.mean, 2), np.round(prior.sd, 2), prior.loading.shape[1]
    (array([5.  , 5.99]), array([0.2, 0.4]), 2)
    """
    logd = np.log(np.asarray(draws, dtype=float))
    n_units, n_draws = logd.shape
    mean = logd.mean(axis=1)
    centred = logd - mean[:, None]
    cov = centred @ centred.T / max(n_draws - 1, 1)
    sd = np.sqrt(np.diag(cov))
    lam = n_units / (n_units + n_draws)
    cov = (1.0 - lam) * cov + lam * np.diag(np.diag(cov))
    w, v = np.linalg.eigh(cov)
    keep = w > EIG_REL_TOL * max(float(w.max()), 1e-300)
    loading = v[:, keep] * np.sqrt(w[keep])
    safe = np.where(sd > 0, sd, 1.0)
    skew = np.mean((centred / safe[:, None]) ** 3, axis=1)
    return LatentPrior(mean=mean, loading=loading, sd=sd,
                       max_abs_skew=float(np.max(np.abs(np.where(sd > 0, skew, 0.0)))),
                       shrinkage=float(lam))


def add_latent_exposure(prior: LatentPrior) -> object:
    """Add the latent log exposure to the PyMC model in context.

    Adds ``er_exposure_z`` (dims ``latent``; standard normal) and the
    deterministic ``er_exposure`` (dims ``imputation, unit``; pg/mL); the model
    must have the coords ``imputation`` (length 1) and ``unit``.

    Parameters
    ----------
    prior : LatentPrior
        From :func:`latent_prior`.

    Returns
    -------
    pytensor tensor, shape (1, n_units)
        The log exposure, for :func:`blinapk.er.models.add_er_model`.
    """
    import pymc as pm
    import pytensor.tensor as pt

    ctx = pm.modelcontext(None)
    ctx.add_coord("latent", list(range(prior.loading.shape[1])))
    z = pm.Normal("er_exposure_z", 0.0, 1.0, dims="latent")
    logx = (pt.constant(prior.mean) + pt.dot(pt.constant(prior.loading), z))[None, :]
    pm.Deterministic("er_exposure", pt.exp(logx), dims=("imputation", "unit"))
    return logx

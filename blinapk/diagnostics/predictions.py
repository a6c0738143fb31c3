r"""Per-observation predictions, residuals, PIT and NPDE of a population-PK fit.

:func:`compute_predictions` returns one tidy row per observation in the
likelihood (:class:`Predictions`):

``PRED``
    Population prediction: posterior median of :math:`f(\theta, \eta = 0)`
    at the subject's covariates.
``IPRED``, ``IPRED_LOWER``, ``IPRED_UPPER``
    Individual prediction: posterior median and central credible interval of
    :math:`f(\theta, \eta_i)`.
``PI_LOWER``, ``PI_UPPER``
    Posterior predictive interval of a new observation of the same subject
    at the same time (individual parameters plus residual error).
``IWRES``
    Conditional (individual weighted) residual: posterior mean of
    :math:`(h(DV) - h(f_i)) / \sigma` on the likelihood scale :math:`h`
    (log for the proportional model); empty for censored rows.
``PIT``
    Leave-one-out probability integral transform: :math:`P(Y_{rep} \le DV)`
    under the posterior without that observation, by Pareto-smoothed
    importance weights (Vehtari, Gelman & Gabry 2017). For a censored row,
    as in the M3 likelihood, only :math:`P(Y \le LLOQ)` is known: its PIT is
    drawn uniformly in :math:`(0, P(Y \le LLOQ))` (a randomised PIT), so PIT
    is uniform on (0, 1) under the model for censored and quantified rows
    alike.
``PD``, ``NPDE``
    Prediction discrepancy and normalised prediction distribution error
    from simulations of new subjects (:mod:`blinapk.diagnostics.npde`; BLQ
    rows by the imputation of Nguyen, Comets & Mentré 2012).

The simulated datasets behind ``PD``/``NPDE`` are kept
(:attr:`Predictions.sims`) for the VPC (:func:`blinapk.diagnostics.compute_vpc`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from blinapk.data import Dataset
from blinapk.diagnostics.npde import compute_npde, npde_tests
from blinapk.diagnostics.posterior import (
    add_residual,
    fit_data,
    new_subjects,
    posterior_sample,
    predict,
    residual_scale,
    select_draws,
    to_scale,
)
from blinapk.dosing import rate_table
from blinapk.poppk.likelihood import censored_normal_logp

__all__ = ["PREDICTION_COLUMNS", "Predictions", "compute_predictions", "loo_pit"]

#: Columns of :attr:`Predictions.table`, in order.
PREDICTION_COLUMNS: tuple[str, ...] = (
    "ROW", "ID", "TIME", "DVID", "DV", "CENS", "LLOQ", "RATE", "TSC", "PRED", "IPRED",
    "IPRED_LOWER", "IPRED_UPPER", "PI_LOWER", "PI_UPPER", "IWRES", "PIT", "PD", "NPDE")

#: Units of the columns (for CSV headers and plots).
PREDICTION_UNITS: dict[str, str] = {
    "TIME": "h", "DV": "pg/mL", "LLOQ": "pg/mL", "RATE": "ug/h", "TSC": "h", "PRED": "pg/mL",
    "IPRED": "pg/mL", "IPRED_LOWER": "pg/mL", "IPRED_UPPER": "pg/mL", "PI_LOWER": "pg/mL",
    "PI_UPPER": "pg/mL"}


@dataclass(frozen=True, eq=False)
class Predictions:
    """Per-observation predictions and residuals of a fit (:func:`compute_predictions`).

    Attributes
    ----------
    table : DataFrame
        One row per observation, columns :data:`PREDICTION_COLUMNS`
        (``TSC``: hours since the last change of the infusion rate).
    sims : ndarray, shape (n_sim, n_obs)
        Observations simulated for new subjects at the observed design
        (posterior draw, new random effects, residual error; uncensored).
    observations : DataFrame
        The dataset rows of the observations (every column, e.g. covariates
        for stratifying a VPC), in the order of :attr:`table`.
    ci : float
        Mass of the credible and predictive intervals.
    n_draws : int
        Posterior draws used.
    seed : int
        Seed of the simulations and randomised PIT/NPDE.
    residual : str
        Residual error model of the fit.
    rates : DataFrame
        Infusion rate profile of the subjects (:func:`blinapk.dosing.rate_table`:
        ``ID, START, END, RATE``, h and ug/h).
    units : dict
        Units of the table's columns.
    """

    table: pd.DataFrame
    sims: np.ndarray = field(repr=False)
    observations: pd.DataFrame = field(repr=False)
    ci: float
    n_draws: int
    seed: int
    residual: str
    rates: pd.DataFrame = field(repr=False)
    units: dict = field(default_factory=lambda: dict(PREDICTION_UNITS), repr=False)

    def to_frame(self) -> pd.DataFrame:
        """Return a copy of :attr:`table`."""
        return self.table.copy()

    def npde_tests(self, alpha: float = 0.05) -> pd.DataFrame:
        """Test the NPDE for mean 0, variance 1 and normality (:func:`npde_tests`)."""
        return npde_tests(self.table["NPDE"].to_numpy(float), alpha=alpha)

    def __len__(self) -> int:
        return len(self.table)


def loo_pit(loglik: np.ndarray, cdf: np.ndarray) -> np.ndarray:
    r"""Leave-one-out expectation of ``cdf`` per observation with PSIS weights.

    Parameters
    ----------
    loglik : ndarray, shape (D, n_obs)
        Pointwise log-likelihood of each draw.
    cdf : ndarray, shape (D, n_obs)
        The quantity to average (a predictive CDF at the observation).

    Returns
    -------
    ndarray, shape (n_obs,)
        :math:`\sum_s w_{is} F_{is}` with Pareto-smoothed weights
        :math:`w_{is} \propto 1 / p(y_i \mid \theta_s)`; the plain value
        for a single draw.
    """
    if loglik.shape[0] < 2:
        return cdf[0].copy()
    import arviz as az

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Pareto k is reported by compute_loo
        lw, _ = az.psislw(-np.ascontiguousarray(loglik.T))
    return np.clip(np.sum(np.exp(lw) * cdf.T, axis=1), 0.0, 1.0)


def _store_draws(fit: Any, y_rep: np.ndarray, data: Any, residual: str) -> None:
    """Posterior predictive group ``conc`` (likelihood scale, censored rows at the limit)."""
    import xarray as xr

    post = fit.idata.posterior
    shape = (post.sizes["chain"], post.sizes["draw"], y_rep.shape[1])
    h = to_scale(np.maximum(y_rep, 1e-300) if residual == "proportional" else y_rep, residual)
    lower = to_scale(data.lloq, residual)
    h = np.where(data.cens[None, :], np.maximum(h, lower[None, :]), h)
    group = xr.Dataset({"conc": (("chain", "draw", "obs"), h.reshape(shape))},
                       coords={"chain": post["chain"].values, "draw": post["draw"].values,
                               "obs": data.obs_row})
    if "posterior_predictive" in fit.idata.groups():
        del fit.idata.posterior_predictive
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit.idata.add_groups({"posterior_predictive": group})


def compute_predictions(fit: Any, dataset: Dataset, *, ci: float = 0.9, n_sim: int = 1000,
                        max_draws: int | None = 1000, seed: int | None = None,
                        store_draws: bool = False) -> Predictions:
    """PRED, IPRED, predictive intervals, conditional residuals, PIT and NPDE per observation.

    Parameters
    ----------
    fit : PopPKFit
        The fit (NUTS, Laplace or MAP).
    dataset : Dataset
        The dataset it was fitted to (checked by hash).
    ci : float, default 0.9
        Mass of the credible and predictive intervals.
    n_sim : int, default 1000
        Datasets simulated for new subjects (NPDE, VPC).
    max_draws : int or None, default 1000
        Posterior draws used (evenly spaced); None for all.
    seed : int, optional
        Seed of the simulations (default: the fit's seed), so the same fit
        gives the same table.
    store_draws : bool, default False
        Also add the posterior predictive draws of every observation to
        ``fit.idata`` (group ``posterior_predictive``, variable ``conc``, on
        the likelihood scale with censored rows at their limit, as
        :func:`blinapk.poppk.fit` does with ``posterior_predictive=True``);
        uses every posterior draw.

    Returns
    -------
    Predictions

    Raises
    ------
    BlinapkError
        The dataset is not the one fitted.
    ValueError
        ``ci`` outside (0, 1) or ``n_sim`` < 20.
    """
    if not 0.0 < ci < 1.0:
        raise ValueError(f"ci must be in (0, 1), got {ci}")
    if n_sim < 20:
        raise ValueError(f"n_sim must be >= 20, got {n_sim}")
    data = fit_data(fit, dataset)
    seed = int(fit.seed if seed is None else seed) % (2**32)
    rng = np.random.default_rng(seed)
    sample = posterior_sample(fit, data, select_draws(fit, None if store_draws else max_draws))
    residual = fit.spec.residual
    f_ind = predict(sample.indiv, data, fit.spec.structure, shift=sample.shift)
    f_pop = predict(sample.pop, data, fit.spec.structure, shift=sample.shift)
    lo, hi = (1.0 - ci) / 2.0, 1.0 - (1.0 - ci) / 2.0
    y_rep = add_residual(f_ind, sample, rng)

    frame = dataset.frame.set_index("ROW", drop=False).loc[data.obs_row]
    dv = frame["DV"].to_numpy(float)
    h_dv = to_scale(data.dv, residual)
    mu = to_scale(f_ind, residual)
    sd = residual_scale(f_ind, sample)
    z = (h_dv[None, :] - mu) / sd
    from scipy.special import ndtr

    h_lloq = to_scale(np.where(data.cens, data.lloq, data.dv), residual)
    loglik = censored_normal_logp(h_dv[None, :], mu, sd, data.cens[None, :], h_lloq[None, :])
    cdf = np.where(data.cens[None, :], ndtr((h_lloq[None, :] - mu) / sd), ndtr(z))
    pit = loo_pit(loglik, cdf)
    pit = np.where(data.cens, rng.uniform(0.0, 1.0, pit.size) * pit, pit)
    iwres = np.where(data.cens, np.nan, z.mean(axis=0))

    pick = rng.integers(0, sample.n_draws, size=n_sim)
    sim_sample = sample.take(pick)
    sims = add_residual(predict(new_subjects(sim_sample, rng), data, fit.spec.structure,
                                shift=sim_sample.shift), sim_sample, rng)
    pd_, npde = compute_npde(data.dv, data.cens, data.lloq, sims, data.subject_index, rng,
                                transform=np.log if residual == "proportional" else None)

    table = pd.DataFrame({
        "ROW": data.obs_row, "ID": frame["ID"].to_numpy(), "TIME": data.time,
        "DVID": fit.spec.dvid, "DV": dv, "CENS": data.cens.astype(int), "LLOQ": data.lloq,
        "RATE": data.rate, "TSC": data.since_change,
        "PRED": np.median(f_pop, axis=0), "IPRED": np.median(f_ind, axis=0),
        "IPRED_LOWER": np.quantile(f_ind, lo, axis=0),
        "IPRED_UPPER": np.quantile(f_ind, hi, axis=0),
        "PI_LOWER": np.quantile(y_rep, lo, axis=0), "PI_UPPER": np.quantile(y_rep, hi, axis=0),
        "IWRES": iwres, "PIT": pit, "PD": pd_, "NPDE": npde})
    table.attrs.update(ci=ci, seed=seed, n_sim=n_sim)
    if store_draws:
        _store_draws(fit, y_rep, data, residual)
    doses = dataset.frame[(dataset.frame["EVID"] == 1) & dataset.frame["ID"].isin(data.subjects)]
    return Predictions(table=table, sims=sims, observations=frame.reset_index(drop=True),
                       ci=ci, n_draws=sample.n_draws, seed=seed, residual=residual,
                       rates=rate_table(doses)[["ID", "START", "END", "RATE"]])

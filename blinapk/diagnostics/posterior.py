r"""Posterior draws of a population-PK fit as arrays, and predictions from them.

A :class:`PosteriorSample` holds, for a selection of posterior draws, every
subject's individual parameters, the population (typical, :math:`\eta = 0`)
parameters at the subject's covariates, the BSV SDs and correlation and the
residual SDs. From it:

* :func:`predict` gives concentrations at the observed design (or any
  other times) for each draw, individual or population;
* :func:`new_subjects` draws new random effects (the marginal, "new
  subject" predictive used by NPDE and the VPC);
* :func:`add_residual` adds residual error on the scale of the likelihood.

Population parameters come from the fit itself: :math:`\log P^{pop}_i =
\log P_i - \eta_i` for parameters with BSV (``indiv`` and ``eta`` of the
posterior), so covariate effects enter exactly as in the model. A covariate
that changes within a subject shifts the parameters of each observation as
in the model (:mod:`blinapk.poppk.build`); on a plotting grid
(:func:`predict` with ``times``) the baseline values are used.

The simulation here is written once and kept small: it is the
"posterior as parameter source" that :mod:`blinapk.simulate` may later take over.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from blinapk.data import Dataset
from blinapk.errors import BlinapkError
from blinapk.pk import DoseMatrix, predict_conc, predict_conc_plan
from blinapk.pk.covariates import design, log_effect
from blinapk.pk.segments import SegmentPlan, plan_segments
from blinapk.poppk.design import PopPKData, prepare_data
from blinapk.poppk.likelihood import PRED_FLOOR, obs_scale, residual_sd

__all__ = ["PosteriorSample", "add_residual", "fit_data", "new_subjects", "posterior_sample",
           "predict", "select_draws", "with_random_effects"]

#: Largest draws x observations block evaluated at once (memory bound).
_BLOCK = 2_000_000


def fit_data(fit: Any, dataset: Dataset) -> PopPKData:
    """Return the model-ready arrays of the dataset a fit was made on, checked against it.

    Parameters
    ----------
    fit : PopPKFit
        The fit.
    dataset : Dataset
        The dataset it was fitted to.

    Returns
    -------
    PopPKData
        Observations in the order of the fit's ``obs`` coordinate.

    Raises
    ------
    BlinapkError
        The dataset's hash differs from the fit's, or its observations do
        not match the fit's.
    """
    if dataset.hash != fit.data_hash:
        raise BlinapkError(
            f"diagnostics: the fit was made on a dataset with hash {fit.data_hash[:12]}..., "
            f"not on this one ({dataset.hash[:12]}...); pass the dataset the fit was made on")
    data = prepare_data(dataset, fit.spec)
    obs = np.asarray(fit.idata.posterior["subject"].values)
    rows = fit.idata.observed_data["obs"].values if "observed_data" in fit.idata.groups() \
        else data.obs_row
    if list(obs) != list(data.subjects) or not np.array_equal(np.asarray(rows), data.obs_row):
        raise BlinapkError("diagnostics: the fit's subjects or observations differ from the "
                           "dataset's; pass the dataset and spec the fit was made on")
    return data


def select_draws(fit: Any, max_draws: int | None) -> np.ndarray:
    """Flat indices (chain-major) of at most ``max_draws`` evenly spaced posterior draws.

    Parameters
    ----------
    fit : PopPKFit
        The fit.
    max_draws : int or None
        Upper bound (None: every draw).

    Returns
    -------
    ndarray of int
    """
    post = fit.idata.posterior
    total = int(post.sizes["chain"] * post.sizes["draw"])
    if max_draws is None or total <= max_draws:
        return np.arange(total)
    return np.unique(np.linspace(0, total - 1, int(max_draws)).round().astype(int))


def _flat(da: Any, *dims: str) -> np.ndarray:
    """(chain*draw, *dims) array of a posterior variable."""
    order = ("chain", "draw", *dims)
    return np.asarray(da.transpose(*order).values, dtype=float).reshape(
        (-1, *[da.sizes[d] for d in dims]))


@dataclass(frozen=True, eq=False)
class PosteriorSample:
    """Parameters of selected posterior draws as numpy arrays.

    Attributes
    ----------
    draw : ndarray of int, shape (D,)
        Flat (chain-major) index of each draw.
    structure : str
        ``1cmt`` or ``2cmt``.
    residual : str
        Residual error model.
    indiv, pop : Mapping[str, ndarray]
        Parameter -> ``(D, n_subjects)``: individual parameters and the
        population ones at the subject's baseline covariates (eta = 0).
    bsv : tuple of str
        Parameters with BSV, the columns of ``omega_chol``.
    omega_chol : ndarray, shape (D, k, k)
        Cholesky factor of the random-effect covariance of each draw.
    sigma_prop, sigma_add : ndarray or None, shape (D,)
        Residual SDs.
    shift : Mapping[str, ndarray]
        Parameter -> ``(D, n_obs)`` log-scale shift of time-varying
        covariates at each observation (empty when none varies).
    """

    draw: np.ndarray
    structure: str
    residual: str
    indiv: Mapping[str, np.ndarray] = field(repr=False)
    pop: Mapping[str, np.ndarray] = field(repr=False)
    bsv: tuple[str, ...]
    omega_chol: np.ndarray = field(repr=False)
    sigma_prop: np.ndarray | None = field(repr=False)
    sigma_add: np.ndarray | None = field(repr=False)
    shift: Mapping[str, np.ndarray] = field(repr=False)

    @property
    def n_draws(self) -> int:
        """Number of draws D."""
        return int(self.draw.size)

    def take(self, index: np.ndarray) -> PosteriorSample:
        """Return the draws at positions ``index`` (repeats allowed)."""
        idx = np.asarray(index, dtype=int)
        sel = {k: {p: v[idx] for p, v in getattr(self, k).items()}
               for k in ("indiv", "pop", "shift")}
        return PosteriorSample(
            draw=self.draw[idx], structure=self.structure, residual=self.residual,
            indiv=sel["indiv"], pop=sel["pop"], bsv=self.bsv,
            omega_chol=self.omega_chol[idx],
            sigma_prop=None if self.sigma_prop is None else self.sigma_prop[idx],
            sigma_add=None if self.sigma_add is None else self.sigma_add[idx],
            shift=sel["shift"])


def _omega_chol(post: Any, bsv: tuple[str, ...], draws: np.ndarray) -> np.ndarray:
    k = len(bsv)
    if k == 0:
        return np.zeros((draws.size, 0, 0))
    om = np.stack([_flat(post[f"omega_{p}"])[draws] for p in bsv], axis=1)
    if "corr_eta" in post:
        corr = _flat(post["corr_eta"], "eta_param", "eta_param_bis")[draws]
        corr = 0.5 * (corr + np.swapaxes(corr, 1, 2)) + 1e-12 * np.eye(k)
        chol = np.linalg.cholesky(corr)
    else:
        chol = np.broadcast_to(np.eye(k), (draws.size, k, k))
    return om[:, :, None] * chol


def _time_varying_shift(fit: Any, data: PopPKData, draws: np.ndarray) -> dict[str, np.ndarray]:
    """Log shift of each parameter at each observation from time-varying covariates."""
    post = fit.idata.posterior
    out: dict[str, np.ndarray] = {}
    for c in fit.spec.covariates:
        if c.covariate not in data.time_varying:
            continue
        var = post[f"beta_{c.name}"]
        if c.form == "categorical":
            dim = f"level_{c.name}"
            levels = tuple(str(v) for v in var[dim].values)
            beta = _flat(var, dim)[draws]  # (D, L)
            now = design(c.form, data.cov_obs[c.covariate], c.reference, levels) @ beta.T
            base = design(c.form, data.cov_subject[c.covariate], c.reference, levels) @ beta.T
            delta = (now - base[data.subject_index]).T
        else:
            beta = _flat(var)[draws][:, None]
            now = log_effect(c.form, beta, design(c.form, data.cov_obs[c.covariate],
                                                  c.reference))
            base = log_effect(c.form, beta, design(c.form, data.cov_subject[c.covariate],
                                                   c.reference))
            delta = now - base[:, data.subject_index]
        out[c.param] = out.get(c.param, 0.0) + delta
    return out


def posterior_sample(fit: Any, data: PopPKData, draws: np.ndarray) -> PosteriorSample:
    """Extract the parameters of the posterior draws ``draws``.

    Parameters
    ----------
    fit : PopPKFit
        The fit.
    data : PopPKData
        Its data (:func:`fit_data`).
    draws : ndarray of int
        Flat (chain-major) draw indices (:func:`select_draws`).

    Returns
    -------
    PosteriorSample
    """
    post = fit.idata.posterior
    draws = np.asarray(draws, dtype=int)
    ind = _flat(post["indiv"], "subject", "param")[draws]
    params = [str(p) for p in post["param"].values]
    indiv = {p: ind[:, :, k] for k, p in enumerate(params)}
    pop = dict(indiv)
    bsv = tuple(str(p) for p in fit.spec.bsv)
    if bsv:
        eta = _flat(post["eta"], "subject", "eta_param")[draws]
        names = [str(p) for p in post["eta_param"].values]
        for k, p in enumerate(names):
            pop[p] = indiv[p] * np.exp(-eta[:, :, k])
    sig = {n: (_flat(post[n])[draws] if n in post else None) for n in ("sigma_prop", "sigma_add")}
    return PosteriorSample(
        draw=draws, structure=fit.spec.structure, residual=fit.spec.residual, indiv=indiv,
        pop=pop, bsv=bsv, omega_chol=_omega_chol(post, bsv, draws),
        sigma_prop=sig["sigma_prop"], sigma_add=sig["sigma_add"],
        shift=_time_varying_shift(fit, data, draws))


def with_random_effects(sample: PosteriorSample, eta: np.ndarray) -> dict[str, np.ndarray]:
    """Individual parameters for given random effects: population parameters times exp(eta).

    Parameters
    ----------
    sample : PosteriorSample
        Draws (their population parameters).
    eta : ndarray, shape (D, n_subjects, k)
        Random effects, columns in the order of ``sample.bsv``.

    Returns
    -------
    dict
        Parameter -> ``(D, n_subjects)``.
    """
    out = dict(sample.pop)
    for k, p in enumerate(sample.bsv):
        out[p] = sample.pop[p] * np.exp(eta[:, :, k])
    return out


def new_subjects(sample: PosteriorSample, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Individual parameters of new subjects: population parameters times new random effects.

    Parameters
    ----------
    sample : PosteriorSample
        Draws (one new set of random effects per draw and subject).
    rng : numpy.random.Generator
        Random numbers.

    Returns
    -------
    dict
        Parameter -> ``(D, n_subjects)``.
    """
    if not sample.bsv:
        return dict(sample.pop)
    n_draws, n_sub = next(iter(sample.pop.values())).shape
    z = rng.standard_normal((n_draws, n_sub, len(sample.bsv)))
    return with_random_effects(sample, np.einsum("dij,dsj->dsi", sample.omega_chol, z))


def _tile_plan(plan: SegmentPlan, n: int) -> SegmentPlan:
    """Plan of ``n`` copies of every subject (copy ``d`` is rows ``d*n_sub ...``)."""
    n_sub = plan.n_subjects
    offset = (np.arange(n)[:, None] * n_sub + plan.subject_index[None, :]).ravel()
    return SegmentPlan(
        grid_time=np.tile(plan.grid_time, (n, 1)), grid_rate=np.tile(plan.grid_rate, (n, 1)),
        grid_bolus=np.tile(plan.grid_bolus, (n, 1)), subject_index=offset,
        state_index=np.tile(plan.state_index, n), dt=np.tile(plan.dt, n),
        rate=np.tile(plan.rate, n))


def predict(params: Mapping[str, np.ndarray], data: PopPKData, structure: str, *,
            times: np.ndarray | None = None, subject_index: np.ndarray | None = None,
            shift: Mapping[str, np.ndarray] | None = None) -> np.ndarray:
    """Concentrations (pg/mL) of every draw at the observations (or at given times).

    Parameters
    ----------
    params : mapping
        Parameter -> ``(D, n_subjects)`` (e.g. ``sample.indiv``, ``sample.pop``
        or :func:`new_subjects`).
    data : PopPKData
        Doses and observation design.
    structure : str
        ``1cmt`` or ``2cmt``.
    times, subject_index : ndarray, optional
        Other time points (h) and their subjects' rows; default the observations.
    shift : mapping, optional
        Parameter -> ``(D, n_obs)`` log shift of time-varying covariates
        (observations only).

    Returns
    -------
    ndarray, shape (D, n_points)
    """
    if times is None:
        times, subject_index = data.time, data.subject_index
    times = np.asarray(times, dtype=float)
    subject_index = np.asarray(subject_index, dtype=int)
    n_draws = next(iter(params.values())).shape[0]
    n_pts = times.size
    out = np.empty((n_draws, n_pts))
    if n_pts == 0:
        return out
    block = max(1, _BLOCK // max(n_pts, 1))
    if shift:  # per-observation parameters: the dense superposition, one dose row per point
        doses = data.doses
        for lo in range(0, n_draws, block):
            hi = min(lo + block, n_draws)
            n = hi - lo
            per_obs = {p: (v[lo:hi][:, subject_index]
                           * (np.exp(shift[p][lo:hi]) if p in shift else 1.0)).ravel()
                       for p, v in params.items()}
            rows = np.tile(subject_index, n)
            tiled = DoseMatrix(doses.time[rows], doses.amt[rows], doses.duration[rows])
            out[lo:hi] = np.asarray(predict_conc(
                np.tile(times, n), np.arange(n * n_pts), tiled, per_obs, model=structure,
                method="dense", per_observation=True)).reshape(n, n_pts)
        return out
    plan = plan_segments(times, subject_index, data.doses)
    cache: dict[int, SegmentPlan] = {}
    for lo in range(0, n_draws, block):
        hi = min(lo + block, n_draws)
        n = hi - lo
        tiled = cache.setdefault(n, _tile_plan(plan, n))
        flat = {p: np.ascontiguousarray(v[lo:hi]).ravel() for p, v in params.items()}
        out[lo:hi] = np.asarray(predict_conc_plan(tiled, flat, structure)).reshape(n, n_pts)
    return out


def to_scale(values: np.ndarray, residual: str) -> np.ndarray:
    """Values on the likelihood scale (log for the proportional model)."""
    return obs_scale(np.asarray(values, dtype=float), residual)


def residual_scale(pred: np.ndarray, sample: PosteriorSample) -> np.ndarray:
    """Residual SD of every draw and point on the likelihood scale, shape of ``pred``."""
    sp = None if sample.sigma_prop is None else sample.sigma_prop[:, None]
    sa = None if sample.sigma_add is None else sample.sigma_add[:, None]
    return np.broadcast_to(residual_sd(pred, sample.residual, sp, sa), pred.shape)


def add_residual(pred: np.ndarray, sample: PosteriorSample, rng: np.random.Generator
                 ) -> np.ndarray:
    """Observations drawn around ``pred`` with the residual model (natural scale, uncensored).

    Parameters
    ----------
    pred : ndarray, shape (D, n)
        Predictions (pg/mL) of the draws of ``sample``.
    sample : PosteriorSample
        The draws (their residual SDs).
    rng : numpy.random.Generator
        Random numbers.

    Returns
    -------
    ndarray, shape (D, n)
        Simulated DV (pg/mL); the proportional model gives positive values,
        the others may give values <= 0.
    """
    mu = to_scale(pred, sample.residual)
    y = mu + residual_scale(pred, sample) * rng.standard_normal(pred.shape)
    if sample.residual == "proportional":
        return np.exp(y) - PRED_FLOOR
    return y

r"""PSIS leave-one-out cross-validation of a fit, and comparison of fits on the same data.

:func:`compute_loo` estimates the expected log predictive density of a new
observation (:math:`\mathrm{elpd}_{loo}`) by Pareto-smoothed importance
sampling of the pointwise log-likelihood the fit stores (Vehtari, Gelman &
Gabry 2017), and reports the Pareto shape :math:`\hat k` of every
observation. Observations with :math:`\hat k > 0.7` have unreliable
importance weights: they are counted in :meth:`LOOResult.k_table`, listed in
:attr:`LOOResult.pointwise`, and a :class:`~blinapk.errors.DiagnosticWarning`
names them. In a hierarchical model a high :math:`\hat k` usually marks an
observation that alone determines its subject's random effects (a subject
with one or two samples) or an outlier.

The log-likelihood is put on the scale of the observations before
anything else: the proportional error model's likelihood is written for
:math:`\log DV`, so :math:`-\log DV` (the Jacobian) is added to its
quantified rows; censored rows are probabilities and need nothing. ELPDs of
different residual models are then comparable (:func:`compare_fits`).

Leaving out one *observation* asks how well the model predicts another
sample of a subject it has seen: the subject's random effects absorb most
of what a covariate explains, so observation-level LOO hardly separates a
model with a covariate from one without. ``level="subject"`` leaves out a
whole *subject*, with its random effects integrated out
(:func:`subject_loglik`: :math:`p(y_i \mid \theta) = \int p(y_i \mid
\theta, \eta)\, p(\eta \mid \Omega)\, d\eta` by importance sampling
of ``n_eta`` random effects per posterior draw), which is how well the model
predicts a new patient; this is the comparison for covariate models
(Vehtari, Mononen, Tolvanen, Sivula & Winther 2016; Merkle, Furr &
Rabe-Hesketh 2019).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from blinapk.errors import BlinapkError, DiagnosticWarning

__all__ = ["K_THRESHOLD", "LEVELS", "LOOResult", "compare_fits", "compute_loo", "subject_loglik"]

#: Pareto k above which PSIS-LOO is unreliable for an observation.
K_THRESHOLD = 0.7
#: What is left out: one observation, or one subject (random effects integrated out).
LEVELS: tuple[str, ...] = ("observation", "subject")
#: Pareto-k categories of :meth:`LOOResult.k_table` (upper bounds inclusive).
K_RANGES = (("(-inf, 0.5]", "good", 0.5), ("(0.5, 0.7]", "ok", 0.7),
            ("(0.7, 1]", "bad", 1.0), ("(1, inf)", "very bad", np.inf))


@dataclass(frozen=True, eq=False)
class LOOResult:
    r"""PSIS-LOO of a fit (:func:`compute_loo`).

    Attributes
    ----------
    elpd : float
        :math:`\mathrm{elpd}_{loo}` (log density of the observations, pg/mL scale).
    se : float
        Its standard error.
    p_loo : float
        Effective number of parameters.
    pointwise : DataFrame
        ``ROW, ID, TIME, CENS, ELPD, PARETO_K`` per observation, or ``ID,
        N_OBS, ELPD, PARETO_K`` per subject.
    n_draws : int
        Posterior draws used.
    elpd_data : arviz.ELPDData
        ArviZ's result (for :func:`arviz.compare`).
    level : str
        ``observation`` or ``subject`` (:data:`LEVELS`).
    """

    elpd: float
    se: float
    p_loo: float
    pointwise: pd.DataFrame = field(repr=False)
    n_draws: int
    elpd_data: Any = field(repr=False)
    level: str = "observation"

    @property
    def looic(self) -> float:
        r"""LOO information criterion, :math:`-2\,\mathrm{elpd}_{loo}`."""
        return -2.0 * self.elpd

    @property
    def n_high_k(self) -> int:
        """Observations with Pareto k above :data:`K_THRESHOLD`."""
        return int(np.sum(self.pointwise["PARETO_K"].to_numpy(float) > K_THRESHOLD))

    def k_table(self) -> pd.DataFrame:
        """Count the observations by Pareto k range.

        Returns
        -------
        DataFrame
            ``K_RANGE, LABEL, COUNT, PERCENT``.
        """
        k = self.pointwise["PARETO_K"].to_numpy(float)
        lower = -np.inf
        rows = []
        for rng, label, upper in K_RANGES:
            n = int(np.sum((k > lower) & (k <= upper)))
            rows.append((rng, label, n, 100.0 * n / max(k.size, 1)))
            lower = upper
        return pd.DataFrame(rows, columns=["K_RANGE", "LABEL", "COUNT", "PERCENT"])

    def summary(self) -> pd.DataFrame:
        """Return the estimates as a table.

        Returns
        -------
        DataFrame
            ``QUANTITY, ESTIMATE, SE`` for ``elpd_loo``, ``p_loo``, ``looic``,
            ``n_obs`` (or ``n_subjects``), ``n_draws`` and ``n_pareto_k_above_0.7``.
        """
        n = len(self.pointwise)
        units = "n_obs" if self.level == "observation" else "n_subjects"
        return pd.DataFrame([
            ("elpd_loo", self.elpd, self.se), ("p_loo", self.p_loo, np.nan),
            ("looic", self.looic, 2.0 * self.se), (units, float(n), np.nan),
            ("n_draws", float(self.n_draws), np.nan),
            (f"n_pareto_k_above_{K_THRESHOLD:g}", float(self.n_high_k), np.nan)],
            columns=["QUANTITY", "ESTIMATE", "SE"])


def natural_scale_loglik(fit: Any) -> Any:
    """Pointwise log-likelihood of the fit on the scale of DV (xarray, chain x draw x obs).

    Raises
    ------
    BlinapkError
        The fit has no ``log_likelihood`` group (fitted with
        ``log_likelihood=False``).
    """
    idata = fit.idata
    if "log_likelihood" not in idata.groups():
        raise BlinapkError("LOO: the fit has no log_likelihood group; refit with "
                           "log_likelihood=True (the default)")
    ll = idata.log_likelihood["conc"]
    if fit.spec.residual == "proportional":
        log_dv = idata.observed_data["conc"]
        cens = idata.constant_data["cens"].values > 0
        ll = ll - log_dv.where(~cens, 0.0)
    return ll


def _psis(ll: Any) -> Any:
    """PSIS-LOO of a (chain, draw, unit) log-likelihood; near-constant units get k = 0."""
    import arviz as az
    import xarray as xr

    unit = [d for d in ll.dims if d not in ("chain", "draw")][0]
    post = xr.Dataset({"_": xr.zeros_like(ll.isel({unit: 0}))})
    data = az.InferenceData(posterior=post, log_likelihood=xr.Dataset({"conc": ll}))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the k values are reported by compute_loo
        res = az.loo(data, pointwise=True)
    # a unit the model predicts with certainty (a BLQ sample long after the infusion
    # stopped: log P(Y < LLOQ) ~ 0 in every draw) has (nearly) uniform weights; PSIS
    # returns k = inf for it, which is an artefact, not a warning
    flat = ll.stack(__sample__=("chain", "draw")).transpose(unit, "__sample__").values
    constant = np.ptp(flat, axis=1) < 1e-3
    if constant.any():
        res.pareto_k.values[constant] = 0.0
        res["warning"] = bool(np.any(res.pareto_k.values > K_THRESHOLD))
    return res


def _eta_proposal(fit: Any, bsv: tuple[str, ...], inflate: float
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Mean and Cholesky factor of each subject's importance proposal for its random effects."""
    post = fit.idata.posterior
    eta = np.asarray(post["eta"].sel(eta_param=list(bsv)).transpose(
        "chain", "draw", "subject", "eta_param").values, dtype=float)
    eta = eta.reshape(-1, eta.shape[2], eta.shape[3])
    mean = eta.mean(axis=0)
    dev = eta - mean
    cov = np.einsum("dsi,dsj->sij", dev, dev) / max(eta.shape[0] - 1, 1)
    cov = inflate * cov + 1e-8 * np.eye(len(bsv))
    return mean, np.linalg.cholesky(cov)


def subject_loglik(fit: Any, dataset: Any, *, max_draws: int = 400, n_eta: int = 200,
                   seed: int | None = None, inflate: float = 2.0) -> Any:
    r"""Compute each subject's log-likelihood with its random effects integrated out.

    For each posterior draw :math:`\theta_s` and subject :math:`i`,
    :math:`\log p(y_i \mid \theta_s) = \log \int p(y_i \mid \theta_s, \eta)
    \, p(\eta \mid \Omega_s)\, d\eta`, by importance sampling: ``n_eta``
    random effects from a normal proposal centred on the subject's posterior
    mean of :math:`\eta` with ``inflate`` times its posterior covariance
    (wide enough to cover the integrand; sampling from :math:`N(0, \Omega)`
    instead misses it when the subject's data are informative). On the
    scale of DV (see :func:`natural_scale_loglik`).

    Parameters
    ----------
    fit : PopPKFit
        The fit.
    dataset : Dataset
        The dataset it was fitted to.
    max_draws : int, default 400
        Posterior draws used (evenly spaced).
    n_eta : int, default 200
        Importance draws per posterior draw and subject.
    seed : int, optional
        Seed (default: the fit's).
    inflate : float, default 2.0
        Variance inflation of the proposal.

    Returns
    -------
    xarray.DataArray
        Dims ``(chain, draw, subject)`` with one chain.
    """
    import xarray as xr
    from scipy.special import logsumexp

    from blinapk.diagnostics.posterior import (
        fit_data,
        posterior_sample,
        predict,
        residual_scale,
        select_draws,
        to_scale,
        with_random_effects,
    )
    from blinapk.poppk.likelihood import censored_normal_logp

    data = fit_data(fit, dataset)
    rng = np.random.default_rng(int(fit.seed if seed is None else seed) % (2**32))
    sample = posterior_sample(fit, data, select_draws(fit, max_draws))
    bsv = sample.bsv
    k = len(bsv)
    n_eta = n_eta if k else 1
    order = np.argsort(data.subject_index, kind="stable")
    starts = np.flatnonzero(np.r_[True, np.diff(data.subject_index[order]) != 0])
    residual = fit.spec.residual
    h_dv = to_scale(data.dv, residual)[order]
    h_lo = to_scale(np.where(data.cens, data.lloq, data.dv), residual)[order]
    cens = data.cens[order]
    jac = np.zeros(data.n_subjects)
    if residual == "proportional":  # density of DV, not of log DV
        np.add.at(jac, data.subject_index, np.where(data.cens, 0.0, -np.log(data.dv)))
    if k:
        q_mean, q_chol = _eta_proposal(fit, bsv, inflate)
        log_det_q = np.log(np.diagonal(q_chol, axis1=1, axis2=2)).sum(axis=1)
    out = np.empty((sample.n_draws, data.n_subjects))
    step = max(1, 2_000_000 // max(n_eta * data.n_obs, 1))
    for lo in range(0, sample.n_draws, step):
        idx = np.arange(lo, min(lo + step, sample.n_draws))
        sub = sample.take(np.repeat(idx, n_eta))
        weight = 0.0
        if k:
            z = rng.standard_normal((idx.size * n_eta, data.n_subjects, k))
            eta = q_mean[None] + np.einsum("sij,dsj->dsi", q_chol, z)
            # log N(eta; 0, Omega_s) - log q(eta), per draw and subject
            white = np.linalg.solve(sub.omega_chol[:, None], eta[..., None])[..., 0]
            log_prior = -0.5 * np.sum(white**2, axis=2) - np.log(np.diagonal(
                sub.omega_chol, axis1=1, axis2=2)).sum(axis=1)[:, None]
            log_q = -0.5 * np.sum(z**2, axis=2) - log_det_q[None, :]
            weight = log_prior - log_q
            params = with_random_effects(sub, eta)
        else:
            params = dict(sub.pop)
        f = predict(params, data, fit.spec.structure, shift=sub.shift)[:, order]
        ll = censored_normal_logp(h_dv, to_scale(f, residual), residual_scale(f, sub)[:, order],
                                  cens, h_lo)
        per = np.add.reduceat(ll, starts, axis=1) + weight
        out[idx] = logsumexp(per.reshape(idx.size, n_eta, -1), axis=1) - np.log(n_eta)
    out = out + jac[None, :]
    return xr.DataArray(out[None], dims=("chain", "draw", "subject"),
                        coords={"subject": np.asarray(data.subjects, dtype=object)})


def compute_loo(fit: Any, *, level: str = "observation", dataset: Any = None,
                warn: bool = True, n_eta: int = 200, max_draws: int = 400) -> LOOResult:
    """PSIS-LOO with the Pareto-k diagnostic.

    Parameters
    ----------
    fit : PopPKFit
        A fit with posterior draws (NUTS or Laplace) and a log-likelihood group.
    level : {"observation", "subject"}
        Leave out one observation (the stored pointwise log-likelihood), or
        one subject with its random effects integrated out
        (:func:`subject_loglik`; needs ``dataset``).
    dataset : Dataset, optional
        The dataset fitted (``level="subject"`` only).
    warn : bool, default True
        Warn when some Pareto k exceeds :data:`K_THRESHOLD`.
    n_eta, max_draws : int
        Monte Carlo size of ``level="subject"`` (:func:`subject_loglik`).

    Returns
    -------
    LOOResult

    Raises
    ------
    BlinapkError
        A MAP fit (one draw), no log-likelihood, or ``level="subject"``
        without the dataset.

    Warns
    -----
    DiagnosticWarning
        Units (observations or subjects) with Pareto k > 0.7.
    """
    post = fit.idata.posterior
    n_draws = int(post.sizes["chain"] * post.sizes["draw"])
    if n_draws < 2:
        raise BlinapkError("LOO needs posterior draws; a MAP fit has one (use NUTS or Laplace)")
    if level not in LEVELS:
        raise BlinapkError(f"LOO: unknown level {level!r}; use one of {LEVELS}")
    if level == "subject":
        if dataset is None:
            raise BlinapkError("LOO by subject needs the dataset the fit was made on")
        ll = subject_loglik(fit, dataset, n_eta=n_eta, max_draws=max_draws)
        res = _psis(ll)
        n_obs = np.bincount(fit.idata.constant_data["subject_index"].values.astype(int),
                            minlength=ll.sizes["subject"])
        pointwise = pd.DataFrame({"ID": ll["subject"].values, "N_OBS": n_obs,
                                  "ELPD": np.asarray(res.loo_i),
                                  "PARETO_K": np.asarray(res.pareto_k)})
        n_used = int(ll.sizes["draw"])
    else:
        ll = natural_scale_loglik(fit)
        res = _psis(ll)
        const = fit.idata.constant_data
        subj = const["subject_index"].values.astype(int)
        pointwise = pd.DataFrame({"ROW": ll["obs"].values, "ID": post["subject"].values[subj],
                                  "TIME": const["time"].values,
                                  "CENS": const["cens"].values.astype(int),
                                  "ELPD": np.asarray(res.loo_i),
                                  "PARETO_K": np.asarray(res.pareto_k)})
        n_used = n_draws
    out = LOOResult(elpd=float(res.elpd_loo), se=float(res.se), p_loo=float(res.p_loo),
                    pointwise=pointwise, n_draws=n_used, elpd_data=res, level=level)
    if warn and out.n_high_k:
        worst = pointwise.nlargest(min(5, out.n_high_k), "PARETO_K")
        listed = ", ".join((f"ROW {r.ROW} (ID {r.ID}" if level == "observation" else
                            f"(ID {r.ID}") + f", k={r.PARETO_K:.2f})"
                           for r in worst.itertuples(index=False))
        units = "observations" if level == "observation" else "subjects"
        advice = ("Such observations alone pin their subject's random effects or are outliers: "
                  "inspect them (predictions table, individual fits) and compare models by "
                  "subject (level='subject')." if level == "observation" else
                  "Such subjects are unlike the others: inspect them (individual fits) and "
                  "prefer K-fold cross-validation by subject for the comparison.")
        warnings.warn(
            f"PSIS-LOO: {out.n_high_k} of {len(pointwise)} {units} have Pareto k > "
            f"{K_THRESHOLD:g} ({listed}{', ...' if out.n_high_k > 5 else ''}); their LOO "
            "estimates are unreliable, so elpd_loo and model comparisons are too optimistic. "
            + advice, DiagnosticWarning, stacklevel=2)
    return out


def _label(fit: Any) -> str:
    covs = ", ".join(f"{c.param}~{c.covariate}" for c in fit.spec.covariates)
    return f"{fit.spec.structure}" + (f" + {covs}" if covs else "") + f", {fit.spec.residual}"


def compare_fits(fits: Mapping[str, Any], *, level: str = "observation", dataset: Any = None,
                 n_eta: int = 200, max_draws: int = 400) -> pd.DataFrame:
    """Rank fits of different specs on the same data by PSIS-LOO.

    Parameters
    ----------
    fits : mapping
        Name -> PopPKFit (e.g. ``{"1cmt": fit1, "2cmt": fit2}``), all fitted
        to the same dataset with the same observations (same BLQ method and
        analyte).
    level : {"observation", "subject"}
        What is left out (see :func:`compute_loo`); ``subject`` (with
        ``dataset``) is the comparison for covariate models.
    dataset : Dataset, optional
        The dataset fitted (``level="subject"``).
    n_eta, max_draws : int
        Monte Carlo size of ``level="subject"``.

    Returns
    -------
    DataFrame
        ``MODEL, SPEC, RANK, ELPD_LOO, SE, P_LOO, ELPD_DIFF, DSE, WEIGHT,
        N_HIGH_K`` (best first; ``ELPD_DIFF`` and its SE ``DSE`` against the
        best, a difference of several ``DSE`` is a real preference;
        ``WEIGHT``: stacking weights).

    Raises
    ------
    BlinapkError
        Fewer than two fits, different datasets or different observations.
    """
    import arviz as az

    if len(fits) < 2:
        raise BlinapkError("compare_fits: give at least two fits")
    items = list(fits.items())
    ref_name, ref = items[0]
    ref_obs = ref.idata.observed_data["obs"].values
    for name, f in items[1:]:
        if f.data_hash != ref.data_hash:
            raise BlinapkError(f"compare_fits: {name!r} was fitted to another dataset than "
                               f"{ref_name!r}; LOO compares models on the same data only")
        if not np.array_equal(f.idata.observed_data["obs"].values, ref_obs):
            raise BlinapkError(f"compare_fits: {name!r} uses other observations than "
                               f"{ref_name!r} (BLQ method or analyte differ)")
    loos = {name: compute_loo(f, level=level, dataset=dataset, warn=False, n_eta=n_eta,
                              max_draws=max_draws) for name, f in items}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = az.compare({n: r.elpd_data for n, r in loos.items()}, ic="loo")
    out = pd.DataFrame({
        "MODEL": table.index, "SPEC": [_label(fits[n]) for n in table.index],
        "RANK": table["rank"].to_numpy(int), "ELPD_LOO": table["elpd_loo"].to_numpy(float),
        "SE": table["se"].to_numpy(float), "P_LOO": table["p_loo"].to_numpy(float),
        "ELPD_DIFF": table["elpd_diff"].to_numpy(float), "DSE": table["dse"].to_numpy(float),
        "WEIGHT": table["weight"].to_numpy(float),
        "N_HIGH_K": [loos[n].n_high_k for n in table.index]})
    return out.reset_index(drop=True)

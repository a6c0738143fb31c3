"""Starting values for the sampler and the optimiser.

A 3000-subject fit started at the prior centre wastes most of its warm-up
walking towards the data. Here the typical clearance is estimated, before
any fitting, the NCA way: at steady state of a constant infusion
``CL = 1000 * R0 / Css`` (:func:`blinapk.pk.cl_from_css`). Every quantified
observation taken while an infusion has been running at an unchanged rate
for at least :data:`STEADY_HOURS` hours gives one estimate; a subject's
estimate is their geometric mean and the typical value the median over
subjects.

Each subject's own parameters start at the mode of that subject's
conditional posterior on a grid (:func:`subject_starts`): clearance at the
subject's NCA estimate where there is one, every other parameter with
between-subject variability at the best of :data:`GRID_POINTS` values within
:data:`GRID_OMEGAS` omegas of its typical value (likelihood of the subject's
data, M3 for censored rows, plus the normal prior of the random effect), as
NONMEM's conditional estimates would start them. Beyond saving warm-up, this
keeps the first, poorly adapted warm-up steps away from the valley of a
subject whose data have two explanations. A sample one hour after an
infusion restarts after a 13-h interruption is high either because V is
large (slow decay from the previous, higher rate: V about 9.6 L, the truth of
subject 1999 in the N = 3000 robustness trial, seed 12) or because V is very
small (a fast rise to the new steady state), with a valley near V = 2 L. From
the typical start (V = 6 L) one of two chains crossed the valley during
warm-up and stayed in the small-V mode (V = 0.74 L, about e^-9 of the other
mode's density) for all its draws: omega_V R-hat 1.15. Started at the
subject's mode (V = 13 L), both chains stayed in the right one (R-hat 1.00).

Other typical values come from the model card when one is given, else from
the prior centres. When there is neither a steady-state sample nor a card
(bolus data, short infusions: e.g. the external validation sets), every
typical value is instead started at a naive-pooled fit (:func:`pooled_typical`:
least squares of log DV on log prediction, eta = 0, in a few hundred cheap
numpy predictions). A start far off (phenobarbital: prior centre 1 L/h/kg vs
0.005) is harmless for the log-scale proportional model but makes the
natural-scale likelihoods (``proportional_linear`` above all) so steep that
NUTS adapts its step size to ~1e-15 and never moves.

Variance components start at the prior centres (the card's omega / residual
values when card priors are used); covariate effects at their fixed value,
else from the card when it has the same effect, else 0 (no effect).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from blinapk.mcmc.likelihood import censored_normal_logp
from blinapk.pk import cl_from_css
from blinapk.pk.covariates import design, log_effect
from blinapk.poppk.design import PopPKData
from blinapk.poppk.likelihood import obs_scale, residual_sd
from blinapk.poppk.priors import PriorConfig
from blinapk.poppk.spec import PopPKSpec

__all__ = ["GRID_OMEGAS", "GRID_POINTS", "STEADY_HOURS", "InitialValues",
           "initial_values", "nca_clearance", "pooled_typical", "subject_starts"]

#: Hours at an unchanged infusion rate after which a sample counts as steady
#: state: > 4 half-lives of the typical 1.87 h (Zhu 2020), i.e. > 94 % of Css.
STEADY_HOURS = 8.0
#: Minimum number of subjects with a steady-state sample for the NCA start.
MIN_SUBJECTS = 3
#: Half-width, in omegas, of the grid of each subject's starting random effect.
GRID_OMEGAS = 4.0
#: Number of grid points (odd: the typical value is one of them).
GRID_POINTS = 41


@dataclass(frozen=True)
class InitialValues:
    """Starting values (natural scale for typical values).

    Attributes
    ----------
    typical : Mapping[str, float]
        Typical value of each structural parameter.
    source : Mapping[str, str]
        Where each typical value comes from: ``nca``, ``card``, ``pooled`` or ``prior``.
    subject_cl : ndarray
        Per-subject NCA clearance (NaN where no steady-state sample).
    subject_eta : Mapping[str, ndarray]
        Per-subject starting random effect of each parameter with
        between-subject variability, on the log scale relative to the typical
        value with covariate effects (:func:`subject_starts`).
    omega, sigma_prop, sigma_add : float or Mapping
        Starting variance components.
    beta : Mapping[str, float]
        Starting covariate effects (continuous forms).
    """

    typical: Mapping[str, float]
    source: Mapping[str, str]
    subject_cl: np.ndarray = field(repr=False)
    omega: Mapping[str, float]
    sigma_prop: float
    sigma_add: float
    beta: Mapping[str, float]
    subject_eta: Mapping[str, np.ndarray] = field(repr=False)


def nca_clearance(data: PopPKData) -> np.ndarray:
    """Per-subject steady-state clearance ``1000 R0 / C`` (L/h), NaN when not available.

    Parameters
    ----------
    data : PopPKData
        Prepared data (uses quantified observations taken after at least
        :data:`STEADY_HOURS` h at an unchanged, positive infusion rate).

    Returns
    -------
    ndarray, shape (n_subjects,)
        Geometric mean of the per-sample estimates of each subject.
    """
    ok = (~data.cens) & (data.rate > 0) & (data.since_change >= STEADY_HOURS) & (data.dv > 0)
    est = np.full(data.n_subjects, np.nan)
    if not ok.any():
        return est
    log_cl = np.log(cl_from_css(data.rate[ok], data.dv[ok]))
    s = data.subject_index[ok]
    mean = pd.Series(log_cl).groupby(s).mean()
    est[mean.index.to_numpy()] = np.exp(mean.to_numpy())
    return est


def _covariate_terms(data: PopPKData, spec: PopPKSpec, beta: Mapping[str, float]
                     ) -> dict[str, np.ndarray]:
    """Log-scale covariate term of each parameter per subject at the starting effects."""
    out = {p: np.zeros(data.n_subjects) for p in spec.params}
    for c in spec.covariates:
        b = float(beta.get(c.name, 0.0))
        if c.form == "categorical" or b == 0.0:
            continue
        d = design(c.form, data.cov_subject[c.covariate], c.reference)  # type: ignore[arg-type]
        out[c.param] = out[c.param] + log_effect(c.form, b, d)
    return out


def pooled_typical(data: PopPKData, spec: PopPKSpec, start: Mapping[str, float],
                   beta: Mapping[str, float] | None = None) -> dict[str, float] | None:
    """Naive-pooled typical values: least squares of log DV vs log prediction (eta = 0).

    Nelder-Mead on the log typical values (from ``start``), quantified
    observations only, covariate effects held at ``beta`` (fixed values or
    starting values; categorical effects at 0).

    Parameters
    ----------
    data : PopPKData
        Prepared data.
    spec : PopPKSpec
        Model spec with resolved references.
    start : mapping
        Starting typical values (natural scale), one per structural parameter.
    beta : mapping, optional
        Covariate effects by ``CovariateSpec.name``.

    Returns
    -------
    dict or None
        Typical values, or None when there is no quantified positive observation
        or the fit does not improve on ``start``.
    """
    from scipy.optimize import minimize

    from blinapk.pk import predict_conc

    ok = (~data.cens) & (data.dv > 0)
    if not ok.any():
        return None
    t, s, log_dv = data.time[ok], data.subject_index[ok], np.log(data.dv[ok])
    terms = _covariate_terms(data, spec, beta or {})
    names = spec.params

    def sse(x: np.ndarray) -> float:
        params = {p: np.exp(x[k] + terms[p]) for k, p in enumerate(names)}
        with np.errstate(all="ignore"):
            pred = np.asarray(predict_conc(t, s, data.doses, params, model=spec.structure))
            r = log_dv - np.log(pred + 1e-9)
        value = float(np.sum(r * r))
        return value if math.isfinite(value) else 1e300

    x0 = np.log([float(start[p]) for p in names])
    res = minimize(sse, x0, method="Nelder-Mead",
                   options={"maxiter": 400 * len(names), "xatol": 1e-3, "fatol": 1e-6})
    if not (np.all(np.isfinite(res.x)) and res.fun < sse(x0)):
        return None
    return {p: float(np.exp(v)) for p, v in zip(names, res.x, strict=True)}


def _subject_loglik(pred: np.ndarray, data: PopPKData, residual: str, sigma_prop: float,
                    sigma_add: float) -> np.ndarray:
    """Log-likelihood of each subject's observations (M3 for censored rows)."""
    with np.errstate(all="ignore"):
        mu = obs_scale(pred, residual)
        sd = residual_sd(pred, residual, sigma_prop, sigma_add) + np.zeros_like(mu)
        # censored rows hold their LLOQ: it is the value and the limit alike
        y = obs_scale(np.where(data.cens, data.lloq, data.dv), residual)
        ll = censored_normal_logp(y, mu, sd, data.cens, y)
    ll = np.where(np.isfinite(ll), ll, -1e30)
    return np.bincount(data.subject_index, weights=ll, minlength=data.n_subjects)


def subject_starts(data: PopPKData, spec: PopPKSpec, typical: Mapping[str, float],
                   beta: Mapping[str, float], omega: Mapping[str, float], sigma_prop: float,
                   sigma_add: float, subject_cl: np.ndarray | None = None
                   ) -> dict[str, np.ndarray]:
    r"""Each subject's starting random effects: the mode of its conditional posterior on a grid.

    For every parameter with between-subject variability, in the order of
    ``spec.bsv``, the random effect :math:`\eta` of every subject is set to
    whichever of :data:`GRID_POINTS` values evenly spaced on
    :math:`\pm` :data:`GRID_OMEGAS` :math:`\omega` maximises

    .. math:: \sum_j \log p(y_{ij} \mid \theta_i) - \eta^2 / (2 \omega^2),

    the other parameters held at their starts (M3 for censored rows; residual
    SDs at their starting values). A subject's clearance stays at its NCA
    estimate (``subject_cl``) where there is one. A subject without
    observations starts at its typical value.

    Parameters
    ----------
    data : PopPKData
        Prepared data.
    spec : PopPKSpec
        Model spec with resolved references.
    typical, beta, omega : mapping
        Starting typical values (natural scale), covariate effects and omegas.
    sigma_prop, sigma_add : float
        Starting residual SDs.
    subject_cl : ndarray, optional
        Per-subject NCA clearance (NaN where there is none).

    Returns
    -------
    dict of str to ndarray, shape (n_subjects,)
        Starting :math:`\eta` of each parameter in ``spec.bsv`` (log offset from
        the typical value with the starting covariate effects).
    """
    from blinapk.pk import plan_segments, predict_conc_plan

    terms = _covariate_terms(data, spec, beta)
    typ = {p: math.log(float(typical[p])) + terms[p] for p in spec.params}
    log_p = dict(typ)
    fixed_cl = np.zeros(data.n_subjects, dtype=bool)
    if "CL" in spec.bsv and subject_cl is not None:
        fixed_cl = np.isfinite(subject_cl)
        log_p["CL"] = np.where(fixed_cl, np.log(np.where(fixed_cl, subject_cl, 1.0)),
                               typ["CL"])
    if data.n_obs == 0:
        return {p: log_p[p] - typ[p] for p in spec.bsv}
    plan = plan_segments(data.time, data.subject_index, data.doses)
    grid = np.linspace(-GRID_OMEGAS, GRID_OMEGAS, GRID_POINTS)
    for p in spec.bsv:
        free = ~fixed_cl if p == "CL" else np.ones(data.n_subjects, dtype=bool)
        if not free.any() or not float(omega[p]) > 0:
            continue
        base = log_p[p].copy()
        best, best_eta = np.full(data.n_subjects, -np.inf), np.zeros(data.n_subjects)
        for g in grid * float(omega[p]):
            params = {q: np.exp(base + g if q == p else log_p[q]) for q in spec.params}
            with np.errstate(all="ignore"):
                pred = np.asarray(predict_conc_plan(plan, params, model=spec.structure))
            score = (_subject_loglik(pred, data, spec.residual, sigma_prop, sigma_add)
                     - 0.5 * (g / float(omega[p])) ** 2)
            better = score > best
            best, best_eta = np.where(better, score, best), np.where(better, g, best_eta)
        log_p[p] = np.where(free, base + best_eta, base)
    return {p: log_p[p] - typ[p] for p in spec.bsv}


def initial_values(data: PopPKData, spec: PopPKSpec, priors: PriorConfig, card: Any = None
                   ) -> InitialValues:
    """Compute starting values for ``spec`` on ``data`` (see module docstring).

    Parameters
    ----------
    data : PopPKData
        Prepared data.
    spec : PopPKSpec
        Model spec with resolved covariate references.
    priors : PriorConfig
        Resolved priors (their centres are the fall-back).
    card : ModelCard, optional
        Literature card.

    Returns
    -------
    InitialValues
    """
    typical, source = {}, {}
    cl_sub = nca_clearance(data)
    for p in spec.params:
        if card is not None and p in card.typical:
            typical[p], source[p] = float(card.typical[p]), "card"
        else:
            typical[p], source[p] = math.exp(priors[f"log_{p}"].centre()), "prior"
    nca = np.sum(np.isfinite(cl_sub)) >= MIN_SUBJECTS
    if nca:
        typical["CL"], source["CL"] = float(np.nanmedian(cl_sub)), "nca"
    omega = {p: priors[f"omega_{p}"].centre() for p in spec.bsv}
    if spec.correlation:
        omega = {p: max(o, 0.1) for p, o in omega.items()}
    sigma_prop = priors["sigma_prop"].centre() if "sigma_prop" in priors else 0.0
    sigma_add = priors["sigma_add"].centre() if "sigma_add" in priors else 0.0
    effects = {(e.param, e.covariate): e for e in card.covariates} if card is not None else {}
    beta = {}
    for c in spec.covariates:
        if c.is_fixed:
            beta[c.name] = float(c.fixed)  # type: ignore[arg-type]
            continue
        e = effects.get((c.param, c.covariate))
        same = (e is not None and e.form == c.form and c.form != "categorical"
                and float(e.reference) == float(c.reference))  # type: ignore[arg-type]
        beta[c.name] = float(e.value) if same else 0.0  # type: ignore[union-attr,arg-type]
    if not nca and card is None:
        pooled = pooled_typical(data, spec, typical, beta)
        if pooled is not None:
            typical = pooled
            source = {p: "pooled" for p in spec.params}
    starts = subject_starts(data, spec, typical, beta, omega, sigma_prop, sigma_add, cl_sub)
    return InitialValues(typical, source, cl_sub, omega, sigma_prop, sigma_add, beta, starts)

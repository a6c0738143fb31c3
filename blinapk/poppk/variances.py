r"""Approximate posterior variances of a population-PK model: NUTS's first mass matrix.

NUTS moves through the unconstrained space with a diagonal mass matrix that
its warm-up estimates from the draws. NumPyro starts from the identity and
keeps it through the first 100 warm-up iterations (its initial buffer and
first window). In a population-PK posterior the scales differ by two orders
of magnitude: at N = 200 the log proportional residual SD has a posterior SD
of 0.016, the log of a well-informed subject clearance 0.09, and a subject
effect that only the prior informs 1. With the identity the step size must
suit the narrowest direction and every trajectory must still cross the widest
one, so those 100 iterations took 30 800 gradient evaluations per chain
against 2 000 with the posterior's own SDs, half of the whole fit's sampling
time (docs/benchmarks-poppk.md).

:func:`approximate_variances` gives the warm-up a diagonal to start from,
computed before sampling from the design alone, as for a normal-normal model
linearised at the starting values. With :math:`I_i` the Fisher information of
subject :math:`i` on the log parameter (:func:`~blinapk.poppk.parameterisation.fisher_information`),
:math:`\omega` the starting between-subject SD and :math:`n` the number of
quantified observations:

* subject effect, given the population: :math:`v_i = 1 / (I_i + 1/\omega^2)`;
  centred (``phi``) :math:`v_i`, non-centred (``z``) :math:`v_i/\omega^2`,
  partially centred with weight :math:`w_i` (``psi``)
  :math:`v_i\,\omega^{2(w_i - 1)}`;
* typical value and covariate effects of a parameter: the inverse of
  :math:`\sum_i W_i x_i x_i^T + \Sigma_{prior}^{-1}` with
  :math:`x_i = (1, \text{design}_i)` and :math:`W_i = I_i / (1 + I_i \omega^2)`
  (:math:`W_i = I_i` without between-subject variability): the weighted
  least-squares covariance of a random-effects meta-analysis;
* log :math:`\omega`: :math:`1 / (2 \sum_i w_i^2 + 1)`, :math:`w_i = I_i\omega^2
  / (1 + I_i \omega^2)` (the information on log omega of the normal-normal
  model, plus a unit prior precision);
* log residual SD: :math:`1 / (2n + 1)` with one residual SD; with a
  proportional and an additive one, :math:`1 / (2 \sum_j s_{jk}^2 + 1)` for
  each, :math:`s_{jk}` the share of SD :math:`k`'s term in the variance of
  quantified value :math:`j` at the starting SDs and the observed value;
* the folded additive SD :math:`x` (pg/mL, :math:`\sigma_{add} = |x|`) keeps
  1: its draws visit both signs, so their spread is about :math:`\sigma_{add}`
  itself, and the only value known before the fit is the prior's centre (67
  pg/mL in the 150-subject recovery trial, whose posterior SD of :math:`x` is
  about 12): scaled by it, the estimate was 6x too wide.

Variables not covered (the folded additive SD, the Cholesky factor of
correlated random effects, the subject effects of a correlated block) keep 1,
NumPyro's default. The warm-up
replaces the diagonal with its own estimate at the end of its first window, so
an estimate that is off by a factor of a few costs a few more gradients, not
correctness: the posterior does not depend on it.
"""

from __future__ import annotations

import numpy as np

from blinapk.pk.covariates import design
from blinapk.poppk.build import BuildInfo, folds_sigma_add
from blinapk.poppk.likelihood import uses_sigma_add, uses_sigma_prop
from blinapk.poppk.parameterisation import fisher_information

__all__ = ["approximate_variances"]

_FLOOR, _CEIL = 1e-8, 1e4


def _prior_precision(info: BuildInfo, key: str) -> float:
    """Precision of a normal prior on the log scale (0 when not normal or missing)."""
    prior = info.priors[key] if key in info.priors else None
    if prior is None or prior.dist not in ("Normal", "StudentT"):
        return 0.0
    sigma = float(prior.kwargs.get("sigma", 0.0))
    return 1.0 / sigma**2 if sigma > 0 else 0.0


def _information(info: BuildInfo) -> dict[str, np.ndarray]:
    """Per-subject Fisher information of every structural parameter on the log scale."""
    spec = info.spec
    out = {p: c.information for p, c in info.parameterisation.items()
           if c.information.size == info.data.n_subjects}
    missing = [p for p in spec.params if p not in out]
    if missing:
        table = fisher_information(info.data, spec.structure, dict(info.init.typical),
                                   spec.residual, info.init.sigma_prop, info.init.sigma_add)
        out.update({p: table[p].to_numpy() for p in missing})
    return {p: np.nan_to_num(np.asarray(v, dtype=float), nan=0.0, posinf=0.0) for p, v in
            out.items()}


def _population(info: BuildInfo, p: str, weight: np.ndarray) -> dict[str, np.ndarray]:
    """Variances of ``log_<p>`` and of the free covariate effects on ``p``."""
    n_sub = info.data.n_subjects
    columns, names, precisions = [np.ones((n_sub, 1))], [f"log_{p}"], [
        _prior_precision(info, f"log_{p}")]
    sizes = [1]
    for c in info.spec.covariates:
        if c.param != p or c.is_fixed:
            continue
        d = design(c.form, info.data.cov_subject[c.covariate], c.reference,  # type: ignore[arg-type]
                   info.levels.get(c.name, ()))
        d = np.nan_to_num(np.asarray(d, dtype=float).reshape(n_sub, -1))
        columns.append(d)
        names.append(f"beta_{c.name}")
        precisions += [_prior_precision(info, f"beta_{c.name}")] * d.shape[1]
        sizes.append(d.shape[1])
    x = np.hstack(columns)
    fisher = x.T @ (weight[:, None] * x) + np.diag(precisions) + 1e-8 * np.eye(x.shape[1])
    diag = np.diag(np.linalg.pinv(fisher))
    bounds = np.cumsum([0, *sizes])
    out = {}
    for name, a, b, size in zip(names, bounds[:-1], bounds[1:], sizes, strict=True):
        out[name] = diag[a:b] if size > 1 else np.asarray(diag[a])
    return out


def _residual(info: BuildInfo) -> dict[str, np.ndarray]:
    """Variances of the log residual SDs (and of the folded additive SD, in pg/mL)."""
    spec, data = info.spec, info.data
    prop, add = uses_sigma_prop(spec.residual), uses_sigma_add(spec.residual)
    quantified = ~np.asarray(data.cens, dtype=bool)
    n = float(np.sum(quantified))
    share_prop, share_add = float(prop), float(add)
    if prop and add:
        # each quantified value informs the SD whose term dominates its variance:
        # Fisher information on log sd_k is sum_j 2 (var_jk / var_j)^2
        conc = np.abs(np.asarray(data.dv, dtype=float)[quantified])
        v_prop = (info.init.sigma_prop * conc) ** 2
        v_add = np.full(conc.shape, info.init.sigma_add ** 2)
        total = v_prop + v_add
        with np.errstate(divide="ignore", invalid="ignore"):
            share_prop = float(np.nanmean((v_prop / total) ** 2)) if n else 0.0
            share_add = float(np.nanmean((v_add / total) ** 2)) if n else 0.0
    out = {}
    if prop:
        out["sigma_prop_log__"] = np.asarray(1.0 / (2.0 * n * share_prop + 1.0))
    if add:
        var_log = 1.0 / (2.0 * n * share_add + 1.0)
        if not folds_sigma_add(spec, info.priors):
            out["sigma_add_log__"] = np.asarray(var_log)
    return out


def approximate_variances(info: BuildInfo) -> dict[str, np.ndarray]:
    """Approximate posterior variance of each unconstrained variable of a population-PK model.

    Parameters
    ----------
    info : BuildInfo
        From :func:`blinapk.poppk.build.model_info`.

    Returns
    -------
    dict
        Value-variable name (e.g. ``log_CL``, ``omega_CL_log__``, ``psi_V``,
        ``sigma_prop_log__``) -> variance (scalar or per subject), clipped to
        [1e-8, 1e4]; see the module docstring. Variables not named keep 1.

    Examples
    --------
    >>> from blinapk.datasets import load_example
    >>> from blinapk.poppk import build_model, model_info
    >>> v = approximate_variances(model_info(build_model(load_example())))
    >>> sorted(v)[:4]
    ['log_CL', 'log_V', 'omega_CL_log__', 'omega_V_log__']
    >>> bool(v["sigma_prop_log__"] < 0.01)
    True
    """
    spec = info.spec
    information = _information(info)
    out: dict[str, np.ndarray] = {}
    for p in spec.params:
        big_i = information[p]
        if p in spec.bsv:
            omega2 = max(float(info.init.omega[p]), 1e-3) ** 2
            weight = big_i / (1.0 + big_i * omega2)
        else:
            weight = big_i
        out.update(_population(info, p, weight))
        if p not in spec.bsv:
            continue
        shrink = big_i * omega2 / (1.0 + big_i * omega2)
        out[f"omega_{p}_log__"] = np.asarray(1.0 / (2.0 * np.sum(shrink**2) + 1.0))
        if spec.correlation:
            continue
        v = 1.0 / (big_i + 1.0 / omega2)
        choice = info.parameterisation[p]
        if choice.chosen == "centered":
            out[f"phi_{p}"] = v
        elif choice.chosen == "noncentered":
            out[f"z_{p}"] = v / omega2
        else:
            w = np.asarray(choice.weights, dtype=float)
            out[f"psi_{p}"] = v * omega2 ** (w - 1.0)
    out.update(_residual(info))
    return {k: np.clip(np.nan_to_num(np.asarray(v, dtype=float), nan=1.0), _FLOOR, _CEIL)
            for k, v in out.items()}


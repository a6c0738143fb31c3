r"""Fast approximate fits: MAP and the Laplace approximation.

Both work in the sampler's unconstrained space (log scale for positive
parameters, including the log-Jacobian of the transform), where a normal
approximation is most accurate:

* **MAP**: :math:`\hat x = \arg\max_x \log p(x \mid y)` by L-BFGS-B
  (:func:`scipy.optimize.minimize`) from the builder's starting values.
* **Laplace**: :math:`x \sim N(\hat x, H^{-1})` with :math:`H` the negative
  Hessian of the log posterior at :math:`\hat x`, obtained by central finite
  differences of the exact (autodiff) gradient; draws are mapped back to the
  natural scale, deterministics included.

Caveat for hierarchical models: the joint mode over random effects and
:math:`\omega` is not the marginal mode, so :math:`\omega` tends to be
underestimated when individual data are sparse (the random effects shrink to
0 at the mode). Use MAP/Laplace to iterate on a model quickly and NUTS for
inference; the summaries of a Laplace fit say so (``method`` in the result).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from blinapk.errors import BlinapkWarning

__all__ = ["LaplaceResult", "fit_laplace", "fit_map"]

_FD_STEP = 1e-5


@dataclass(frozen=True, eq=False)
class LaplaceResult:
    """Mode (and covariance) in unconstrained space.

    Attributes
    ----------
    x : ndarray
        Mode, flattened unconstrained values.
    cov : ndarray or None
        Covariance of the normal approximation (None for MAP).
    logp : float
        Log posterior density at the mode.
    success : bool
        Optimiser convergence flag.
    message : str
        Optimiser message.
    n_eval : int
        Number of function evaluations.
    """

    x: np.ndarray
    cov: np.ndarray | None
    logp: float
    success: bool
    message: str
    n_eval: int


class _Flat:
    """Flat-vector access to a PyMC model's log posterior, gradient and all variables."""

    def __init__(self, model: Any, start: Mapping[str, Any], seed: int | None):
        from pymc.blocking import DictToArrayBijection, RaveledVars
        from pymc.initial_point import make_initial_point_fn
        from pymc.util import get_default_varnames

        self.model = model
        self._rv = RaveledVars
        self._bij = DictToArrayBijection
        ipfn = make_initial_point_fn(model=model, jitter_rvs=set(), return_transformed=True,
                                     overrides=dict(start))
        self.start = ipfn(seed)
        names = [v.name for v in model.value_vars]
        x0 = DictToArrayBijection.map({n: self.start[n] for n in names})
        self.x0 = np.asarray(x0.data, dtype=float)
        self.info = x0.point_map_info
        self._logp = DictToArrayBijection.mapf(model.compile_logp(jacobian=True), self.start)
        self._dlogp = DictToArrayBijection.mapf(model.compile_dlogp(jacobian=True), self.start)
        outs = get_default_varnames(model.unobserved_value_vars, include_transformed=False)
        self.out_names = [v.name for v in outs]
        self._outs = model.compile_fn(inputs=model.value_vars, outs=outs)

    def logp(self, x: np.ndarray) -> float:
        return float(self._logp(self._rv(x, self.info)))

    def grad(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self._dlogp(self._rv(x, self.info)), dtype=float)

    def values(self, x: np.ndarray) -> dict[str, np.ndarray]:
        point = self._bij.rmap(self._rv(x, self.info), self.start)
        return dict(zip(self.out_names, self._outs(point), strict=True))


def _optimise(flat: _Flat, maxiter: int) -> tuple[np.ndarray, Any]:
    from scipy.optimize import minimize

    def cost(x):
        lp = flat.logp(x)
        if not np.isfinite(lp):
            return 1e300, np.zeros_like(x)
        return -lp, -flat.grad(x)

    res = minimize(cost, flat.x0, jac=True, method="L-BFGS-B",
                   options={"maxiter": maxiter, "maxfun": 4 * maxiter, "ftol": 1e-14,
                            "gtol": 1e-7})
    return np.asarray(res.x, dtype=float), res


def _hessian(flat: _Flat, x: np.ndarray) -> np.ndarray:
    """Negative Hessian of the log posterior by central differences of the gradient."""
    n = x.size
    h = np.empty((n, n))
    for k in range(n):
        step = _FD_STEP * max(1.0, abs(x[k]))
        e = np.zeros(n)
        e[k] = step
        h[:, k] = -(flat.grad(x + e) - flat.grad(x - e)) / (2.0 * step)
    return 0.5 * (h + h.T)


def _covariance(neg_hess: np.ndarray) -> np.ndarray:
    """Inverse of the negative Hessian, eigenvalues floored to keep it positive definite."""
    w, v = np.linalg.eigh(neg_hess)
    floor = max(float(w.max()) * 1e-10, 1e-10)
    if np.any(w <= floor):
        import warnings

        warnings.warn(
            f"Laplace: {int(np.sum(w <= floor))} non-positive curvature direction(s) at the "
            "mode were floored; the mode may be a saddle or a boundary (e.g. omega -> 0). "
            "Use method='nuts' for inference.", BlinapkWarning, stacklevel=3)
    w = np.maximum(w, floor)
    return (v / w) @ v.T


def fit_map(model: Any, start: Mapping[str, Any], *, seed: int | None = None,
            maxiter: int = 5000) -> tuple[LaplaceResult, dict[str, np.ndarray]]:
    """Posterior mode in unconstrained space.

    Parameters
    ----------
    model : pymc.Model
        The model.
    start : mapping
        Starting values by variable name (constrained space).
    seed : int, optional
        Seed of the initial-point function (no jitter is applied).
    maxiter : int
        L-BFGS-B iteration limit.

    Returns
    -------
    (LaplaceResult, dict)
        The mode and every variable (natural scale, deterministics included) at it.
    """
    flat = _Flat(model, start, seed)
    x, res = _optimise(flat, maxiter)
    out = LaplaceResult(x, None, flat.logp(x), bool(res.success), str(res.message),
                        int(res.nfev))
    return out, flat.values(x)


def fit_laplace(model: Any, start: Mapping[str, Any], *, draws: int = 1000, chains: int = 1,
                seed: int | None = None, maxiter: int = 5000
                ) -> tuple[LaplaceResult, dict[str, np.ndarray]]:
    """Laplace approximation: MAP plus normal draws from the inverse negative Hessian.

    Parameters
    ----------
    model : pymc.Model
        The model.
    start : mapping
        Starting values by variable name.
    draws, chains : int
        Number of draws, arranged as ``chains`` x ``draws`` (independent draws;
        chains only shape the output).
    seed : int, optional
        Seed of the normal draws (same seed, same draws).
    maxiter : int
        L-BFGS-B iteration limit.

    Returns
    -------
    (LaplaceResult, dict)
        The mode with its covariance, and ``name -> array (chains, draws, ...)``
        of every variable on the natural scale.
    """
    flat = _Flat(model, start, seed)
    x, res = _optimise(flat, maxiter)
    cov = _covariance(_hessian(flat, x))
    rng = np.random.default_rng(seed)
    chol = np.linalg.cholesky(cov + 1e-12 * np.eye(cov.shape[0]))
    z = rng.standard_normal((chains * draws, x.size))
    xs = x + z @ chol.T
    values = [flat.values(xi) for xi in xs]
    out = {name: np.stack([v[name] for v in values]).reshape(
        (chains, draws) + np.shape(values[0][name])) for name in flat.out_names}
    result = LaplaceResult(x, cov, flat.logp(x), bool(res.success), str(res.message),
                           int(res.nfev))
    return result, out

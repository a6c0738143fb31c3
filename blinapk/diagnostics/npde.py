r"""Normalised prediction distribution errors (NPDE) and their tests.

For each observation :math:`y_{ij}` of subject :math:`i` and :math:`K`
datasets simulated from the model at the observed design (new random
effects, residual error; :mod:`blinapk.diagnostics.posterior`):

1. the *prediction discrepancy* :math:`pd_{ij}` is the fraction of the
   simulated values below :math:`y_{ij}` (Mentré & Escolano 2006);
2. the observations and the simulations of each subject are *decorrelated*
   with the Cholesky factor of the simulated covariance matrix
   (:math:`y^* = L^{-1}(y - E)`), on the scale of the likelihood (log for the
   proportional model, where the simulations are close to normal);
3. :math:`pde_{ij}` is the fraction of decorrelated simulations below the
   decorrelated observation and :math:`npde_{ij} = \Phi^{-1}(pde_{ij})`,
   with :math:`pde = 0` set to :math:`1/K` and :math:`pde = 1` to
   :math:`1 - 1/K` (Brendel et al. 2006; Comets, Brendel & Mentré 2008).

Under the model, the NPDE are independent :math:`N(0, 1)`.

Observations below the LLOQ (``CENS == 1``) are imputed as the M3
likelihood sees them, after Nguyen, Comets & Mentré (2012): only
:math:`P(Y \le LLOQ)` is known, so the censored observation's
:math:`pd` is drawn uniformly in :math:`(0, P(Y \le LLOQ))` and the
observation is replaced by the simulated value at that quantile. Because
the Cholesky decorrelation runs forward in time, the imputation is made in
the decorrelated scale, *conditional on the subject's earlier
observations*: a sample taken hours after an infusion stopped is compared
with what the model predicts for that subject, not for any subject (the
marginal imputation of the original method gives spurious large NPDE there
for subjects whose clearance is far from typical). The ``PD`` column keeps
the marginal draw. The simulations themselves are not censored.

Tests (:func:`npde_tests`): the mean by a t-test against 0, the variance by
a chi-squared test against 1, normality by Shapiro-Wilk, and a global test
(the smallest of the three p-values times 3, capped at 1; Brendel et al. 2010).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["compute_npde", "npde_tests", "npde_trend"]


def _chol(cov: np.ndarray) -> np.ndarray:
    """Lower Cholesky factor, with a growing ridge if the simulated covariance is singular."""
    n = cov.shape[0]
    scale = float(np.mean(np.diag(cov))) or 1.0
    for ridge in (0.0, 1e-10, 1e-8, 1e-6, 1e-4, 1e-2, 1.0):
        try:
            return np.linalg.cholesky(cov + ridge * scale * np.eye(n))
        except np.linalg.LinAlgError:
            continue
    return np.sqrt(scale) * np.eye(n)


def _subject_pde(ty: np.ndarray, tl: np.ndarray, cens: np.ndarray, ts: np.ndarray,
                 u: np.ndarray) -> np.ndarray:
    """Return the pde of one subject's observations (time order), BLQ imputed in sequence."""
    from scipy.linalg import solve_triangular

    mean = ts.mean(axis=0)
    chol = _chol(np.atleast_2d(np.cov(ts, rowvar=False)))
    dec_sim = solve_triangular(chol, (ts - mean).T, lower=True).T
    srt = np.sort(dec_sim, axis=0)
    k = ts.shape[0]
    dec = np.empty(ty.size)
    pde = np.empty(ty.size)
    for j in range(ty.size):
        known = chol[j, :j] @ dec[:j]
        if cens[j]:
            # P(below LLOQ | the subject's earlier observations), as the M3 likelihood sees it
            limit = (tl[j] - mean[j] - known) / chol[j, j]
            pde[j] = u[j] * np.mean(dec_sim[:, j] <= limit)
            dec[j] = srt[min(int(pde[j] * k), k - 1), j]
        else:
            dec[j] = (ty[j] - mean[j] - known) / chol[j, j]
            pde[j] = np.mean(dec_sim[:, j] < dec[j])
    return pde


def compute_npde(obs: np.ndarray, cens: np.ndarray, lloq: np.ndarray, sims: np.ndarray,
                 subject_index: np.ndarray, rng: np.random.Generator,
                 transform=np.log) -> tuple[np.ndarray, np.ndarray]:
    """Prediction discrepancies and NPDE, with censored observations imputed.

    Parameters
    ----------
    obs : ndarray, shape (n_obs,)
        Observed values (pg/mL; censored rows at any value); within a
        subject in time order.
    cens : ndarray of bool, shape (n_obs,)
        Below the LLOQ.
    lloq : ndarray, shape (n_obs,)
        LLOQ of each observation.
    sims : ndarray, shape (K, n_obs)
        Simulated values at the observed design (uncensored).
    subject_index : ndarray of int, shape (n_obs,)
        Subject of each observation.
    rng : numpy.random.Generator
        Random numbers for the BLQ imputation.
    transform : callable, default numpy.log
        Monotone transform applied before decorrelation (the likelihood
        scale); ``None`` for the natural scale.

    Returns
    -------
    (pd, npde)
        Per observation.
    """
    k = sims.shape[0]
    cens = np.asarray(cens, dtype=bool)
    y = np.asarray(obs, dtype=float)
    lloq = np.asarray(lloq, dtype=float)
    u = rng.uniform(0.0, 1.0, y.size)
    pd_ = np.mean(sims < y[None, :], axis=0)
    pd_[cens] = u[cens] * np.mean(sims[:, cens] <= lloq[cens][None, :], axis=0)
    if transform is not None:
        positive = sims[sims > 0]
        floor = 1e-3 * (float(positive.min()) if positive.size else 1e-12)
        ty, tl, ts = (transform(np.maximum(v, floor)) for v in (y, lloq, sims))
    else:
        ty, tl, ts = y, lloq, sims
    pde = np.empty(y.size)
    for s in np.unique(subject_index):
        idx = np.flatnonzero(subject_index == s)
        pde[idx] = _subject_pde(ty[idx], tl[idx], cens[idx], ts[:, idx], u[idx])
    pde = np.clip(pde, 1.0 / k, 1.0 - 1.0 / k)
    from scipy.stats import norm

    return pd_, norm.ppf(pde)


def npde_tests(npde: np.ndarray, alpha: float = 0.05) -> pd.DataFrame:
    """Test that NPDE are N(0, 1): mean, variance, normality and a global test.

    Parameters
    ----------
    npde : array
        NPDE (NaN ignored).
    alpha : float, default 0.05
        Level at which ``SIGNIFICANT`` is set.

    Returns
    -------
    DataFrame
        ``TEST`` (``mean``, ``variance``, ``normality``, ``global``),
        ``ESTIMATE`` (mean, variance, Shapiro-Wilk W), ``EXPECTED`` (0, 1, 1),
        ``STATISTIC`` (t, chi-squared, W), ``P_VALUE``, ``SIGNIFICANT``, ``N``.

    Examples
    --------
    >>> x = np.random.default_rng(0).standard_normal(2000)
    >>> table = npde_tests(x).set_index("TEST")
    >>> table.index.tolist()
    ['mean', 'variance', 'normality', 'global']
    >>> bool(abs(table.loc["mean", "ESTIMATE"]) < 0.1)
    True
    """
    from scipy import stats

    x = np.asarray(npde, dtype=float)
    x = x[np.isfinite(x)]
    n = x.size
    if n < 3:
        nan = np.nan
        rows = [("mean", nan, 0.0, nan, nan), ("variance", nan, 1.0, nan, nan),
                ("normality", nan, 1.0, nan, nan), ("global", nan, nan, nan, nan)]
    else:
        mean, var = float(x.mean()), float(x.var(ddof=1))
        t = mean / np.sqrt(var / n)
        p_mean = float(2.0 * stats.t.sf(abs(t), n - 1))
        chi = (n - 1) * var
        p_var = float(2.0 * min(stats.chi2.cdf(chi, n - 1), stats.chi2.sf(chi, n - 1)))
        w, p_norm = stats.shapiro(x[:5000])
        p_global = min(1.0, 3.0 * min(p_mean, p_var, float(p_norm)))
        rows = [("mean", mean, 0.0, float(t), p_mean), ("variance", var, 1.0, float(chi), p_var),
                ("normality", float(w), 1.0, float(w), float(p_norm)),
                ("global", np.nan, np.nan, np.nan, p_global)]
    out = pd.DataFrame(rows, columns=["TEST", "ESTIMATE", "EXPECTED", "STATISTIC", "P_VALUE"])
    out["SIGNIFICANT"] = out["P_VALUE"] < alpha
    out["N"] = n
    out.attrs["alpha"] = alpha
    return out


def npde_trend(x: np.ndarray, npde: np.ndarray, n_bins: int = 8, *, log: bool = False
               ) -> pd.DataFrame:
    """Mean NPDE in quantile bins of ``x`` with a 95 % interval (for trend lines and tests).

    Parameters
    ----------
    x : array
        Covariate of the trend (time, PRED, a subject covariate ...).
    npde : array
        NPDE, same length.
    n_bins : int, default 8
        Number of bins (fewer when ``x`` has fewer distinct values).
    log : bool, default False
        Place the bin edges on the log scale (for PRED).

    Returns
    -------
    DataFrame
        ``X`` (median of x in the bin), ``MEAN``, ``LOWER``, ``UPPER``
        (mean +- 1.96 SE), ``N``.
    """
    x = np.asarray(x, dtype=float)
    z = np.asarray(npde, dtype=float)
    ok = np.isfinite(x) & np.isfinite(z) & ((x > 0) if log else True)
    x, z = x[ok], z[ok]
    cols = ["X", "MEAN", "LOWER", "UPPER", "N"]
    if x.size == 0:
        return pd.DataFrame(columns=cols)
    edges = np.unique(np.quantile(np.log(x) if log else x, np.linspace(0, 1, n_bins + 1)))
    pos = np.clip(np.searchsorted(edges, np.log(x) if log else x, side="right") - 1, 0,
                  max(edges.size - 2, 0))
    rows = []
    for b in np.unique(pos):
        m = pos == b
        zb = z[m]
        se = zb.std(ddof=1) / np.sqrt(zb.size) if zb.size > 1 else np.nan
        rows.append((float(np.median(x[m])), float(zb.mean()), zb.mean() - 1.96 * se,
                     zb.mean() + 1.96 * se, int(zb.size)))
    return pd.DataFrame(rows, columns=cols)

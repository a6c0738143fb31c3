"""Posterior summary statistics of one scalar quantity's draws.

The population-PK and exposure-response parameter tables report the same
columns for every quantity: mean, SD, median, equal-tailed credible interval,
bulk and tail ESS and rank-normalised R-hat. :func:`draw_stats` computes them
from ``(chain, draw)`` draws, or from ``(copy, chain, draw)`` draws of several
fits of the same model (exposure-response over imputed exposures: the
statistics pool every draw, the ESS adds up over copies, R-hat is the worst
copy's). ESS and R-hat are ArviZ's (``az.ess``, ``az.rhat(method="rank")``),
computed by :mod:`blinapk.mcmc.diagnostics_fast`.
"""

from __future__ import annotations

import numpy as np

from blinapk.mcmc.diagnostics_fast import rank_diagnostics

__all__ = ["STAT_COLUMNS", "draw_stats"]

#: Keys of :func:`draw_stats`, in table order.
STAT_COLUMNS = ("MEAN", "SD", "MEDIAN", "LOWER", "UPPER", "ESS_BULK", "ESS_TAIL", "R_HAT")


def draw_stats(x: np.ndarray, ci: float) -> dict[str, float]:
    """Summary statistics of one quantity's draws.

    Parameters
    ----------
    x : array_like, shape (chain, draw) or (copy, chain, draw)
        Draws; a leading ``copy`` axis holds independent fits of the same model.
    ci : float
        Mass of the equal-tailed credible interval (0.9: 5th to 95th percentile).

    Returns
    -------
    dict
        ``MEAN, SD, MEDIAN, LOWER, UPPER`` over all draws; ``ESS_BULK`` and
        ``ESS_TAIL`` summed over copies (NaN with fewer than 4 draws per
        chain); ``R_HAT`` the largest over copies (NaN with one chain).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> s = draw_stats(rng.normal(size=(2, 1000)), 0.9)
    >>> round(s["LOWER"], 1), round(s["UPPER"], 1), s["R_HAT"] < 1.01
    (-1.6, 1.6, True)
    """
    x = np.asarray(x, dtype=float)
    copies = x[None] if x.ndim == 2 else x
    flat = x.ravel()
    lo, hi = (1.0 - ci) / 2.0, 1.0 - (1.0 - ci) / 2.0
    out = dict.fromkeys(STAT_COLUMNS, np.nan)
    out.update(MEAN=float(flat.mean()), MEDIAN=float(np.median(flat)),
               LOWER=float(np.quantile(flat, lo)), UPPER=float(np.quantile(flat, hi)))
    if flat.size > 1:
        out["SD"] = float(flat.std(ddof=1))
    if copies.shape[2] >= 4:
        rhat, bulk, tail = rank_diagnostics(copies.transpose(1, 2, 0))  # (chain, draw, copy)
        out["ESS_BULK"] = float(bulk.sum())
        out["ESS_TAIL"] = float(tail.sum())
        if copies.shape[1] >= 2:
            out["R_HAT"] = float(rhat.max())
    return out

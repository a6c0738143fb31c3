"""Goodness-of-fit panels of a population-PK fit.

:func:`plot_gof` draws six panels from a
:class:`~blinapk.diagnostics.Predictions` table: observed vs population and
vs individual predictions (log axes, identity line, LLOQ line, BLQ samples
as open triangles at their LLOQ), NPDE vs time and vs PRED with the binned
mean and its 95 % interval, the NPDE QQ plot, and the histogram of the
LOO-PIT (uniform under the model).
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from blinapk.diagnostics import npde_trend
from blinapk.plotting._style import BLQ_STYLE, DAY, day_axis, plain_log

__all__ = ["plot_gof"]

_POINT = dict(s=9, alpha=0.45, color="tab:blue", linewidths=0)


def _limits(table: Any) -> tuple[float, float]:
    dv = table.loc[table["CENS"] == 0, "DV"].to_numpy(float)
    lloq = table["LLOQ"].to_numpy(float)
    lo = 0.5 * float(np.nanmin(np.r_[dv[dv > 0], lloq[lloq > 0]]))
    hi = 2.0 * float(np.nanmax(np.r_[dv, table["IPRED"].to_numpy(float)]))
    return lo, hi


def _dv_vs(ax: Any, table: Any, col: str, label: str, unit: str) -> None:
    lo, hi = _limits(table)
    q = table[table["CENS"] == 0]
    c = table[table["CENS"] == 1]
    x = np.clip(q[col].to_numpy(float), lo, hi)
    ax.scatter(x, q["DV"], label="quantified", **_POINT)
    if len(c):
        ax.scatter(np.clip(c[col].to_numpy(float), lo, hi), c["LLOQ"],
                   label=f"below LLOQ (n={len(c)}), at LLOQ", **BLQ_STYLE)
    ax.plot([lo, hi], [lo, hi], color="0.2", lw=0.9, label="identity")
    ax.axhline(float(np.median(table["LLOQ"])), color="0.4", ls=":", lw=0.9, label="LLOQ")
    n_low = int(np.sum(table[col].to_numpy(float) < lo))
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    plain_log(ax, "both")
    ax.set_xlabel(f"{label} ({unit})")
    ax.set_ylabel(f"observed concentration ({unit})")
    title = f"Observed vs {label}"
    if n_low:
        title += f"\n({n_low} with {label} < {lo:.3g} drawn at the axis)"
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, frameon=False, loc="upper left")


def _npde_vs(ax: Any, x: np.ndarray, table: Any, xlabel: str, log: bool) -> None:
    z = table["NPDE"].to_numpy(float)
    cens = table["CENS"].to_numpy() == 1
    ax.scatter(x[~cens], z[~cens], **_POINT)
    if cens.any():
        ax.scatter(x[cens], z[cens], label="below LLOQ (imputed)", **BLQ_STYLE)
        ax.legend(fontsize=7, frameon=False, loc="upper right")
    trend = npde_trend(x, z, log=log)
    ax.fill_between(trend["X"], trend["LOWER"], trend["UPPER"], color="tab:orange", alpha=0.25,
                    lw=0)
    ax.plot(trend["X"], trend["MEAN"], color="tab:orange", lw=1.6, label="binned mean, 95 % CI")
    for level, style in ((0.0, "-"), (-1.96, "--"), (1.96, "--")):
        ax.axhline(level, color="0.3", ls=style, lw=0.8)
    ax.set_ylim(-4.2, 4.2)
    ax.set_ylabel("NPDE")
    ax.set_xlabel(xlabel)


def plot_gof(pred: Any, *, title: str = "") -> Any:
    """Six goodness-of-fit panels from a predictions table.

    Parameters
    ----------
    pred : Predictions or DataFrame
        :func:`blinapk.diagnostics.compute_predictions` result (or its table).
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    table = pred.table if hasattr(pred, "table") else pred
    unit = "pg/mL"
    fig, axes = plt.subplots(2, 3, figsize=(14.0, 8.8), constrained_layout=True)
    _dv_vs(axes[0, 0], table, "PRED", "PRED", unit)
    _dv_vs(axes[0, 1], table, "IPRED", "IPRED", unit)
    days = table["TIME"].to_numpy(float) / DAY
    _npde_vs(axes[1, 0], days, table, "time since first dose (day)", log=False)
    day_axis(axes[1, 0], float(np.ptp(days)) if days.size else 1.0)
    axes[1, 0].set_title("NPDE vs time", fontsize=10)
    p = table["PRED"].to_numpy(float)
    lo = max(float(np.nanmin(p[p > 0])) if np.any(p > 0) else 1e-3,
             0.05 * float(np.median(table["LLOQ"])))
    _npde_vs(axes[1, 1], np.clip(p, lo, None), table, f"PRED ({unit})", log=True)
    plain_log(axes[1, 1], "x")
    axes[1, 1].set_title("NPDE vs PRED", fontsize=10)
    axes[1, 1].legend(fontsize=7, frameon=False, loc="upper left")
    from scipy.stats import norm

    z = np.sort(table["NPDE"].to_numpy(float)[np.isfinite(table["NPDE"].to_numpy(float))])
    theo = norm.ppf((np.arange(1, z.size + 1) - 0.5) / max(z.size, 1))
    ax = axes[0, 2]
    ax.scatter(theo, z, **_POINT)
    ax.plot([-4, 4], [-4, 4], color="0.2", lw=0.9)
    ax.set_xlim(-4, 4)
    ax.set_ylim(-4.2, 4.2)
    ax.set_xlabel("N(0, 1) quantile")
    ax.set_ylabel("NPDE quantile")
    ax.set_title(f"NPDE QQ plot (n={z.size})", fontsize=10)
    ax = axes[1, 2]
    pit = table["PIT"].to_numpy(float)
    pit = pit[np.isfinite(pit)]
    n_bins = 10
    ax.hist(pit, bins=np.linspace(0, 1, n_bins + 1), color="tab:blue", alpha=0.45,
            edgecolor="tab:blue", zorder=2)
    expect = pit.size / n_bins
    sd = np.sqrt(pit.size * (1 / n_bins) * (1 - 1 / n_bins))
    ax.axhspan(expect - 1.96 * sd, expect + 1.96 * sd, color="0.3", alpha=0.18, lw=0,
               zorder=3, label="uniform: expected count, 95 % range")
    ax.axhline(expect, color="0.2", lw=0.9, zorder=3)
    ax.set_ylim(0, 1.35 * max(expect + 1.96 * sd, float(np.histogram(pit, n_bins,
                                                                      (0, 1))[0].max())))
    ax.set_xlim(0, 1)
    ax.set_xlabel("LOO-PIT (BLQ: randomised in (0, P(Y < LLOQ)))")
    ax.set_ylabel("observations")
    ax.set_title("LOO probability integral transform", fontsize=10)
    ax.legend(fontsize=7, frameon=False, loc="upper center")
    if title:
        fig.suptitle(title, fontsize=11)
    return fig

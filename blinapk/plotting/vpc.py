"""Prediction-corrected VPC with the fraction below the LLOQ underneath.

:func:`plot_vpc` draws a :class:`~blinapk.diagnostics.VPCResult`: one
column per stratum; on top the observations (prediction-corrected), the
observed 5th/50th/95th percentiles (lines) over the simulated confidence
bands of the same percentiles (shaded), and the LLOQ; below, the observed
fraction of samples below the LLOQ over its simulated band. Percentiles
that fall among BLQ values are not estimable and are not drawn.
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from blinapk.plotting._style import day_axis, plain_log

__all__ = ["plot_vpc"]

_BAND = {"outer": "tab:blue", "median": "tab:red"}


def _pname(q: float) -> str:
    return f"P{round(100 * q):02d}"


def _ordinal(q: float) -> str:
    return f"{round(100 * q)}th"


def _broken(b: Any, *cols: str) -> list[np.ndarray]:
    """Columns of the bins with a NaN inserted before each treatment gap (lines stop there)."""
    gap = b["GAP_BEFORE"].to_numpy(bool) if "GAP_BEFORE" in b else np.zeros(len(b), bool)
    out = []
    for col in cols:
        v = b[col].to_numpy(float)
        out.append(np.insert(v, np.flatnonzero(gap), np.nan))
    return out


def _isolated(ax: Any, x: np.ndarray, lo: np.ndarray, hi: np.ndarray, colour: str) -> None:
    """Draw the band of a bin without neighbours (gaps both sides) as a bar, not an area."""
    finite = np.isfinite(x)
    prev = np.r_[False, finite[:-1]]
    nxt = np.r_[finite[1:], False]
    alone = finite & ~prev & ~nxt
    if alone.any():
        ax.vlines(x[alone], lo[alone], hi[alone], color=colour, alpha=0.45, lw=5, zorder=1)


def plot_vpc(vpc: Any, *, title: str = "") -> Any:
    """Draw a prediction-corrected VPC with its BLQ panel.

    Parameters
    ----------
    vpc : VPCResult
        From :func:`blinapk.diagnostics.compute_vpc`.
    title : str, optional
        Figure title (default: what is shown and how many simulations).

    Returns
    -------
    matplotlib.figure.Figure
    """
    strata = vpc.strata
    n = len(strata)
    fig, axes = plt.subplots(2, n, figsize=(max(8.0, 5.6 * n), 7.4 if n == 1 else 6.8),
                             squeeze=False, sharex="col", constrained_layout=True,
                             gridspec_kw={"height_ratios": [3.0, 1.15]})
    bins, obs = vpc.bins, vpc.observations
    y_name = ("prediction-corrected concentration (pg/mL)" if vpc.prediction_corrected
              else "concentration (pg/mL)")
    mid_q = min(vpc.quantiles, key=lambda q: abs(q - 0.5))
    for j, stratum in enumerate(strata):
        ax, ax_blq = axes[0, j], axes[1, j]
        b = bins[bins["STRATUM"] == stratum]
        o = obs[obs["STRATUM"] == stratum]
        x, = _broken(b, "X_MID")
        q_obs = o[o["CENS"] == 0]
        ax.scatter(q_obs["X"], q_obs["DV"], s=6, color="0.55", alpha=0.45, linewidths=0,
                   label="observed", zorder=2)
        for q in vpc.quantiles:
            name = _pname(q)
            colour = _BAND["median"] if q == mid_q else _BAND["outer"]
            lo, hi, ob = _broken(b, f"SIM_{name}_LOWER", f"SIM_{name}_UPPER", f"OBS_{name}")
            _isolated(ax, x, lo, hi, colour)
            ax.fill_between(x, lo, hi, color=colour, alpha=0.22, lw=0, zorder=1,
                            label=(f"simulated {_ordinal(q)} percentile, {100 * vpc.ci:g} % CI"
                                   if q in (mid_q, vpc.quantiles[0]) else None))
            ax.plot(x, ob, color=colour if q == mid_q else "tab:blue",
                    lw=1.8 if q == mid_q else 1.3, ls="-" if q == mid_q else "--",
                    marker="o", ms=3, zorder=3,
                    label=(f"observed {_ordinal(q)} percentile" if q == mid_q else
                           "observed " + ", ".join(_ordinal(v) for v in vpc.quantiles
                                                   if v != mid_q) + " percentiles")
                    if q in (mid_q, vpc.quantiles[0]) else None)
        lloq, = _broken(b, "LLOQ")
        ax.plot(x, lloq, color="0.25", ls=":", lw=1.0,
                label="LLOQ" + (" (prediction-corrected)" if vpc.prediction_corrected else ""))
        positive = np.r_[q_obs["DV"].to_numpy(float), b["LLOQ"].to_numpy(float)]
        positive = positive[positive > 0]
        if positive.size:
            ax.set_ylim(0.4 * positive.min(), 2.5 * positive.max())
        plain_log(ax, "y")
        n_obs, n_blq = int(b["N"].sum()), int(b["N_BLQ"].sum())
        head = f"{stratum}: " if vpc.stratify else ""
        ax.set_title(f"{head}{n_obs} samples, {n_blq} below LLOQ", fontsize=10)
        if j == 0:
            ax.set_ylabel(y_name)
        blo, bhi, bmed, bobs = _broken(b, "BLQ_SIM_LOWER", "BLQ_SIM_UPPER", "BLQ_SIM_MEDIAN",
                                       "BLQ_OBS")
        _isolated(ax_blq, x, 100 * blo, 100 * bhi, "tab:blue")
        ax_blq.fill_between(x, 100 * blo, 100 * bhi, color="tab:blue", alpha=0.22, lw=0,
                            label=f"simulated % below LLOQ, {100 * vpc.ci:g} % CI")
        ax_blq.plot(x, 100 * bmed, color="tab:blue", lw=1.0, ls="--")
        ax_blq.plot(x, 100 * bobs, color="black", lw=1.4, marker="o", ms=3,
                    label="observed % below LLOQ")
        top = 100 * float(np.nanmax(np.r_[b["BLQ_SIM_UPPER"], b["BLQ_OBS"], 0.05]))
        ax_blq.set_ylim(0, min(100.0, 1.15 * top))
        if j == 0:
            ax_blq.set_ylabel("below LLOQ (%)")
        xs = b["X_MID"].to_numpy(float)
        if vpc.x == "time":
            day_axis(ax_blq, float(np.ptp(xs)) if xs.size else 1.0)
        else:
            if xs.size and np.all(xs > 0):
                ax.set_xscale("log")
                plain_log(ax_blq, "x")
            ax_blq.set_xlabel(vpc.x_label)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    h2, l2 = axes[1, 0].get_legend_handles_labels()
    fig.legend(handles + h2, labels + l2, loc="outside lower center", ncol=4 if n > 1 else 2,
               fontsize=8, frameon=False)
    kind = "Prediction-corrected VPC" if vpc.prediction_corrected else "VPC"
    fig.suptitle(title or f"{kind} ({vpc.n_sim} simulated datasets"
                 + (f"; by {vpc.stratify}" if vpc.stratify else "") + ")", fontsize=11)
    return fig

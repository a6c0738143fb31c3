"""Individual fits, every subject, paged: data, posterior median and band, rate strip.

:func:`plot_individual_fits` returns one Figure per page (A4 portrait, six
subjects a page by default); :func:`blinapk.report.write_diagnostics` saves
them into one multi-page PDF. Each subject has a concentration panel
(observations, BLQ samples as open triangles at the LLOQ, the posterior
median of the individual prediction with its credible band, the population
prediction dashed, the LLOQ dotted; log axis with plain ticks) and,
underneath on the same time axis in days, the infusion rate in µg/day.
Curves stop at treatment gaps.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from blinapk.plotting._style import BLQ_STYLE, DAY, day_axis, plain_log

__all__ = ["plot_individual_fits"]


def _subject(ax: Any, ax_rate: Any, sid: Any, fits: Any, ci: float) -> None:
    c = fits.curves[fits.curves["ID"] == sid]
    o = fits.observations[fits.observations["ID"] == sid]
    r = fits.rates[fits.rates["ID"] == sid]
    t = c["TIME"].to_numpy(float) / DAY
    ax.fill_between(t, c["LOWER"], c["UPPER"], color="tab:blue", alpha=0.22, lw=0,
                    label=f"IPRED {100 * ci:g} % CI")
    ax.plot(t, c["IPRED"], color="tab:blue", lw=1.2, label="IPRED (posterior median)")
    ax.plot(t, c["PRED"], color="0.35", lw=0.9, ls="--", label="PRED")
    q = o[o["CENS"] == 0]
    b = o[o["CENS"] == 1]
    ax.scatter(q["TIME"] / DAY, q["DV"], s=14, color="black", zorder=4, label="observed")
    if len(b):
        ax.scatter(b["TIME"] / DAY, b["LLOQ"], label="below LLOQ (at LLOQ)", **BLQ_STYLE)
    lloq = float(np.median(o["LLOQ"])) if len(o) else np.nan
    if np.isfinite(lloq) and lloq > 0:
        ax.axhline(lloq, color="0.4", ls=":", lw=0.8)
    floor = np.r_[q["DV"].to_numpy(float), lloq]
    floor = floor[np.isfinite(floor) & (floor > 0)]
    top = np.r_[q["DV"].to_numpy(float), c["UPPER"].to_numpy(float)]
    top = top[np.isfinite(top) & (top > 0)]
    if floor.size and top.size:  # the axis follows the data, not the wash-out tail
        ax.set_ylim(0.3 * floor.min(), 2.0 * max(top.max(), floor.max()))
    plain_log(ax, "y")
    ax.set_title(f"ID {sid}", fontsize=9, loc="left", pad=2)
    ax.set_ylabel("conc. (pg/mL)", fontsize=8)
    ax.tick_params(labelsize=7, labelbottom=False)
    if len(r):
        start, end = r["START"].to_numpy(float), r["END"].to_numpy(float)
        edges = np.r_[start, end[-1]] / DAY
        per_day = np.r_[r["RATE"].to_numpy(float), 0.0] * 24.0
        ax_rate.step(edges, per_day, where="post", color="tab:orange", lw=1.0)
        ax_rate.fill_between(edges, per_day, step="post", color="tab:orange", alpha=0.2, lw=0)
        ax_rate.set_ylim(0, max(per_day.max(), 1e-9) * 1.25)
    ax_rate.set_ylabel("µg/day", fontsize=7)
    ax_rate.tick_params(labelsize=7)
    span = np.r_[t[np.isfinite(t)], o["TIME"].to_numpy(float) / DAY]
    if span.size:
        ax.set_xlim(span.min() - 0.5, span.max() + 0.5)
        day_axis(ax_rate, float(np.ptp(span)), label="time since first dose (day)", max_ticks=8)
    ax_rate.xaxis.label.set_size(8)


def plot_individual_fits(fits: Any, *, ids: Sequence | None = None, per_page: int = 6,
                         ncols: int = 2) -> list:
    """One Figure per page of individual fits with the infusion-rate strip.

    Parameters
    ----------
    fits : IndividualFits
        From :func:`blinapk.diagnostics.compute_individual_fits`.
    ids : sequence, optional
        Subjects to draw (default: every subject, in order).
    per_page : int, default 6
        Subjects per page.
    ncols : int, default 2
        Subjects per row.

    Returns
    -------
    list of matplotlib.figure.Figure
    """
    ids = list(fits.subjects if ids is None else ids)
    pages = []
    nrows = int(np.ceil(per_page / ncols))
    n_pages = max(1, int(np.ceil(len(ids) / per_page)))
    for page in range(n_pages):
        chunk = ids[page * per_page:(page + 1) * per_page]
        fig = plt.figure(figsize=(8.27, 11.69))
        outer = fig.add_gridspec(nrows, ncols, hspace=0.28, wspace=0.28, left=0.08,
                                 right=0.98, top=0.90, bottom=0.05)
        for k, sid in enumerate(chunk):
            row, col = divmod(k, ncols)
            inner = outer[row, col].subgridspec(2, 1, height_ratios=[3.0, 0.9], hspace=0.08)
            ax = fig.add_subplot(inner[0])
            ax_rate = fig.add_subplot(inner[1], sharex=ax)
            _subject(ax, ax_rate, sid, fits, fits.ci)
            if k == 0:
                fig.legend(*ax.get_legend_handles_labels(), loc="upper center", ncol=5,
                           fontsize=7, frameon=False, bbox_to_anchor=(0.5, 0.955))
        fig.suptitle(f"Individual fits ({fits.dvid}): page {page + 1} of {n_pages}",
                     fontsize=11)
        pages.append(fig)
    return pages

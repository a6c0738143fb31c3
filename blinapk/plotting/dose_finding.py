"""Plot of dose-finding operating characteristics: which dose each design selects.

Draws what :class:`~blinapk.simulate.dose_oc.DoseFindingOC` summarises
(``selection()`` and ``summary()``); computes nothing new.
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np

__all__ = ["plot_dose_selection"]


def _dose_label(dose: Any, p_dlt: float | None = None) -> str:
    text = f"{dose:g}" if isinstance(dose, int | float | np.number) else str(dose)
    return text if p_dlt is None or not np.isfinite(p_dlt) else f"{text}\nP(DLT) {p_dlt:.2f}"


def _bar_values(ax, bars, values) -> None:
    """Percentages inside tall bars (clear of the P(DLT) line) and above short ones."""
    for bar, v in zip(bars, values, strict=True):
        inside = v > 0.12
        y = bar.get_height() - 0.01 if inside else bar.get_height() + 0.01
        text = "<1%" if 0 < v < 0.005 else f"{v:.0%}"
        ax.text(bar.get_x() + bar.get_width() / 2, y, text, ha="center",
                va="top" if inside else "bottom", fontsize=8,
                color="white" if inside else "black")


def plot_dose_selection(oc: Any, *, patients: bool = True, title: str | None = None):
    """Probability of selecting each dose, per design side by side, with the true P(DLT).

    Parameters
    ----------
    oc : DoseFindingOC
        :func:`~blinapk.simulate.dose_oc.operating_characteristics` result.
    patients : bool, default True
        Add a second panel: mean patients treated and with DLT per dose.
    title : str, optional
        Figure title (default: the number of simulated trials and the accrual).

    Returns
    -------
    matplotlib.figure.Figure
    """
    sel, summ = oc.selection(), oc.summary().set_index("DESIGN")
    designs = list(oc.designs)
    first = sel[sel["DESIGN"] == designs[0]]
    labels = [_dose_label(d, p) for d, p in zip(first["DOSE"], first["P_DLT"], strict=True)]
    n_cat, n_des = len(labels), len(designs)
    x = np.arange(n_cat)
    width = 0.8 / n_des
    colours = plt.get_cmap("tab10")
    fig, axes = plt.subplots(1, 2 if patients else 1, figsize=(12 if patients else 7.5, 4.8),
                             squeeze=False, gridspec_kw={"width_ratios": [3, 2] if patients
                                                         else [1]})
    ax = axes[0, 0]
    for i, design in enumerate(designs):
        rows = sel[sel["DESIGN"] == design]
        s = summ.loc[design]
        label = (f"{design}: {s['MEAN_N']:.1f} patients, {s['MEAN_DLT']:.1f} DLTs, "
                 f"{s['MEAN_DAYS']:.0f} days (means)")
        pos = x - 0.4 + width * (i + 0.5)
        bars = ax.bar(pos, rows["P_SELECT"], width, color=colours(i), label=label)
        _bar_values(ax, bars, rows["P_SELECT"].to_numpy())
    p_true = first["P_DLT"].to_numpy()[: len(oc.doses)]
    ax.plot(x[: len(oc.doses)], p_true, color="black", marker="D", linestyle="--", zorder=3,
            markeredgecolor="white", label="true P(DLT) at the dose")
    ax.set_xticks(x, labels)
    ax.set_ylim(0, 1.12)
    ax.set_ylabel("probability")
    ax.set_xlabel("dose selected as MTD" + (f" ({oc.dose_unit})" if oc.dose_unit else ""))
    ax.set_title("Probability of selecting each dose, and the true P(DLT)", fontsize=10)
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    ax.grid(axis="y", alpha=0.3)
    if patients:
        bx = axes[0, 1]
        xd = np.arange(len(oc.doses))
        for i, design in enumerate(designs):
            rows = sel[(sel["DESIGN"] == design)].iloc[: len(oc.doses)]
            pos = xd - 0.4 + width * (i + 0.5)
            bx.bar(pos, rows["MEAN_PATIENTS"], width, color=colours(i), alpha=0.45,
                   label=f"{design}: treated")
            bx.bar(pos, rows["MEAN_DLT"], width * 0.6, color=colours(i),
                   label=f"{design}: with DLT")
        bx.set_xticks(xd, [_dose_label(d) for d in oc.doses])
        bx.set_ylim(0, 1.35 * max(1.0, float(sel["MEAN_PATIENTS"].max())))
        bx.set_ylabel("patients per trial (mean)")
        bx.set_xlabel("dose" + (f" ({oc.dose_unit})" if oc.dose_unit else ""))
        bx.set_title("Patients treated and with DLT per dose", fontsize=10)
        bx.legend(fontsize=8, frameon=False)
        bx.grid(axis="y", alpha=0.3)
    acc = oc.accrual
    fig.suptitle(title or (f"{oc.n_trials:,} simulated trials per design; a patient every "
                           f"{acc.interarrival_days:g} days on average, "
                           f"{acc.window_days:g}-day DLT window"), fontsize=11)
    fig.tight_layout()
    return fig

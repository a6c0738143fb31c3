"""Plots of clinical endpoints: Kaplan-Meier curves, response rates, AE incidence forest.

Every function takes a result of :mod:`blinapk.endpoints`, draws it and
returns the matplotlib Figure; none computes a new quantity (the numbers at
risk come from :meth:`KMResult.at_risk <blinapk.endpoints.KMResult.at_risk>`).
A group has the same colour in every figure (groups in sorted order, tab10).
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

__all__ = ["plot_ae_forest", "plot_km", "plot_response"]

#: Endpoint names for titles.
ENDPOINT_NAMES = {"OS": "Overall survival", "RFS": "Relapse-free survival",
                  "TTR": "Time to relapse", "DFS": "Disease-free survival"}
_Y_LABELS = {"OS": "probability alive", "RFS": "probability alive and relapse-free",
             "TTR": "probability relapse-free", "DFS": "probability alive and disease-free"}
_ORIGIN = {"RFS": "first CR/CRh*", "TTR": "first CR/CRh*"}
_PLURAL = {"month": "months", "day": "days", "week": "weeks", "year": "years"}
_TICK_STEPS = (1, 2, 3, 6, 12, 24, 48, 96)


def _colours(groups: Sequence[str]) -> dict[str, tuple]:
    cmap = plt.get_cmap("tab10")
    return {g: cmap(i % 10) for i, g in enumerate(sorted(groups))}


def _labels(frame: pd.DataFrame, by: Sequence[str]) -> pd.Series:
    """Group label of each row, as the KM ``GROUP`` column writes it."""
    if not by:
        return pd.Series("all", index=frame.index)
    return frame[list(by)].astype(str).agg(", ".join, axis=1)


def _ticks(t_max: float) -> np.ndarray:
    """At most 10 ticks from 0, at multiples of months-friendly steps where they fit."""
    step = next((s for s in _TICK_STEPS if t_max / s <= 10), None)
    if step is None:  # long follow-up in days or weeks
        ticks = MaxNLocator(nbins=8, steps=[1, 2, 2.5, 5, 10]).tick_values(0.0, t_max)
        return ticks[(ticks >= 0) & (ticks <= t_max)]
    return np.arange(0.0, t_max + 1e-9, step)


def _one_endpoint(km, endpoint: str | None) -> str:
    present = list(pd.unique(km.curves["ENDPOINT"]))
    if endpoint is None:
        if len(present) != 1:
            raise ValueError(f"plot_km: the result holds endpoints {present}; pass endpoint=")
        return present[0]
    if endpoint not in present:
        raise ValueError(f"plot_km: no curve for endpoint {endpoint!r} (have {present})")
    return endpoint


def _legend_label(group: str, row: pd.Series, unit: str) -> str:
    median = row["MEDIAN"]
    med = f"median {median:.1f} {unit}" if np.isfinite(median) else "median not reached"
    return f"{group} (n={row['N']}, events={row['EVENTS']}; {med})"


def _risk_table(ax_t, km, endpoint: str, groups: list[str], ticks: np.ndarray, colours):
    risk = km.at_risk(ticks)
    risk = risk[risk["ENDPOINT"] == endpoint]
    n = len(groups)
    for i, g in enumerate(groups):
        y = n - 1 - i
        for row in risk[risk["GROUP"] == g].itertuples(index=False):
            ax_t.text(row.TIME, y, f"{row.AT_RISK}", ha="center", va="center", fontsize=8,
                      color=colours[g])
    ax_t.set_ylim(-0.6, n - 0.4)
    ax_t.set_yticks(np.arange(n)[::-1])
    ax_t.set_yticklabels(groups, fontsize=8)
    for label, g in zip(ax_t.get_yticklabels(), groups, strict=True):
        label.set_color(colours[g])
    ax_t.tick_params(axis="x", which="both", bottom=False, labelbottom=False)
    ax_t.tick_params(axis="y", length=0, pad=16)  # clear of the counts at t = 0
    for side in ("top", "right", "bottom", "left"):
        ax_t.spines[side].set_visible(False)
    ax_t.set_title("number at risk", fontsize=8, loc="left")


def plot_km(km, *, endpoint: str | None = None, fig=None, ci: bool = True,
            censor_marks: bool = True, median: bool = False, logrank=None,
            title: str | None = None):
    """Kaplan-Meier curves per group with the confidence band and the number at risk.

    Steps of the estimate, its confidence band as a shaded step, a tick at
    every censoring time, and under the plot the number at risk (time >= t)
    of each group at the x ticks.

    Parameters
    ----------
    km : KMResult
        :func:`~blinapk.endpoints.compute_km` result (e.g.
        ``compute_endpoints(...).km["OS"]``; times in its unit, months there).
    endpoint : str, optional
        Endpoint to draw when ``km`` holds several.
    fig : matplotlib.figure.Figure, optional
        Figure to draw in (cleared); a new one when omitted.
    ci : bool
        Draw the confidence band.
    censor_marks : bool
        Draw a tick at each censoring time.
    median : bool
        Draw dashed lines at survival 0.5 down to each reached median.
    logrank : LogRankResult, optional
        :func:`~blinapk.endpoints.compute_logrank` result whose p value for
        this endpoint is written in the plot.
    title : str, optional
        Title (default: the endpoint's name).

    Returns
    -------
    matplotlib.figure.Figure
        Axes 0: the curves; axes 1: the number-at-risk table.
    """
    endpoint = _one_endpoint(km, endpoint)
    curves = km.curves[km.curves["ENDPOINT"] == endpoint]
    summary = km.summary()
    summary = summary[summary["ENDPOINT"] == endpoint].set_index("GROUP")
    unit = km.settings.get("unit") or "time unit"
    units = _PLURAL.get(unit, unit)
    groups = sorted(pd.unique(curves["GROUP"]))
    colours = _colours(groups)
    if fig is None:
        fig = plt.figure(figsize=(7.5, 4.6 + 0.28 * len(groups)), layout="constrained")
    else:
        fig.clear()
    grid = fig.add_gridspec(2, 1, height_ratios=[4.0, 0.5 + 0.3 * len(groups)])
    ax = fig.add_subplot(grid[0])
    ax_t = fig.add_subplot(grid[1], sharex=ax)
    for g in groups:
        c = curves[curves["GROUP"] == g]
        t = np.r_[0.0, c["TIME"].to_numpy(float)]
        s = np.r_[1.0, c["SURVIVAL"].to_numpy(float)]
        ax.step(t, s, where="post", color=colours[g], lw=1.6,
                label=_legend_label(g, summary.loc[g], units))
        if ci:
            lo = np.r_[1.0, c["LOWER"].to_numpy(float)]
            hi = np.r_[1.0, c["UPPER"].to_numpy(float)]
            ax.fill_between(t, lo, hi, step="post", color=colours[g], alpha=0.15, lw=0)
        if censor_marks:
            cens = c[c["N_CENSOR"] > 0]
            ax.plot(cens["TIME"], cens["SURVIVAL"], ls="none", marker="|", ms=8, mew=1.2,
                    color=colours[g])
        if median and np.isfinite(summary.loc[g, "MEDIAN"]):
            m = summary.loc[g, "MEDIAN"]
            ax.plot([0, m, m], [0.5, 0.5, 0.0], ls="--", lw=0.8, color=colours[g])
    t_max = float(curves["TIME"].max()) if len(curves) else 1.0
    ticks = _ticks(t_max)
    ax.set_xlim(0, t_max * 1.02)
    ax.set_xticks(ticks)
    ax.set_ylim(-0.02, 1.04)
    ax.set_xlabel(f"{units} since {_ORIGIN.get(endpoint, 'day 1')}")
    ax.set_ylabel(_Y_LABELS.get(endpoint, "probability event-free"))
    ax.grid(alpha=0.25, lw=0.5)
    if censor_marks:
        ax.plot([], [], ls="none", marker="|", ms=8, mew=1.2, color="0.3", label="censored")
    ax.legend(fontsize=8, loc="upper right", framealpha=0.85, edgecolor="none")
    level = km.settings.get("conf_level", 0.95)
    band = f"{100 * level:g} % CI ({km.settings.get('conf_type', '')})" if ci else ""
    name = ENDPOINT_NAMES.get(endpoint)
    default = (f"{name} ({endpoint})" if name
               else "Kaplan-Meier estimate" if endpoint == "ALL" else endpoint)
    ax.set_title(title or default + (f", {band}" if band else ""), fontsize=10)
    if logrank is not None:
        test = logrank.summary().set_index("ENDPOINT")
        if endpoint in test.index and np.isfinite(test.loc[endpoint, "P_VALUE"]):
            p = test.loc[endpoint, "P_VALUE"]
            ax.text(0.02, 0.03, f"log-rank p = {p:.3g}" if p >= 1e-4 else "log-rank p < 0.0001",
                    transform=ax.transAxes, fontsize=8)
    _risk_table(ax_t, km, endpoint, groups, ticks, colours)
    return fig


def _rate_frame(rates) -> pd.DataFrame:
    """Return the rate table with a ``GROUP`` label from the result's ``by`` columns."""
    table = rates.to_frame()
    table["GROUP"] = _labels(table, rates.settings.get("by", []))
    return table


def plot_response(rates, ax=None, *, endpoints: Sequence[str] = ("CR/CRh*", "CR",
                                                                "MRD response"),
                  mrd_denominator: str = "all treated"):
    """Response rates by group with exact (Clopper-Pearson) confidence intervals.

    One point per endpoint and group with its interval; the counts
    (responders / denominator) are written above each interval and the
    group sizes in the legend.

    Parameters
    ----------
    rates : RateTable
        :func:`~blinapk.endpoints.summarize_response` result (e.g.
        ``compute_endpoints(...).response_rates``).
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when omitted.
    endpoints : sequence of str
        Rates to draw, from its ``ENDPOINT`` column.
    mrd_denominator : {"all treated", "CR/CRh*"}
        Denominator of the MRD-response rate.

    Returns
    -------
    matplotlib.figure.Figure
    """
    table = _rate_frame(rates)
    keep = (table["ENDPOINT"] != "MRD response") | (table["DENOMINATOR"] == mrd_denominator)
    table = table[keep & table["ENDPOINT"].isin(endpoints)]
    groups = sorted(pd.unique(table["GROUP"]))
    colours = _colours(groups)
    if ax is None:
        _, ax = plt.subplots(figsize=(3.0 + 1.0 * len(endpoints) * max(len(groups), 1) ** 0.5,
                                      4.2), layout="constrained")
    width = 0.6 / max(len(groups), 1)
    offsets = (np.arange(len(groups)) - (len(groups) - 1) / 2) * width
    for g, dx in zip(groups, offsets, strict=True):
        part = table[table["GROUP"] == g].set_index("ENDPOINT")
        n = part.loc[endpoints[0], "N_AT_RISK"] if endpoints[0] in part.index else np.nan
        for k, e in enumerate(endpoints):
            if e not in part.index or not np.isfinite(part.loc[e, "PCT"]):
                continue
            r = part.loc[e]
            ax.errorbar(k + dx, r["PCT"], yerr=[[r["PCT"] - r["LOWER"]], [r["UPPER"] - r["PCT"]]],
                        fmt="o", ms=6, capsize=3, lw=1.2, color=colours[g])
            ax.text(k + dx, r["UPPER"] + 1.5, f"{r['N_SUBJECTS']}/{r['N_AT_RISK']}",
                    ha="center", va="bottom", fontsize=7, color=colours[g])
        ax.errorbar([], [], fmt="o", color=colours[g],
                    label=f"{g} (N={n:g})" if np.isfinite(n) else g)
    labels = [f"{e}\n(of CR/CRh*)" if e == "MRD response" and mrd_denominator == "CR/CRh*"
              else e for e in endpoints]
    ax.set_xticks(np.arange(len(endpoints)))
    ax.set_xticklabels(labels, fontsize=9)
    ax.set_xlim(-0.6, len(endpoints) - 0.4)
    ax.set_ylim(0, 110)  # room for the counts above an interval reaching 100 %
    ax.set_yticks(np.arange(0, 101, 20))
    ax.set_ylabel("subjects with response (%)")
    ax.grid(axis="y", alpha=0.25, lw=0.5)
    ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    window = rates.settings.get("max_cycle")
    level = rates.settings.get("conf_level", 0.95)
    ax.set_title(("Best response" + (f" within cycles 1-{window}" if window else ""))
                 + f", {100 * level:g} % exact CI", fontsize=10)
    return ax.figure


def plot_ae_forest(incidence, *, measures: Sequence[str] = ("any grade", "grade >= 3"),
                   categories: Sequence[str] | None = None, fig=None):
    """Adverse-event incidence forest: percentage of subjects with its exact CI.

    One panel per measure (default any grade and grade >= 3), one row per
    category (``ANY`` first), one point per group with its Clopper-Pearson
    interval and the count (subjects with the event / at risk).

    Parameters
    ----------
    incidence : RateTable
        :func:`~blinapk.endpoints.compute_ae_incidence` result (e.g.
        ``compute_endpoints(...).ae_incidence``).
    measures : sequence of str
        Values of its ``MEASURE`` column, one panel each.
    categories : sequence of str, optional
        Categories to draw, top to bottom (default: all, ``ANY`` first).
    fig : matplotlib.figure.Figure, optional
        Figure to draw in (cleared); a new one when omitted.

    Returns
    -------
    matplotlib.figure.Figure
    """
    table = _rate_frame(incidence)
    cats = list(categories) if categories is not None else list(pd.unique(table["CATEGORY"]))
    groups = sorted(pd.unique(table["GROUP"]))
    colours = _colours(groups)
    height = 1.4 + 0.22 * len(cats) * max(len(groups), 1)
    if fig is None:
        fig = plt.figure(figsize=(3.6 * len(measures) + 1.6, height), layout="constrained")
    else:
        fig.clear()
    axes = fig.subplots(1, len(measures), sharey=True, squeeze=False)[0]
    step = 0.7 / max(len(groups), 1)
    offsets = ((len(groups) - 1) / 2 - np.arange(len(groups))) * step
    y0 = np.arange(len(cats))[::-1].astype(float)
    for ax, measure in zip(axes, measures, strict=True):
        part = table[table["MEASURE"] == measure]
        for g, dy in zip(groups, offsets, strict=True):
            rows = part[part["GROUP"] == g].set_index("CATEGORY").reindex(cats)
            y = y0 + dy
            pct, lo, hi = (rows[c].to_numpy(float) for c in ("PCT", "LOWER", "UPPER"))
            ax.hlines(y, lo, hi, color=colours[g], lw=1.3)
            ax.plot(pct, y, "o", ms=5, color=colours[g])
            for yy, h, k, n in zip(y, hi, rows["N_SUBJECTS"], rows["N_AT_RISK"], strict=True):
                if np.isfinite(h):
                    ax.text(h + 2, yy, f"{k:g}/{n:g}", va="center", fontsize=7,
                            color=colours[g])
        ax.set_xlim(-2, 112)
        ax.set_xticks(np.arange(0, 101, 20))
        ax.set_xlabel("subjects with event (%)")
        ax.set_title(measure.replace(">=", "\u2265"), fontsize=10)
        ax.grid(axis="x", alpha=0.25, lw=0.5)
        for yy in y0[:-1] - 0.5:
            ax.axhline(yy, color="0.85", lw=0.5)
    axes[0].set_yticks(y0)
    axes[0].set_yticklabels(["any category" if c == "ANY" else c for c in cats], fontsize=9)
    axes[0].set_ylim(-0.6, len(cats) - 0.4)
    n_at_risk = table.groupby("GROUP")["N_AT_RISK"].first()
    handles = [axes[-1].plot([], [], "o-", color=colours[g], label=f"{g} (N={n_at_risk[g]:g})")[0]
               for g in groups]
    fig.legend(handles=handles, fontsize=8, frameon=False, loc="outside lower center",
               ncol=min(len(groups), 3))
    level = incidence.settings.get("conf_level", 0.95)
    fig.suptitle(f"Treatment-emergent adverse events, {100 * level:g} % exact CI", fontsize=10)
    return fig

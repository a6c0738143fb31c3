"""Plot of an exposure-response fit: the E-R curve with its band, the data, the label regimens.

:func:`plot_er` draws what an :class:`~blinapk.er.ERFit` reports: the
predicted response over the observed exposure range with its credible band
(:meth:`ERFit.curve`), the observed responses by exposure quartile with
their intervals (:meth:`ERFit.quartiles`; for cytokine peaks every observed
peak, those below LLOQ as open triangles at the limit), the predictions at
the label regimens, and a note saying whether the interval of the exposure
effect excludes no effect (0 for a slope, 1 for a ratio) or not.
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import LogFormatter, ScalarFormatter

__all__ = ["effect_note", "plot_er"]

_EPISODE_COLOURS = {"all": "tab:blue", "first start": "tab:red", "step-up": "tab:purple",
                    "start": "tab:red"}


def effect_note(fit: Any, summary: pd.DataFrame) -> str:
    """One sentence on the exposure effect: its estimate and whether its interval covers none.

    Parameters
    ----------
    fit : ERFit
        The fit.
    summary : DataFrame
        ``fit.summary()``.

    Returns
    -------
    str
    """
    ci = int(round(100 * summary.attrs.get("ci", 0.9)))
    slope = summary.loc[summary["PARAMETER"] == f"BETA_LOG{fit.symbol}"]
    if len(slope):
        r = slope.iloc[0]
        covers = r["LOWER"] <= 0.0 <= r["UPPER"]
        verdict = ("interval covers 0: no exposure-response relationship shown" if covers
                   else "interval excludes 0: response changes with exposure")
        return (f"{r['PARAMETER']} {r['MEDIAN']:.2f} ({ci} % CrI {r['LOWER']:.2f} to "
                f"{r['UPPER']:.2f}); {verdict}")
    rows = summary.set_index("PARAMETER")
    parts = [f"{k} {rows.loc[k, 'MEDIAN']:.3g} ({rows.loc[k, 'LOWER']:.3g}-"
             f"{rows.loc[k, 'UPPER']:.3g})" for k in ("EMAX", "EC50", "HILL", "EPISODE_RATIO")
             if k in rows.index]
    if fit.kind == "binary" and "EMAX" in rows.index:
        covers = rows.loc["EMAX", "LOWER"] <= 0.0 <= rows.loc["EMAX", "UPPER"]
        parts.append("EMAX interval covers 0: no exposure-response relationship shown"
                     if covers else "EMAX interval excludes 0")
    return f"{ci} % CrI: " + "; ".join(parts)


def _peaks(ax, fit) -> None:
    u = fit.units
    for code, name in ((0, "first start"), (1, "step-up")):
        part = u.loc[u["EPISODE"] == code]
        colour = _EPISODE_COLOURS[name]
        seen = part["CENS"] == 0
        ax.scatter(part.loc[seen, "EXPOSURE"], np.exp(part.loc[seen, "Y"]), s=12, alpha=0.55,
                   color=colour, label=f"observed, {name}")
        ax.scatter(part.loc[~seen, "EXPOSURE"], np.exp(part.loc[~seen, "Y"]), s=14,
                   marker="v", facecolors="none", edgecolors=colour, alpha=0.6,
                   label=f"< LLOQ, {name} (at the limit)")
    ax.set_yscale("log")


def _quartiles(ax, quartiles: pd.DataFrame, conf: int) -> None:
    q = quartiles.dropna(subset=["VALUE"])
    if q.empty:
        return
    err = np.vstack([q["VALUE"] - q["LOWER"], q["UPPER"] - q["VALUE"]])
    ax.errorbar(q["EXPOSURE_MEDIAN"], q["VALUE"], yerr=err, fmt="o", color="black",
                capsize=3, label=f"observed by exposure quartile ({conf} % CI)")
    for r in q.itertuples(index=False):
        ax.annotate(f"{int(r.N_EVENTS)}/{int(r.N)}", (r.EXPOSURE_MEDIAN, r.VALUE),
                    textcoords="offset points", xytext=(6, 4), fontsize=7)


def _regimens(ax, regimens: pd.DataFrame | None, kind: str) -> None:
    if regimens is None or regimens.empty:
        return
    r = regimens.dropna(subset=["MEDIAN"])
    markers = {"adult_rr": "D", "paediatric_rr": "s"}
    for row in r.itertuples(index=False):
        colour = _EPISODE_COLOURS.get(row.EPISODE, "tab:green") if kind == "peak" \
            else "tab:green"
        ax.errorbar([row.EXPOSURE_MEDIAN], [row.MEDIAN],
                    yerr=[[row.MEDIAN - row.LOWER], [row.UPPER - row.MEDIAN]],
                    fmt=markers.get(row.REGIMEN, "D"), color=colour, mfc="white", capsize=3,
                    label=f"label regimen: {row.LABEL}" + (f", {row.EPISODE}" if row.EPISODE
                                                           else ""))


def plot_er(fit: Any, *, curve: pd.DataFrame | None = None,
            quartiles: pd.DataFrame | None = None, summary: pd.DataFrame | None = None,
            ax: Any = None) -> Any:
    """Draw the E-R curve with its credible band, the observed data and the label regimens.

    Parameters
    ----------
    fit : ERFit
        The fit.
    curve, quartiles, summary : DataFrame, optional
        ``fit.curve()``, ``fit.quartiles()``, ``fit.summary()`` (taken from
        the fit when omitted).
    ax : matplotlib Axes, optional
        Where to draw (a new figure when omitted).

    Returns
    -------
    matplotlib.figure.Figure
    """
    curve = fit.curve() if curve is None else curve
    quartiles = fit.quartiles() if quartiles is None else quartiles
    summary = fit.summary() if summary is None else summary
    if ax is None:
        fig, ax = plt.subplots(figsize=(7.5, 5.0))
    else:
        fig = ax.figure
    ci = int(round(100 * curve.attrs.get("ci", 0.9)))
    for episode, part in curve.groupby("EPISODE", sort=False):
        colour = _EPISODE_COLOURS.get(episode, "tab:blue")
        label = "model" + ("" if episode == "all" else f", {episode}")
        ax.fill_between(part["EXPOSURE"], part["LOWER"], part["UPPER"], color=colour,
                        alpha=0.2, lw=0, label=f"{ci} % credible band")
        ax.plot(part["EXPOSURE"], part["MEDIAN"], color=colour, lw=2, label=label)
    if fit.kind == "peak":
        _peaks(ax, fit)
    else:
        _quartiles(ax, quartiles, int(round(100 * quartiles.attrs.get("conf_level", 0.9))))
        ax.plot(fit.units["EXPOSURE"], np.zeros(len(fit.units)), "|", color="grey",
                alpha=0.5, transform=ax.get_xaxis_transform(), ms=8)
        ax.set_ylim(0.0, 1.0)
    _regimens(ax, fit.regimens, fit.kind)
    ax.set_xscale("log")
    ax.set_xlabel(f"{fit.metric_label} (pg/mL)")
    ax.set_ylabel(curve.attrs.get("response", fit.endpoint_label))
    mode = {"plugin": "plug-in exposure",
            "propagated": "exposure propagated (latent, PK posterior prior)",
            "imputation": f"naive imputation ({fit.n_imputations}; attenuated)",
            "joint": "joint PK and E-R model"}[fit.uncertainty]
    ax.set_title(f"{fit.endpoint_label} vs {fit.metric_label}\n{fit.model_name}, {mode}, "
                 f"n = {len(fit.units)}", fontsize=10)
    ax.text(0.01, 0.99, effect_note(fit, summary), transform=ax.transAxes, fontsize=7.5,
            va="top", ha="left", wrap=True,
            bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none"})
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.xaxis.set_minor_formatter(LogFormatter(labelOnlyBase=False, minor_thresholds=(2, 0.5)))
    ax.tick_params(axis="x", which="minor", labelsize=7)
    handles, labels = ax.get_legend_handles_labels()
    keep = dict(zip(labels, handles, strict=True))
    ax.legend(keep.values(), keep.keys(), fontsize=7, loc="upper center",
              bbox_to_anchor=(0.5, -0.13), ncol=2, frameon=False)
    ax.grid(alpha=0.3, which="both")
    return fig

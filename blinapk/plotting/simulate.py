"""Plots of simulated exposure: Css distributions and target-attainment curves.

Both functions draw what a result already holds (per-patient Css of
:func:`blinapk.simulate.simulate_exposure`; the attainment table of
:func:`blinapk.simulate.summarize_exposure`) and return the Figure.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["plot_css_distribution", "plot_response_rates", "plot_target_attainment"]


def _scenarios(results: Any) -> dict[str, Any]:
    import xarray as xr

    if isinstance(results, xr.Dataset):
        return {"": results}
    return dict(results)


def plot_css_distribution(results: Any, *, dose_levels: Mapping[str, str] | str | None = None,
                          thresholds: tuple[float, ...] | None = None, bins: int = 60,
                          ax: Any = None) -> Any:
    """Distribution of Css (log scale) by scenario, e.g. regimen and population.

    Parameters
    ----------
    results : Dataset or mapping of str to Dataset
        In-memory result(s) of :func:`~blinapk.simulate.simulate_exposure`;
        the mapping's keys label the scenarios.
    dose_levels : str or mapping, optional
        Dose level drawn (one for all, or per scenario). Default: every
        level of each scenario.
    thresholds : tuple of float, optional
        Vertical reference lines (pg/mL); default the results' thresholds.
    bins : int, default 60
        Log-spaced histogram bins over the range of all values drawn.
    ax : matplotlib Axes, optional
        Draw here instead of a new figure.

    Returns
    -------
    matplotlib.figure.Figure
        Histograms of the fraction of patients per log-spaced bin (outlines),
        one per scenario and dose level, with the median marked.
    """
    import matplotlib.pyplot as plt

    scenarios = _scenarios(results)
    curves = []
    for label, ds in scenarios.items():
        levels = (dose_levels.get(label) if isinstance(dose_levels, Mapping) else dose_levels)
        levels = [levels] if isinstance(levels, str) else list(ds["dose_level"].values)
        for level in levels:
            v = np.asarray(ds["CSS"].sel(dose_level=level).values, float).ravel()
            v = v[np.isfinite(v) & (v > 0)]
            if v.size:
                name = f"{label}: {level}" if label else str(level)
                curves.append((name, v))
    if ax is None:
        fig, ax = plt.subplots(figsize=(10, 4.2))
    else:
        fig = ax.get_figure()
    if not curves:
        ax.text(0.5, 0.5, "no Css to draw", ha="center", transform=ax.transAxes)
        return fig
    lo = min(np.quantile(v, 0.001) for _, v in curves)
    hi = max(np.quantile(v, 0.999) for _, v in curves)
    edges = np.geomspace(lo, hi, bins + 1)
    for k, (name, v) in enumerate(curves):
        color = f"C{k % 10}"
        ax.hist(v, bins=edges, weights=np.full(v.size, 1.0 / v.size), histtype="step", lw=1.6,
                color=color, label=f"{name} (median {np.median(v):.0f}, n={v.size:,})")
        ax.axvline(np.median(v), color=color, lw=0.8, ls=":")
    if thresholds is None:
        first = next(iter(scenarios.values()))
        thresholds = tuple(float(t) for t in first["threshold"].values)
    for t in thresholds:
        ax.axvline(t, color="0.3", lw=1.0, ls="--", label=f"threshold {t:g} pg/mL")
    ax.set_xscale("log")
    ax.set_xlabel("steady-state concentration Css (pg/mL)")
    ax.set_ylabel("fraction of patients per bin")
    ax.set_title("Simulated Css by scenario and dose level (dotted: medians)")
    ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    return fig


def plot_target_attainment(attainment: Any, *, x: str = "BSA_BAND", metric: str = "CSS",
                           keys: Mapping[str, str] | str | None = None, min_n: int = 100,
                           ax: Any = None) -> Any:
    """Probability of target attainment against a banded covariate (BSA or weight).

    Parameters
    ----------
    attainment : DataFrame or ExposureSummary
        The attainment table of :func:`~blinapk.simulate.summarize_exposure`
        computed with ``by`` holding ``x`` (e.g. narrow BSA bands).
    x : str, default "BSA_BAND"
        Banded covariate on the x axis (``BSA_BAND``, ``WT_BAND``, ...).
    metric : str, default "CSS"
        Metric (``CSS``, ``CAVG`` or ``FTA``).
    keys : str or mapping, optional
        Dose level / window drawn (one for all, or per scenario); default all.
    min_n : int, default 100
        Bands with fewer patients are not drawn (too noisy to read).
    ax : matplotlib Axes, optional
        Draw here instead of a new figure.

    Returns
    -------
    matplotlib.figure.Figure
        PTA at the middle of each band, with a 95 % Monte Carlo band and, when
        the results had several draws, the interval across draws as error bars.
    """
    import matplotlib.pyplot as plt

    table = getattr(attainment, "attainment", attainment)
    if f"{x}_LOW" not in table.columns:
        raise ValueError(f"the attainment table has no {x!r} bands; summarise with by=({x!r},)")
    table = table[(table["METRIC"] == metric) & (table["N"] >= min_n)]
    if ax is None:
        fig, ax = plt.subplots(figsize=(7.5, 4.2))
    else:
        fig = ax.get_figure()
    k = 0
    for (scenario, key), rows in table.groupby(["SCENARIO", "KEY"], sort=False):
        wanted = keys.get(scenario) if isinstance(keys, Mapping) else keys
        if wanted is not None and key != wanted:
            continue
        low, high = rows[f"{x}_LOW"].to_numpy(), rows[f"{x}_HIGH"].to_numpy()
        width = np.where(np.isfinite(high), high - low, np.nan)
        fill = np.nanmedian(width) if np.isfinite(width).any() else 1.0
        mid = low + 0.5 * np.where(np.isfinite(width), width, fill)
        p, se = rows["PTA"].to_numpy(), rows["PTA_MCSE"].to_numpy()
        color = f"C{k % 10}"
        target = rows["TARGET"].iloc[0]
        th = rows["THRESHOLD"].iloc[0]
        what = f"{key}" + (f", above {th:g} pg/mL" if np.isfinite(th) else "")
        ax.plot(mid, p, "o-", color=color, ms=4, label=f"{scenario}: {what} (target {target:g})")
        ax.fill_between(mid, np.clip(p - 1.96 * se, 0, 1), np.clip(p + 1.96 * se, 0, 1),
                        color=color, alpha=0.2, lw=0)
        if rows["PTA_LOWER"].notna().any():
            ax.errorbar(mid, p, yerr=[p - rows["PTA_LOWER"], rows["PTA_UPPER"] - p],
                        fmt="none", ecolor=color, capsize=2, lw=0.8)
        k += 1
    ax.set_ylim(0, 1)
    ax.set_xlabel(x.replace("_BAND", "") + (" (m2)" if x.startswith("BSA") else
                                            " (kg)" if x.startswith("WT") else ""))
    ax.set_ylabel(f"P({metric} >= target)")
    ax.set_title("Probability of target attainment")
    ax.grid(alpha=0.3)
    if k:
        ax.legend(fontsize=8, frameon=False)
    else:  # say so rather than draw empty axes with a warning about the legend
        ax.text(0.5, 0.5, "no target-attainment rows to draw", ha="center",
                transform=ax.transAxes)
    fig.tight_layout()
    return fig


def plot_response_rates(predictions: Any, *, ax: Any = None) -> Any:
    """Predicted response / adverse-event rate per regimen (and group) with credible intervals.

    Parameters
    ----------
    predictions : DataFrame
        The table of :func:`~blinapk.simulate.predict_response`.
    ax : matplotlib Axes, optional
        Draw here instead of a new figure.

    Returns
    -------
    matplotlib.figure.Figure
        One row per scenario (and group): the posterior median rate (dot)
        and its credible interval (line), one colour per E-R model.
    """
    import matplotlib.pyplot as plt

    table = predictions
    groups = [c for c in table.columns if c not in ("SCENARIO", "MODEL_NAME") and
              list(table.columns).index(c) < list(table.columns).index("MODEL_NAME")]
    rows = table[["SCENARIO", *groups]].drop_duplicates().astype(str)
    labels = [" ".join(r) for r in rows.itertuples(index=False)]
    models = list(dict.fromkeys(table["MODEL_NAME"]))
    if ax is None:
        fig, ax = plt.subplots(figsize=(7.5, 2.0 + 0.5 * len(labels) + 0.25 * len(models)))
    else:
        fig = ax.get_figure()
    step = 0.3 / max(1, len(models))  # models of one row stay close to its label
    for k, model in enumerate(models):
        part = table[table["MODEL_NAME"] == model]
        key = part[["SCENARIO", *groups]].astype(str).agg(" ".join, axis=1)
        y = np.array([labels.index(v) for v in key]) + (k - (len(models) - 1) / 2) * step
        med = part["MEDIAN"].to_numpy(float)
        ax.errorbar(100 * med, y, xerr=[100 * (med - part["LOWER"].to_numpy(float)),
                                        100 * (part["UPPER"].to_numpy(float) - med)],
                    fmt="o", color=f"C{k % 10}", capsize=3, ms=5,
                    label=f"{model}: {part['PREDICTION'].iloc[0]} ({part['METRIC'].iloc[0]})")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlim(0, 100)
    ci = table.attrs.get("ci")
    mass = f"{100 * ci:g} % " if ci else ""
    ax.set_xlabel(f"predicted rate (%): posterior median and {mass}credible interval")
    ax.set_title("Predicted rates from exposure-response models")
    ax.grid(alpha=0.3, axis="x")
    ax.set_ylim(len(labels) - 0.5, -0.5)
    ax.legend(fontsize=8, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.22))
    fig.tight_layout()
    return fig

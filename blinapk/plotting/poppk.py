"""Sampler diagnostics of a population-PK fit: trace, rank and pair plots (ArviZ).

Each function draws the population parameters of a
:class:`~blinapk.poppk.PopPKFit` (:func:`population_var_names`) under human
labels with units (:func:`labelled_posterior`: "typical CL (L/h)",
"ω CL (BSV, log SD)", "BSA on CL (exponent)" ...) and returns the matplotlib Figure.
"""

from __future__ import annotations

from typing import Any

__all__ = ["labelled_posterior", "plot_pair", "plot_rank", "plot_trace",
           "population_var_names"]


def population_var_names(fit: Any) -> list[str]:
    """Posterior variables of the population parameters present in the fit.

    Parameters
    ----------
    fit : PopPKFit
        The fit.

    Returns
    -------
    list of str
        ``typical``, ``omega_P`` per BSV parameter, ``beta_...`` per estimated
        covariate effect, ``sigma_prop`` / ``sigma_add``.
    """
    post = fit.idata.posterior
    names = ["typical"] + [f"omega_{p}" for p in fit.spec.bsv]
    names += [f"beta_{c.name}" for c in fit.spec.covariates if not c.is_fixed]
    names += [n for n in ("sigma_prop", "sigma_add") if n in post]
    return [n for n in names if n in post]


def labelled_posterior(fit: Any) -> Any:
    """Return the population parameters under display names with units (InferenceData).

    Parameters
    ----------
    fit : PopPKFit
        The fit.

    Returns
    -------
    arviz.InferenceData
        ``posterior`` with one scalar variable per parameter (named e.g.
        ``typical CL (L/h)``) and the fit's ``sample_stats`` when present.
    """
    import arviz as az
    import xarray as xr

    from blinapk.pk import PARAMETER_UNITS

    post = fit.idata.posterior
    names = population_var_names(fit)
    out = {}
    # short names: they label the axes of the pair plot as well as the trace panels
    if "typical" in names:
        for p in post["param"].values:
            out[f"typical {p} ({PARAMETER_UNITS[str(p)]})"] = \
                post["typical"].sel(param=p, drop=True)
    for c in fit.spec.covariates:
        name = f"beta_{c.name}"
        if name not in names:
            continue
        if c.form == "categorical":
            for level in post[name][f"level_{c.name}"].values:
                out[f"{c.covariate}={level} on {c.param} (log ratio)"] = post[name].sel(
                    {f"level_{c.name}": level}, drop=True)
        else:
            kind = {"power": "exponent", "exponential": "per unit", "linear": "slope"}[c.form]
            out[f"{c.covariate} on {c.param} ({kind})"] = post[name]
    for p in fit.spec.bsv:
        if f"omega_{p}" in names:
            out[f"ω {p} (BSV, log SD)"] = post[f"omega_{p}"]
    if "sigma_prop" in names:
        unit = "log SD" if fit.spec.residual == "proportional" else "fraction"
        out[f"σ proportional ({unit})"] = post["sigma_prop"]
    if "sigma_add" in names:
        out["σ additive (pg/mL)"] = post["sigma_add"]
    groups = {"posterior": xr.Dataset(out)}
    if "sample_stats" in fit.idata.groups():
        groups["sample_stats"] = fit.idata.sample_stats
    return az.InferenceData(**groups)


def _chains(data: Any, name: str) -> Any:
    import numpy as np

    return np.asarray(data.posterior[name].transpose("chain", "draw").values, dtype=float)


def plot_trace(fit: Any) -> Any:
    """Trace plot: density of each chain (left) and the draws in order (right).

    Parameters
    ----------
    fit : PopPKFit
        A fit with several draws per chain.

    Returns
    -------
    matplotlib.figure.Figure
        Divergent transitions (NUTS) are marked in red under the trace.
    """
    import matplotlib.pyplot as plt
    import numpy as np

    data = labelled_posterior(fit)
    names = list(data.posterior.data_vars)
    div = None
    if "sample_stats" in data.groups() and "diverging" in data.sample_stats:
        div = np.asarray(data.sample_stats["diverging"].transpose("chain", "draw").values, bool)
    fig, axes = plt.subplots(len(names), 2, figsize=(12.0, 1.7 * len(names) + 0.8),
                             squeeze=False, constrained_layout=True,
                             gridspec_kw={"width_ratios": [1.0, 2.2]})
    colours = plt.get_cmap("tab10")
    for i, name in enumerate(names):
        x = _chains(data, name)
        edges = np.linspace(x.min(), x.max(), 41) if np.ptp(x) > 0 else 10
        for c in range(x.shape[0]):
            axes[i, 0].hist(x[c], bins=edges, histtype="step", density=True, color=colours(c),
                            lw=1.1, label=f"chain {c + 1}")
            axes[i, 1].plot(x[c], color=colours(c), lw=0.6, alpha=0.75)
        if div is not None and div.any():
            it = np.flatnonzero(div.any(axis=0))
            axes[i, 1].plot(it, np.full(it.size, x.min()), "|", color="red", ms=8)
        axes[i, 0].set_yticks([])
        axes[i, 0].set_xlabel(name, fontsize=9)
        axes[i, 1].set_ylabel(name, fontsize=8)
        for ax in axes[i]:
            ax.tick_params(labelsize=7)
    axes[-1, 1].set_xlabel("draw (after warm-up)", fontsize=9)
    axes[0, 0].legend(fontsize=7, frameon=False)
    title = "Trace of the population parameters"
    if div is not None and div.any():
        title += f" ({int(div.sum())} divergent transitions marked in red)"
    fig.suptitle(title, fontsize=11)
    return fig


def plot_rank(fit: Any) -> Any:
    """Rank histograms: ranks of each chain's draws among all draws (uniform when chains mix).

    Parameters
    ----------
    fit : PopPKFit
        A fit with several chains.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt
    import numpy as np
    from scipy.stats import rankdata

    data = labelled_posterior(fit)
    names = list(data.posterior.data_vars)
    ncols = min(3, len(names))
    nrows = -(-len(names) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.4 * ncols, 2.9 * nrows), squeeze=False,
                             constrained_layout=True)
    colours = plt.get_cmap("tab10")
    for ax, name in zip(axes.flat, names, strict=False):
        x = _chains(data, name)
        n_chain, n_draw = x.shape
        ranks = rankdata(x.ravel()).reshape(x.shape)
        bins = np.linspace(0.5, x.size + 0.5, 21)
        for c in range(n_chain):
            ax.hist(ranks[c], bins=bins, histtype="step", color=colours(c), lw=1.2,
                    label=f"chain {c + 1}")
        ax.axhline(n_draw / 20.0, color="0.3", ls="--", lw=0.8)
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("rank among all draws", fontsize=8)
        ax.set_yticks([])
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(names):]:
        ax.set_visible(False)
    axes.flat[0].legend(fontsize=7, frameon=False, loc="lower right")
    fig.suptitle("Rank histograms (dashed: uniform; chains that mix stay close to it)",
                 fontsize=11)
    return fig


def plot_pair(fit: Any) -> Any:
    """Pair plot: scatter of the draws below the diagonal, histograms on it.

    Parameters
    ----------
    fit : PopPKFit
        A fit with more than one draw.

    Returns
    -------
    matplotlib.figure.Figure
        Divergent transitions (NUTS) are drawn in red on top.
    """
    import matplotlib.pyplot as plt
    import numpy as np

    data = labelled_posterior(fit)
    names = list(data.posterior.data_vars)
    values = [np.asarray(data.posterior[v].values, dtype=float).ravel() for v in names]
    div = np.zeros(values[0].size, dtype=bool) if values else np.zeros(0, dtype=bool)
    if "sample_stats" in data.groups() and "diverging" in data.sample_stats:
        div = np.asarray(data.sample_stats["diverging"].values, dtype=bool).ravel()
    n = len(names)
    size = min(2.2 * n + 1.0, 16.0)
    fig, axes = plt.subplots(n, n, figsize=(size, size), squeeze=False, constrained_layout=True)
    for i in range(n):
        for j in range(n):
            ax = axes[i, j]
            if j > i:
                ax.set_visible(False)
                continue
            if i == j:
                ax.hist(values[i], bins=40, color="tab:blue", alpha=0.7)
                ax.set_yticks([])
            else:
                ax.scatter(values[j], values[i], s=3, alpha=0.3, color="tab:blue", linewidths=0)
                if div.any():
                    ax.scatter(values[j][div], values[i][div], s=10, color="red", linewidths=0,
                               label="divergent")
            ax.tick_params(labelsize=7)
            if i == n - 1:
                ax.set_xlabel(names[j], fontsize=8)
            else:
                ax.tick_params(labelbottom=False)
            if j == 0 and i > 0:
                ax.set_ylabel(names[i], fontsize=8)
            elif j > 0:
                ax.tick_params(labelleft=False)
    title = "Posterior of the population parameters"
    if div.any():
        title += f" ({int(div.sum())} divergent draws in red)"
    fig.suptitle(title, fontsize=11)
    return fig

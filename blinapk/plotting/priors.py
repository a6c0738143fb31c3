"""Prior vs posterior of each population parameter (:func:`plot_prior_posterior`)."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np

__all__ = ["plot_prior_posterior"]


def plot_prior_posterior(table: Any, *, ncols: int = 3) -> Any:
    """Overlay prior and posterior draws of every population parameter.

    Parameters
    ----------
    table : DataFrame
        :func:`blinapk.diagnostics.prior_posterior` (``PARAMETER, LABEL,
        UNIT, SOURCE, VALUE``).
    ncols : int, default 3
        Panels per row.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per parameter: posterior histogram (filled), prior
        histogram (outline); the range covers the central 98 % of the prior
        and the whole posterior.
    """
    names = list(dict.fromkeys(table["PARAMETER"]))
    n = len(names)
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.0 * ncols, 2.7 * nrows), squeeze=False,
                             constrained_layout=True)
    for ax, name in zip(axes.flat, names, strict=False):
        sub = table[table["PARAMETER"] == name]
        prior = sub.loc[sub["SOURCE"] == "prior", "VALUE"].to_numpy(float)
        post = sub.loc[sub["SOURCE"] == "posterior", "VALUE"].to_numpy(float)
        lo = min(np.quantile(prior, 0.01), post.min())
        hi = max(np.quantile(prior, 0.99), post.max())
        edges = np.linspace(lo, hi, 60)
        ax.hist(post, bins=edges, density=True, color="tab:blue", alpha=0.55, label="posterior")
        ax.hist(prior, bins=edges, density=True, histtype="step", color="0.2", lw=1.2,
                label="prior")
        label, unit = sub["LABEL"].iloc[0], sub["UNIT"].iloc[0]
        ax.set_xlabel(f"{label}" + (f" ({unit})" if unit else ""), fontsize=9)
        ax.set_yticks([])
        ax.set_title(name, fontsize=9, loc="left")
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    axes.flat[0].legend(fontsize=8, frameon=False)
    fig.suptitle("Prior vs posterior of the population parameters", fontsize=11)
    return fig

"""Sampler diagnostics of a population-PK fit: trace, rank and pair plots (ArviZ).

Each function draws the population parameters of a
:class:`~blinapk.poppk.PopPKFit` (:func:`population_var_names`) and returns
the matplotlib Figure.
"""

from __future__ import annotations

from typing import Any

__all__ = ["plot_pair", "plot_rank", "plot_trace", "population_var_names"]


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


def _figure(axes: Any) -> Any:
    return (axes.ravel()[0] if hasattr(axes, "ravel") else axes).get_figure()


def plot_trace(fit: Any) -> Any:
    """Trace plot (compact: one row per variable, chains overlaid).

    Parameters
    ----------
    fit : PopPKFit
        A fit with several draws per chain.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import arviz as az

    return _figure(az.plot_trace(fit.idata, var_names=population_var_names(fit), compact=True))


def plot_rank(fit: Any) -> Any:
    """Rank plot (uniform ranks across chains when they mix).

    Parameters
    ----------
    fit : PopPKFit
        A fit with several chains.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import arviz as az

    return _figure(az.plot_rank(fit.idata, var_names=population_var_names(fit)))


def plot_pair(fit: Any) -> Any:
    """Pair plot (scatter of the draws, marginals on the diagonal).

    Parameters
    ----------
    fit : PopPKFit
        A fit with more than one draw.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import arviz as az

    return _figure(az.plot_pair(fit.idata, var_names=population_var_names(fit), kind="scatter",
                                marginals=True, textsize=8))

"""Parameter-level checks: eta shrinkage with its flag, prior vs posterior draws.

:func:`shrinkage_table` flags random effects whose shrinkage exceeds 30 %:
their individual estimates are pulled towards the typical value, so plots
of individual parameters or etas against covariates, and individual
predictions, say more about the model than about the data (Savic &
Karlsson, AAPS J 2009;11:558-569).

:func:`prior_posterior` returns draws of each population parameter from
its prior and from the posterior on the natural scale, for an overlay that
shows how much the data moved each one.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from blinapk.pk import PARAMETER_UNITS
from blinapk.poppk.summary import eta_shrinkage

__all__ = ["SHRINKAGE_FLAG", "prior_posterior", "shrinkage_table"]

#: Shrinkage above which a random effect is flagged.
SHRINKAGE_FLAG = 0.30


def shrinkage_table(fit: Any, threshold: float = SHRINKAGE_FLAG) -> pd.DataFrame:
    """Eta shrinkage per random effect in %, flagged above ``threshold``.

    Parameters
    ----------
    fit : PopPKFit
        The fit.
    threshold : float, default 0.30
        Flag level (fraction).

    Returns
    -------
    DataFrame
        ``PARAMETER, OMEGA, SD_ETA, SHRINKAGE_PCT, FLAG`` (``FLAG`` names the
        problem, empty when below the threshold).
    """
    base = eta_shrinkage(fit)
    pct = 100.0 * base["SHRINKAGE"].to_numpy(float)
    flag = np.where(pct > 100.0 * threshold,
                    f"> {100 * threshold:g} %: individual {'{}'} estimates shrink to the "
                    "typical value; eta-covariate plots and IPRED are unreliable", "")
    flag = [f.format(p) if f else "" for f, p in zip(flag, base["PARAMETER"], strict=True)]
    out = pd.DataFrame({"PARAMETER": base["PARAMETER"], "OMEGA": base["OMEGA"],
                        "SD_ETA": base["SD_ETA"], "SHRINKAGE_PCT": pct, "FLAG": flag})
    out.attrs["threshold"] = threshold
    return out


def _prior_draws(prior: Any, n: int, seed: int) -> np.ndarray:
    import pymc as pm

    dist = getattr(pm, prior.dist).dist(**prior.kwargs)
    return np.asarray(pm.draw(dist, draws=n, random_seed=seed), dtype=float).reshape(n)


def prior_posterior(fit: Any, n: int = 2000, seed: int | None = None) -> pd.DataFrame:
    """Prior and posterior draws of every population parameter on the natural scale.

    Parameters
    ----------
    fit : PopPKFit
        The fit.
    n : int, default 2000
        Prior draws per parameter (the posterior gives all its draws).
    seed : int, optional
        Seed of the prior draws (default: the fit's).

    Returns
    -------
    DataFrame
        ``PARAMETER`` (``TV_CL``, ``OMEGA_CL``, ``BETA_CL_BSA``,
        ``SIGMA_PROP`` ...), ``LABEL``, ``UNIT``, ``SOURCE`` (``prior`` /
        ``posterior``), ``VALUE``. Fixed covariate effects have no prior and
        are left out.
    """
    post = fit.idata.posterior
    seed = int(fit.seed if seed is None else seed) % (2**32)
    parts = []

    def add(name: str, label: str, unit: str, prior_vals: np.ndarray, post_vals: np.ndarray):
        for source, vals in (("prior", prior_vals), ("posterior", post_vals)):
            parts.append(pd.DataFrame({"PARAMETER": name, "LABEL": label, "UNIT": unit,
                                       "SOURCE": source, "VALUE": np.ravel(vals)}))

    for k, p in enumerate(fit.spec.params):
        add(f"TV_{p}", f"typical {p}", PARAMETER_UNITS[p],
            np.exp(_prior_draws(fit.priors[f"log_{p}"], n, seed + k)),
            post["typical"].sel(param=p).values)
    for k, p in enumerate(fit.spec.bsv):
        add(f"OMEGA_{p}", f"BSV of {p} (log-scale SD)", "",
            _prior_draws(fit.priors[f"omega_{p}"], n, seed + 10 + k), post[f"omega_{p}"].values)
    for k, c in enumerate(fit.spec.covariates):
        if c.is_fixed:
            continue
        var = post[f"beta_{c.name}"]
        prior = _prior_draws(fit.priors[f"beta_{c.name}"], n, seed + 20 + k)
        if c.form == "categorical":
            for level in var[f"level_{c.name}"].values:
                add(f"BETA_{c.name}[{level}]", f"{c.covariate}={level} on {c.param} (log ratio)",
                    "", prior, var.sel({f"level_{c.name}": level}).values)
        else:
            add(f"BETA_{c.name}", f"{c.covariate} on {c.param} ({c.form})", "", prior,
                var.values)
    if "sigma_prop" in post:
        unit = "log-scale SD" if fit.spec.residual == "proportional" else "fraction"
        add("SIGMA_PROP", "proportional residual error", unit,
            _prior_draws(fit.priors["sigma_prop"], n, seed + 30), post["sigma_prop"].values)
    if "sigma_add" in post:
        add("SIGMA_ADD", "additive residual error", "pg/mL",
            np.abs(_prior_draws(fit.priors["sigma_add"], n, seed + 31)), post["sigma_add"].values)
    return pd.concat(parts, ignore_index=True)

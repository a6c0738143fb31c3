"""Every qualification diagnostic of a fit in one call (:func:`diagnose`).

The bundle (:class:`Diagnostics`) is what ``blinapk fit`` and ``blinapk
diagnose`` write (:func:`blinapk.report.write_diagnostics`): the
predictions table, NPDE tests, the VPC, the individual fits, shrinkage,
PSIS-LOO and prior/posterior draws.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from blinapk.data import Dataset
from blinapk.diagnostics.individual import IndividualFits, compute_individual_fits
from blinapk.diagnostics.loo import LOOResult, compute_loo
from blinapk.diagnostics.parameters import prior_posterior, shrinkage_table
from blinapk.diagnostics.predictions import Predictions, compute_predictions
from blinapk.diagnostics.vpc import VPCResult, compute_vpc

__all__ = ["Diagnostics", "diagnose"]


@dataclass(frozen=True, eq=False)
class Diagnostics:
    """The qualification diagnostics of one fit.

    Attributes
    ----------
    fit : PopPKFit
        The fit diagnosed.
    predictions : Predictions
        Per-observation PRED, IPRED, intervals, IWRES, PIT, NPDE.
    npde_tests : DataFrame
        :func:`~blinapk.diagnostics.npde_tests` of the NPDE.
    vpc : VPCResult
        Prediction-corrected VPC (stratified when asked).
    individual : IndividualFits
        Every subject's predicted profile.
    shrinkage : DataFrame
        :func:`~blinapk.diagnostics.shrinkage_table`.
    loo : LOOResult or None
        PSIS-LOO (None for a MAP fit or without log-likelihood).
    prior_posterior : DataFrame
        :func:`~blinapk.diagnostics.prior_posterior`.
    notes : tuple of str
        Why a part is missing, and the warnings raised on the way.
    """

    fit: Any = field(repr=False)
    predictions: Predictions = field(repr=False)
    npde_tests: pd.DataFrame = field(repr=False)
    vpc: VPCResult = field(repr=False)
    individual: IndividualFits = field(repr=False)
    shrinkage: pd.DataFrame = field(repr=False)
    loo: LOOResult | None = field(repr=False)
    prior_posterior: pd.DataFrame = field(repr=False)
    notes: tuple[str, ...] = ()

    def predictions_table(self) -> pd.DataFrame:
        """Return the predictions table with each observation's LOO ``ELPD`` and ``PARETO_K``."""
        table = self.predictions.to_frame()
        if self.loo is not None:
            pw = self.loo.pointwise[["ROW", "ELPD", "PARETO_K"]]
            table = table.merge(pw, on="ROW", how="left", validate="one_to_one")
        return table


def diagnose(fit: Any, dataset: Dataset, *, ci: float = 0.9, n_sim: int = 1000,
             seed: int | None = None, vpc_x: str = "time",
             stratify: str | Mapping | None = None, vpc_bins: Any = "auto") -> Diagnostics:
    """Compute every diagnostic of a population-PK fit.

    Parameters
    ----------
    fit : PopPKFit
        The fit (NUTS, Laplace or MAP; LOO needs posterior draws).
    dataset : Dataset
        The dataset it was fitted to (checked by hash).
    ci : float, default 0.9
        Mass of every interval and band.
    n_sim : int, default 1000
        Simulated datasets (NPDE, VPC).
    seed : int, optional
        Seed (default: the fit's seed).
    vpc_x, stratify, vpc_bins
        ``x``, ``stratify`` and ``bins`` of :func:`~blinapk.diagnostics.compute_vpc`.

    Returns
    -------
    Diagnostics

    Warns
    -----
    DiagnosticWarning
        Pareto k > 0.7 in PSIS-LOO (also recorded in ``notes``).
    """
    pred = compute_predictions(fit, dataset, ci=ci, n_sim=n_sim, seed=seed)
    vpc = compute_vpc(pred, x=vpc_x, stratify=stratify, bins=vpc_bins, ci=ci)
    individual = compute_individual_fits(fit, dataset, ci=ci)
    notes = []
    loo = None
    n_draws = fit.idata.posterior.sizes["chain"] * fit.idata.posterior.sizes["draw"]
    if n_draws < 2:
        notes.append("LOO: not computed for a MAP fit (one draw)")
    elif "log_likelihood" not in fit.idata.groups():
        notes.append("LOO: not computed, the fit has no log_likelihood group")
    else:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            loo = compute_loo(fit)
        for w in caught:
            notes.append(str(w.message))
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return Diagnostics(fit=fit, predictions=pred, npde_tests=pred.npde_tests(), vpc=vpc,
                       individual=individual, shrinkage=shrinkage_table(fit), loo=loo,
                       prior_posterior=prior_posterior(fit, seed=seed), notes=tuple(notes))

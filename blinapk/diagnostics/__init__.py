"""Model qualification: how well a fitted population-PK model describes the data.

This layer sits above the model fitters (:mod:`blinapk.poppk`) because its
tools need a fit. Each function takes a :class:`~blinapk.poppk.PopPKFit`
and the dataset it was fitted to:

* :func:`compute_predictions` -> :class:`Predictions`: one row per
  observation with PRED, IPRED, credible and predictive intervals, the
  conditional residual IWRES, the LOO-PIT and the NPDE (BLQ rows handled
  as in the M3 likelihood); this is the fit's predictions table;
* :func:`compute_vpc` -> :class:`VPCResult`: prediction-corrected VPC with
  the fraction below the LLOQ, optionally stratified;
* :func:`npde_tests`, :func:`npde_trend`: NPDE mean, variance, normality
  and global tests; binned NPDE trends;
* :func:`compute_loo` -> :class:`LOOResult` (PSIS-LOO with the Pareto-k
  table) and :func:`compare_fits` (specs on the same data);
* :func:`shrinkage_table` (flagged above 30 %), :func:`prior_posterior`;
* :func:`compute_individual_fits` -> :class:`IndividualFits`;
* :func:`diagnose` -> :class:`Diagnostics`: all of the above.

Plots of these results are in :mod:`blinapk.plotting`, files in
:func:`blinapk.report.write_diagnostics`. MCMC convergence gates live in
:mod:`blinapk.mcmc`. See docs/diagnostics.md.
"""

from blinapk.diagnostics.individual import IndividualFits, compute_individual_fits
from blinapk.diagnostics.loo import K_THRESHOLD, LOOResult, compare_fits, compute_loo
from blinapk.diagnostics.npde import compute_npde, npde_tests, npde_trend
from blinapk.diagnostics.parameters import SHRINKAGE_FLAG, prior_posterior, shrinkage_table
from blinapk.diagnostics.predictions import (
    PREDICTION_COLUMNS,
    Predictions,
    compute_predictions,
)
from blinapk.diagnostics.qualify import Diagnostics, diagnose
from blinapk.diagnostics.vpc import VPC_X, VPCResult, compute_vpc

__all__ = [
    "K_THRESHOLD",
    "PREDICTION_COLUMNS",
    "SHRINKAGE_FLAG",
    "VPC_X",
    "Diagnostics",
    "IndividualFits",
    "LOOResult",
    "Predictions",
    "VPCResult",
    "compare_fits",
    "compute_individual_fits",
    "compute_loo",
    "compute_npde",
    "compute_predictions",
    "compute_vpc",
    "diagnose",
    "npde_tests",
    "npde_trend",
    "prior_posterior",
    "shrinkage_table",
]

"""A small version of the recovery study of benchmarks/er_uncertainty.py (loose bounds).

The full study (50 replicates per scenario, results in docs/er.md) checks that
90 % intervals cover the truth in 85-95 % of replicates; here 5 replicates of
the logistic model with the true exposure plugged in must cover a slope of
1.5 at least 3 times and a slope of 0 at least 3 times.
"""

from __future__ import annotations

import warnings

import pytest
from conftest import FAST, truth_exposure

from blinapk.er import fit_er, interval_covers


@pytest.mark.slow
@pytest.mark.parametrize("slope", [1.5, 0.0])
def test_logistic_intervals_cover_the_true_slope(slope):
    from er_truth import er_study

    covered = 0
    for rep in range(5):
        study = er_study(150, 700 + rep, endpoint="crcrh", slope=slope)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = fit_er(study.clinical, truth_exposure(study), uncertainty="plugin",
                         dataset=study.dataset, regimens=False, **FAST)
        covered += interval_covers(fit.summary(), "BETA_LOGCSS", slope)
    assert covered >= 3

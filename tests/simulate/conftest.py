"""Fixtures shared by the simulation tests."""

from __future__ import annotations

import warnings

import pytest

from blinapk.data import read_dataset
from blinapk.poppk import PopPKSpec, fit, parse_covariate
from blinapk.simulate import simulate_trial


@pytest.fixture(scope="session")
def known_truth_fit():
    """A small, fast NUTS fit (40 subjects, 2 x 300 draws) to data from the Zhu 2020 card.

    Returns the trial (with its truth) and the fit; about 10-20 s.
    """
    trial = simulate_trial(40, seed=3, cytokines=False, paediatric_fraction=0.3,
                           interruption_fraction=0.0)
    dataset = read_dataset(trial.data)
    spec = PopPKSpec(covariates=(parse_covariate("CL~BSA:power"),))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = fit(dataset, spec, draws=300, tune=300, chains=2, seed=1, progressbar=False,
                     log_likelihood=False)
    return trial, dataset, result

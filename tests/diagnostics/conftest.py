"""One small NUTS fit of the example study, shared by the diagnostics tests (session scope)."""

from __future__ import annotations

import warnings

import pytest

from blinapk.data import read_dataset
from blinapk.datasets import load_example
from blinapk.poppk import PopPKSpec, fit

#: Subjects of the example study in the shared fit.
N_SUBJECTS = 24


@pytest.fixture(scope="session")
def example_fit():
    """(dataset, fit): 24 example subjects, 1-cmt with CL~BSA, NUTS 2 x (300 + 300)."""
    example = load_example()
    frame = example.frame
    ds = read_dataset(frame[frame["ID"].isin(example.subjects[:N_SUBJECTS])])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # short chains: the convergence gates may warn
        result = fit(ds, PopPKSpec(covariates=("CL~BSA:power",)), draws=300, tune=300,
                     chains=2, seed=11, progressbar=False)
    return ds, result


@pytest.fixture(scope="session")
def example_diagnostics(example_fit):
    """:func:`blinapk.diagnostics.diagnose` of the shared fit (400 simulated datasets)."""
    from blinapk.diagnostics import diagnose

    ds, result = example_fit
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the Pareto-k warning is tested on its own
        return diagnose(result, ds, n_sim=400)

"""Design-based approximate posterior variances (blinapk.poppk.variances), by hand."""

from __future__ import annotations

import numpy as np
import pytest

from blinapk.poppk import PopPKSpec, build_model, model_info
from blinapk.poppk.variances import approximate_variances


@pytest.fixture
def info(small_dataset):
    return model_info(build_model(small_dataset, PopPKSpec()))


def test_every_value_variable_of_the_default_model_is_covered(info, small_dataset):
    model = build_model(small_dataset, PopPKSpec())
    v = approximate_variances(model_info(model))
    assert sorted(v) == sorted(x.name for x in model.value_vars)
    point = model.initial_point()
    for x in model.value_vars:
        assert np.shape(v[x.name]) in ((), np.shape(point[x.name])), x.name
        assert np.all((v[x.name] > 0) & np.isfinite(v[x.name]))


def test_residual_sd_by_hand(info):
    n = int(np.sum(~info.data.cens))
    assert float(approximate_variances(info)["sigma_prop_log__"]) == pytest.approx(
        1.0 / (2 * n + 1))


def test_subject_and_population_terms_by_hand(info):
    """Normal-normal formulas with each subject's Fisher information (module docstring)."""
    v = approximate_variances(info)
    for p in info.spec.bsv:
        choice = info.parameterisation[p]
        big_i, omega2 = choice.information, float(info.init.omega[p]) ** 2
        given_pop = 1.0 / (big_i + 1.0 / omega2)
        name = {"centered": "phi", "noncentered": "z", "partial": "psi"}[choice.chosen]
        want = {"phi": given_pop, "z": given_pop / omega2,
                "psi": given_pop * omega2 ** (choice.weights - 1.0)}[name]
        np.testing.assert_allclose(v[f"{name}_{p}"], np.clip(want, 1e-8, 1e4))
        shrink = big_i * omega2 / (1.0 + big_i * omega2)
        assert float(v[f"omega_{p}_log__"]) == pytest.approx(1 / (2 * np.sum(shrink**2) + 1))
        # log typical value without covariates: 1 / (sum of weights + prior precision)
        weight = big_i / (1.0 + big_i * omega2)
        prior = info.priors[f"log_{p}"].kwargs["sigma"]
        assert float(v[f"log_{p}"]) == pytest.approx(1 / (weight.sum() + prior**-2), rel=1e-6)


def test_more_subjects_narrow_the_population_terms(small_dataset):
    from poppk_helpers import simulated_population

    from blinapk.data import read_dataset

    small = approximate_variances(model_info(build_model(small_dataset, PopPKSpec())))
    big = approximate_variances(model_info(build_model(
        read_dataset(simulated_population(60, seed=3)[0]), PopPKSpec())))
    for name in ("log_CL", "omega_CL_log__", "sigma_prop_log__"):
        assert float(big[name]) < float(small[name])

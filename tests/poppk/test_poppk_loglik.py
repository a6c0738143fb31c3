"""The JAX-vectorised log-likelihood group equals PyMC's draw-by-draw one."""

import arviz as az
import numpy as np
import pymc as pm
import pytest

from blinapk.poppk import loglik
from blinapk.poppk.build import build_model
from blinapk.poppk.spec import PopPKSpec


def _prior_as_posterior(model, draws=12):
    with model:
        prior = pm.sample_prior_predictive(draws=draws, random_seed=3).prior
    return az.InferenceData(posterior=prior.isel(draw=slice(None)))


@pytest.mark.parametrize("spec", [
    PopPKSpec(residual="proportional"),
    PopPKSpec(residual="combined", covariates=("CL~BSA:power",)),
    PopPKSpec(parameterisation={"CL": "centered", "V": "noncentered"}),
], ids=["prop-partial", "combined-cov", "centered-noncentered"])
def test_vectorised_loglik_matches_pymc(small_dataset, spec, monkeypatch):
    model = build_model(small_dataset, spec)
    idata = _prior_as_posterior(model)
    ref = pm.compute_log_likelihood(idata.copy(), model=model, extend_inferencedata=False,
                                    progressbar=False)["conc"]
    # small chunks so the chunking and re-assembly are exercised
    monkeypatch.setattr(loglik, "CHUNK_ELEMENTS", 3 * ref.sizes["obs"])
    got = loglik.pointwise_log_likelihood(model, idata.posterior)
    assert got.dims == ref.dims and got.shape == ref.shape
    np.testing.assert_array_equal(got["obs"].values, ref["obs"].values)
    finite = np.isfinite(ref.values)
    assert finite.mean() > 0.9
    np.testing.assert_allclose(got.values[finite], ref.values[finite], rtol=1e-9, atol=1e-9)
    out = loglik.add_log_likelihood(idata, model)
    assert "log_likelihood" in out.groups() and out.log_likelihood["conc"].shape == ref.shape


def test_missing_variable_is_named(small_dataset):
    model = build_model(small_dataset, PopPKSpec())
    post = _prior_as_posterior(model).posterior.drop_vars("omega_V")
    with pytest.raises(KeyError, match="omega_V"):
        loglik.pointwise_log_likelihood(model, post)

"""Running NUTS on a plain PyMC model (blinapk.mcmc.nuts.sample_nuts)."""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytest
from pytensor.compile.sharedvalue import SharedVariable

from blinapk.mcmc import SamplerSettings, jittered_start_fn, sample_nuts


@pytest.fixture(scope="module")
def model():
    y = np.random.default_rng(0).normal(1.0, 0.5, size=30)
    with pm.Model() as m:
        x = pm.Data("x", np.ones(30))
        mu = pm.Normal("mu", 0.0, 2.0)
        sd = pm.HalfNormal("sd", 1.0)
        pm.Normal("y", mu * x, sd, observed=y)
    return m


def _settings(**kwargs):
    base = {"draws": 100, "tune": 100, "chains": 2, "seed": 3, "progressbar": False,
            "cores": 1}
    return SamplerSettings(**{**base, **kwargs})


def test_nutpie_same_seed_same_draws_and_timings(model):
    pytest.importorskip("nutpie")
    pytest.importorskip("jax")
    settings = _settings(nutpie_backend="jax")
    a, ta = sample_nuts(model, settings, initvals={"mu": 1.0, "sd": 0.5})
    b, _ = sample_nuts(model, settings, initvals={"mu": 1.0, "sd": 0.5})
    assert set(ta) == {"compile_s", "sample_s"} and min(ta.values()) >= 0
    assert a.posterior.sizes["chain"] == 2 and a.posterior.sizes["draw"] == 100
    np.testing.assert_array_equal(a.posterior["mu"].values, b.posterior["mu"].values)
    assert "diverging" in a.sample_stats
    assert abs(float(a.posterior["mu"].mean()) - 1.0) < 0.5


def test_nutpie_chain_starts_hook_gets_the_frozen_model(model):
    pytest.importorskip("nutpie")
    pytest.importorskip("jax")
    seen = {}

    def hook(target, initvals):
        seen["target"], seen["initvals"] = target, initvals
        return jittered_start_fn(target, initvals, {"mu": 0.0, "sd_log__": 0.0})

    sample_nuts(model, _settings(nutpie_backend="jax", draws=5, tune=5), initvals={"mu": 0.7},
                chain_starts=hook)
    assert seen["initvals"] == {"mu": 0.7}
    # data were frozen to constants in the model handed to the hook, not in the caller's
    assert isinstance(model["x"], SharedVariable)
    assert seen["target"] is not model and not isinstance(seen["target"]["x"], SharedVariable)


def test_pymc_sampler(model):
    idata, t = sample_nuts(model, _settings(sampler="pymc", draws=50, tune=50),
                           initvals={"mu": 1.0})
    assert set(t) == {"sample_s"}
    assert idata.posterior.sizes["chain"] == 2 and idata.posterior.sizes["draw"] == 50
    assert "log_likelihood" not in idata.groups()
    again, _ = sample_nuts(model, _settings(sampler="pymc", draws=50, tune=50),
                           initvals={"mu": 1.0})
    np.testing.assert_array_equal(idata.posterior["mu"].values, again.posterior["mu"].values)

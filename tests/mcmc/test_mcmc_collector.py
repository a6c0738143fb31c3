"""The garbage collector pause around model building and sampling (blinapk.mcmc.collector)."""

from __future__ import annotations

import gc

import pytest

from blinapk.mcmc.collector import collector_paused


@pytest.fixture
def restore_gc():
    enabled = gc.isenabled()
    yield
    if enabled:
        gc.enable()
    else:
        gc.disable()


def test_pause_restores_an_enabled_collector_even_after_an_error(restore_gc):
    gc.enable()
    with pytest.raises(ValueError), collector_paused():
        assert not gc.isenabled()
        raise ValueError("boom")
    assert gc.isenabled()


def test_nested_pauses_reenable_only_at_the_outermost(restore_gc):
    gc.enable()
    with collector_paused():
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_the_caller_disabled_stays_disabled(restore_gc):
    gc.disable()
    with collector_paused():
        pass
    assert not gc.isenabled()


def test_sampling_leaves_the_collector_as_it_found_it(restore_gc):
    import numpy as np
    import pymc as pm

    from blinapk.mcmc import SamplerSettings, sample_nuts

    with pm.Model() as m:
        mu = pm.Normal("mu", 0.0, 1.0)
        pm.Normal("y", mu, 1.0, observed=np.array([0.1, -0.3, 0.4]))
    gc.enable()
    settings = SamplerSettings(draws=50, tune=50, chains=1, seed=1, progressbar=False,
                               sampler="numpyro")
    idata, _ = sample_nuts(m, settings, initvals={"mu": 0.0})
    assert gc.isenabled()
    assert idata.posterior["mu"].shape == (1, 50)

"""An optional sampler whose extra is missing fails with an error naming the extra."""

import sys

import pymc as pm
import pytest

from blinapk.errors import ModelSpecError
from blinapk.mcmc.nuts import OPTIONAL_SAMPLERS, sample_nuts
from blinapk.mcmc.settings import SamplerSettings


@pytest.mark.parametrize("sampler", sorted(OPTIONAL_SAMPLERS))
def test_missing_extra_is_named(sampler, monkeypatch):
    monkeypatch.setitem(sys.modules, sampler, None)  # "import <sampler>" now fails
    with pm.Model() as model:
        pm.Normal("x")
    with pytest.raises(ModelSpecError, match=r"pip install 'blinapk\[jax\]'") as err:
        sample_nuts(model, SamplerSettings(draws=5, tune=5, sampler=sampler, seed=1,
                                           progressbar=False))
    assert repr(sampler) in str(err.value)

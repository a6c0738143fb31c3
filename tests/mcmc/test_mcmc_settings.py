"""Sampler vocabulary and settings (blinapk.mcmc.settings): validation, normalisation, backend."""

from __future__ import annotations

import dataclasses
import importlib.util

import pytest

from blinapk.errors import ModelSpecError
from blinapk.mcmc.settings import (
    DEFAULT_SAMPLER,
    JAX_NUTS_BELOW_N_OBS,
    NUMBA_FROM_N_OBS,
    PRECISIONS,
    SAMPLERS,
    SamplerSettings,
    resolve_nutpie_backend,
)

HAS_JAX = importlib.util.find_spec("jax") is not None


def test_defaults_are_normalised():
    s = SamplerSettings(seed=3)
    assert (s.draws, s.tune, s.chains, s.target_accept) == (1000, 1000, 2, 0.8)
    assert s.sampler == "default" and DEFAULT_SAMPLER == "nutpie" and s.nutpie_backend == "auto"
    assert s.label == "nutpie-auto" and s.resolved().sampler == "nutpie"
    assert s.seed == 3 and s.cores is None and s.progressbar is True
    assert s.precision == "float32" and PRECISIONS == ("float32", "float64")
    assert "default" in SAMPLERS and all(n in SAMPLERS for n in ("pymc", "numpyro", "blackjax"))


def test_names_are_case_insensitive_and_numbers_converted():
    s = SamplerSettings(draws=50.0, tune="20", chains=4, sampler="PyMC", nutpie_backend="NUMBA",
                        target_accept="0.9", seed="7", precision="Float64")
    assert s.precision == "float64"
    assert (s.draws, s.tune, s.chains, s.seed) == (50, 20, 4, 7)
    assert all(type(v) is int for v in (s.draws, s.tune, s.chains, s.seed))
    assert s.sampler == "pymc" and s.nutpie_backend == "numba" and s.target_accept == 0.9


def test_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        SamplerSettings(seed=1).draws = 5


def test_missing_seed_is_drawn_once_and_kept():
    s = SamplerSettings()
    assert isinstance(s.seed, int) and 0 <= s.seed < 2**32
    assert dataclasses.replace(s, draws=10).seed == s.seed
    # two unseeded settings do not share a seed (2**-32 chance of a false failure)
    assert SamplerSettings().seed != SamplerSettings().seed


@pytest.mark.parametrize("kwargs, match", [
    ({"sampler": "stan"}, r"^sampler: unknown sampler 'stan'"),
    ({"draws": 0}, r"^draws: must be >= 1, got 0"),
    ({"tune": -1}, r"^tune: must be >= 0, got -1"),
    ({"chains": 0}, r"^chains: must be >= 1, got 0"),
    ({"target_accept": 1.0}, r"^target_accept: must be in \(0, 1\)"),
    ({"target_accept": 0.0}, r"^target_accept"),
    ({"nutpie_backend": "cuda"}, r"^nutpie_backend: use auto, jax or numba, got 'cuda'"),
    ({"precision": "float16"}, r"^precision: use float32 or float64, got 'float16'"),
])
def test_bad_settings_are_refused(kwargs, match):
    with pytest.raises(ModelSpecError, match=match):
        SamplerSettings(**kwargs)


def test_tune_zero_is_allowed():
    assert SamplerSettings(tune=0, seed=1).tune == 0


def test_n_cores_defaults_to_chains_capped_by_cpus(monkeypatch):
    import blinapk.mcmc.settings as S

    monkeypatch.setattr(S.os, "cpu_count", lambda: 2)
    assert SamplerSettings(chains=4, seed=1).n_cores == 2
    assert SamplerSettings(chains=1, seed=1).n_cores == 1
    assert SamplerSettings(chains=4, cores=3, seed=1).n_cores == 3
    monkeypatch.setattr(S.os, "cpu_count", lambda: None)
    assert SamplerSettings(chains=4, seed=1).n_cores == 1


def test_label_names_the_nutpie_backend():
    assert SamplerSettings(seed=1, nutpie_backend="jax").label == "nutpie-jax"
    assert SamplerSettings(seed=1, sampler="numpyro").label == "numpyro"
    big = SamplerSettings(seed=1).resolved(n_obs=NUMBA_FROM_N_OBS)
    assert big.nutpie_backend == "numba" and big.label == "nutpie-numba" and big.seed == 1
    # an explicit backend is kept whatever the size
    assert SamplerSettings(seed=1, nutpie_backend="jax").resolved(10**6).nutpie_backend == "jax"


def test_default_sampler_is_numpyro_below_the_size_the_model_names():
    s = SamplerSettings(seed=1)
    assert s.resolved(n_obs=JAX_NUTS_BELOW_N_OBS - 1,
                      jax_nuts_below=JAX_NUTS_BELOW_N_OBS).sampler == "numpyro"
    big = s.resolved(n_obs=JAX_NUTS_BELOW_N_OBS, jax_nuts_below=JAX_NUTS_BELOW_N_OBS)
    assert big.sampler == "nutpie" and big.label == "nutpie-numba"
    # without a threshold (every model but population PK) or without a size: nutpie
    assert s.resolved(n_obs=10).sampler == "nutpie"
    assert s.resolved(jax_nuts_below=JAX_NUTS_BELOW_N_OBS).sampler == "nutpie"
    # an explicit sampler is kept whatever the size
    assert SamplerSettings(seed=1, sampler="nutpie").resolved(
        n_obs=10, jax_nuts_below=JAX_NUTS_BELOW_N_OBS).sampler == "nutpie"


def test_default_falls_back_to_nutpie_without_numpyro(monkeypatch):
    import blinapk.mcmc.settings as S

    monkeypatch.setattr(S, "_importable", lambda module: module != "numpyro")
    s = SamplerSettings(seed=1).resolved(n_obs=10, jax_nuts_below=JAX_NUTS_BELOW_N_OBS)
    assert s.sampler == "nutpie"


def test_resolve_backend_by_size():
    assert resolve_nutpie_backend("jax", n_obs=10**6) == "jax"
    assert resolve_nutpie_backend("Numba") == "numba"
    assert resolve_nutpie_backend("auto", n_obs=NUMBA_FROM_N_OBS) == "numba"
    small = "jax" if HAS_JAX else "numba"
    assert resolve_nutpie_backend("auto", n_obs=NUMBA_FROM_N_OBS - 1) == small
    assert resolve_nutpie_backend("auto") == small  # unknown size counts as small
    with pytest.raises(ModelSpecError, match="nutpie_backend"):
        resolve_nutpie_backend("gpu")


def test_auto_without_jax_is_numba(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "jax", None)  # makes `import jax` raise ImportError
    assert resolve_nutpie_backend("auto", n_obs=10) == "numba"

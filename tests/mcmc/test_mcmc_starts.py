"""Generic chain starts (blinapk.mcmc.starts) on a plain PyMC model: layout, seeding, install."""

from __future__ import annotations

import dataclasses

import numpy as np
import pymc as pm
import pytest

from blinapk.mcmc.starts import (
    half_widths,
    install_starts,
    jittered_start_fn,
    transformed_start,
)


@pytest.fixture(scope="module")
def model():
    with pm.Model(coords={"g": [0, 1, 2]}) as m:
        pm.Normal("mu", 0.0, 1.0)
        pm.HalfNormal("sd", 1.0)
        pm.Normal("theta", 0.0, 1.0, dims="g")
    return m


INITVALS = {"mu": 0.5, "sd": 2.0}


def test_half_widths_lay_out_in_value_variable_order(model):
    assert [v.name for v in model.value_vars] == ["mu", "sd_log__", "theta"]
    np.testing.assert_array_equal(half_widths(model), np.ones(5))
    np.testing.assert_array_equal(half_widths(model, {"sd_log__": 0.5, "theta": 0.1}),
                                  [1.0, 0.5, 0.1, 0.1, 0.1])
    # a name the model does not have changes nothing
    np.testing.assert_array_equal(half_widths(model, {"nope": 3.0}), np.ones(5))


def test_centre_is_the_start_on_the_unconstrained_scale(model):
    _, centre = jittered_start_fn(model, INITVALS)
    np.testing.assert_allclose(centre, [0.5, np.log(2.0), 0.0, 0.0, 0.0])


def test_jitter_is_seeded_bounded_and_scaled(model):
    start_fn, centre = jittered_start_fn(model, INITVALS, {"sd_log__": 0.25, "theta": 0.0})
    np.testing.assert_array_equal(start_fn(4), start_fn(4))
    assert not np.allclose(start_fn(4), start_fn(5))
    d = np.array([start_fn(s) - centre for s in range(300)])
    assert np.all(np.abs(d[:, 0]) <= 1.0) and np.all(np.abs(d[:, 1]) <= 0.25)
    np.testing.assert_array_equal(d[:, 2:], 0.0)  # width 0: no jitter
    # the draws fill the range: default width 1 is PyMC's U(-1, 1)
    assert d[:, 0].min() < -0.9 and d[:, 0].max() > 0.9
    assert d[:, 1].min() < -0.2 and d[:, 1].max() > 0.2


def test_jitter_is_numpy_default_rng_uniform(model):
    start_fn, centre = jittered_start_fn(model, INITVALS)
    expected = centre + np.random.default_rng(11).uniform(-1.0, 1.0, size=centre.size)
    np.testing.assert_array_equal(start_fn(11), expected)


def test_install_starts_refuses_unknown_objects():
    @dataclasses.dataclass(frozen=True)
    class Other:
        x: int = 0

    with pytest.raises(RuntimeError, match="initial-point"):
        install_starts(Other(), lambda seed: np.zeros(1), np.zeros(1))


def test_install_starts_checks_the_layout(model):
    nutpie = pytest.importorskip("nutpie")
    pytest.importorskip("jax")
    # freeze_model=False as in sample_nuts: nutpie's own freezing reorders the values
    compiled = nutpie.compile_pymc_model(model, backend="jax", gradient_backend="jax",
                                         initial_points=dict(INITVALS), jitter_rvs=set(),
                                         freeze_model=False)
    start_fn, centre = jittered_start_fn(model, INITVALS)
    installed = install_starts(compiled, start_fn, centre)
    field = ("initial_point_func" if "initial_point_func"
             in {f.name for f in dataclasses.fields(installed)} else "_make_initial_points")
    np.testing.assert_array_equal(getattr(installed, field)(3), start_fn(3))
    with pytest.raises(RuntimeError, match="layout"):
        install_starts(compiled, start_fn, centre[:-1])
    with pytest.raises(RuntimeError, match="layout"):
        install_starts(compiled, start_fn, centre + 0.1)



def _pymc_start(model, initvals):
    from pymc.initial_point import make_initial_point_fn

    return make_initial_point_fn(model=model, overrides=dict(initvals), jitter_rvs=set(),
                                 return_transformed=True)(0)


@pytest.fixture
def pymc_calls(monkeypatch):
    """Count the calls transformed_start makes to PyMC's compiled initial-point function."""
    import pymc.initial_point

    calls = []
    original = pymc.initial_point.make_initial_point_fn

    def counted(**kwargs):
        calls.append(kwargs)
        return original(**kwargs)

    monkeypatch.setattr(pymc.initial_point, "make_initial_point_fn", counted)
    return calls


def test_transformed_start_equals_pymcs_initial_point_without_compiling(pymc_calls):
    with pm.Model(coords={"g": [0, 1, 2]}) as m:
        pm.Normal("mu", 0.0, 1.0)
        pm.HalfNormal("sd", 1.0)
        pm.Uniform("p", 0.0, 1.0)  # interval transform
        pm.LogNormal("k", 0.0, 1.0, dims="g")
        pm.Dirichlet("w", np.ones(3))  # simplex transform, started at its support point
    initvals = {"mu": 0.5, "sd": 2.0, "p": 0.3, "k": np.array([1.0, 2.0, 4.0])}
    ours = transformed_start(m, initvals)
    assert pymc_calls == []  # evaluated node by node, no compiled function
    want = _pymc_start(m, initvals)
    assert list(ours) == [v.name for v in m.value_vars]
    for name, value in ours.items():
        np.testing.assert_array_equal(value, want[name])
    np.testing.assert_allclose(ours["p_interval__"], np.log(0.3 / 0.7))
    np.testing.assert_allclose(ours["k_log__"], np.log([1.0, 2.0, 4.0]))


def test_transformed_start_with_shared_data_goes_through_pymc(pymc_calls):
    with pm.Model() as m:
        scale = pm.Data("scale", 3.0)
        pm.HalfNormal("sd", scale)  # default start (support point) depends on the data
    ours = transformed_start(m, {})
    assert len(pymc_calls) == 1
    np.testing.assert_array_equal(ours["sd_log__"], _pymc_start(m, {})["sd_log__"])

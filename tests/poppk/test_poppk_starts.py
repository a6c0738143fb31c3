"""Per-chain starting points of popPK models (blinapk.poppk.starts): scales by role, seeding,
nutpie install on a popPK model's layout (the generic parts: tests/mcmc/test_mcmc_starts.py)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from blinapk.mcmc.starts import half_widths, install_starts
from blinapk.poppk import PopPKSpec
from blinapk.poppk.build import build_model, model_info
from blinapk.poppk.starts import (
    LOCATION_JITTER,
    SUBJECT_JITTER,
    VARIANCE_JITTER,
    jitter_scales,
    make_start_fn,
)

SPEC = PopPKSpec(covariates=("CL~BSA:power@1.8",), residual="combined")


def _layout(model):
    """Name -> (offset, size) of each value variable in the flat unconstrained vector."""
    point, out, k = model.initial_point(), {}, 0
    for v in model.value_vars:
        size = int(np.size(point[v.name]))
        out[v.name] = (k, size)
        k += size
    return out


@pytest.fixture
def built(small_dataset):
    model = build_model(small_dataset, SPEC)
    return model, model_info(model)


def test_scales_follow_the_role_of_each_variable(built):
    model, _ = built
    scales = jitter_scales(model)
    assert scales["log_CL"] == scales["log_V"] == LOCATION_JITTER
    assert scales["beta_CL_BSA"] == LOCATION_JITTER
    assert scales["omega_CL_log__"] == scales["sigma_prop_log__"] == VARIANCE_JITTER
    subject_level = [n for n in scales if n.startswith(("psi_", "phi_", "z_"))]
    assert subject_level and all(scales[n] == SUBJECT_JITTER for n in subject_level)
    # the folded additive SD (pg/mL, unconstrained) keeps PyMC's U(-1, 1)
    assert scales["sigma_add_folded"] == 1.0
    assert set(scales) == {model.rvs_to_values[rv].name for rv in model.free_RVs}


def test_role_widths_can_be_set_and_lay_out_flat(built):
    model, _ = built
    scales = jitter_scales(model, location=0.1, variance=0.3, subject=0.7)
    assert scales["log_CL"] == 0.1 and scales["omega_V_log__"] == 0.3
    assert all(scales[n] == 0.7 for n in scales if n.startswith(("psi_", "phi_", "z_")))
    assert scales["sigma_add_folded"] == 1.0
    half = half_widths(model, scales)
    for name, (k, size) in _layout(model).items():
        assert (half[k:k + size] == scales[name]).all(), name
    assert half.size == sum(size for _, size in _layout(model).values())


def test_start_is_centre_plus_bounded_seeded_jitter(built):
    model, info = built
    start_fn, centre = make_start_fn(model, info.initvals)
    layout = _layout(model)
    offsets = {n: k for n, (k, _) in layout.items()}
    # centre = the data-driven starts on the unconstrained scale
    assert centre[offsets["log_CL"]] == pytest.approx(float(info.initvals["log_CL"]))
    assert centre[offsets["omega_CL_log__"]] == pytest.approx(np.log(info.initvals["omega_CL"]))
    a, b, c = start_fn(1), start_fn(1), start_fn(2)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    scales = jitter_scales(model)
    half = np.concatenate([np.full(size, scales[n]) for n, (_, size) in layout.items()])
    for seed in range(20):
        d = np.abs(start_fn(seed) - centre)
        assert np.all(d <= half) and np.all(d > 0)
    # over many seeds the jitter fills its range (not a constant offset)
    draws = np.array([start_fn(s) - centre for s in range(200)])
    k = offsets["log_CL"]
    assert draws[:, k].min() < -0.8 * LOCATION_JITTER and draws[:, k].max() > 0.8 * LOCATION_JITTER


def test_custom_scales_override_the_defaults(built):
    model, info = built
    start_fn, centre = make_start_fn(model, info.initvals, scales={"log_CL": 0.0})
    k, _ = _layout(model)["log_CL"]
    assert start_fn(3)[k] == centre[k]
    assert np.count_nonzero(start_fn(3) != centre) == centre.size - 1


@pytest.mark.parametrize("backend", ["numba", "jax"])
def test_install_starts_replaces_nutpie_start(built, backend):
    nutpie = pytest.importorskip("nutpie")
    if backend == "jax":
        pytest.importorskip("jax")
    from pymc.model.transform.optimization import freeze_dims_and_data

    model, info = built
    target = freeze_dims_and_data(model)
    compiled = nutpie.compile_pymc_model(
        target, backend=backend, gradient_backend="jax" if backend == "jax" else "pytensor",
        initial_points=dict(info.initvals), jitter_rvs=set(), freeze_model=False)
    start_fn, centre = make_start_fn(target, info.initvals)
    installed = install_starts(compiled, start_fn, centre)
    field = ("initial_point_func" if "initial_point_func"
             in {f.name for f in dataclasses.fields(installed)} else "_make_initial_points")
    np.testing.assert_array_equal(getattr(installed, field)(7), start_fn(7))
    # a centre that is not nutpie's own start is refused (wrong model or layout)
    with pytest.raises(RuntimeError, match="layout"):
        install_starts(compiled, start_fn, centre + 1.0)
    # and the chains really start there: one warm-up draw stays near the start
    idata = nutpie.sample(installed, draws=1, tune=1, chains=1, seed=5, progress_bar=False,
                          save_warmup=True)
    assert np.isfinite(idata.warmup_sample_stats["logp"].values).all()


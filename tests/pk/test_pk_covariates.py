"""Covariate forms and structural-parameter vocabulary (blinapk.pk.covariates / .parameters)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from blinapk.errors import ModelSpecError
from blinapk.pk import (
    PARAMETER_LABELS,
    PARAMETER_UNITS,
    STRUCTURES,
    DoseMatrix,
    predict_conc,
)
from blinapk.pk.covariates import FORMS, LINEAR_FLOOR, design, factor, log_effect
from blinapk.pk.parameters import STRUCTURE_ALIASES, structure_params

CONTINUOUS = ("power", "exponential", "linear")


def test_vocabulary_tables():
    assert FORMS == ("power", "exponential", "linear", "categorical")
    assert LINEAR_FLOOR == 1e-6
    assert dict(STRUCTURES) == {"1cmt": ("CL", "V"), "2cmt": ("CL", "V", "Q", "V2")}
    assert set(PARAMETER_UNITS) == set(PARAMETER_LABELS) == set(STRUCTURES["2cmt"])
    assert PARAMETER_UNITS["CL"] == PARAMETER_UNITS["Q"] == "L/h"
    assert PARAMETER_UNITS["V"] == PARAMETER_UNITS["V2"] == "L"
    assert set(STRUCTURE_ALIASES.values()) == set(STRUCTURES)
    assert structure_params("2cmt") == ("CL", "V", "Q", "V2")
    with pytest.raises(ModelSpecError, match="unknown pk model '3cmt'"):
        structure_params("3cmt")
    with pytest.raises(TypeError):
        STRUCTURES["3cmt"] = ("CL",)  # type: ignore[index]


def test_predict_conc_rejects_an_unknown_structure():
    with pytest.raises(ModelSpecError, match="unknown pk model"):
        predict_conc([1.0], [0], DoseMatrix([[0.0]], [[1.0]], [[0.0]]), {"CL": 1.0, "V": 1.0},
                     model="one")


def test_unknown_form_is_a_model_spec_error():
    with pytest.raises(ModelSpecError, match="unknown covariate form 'sigmoid'"):
        design("sigmoid", [1.0], 1.0)
    with pytest.raises(ModelSpecError, match="unknown covariate form"):
        log_effect("Power", 1.0, np.zeros(1))
    with pytest.raises(ModelSpecError, match="unknown covariate form"):
        factor("", 1.0, [1.0], 1.0)


def test_hand_calculated_values():
    # power: WT 35 kg vs 70, exponent 0.75 -> 0.5 ** 0.75 = 0.5946
    assert design("power", [35.0], 70.0).tolist() == [np.log(0.5)]
    assert factor("power", 0.75, [35.0, 70.0], 70.0).tolist() == [0.5**0.75, 1.0]
    assert log_effect("power", 0.75, design("power", [35.0], 70.0))[0] == pytest.approx(
        0.75 * np.log(0.5), rel=1e-15)
    # exponential: AGE 50 vs 40, -0.01 per year -> exp(-0.1)
    assert design("exponential", [50.0], 40.0).tolist() == [10.0]
    assert factor("exponential", -0.01, [50.0], 40.0).tolist() == [np.exp(-0.1)]
    assert log_effect("exponential", -0.01, [10.0]).tolist() == [-0.1]
    # linear: CRCL 50 vs 100, 0.002 per mL/min -> 1 - 0.1 = 0.9
    assert factor("linear", 0.002, [50.0], 100.0)[0] == pytest.approx(0.9, rel=1e-15)
    assert log_effect("linear", 0.002, [-50.0])[0] == pytest.approx(np.log(0.9), rel=1e-15)
    # categorical: F is 0.8 times M (the reference); unseen columns are all 0
    d = design("categorical", ["F", "M", "X"], "M", levels=("F",))
    assert d.tolist() == [[1.0], [0.0], [0.0]]
    assert log_effect("categorical", np.log([0.8]), d).tolist() == [np.log(0.8), 0.0, 0.0]
    f = factor("categorical", np.log([0.8]), ["F", "M"], "M", levels=("F",))
    np.testing.assert_allclose(f, [0.8, 1.0], rtol=1e-15)
    assert f[1] == 1.0  # the reference level is exactly 1


def test_categorical_design_shapes():
    assert design("categorical", ["A", "B"], "A", levels=()).shape == (2, 0)
    assert design("categorical", [1, 2, 2], "1", levels=("2",)).tolist() == [[0.0], [1.0], [1.0]]
    assert log_effect("categorical", np.zeros(0), np.zeros((3, 0))).tolist() == [0.0] * 3
    two = design("categorical", ["a", "b", "c"], "a", levels=("b", "c"))
    assert log_effect("categorical", np.array([0.1, -0.2]), two).tolist() == [0.0, 0.1, -0.2]


def test_linear_floor():
    # 1 + 0.5 * (x - 4) is 0 at x = 2 and negative below: floored at LINEAR_FLOOR
    x = np.array([0.0, 2.0, 2.0 + 1e-9, 3.0, 10.0])
    f = factor("linear", 0.5, x, 4.0)
    assert f[0] == f[1] == LINEAR_FLOOR
    assert f[2] == LINEAR_FLOOR  # 5e-10 above zero is still below the floor
    assert f[3:].tolist() == [0.5, 4.0]  # above the floor: exactly 1 + b (x - ref)
    le = log_effect("linear", 0.5, design("linear", x, 4.0))
    assert np.all(np.isfinite(le))
    assert le[0] == np.log(LINEAR_FLOOR)
    # the floor also holds for a negative slope and for arrays of draws
    draws = np.array([[-0.5], [0.01]])
    np.testing.assert_array_equal(factor("linear", draws, [3.0], 1.0),
                                  [[LINEAR_FLOOR], [1.02]])


def test_beta_draws_broadcast_against_scalar_covariates():
    b = np.array([[0.5, 0.6], [0.7, 0.8]])  # (chain, draw)
    np.testing.assert_array_equal(factor("power", b, 0.37, 1.88), (0.37 / 1.88) ** b)
    np.testing.assert_array_equal(factor("exponential", b, 2.5, 1.88), np.exp(b * (2.5 - 1.88)))


finite = st.floats(-3.0, 3.0, allow_nan=False)
positive = st.floats(0.05, 200.0, allow_nan=False)


@given(form=st.sampled_from(CONTINUOUS), beta=finite, ref=positive,
       x=st.lists(positive, min_size=1, max_size=6))
def test_factor_is_exp_of_log_effect(form, beta, ref, x):
    if form != "power":  # keep exp() in range: |beta * (x - ref)| <= 3 * 200
        beta = beta / 100.0
    f = factor(form, beta, x, ref)
    le = log_effect(form, beta, design(form, x, ref))
    np.testing.assert_allclose(f, np.exp(le), rtol=1e-12)
    assert np.all(f >= LINEAR_FLOOR) if form == "linear" else np.all(f > 0)


@given(beta=st.lists(finite, min_size=2, max_size=2),
       x=st.lists(st.sampled_from(["A", "B", "C"]), min_size=1, max_size=8))
def test_categorical_factor_is_exp_of_log_effect(beta, x):
    levels = ("B", "C")
    f = factor("categorical", np.array(beta), x, "A", levels)
    expected = [1.0 if v == "A" else np.exp(beta[levels.index(v)]) for v in x]
    np.testing.assert_allclose(f, expected, rtol=1e-15)


# --------------------------------------------------------------------------- backends

_CASES = [
    ("power", 0.61, [0.37, 1.0, 1.88, 2.5], 1.88, ()),
    ("exponential", -0.013, [20.0, 40.0, 85.0], 40.0, ()),
    ("linear", 0.3, [-5.0, 0.0, 1.0, 4.0], 1.0, ()),  # first value below the floor
    ("categorical", np.array([-0.22, 0.4]), ["M", "F", "U", "F"], "M", ("F", "U")),
]


@pytest.fixture(scope="module")
def pytensor_eval():
    pytensor = pytest.importorskip("pytensor")
    pt = pytensor.tensor

    def run(form, beta, x, ref, levels):
        b = pt.dvector("b") if np.ndim(beta) else pt.dscalar("b")
        le = log_effect(form, b, design(form, x, ref, levels), xp=pt)
        f = factor(form, b, x, ref, levels, xp=pt)
        fn = pytensor.function([b], [le, f], mode="FAST_COMPILE")
        return [np.asarray(v) for v in fn(beta)]

    return run


@pytest.mark.parametrize(("form", "beta", "x", "ref", "levels"), _CASES,
                         ids=[c[0] for c in _CASES])
def test_numpy_pytensor_and_jax_agree(form, beta, x, ref, levels, pytensor_eval):
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    le_np = log_effect(form, beta, design(form, x, ref, levels))
    f_np = factor(form, beta, x, ref, levels)
    le_pt, f_pt = pytensor_eval(form, beta, x, ref, levels)
    np.testing.assert_allclose(le_pt, le_np, rtol=1e-14)
    np.testing.assert_allclose(f_pt, f_np, rtol=1e-14)
    with jax.enable_x64(True):
        b = jnp.asarray(beta)
        le_jx = jax.jit(lambda b: log_effect(form, b, design(form, x, ref, levels), xp=jnp))(b)
        f_jx = jax.jit(lambda b: factor(form, b, x, ref, levels, xp=jnp))(b)
        np.testing.assert_allclose(np.asarray(le_jx), le_np, rtol=1e-14)
        np.testing.assert_allclose(np.asarray(f_jx), f_np, rtol=1e-14)


def test_pytensor_gradient_of_the_log_effect():
    pytensor = pytest.importorskip("pytensor")
    pt = pytensor.tensor
    b = pt.dscalar("b")
    d = design("power", [0.5, 2.0], 1.0)
    grad = pytensor.function([b], pt.grad(log_effect("power", b, d, xp=pt).sum(), b),
                             mode="FAST_COMPILE")
    assert float(grad(0.7)) == pytest.approx(np.log(0.5) + np.log(2.0), abs=1e-15)

"""Hand-calculable cases, identities of the constants and published values."""

import numpy as np
import pytest

from blinapk.errors import ModelSpecError
from blinapk.pk import (
    DoseMatrix,
    cl_from_css,
    css_from_rate,
    half_life,
    half_lives_2cmt,
    macro_constants,
    micro_constants,
    predict_conc,
)

METHODS = ("dense", "segments")
P1 = {"CL": np.array([2.0]), "V": np.array([4.0])}
P2 = {"CL": np.array([2.0]), "V": np.array([4.0]), "Q": np.array([1.0]), "V2": np.array([10.0])}


def _one(time, amt, duration):
    return DoseMatrix(time=[time], amt=[amt], duration=[duration])


def _pred(times, dm, p, model, method):
    return predict_conc(
        np.asarray(times, float), np.zeros(len(times), int), dm, p, model, method=method
    )


@pytest.mark.parametrize("method", METHODS)
def test_bolus_c0_and_decay(method):
    # 10 ug into 4 L: C0 = 1000 * 10 / 4 = 2500 pg/mL; k = 0.5/h
    dm = _one([1.0], [10.0], [0.0])
    c = _pred([0.0, 1.0, 3.0], dm, P1, "1cmt", method)
    np.testing.assert_allclose(c, [0.0, 2500.0, 2500.0 * np.exp(-1.0)], rtol=1e-14)


@pytest.mark.parametrize("method", METHODS)
def test_two_cmt_bolus_c0_is_dose_over_v1(method):
    dm = _one([0.0], [10.0], [0.0])
    np.testing.assert_allclose(_pred([0.0], dm, P2, "2cmt", method), [2500.0], rtol=1e-14)


@pytest.mark.parametrize("method", METHODS)
def test_infusion_end_and_washout(method):
    # 12 ug over 6 h = 2 ug/h; Css = 1000 * 2 / 2 = 1000 pg/mL; k = 0.5/h
    dm = _one([0.0], [12.0], [6.0])
    c = _pred([0.0, 6.0, 8.0], dm, P1, "1cmt", method)
    c_end = 1000.0 * (1 - np.exp(-3.0))
    np.testing.assert_allclose(c, [0.0, c_end, c_end * np.exp(-1.0)], rtol=1e-13)


@pytest.mark.parametrize("model", ["1cmt", "2cmt"])
@pytest.mark.parametrize("method", METHODS)
def test_long_infusion_reaches_css(model, method):
    # 28 ug/day for 60 days in 2-day bags; both models settle at 1000 R0 / CL
    rate = 28.0 / 24.0
    starts = np.arange(0.0, 1440.0, 48.0)
    dm = _one(starts, np.full(starts.size, rate * 48.0), np.full(starts.size, 48.0))
    p = P1 if model == "1cmt" else P2
    c = _pred([1400.0], dm, p, model, method)
    np.testing.assert_allclose(c, css_from_rate(rate, 2.0), rtol=1e-12)


def test_macro_constants_identities_and_branches():
    rng = np.random.default_rng(3)
    cl, v, q, v2 = (np.exp(rng.uniform(-4, 4, 2000)) for _ in range(4))
    k10, k12, k21 = micro_constants(cl, v, q, v2)
    m = macro_constants(cl, v, q, v2)
    np.testing.assert_allclose(m.alpha + m.beta, k10 + k12 + k21, rtol=1e-12)
    np.testing.assert_allclose(m.alpha * m.beta, k10 * k21, rtol=1e-12)
    np.testing.assert_allclose(m.a + m.b, 1.0, rtol=1e-12)
    # textbook form A = (alpha - k21)/(alpha - beta) where it is well conditioned
    np.testing.assert_allclose(m.a, (m.alpha - k21) / (m.alpha - m.beta), rtol=1e-6)
    assert np.all(m.alpha > m.beta) and np.all(m.beta > 0)
    assert np.all((m.a > 0) & (m.b > 0))
    d = k10 + k12 - k21
    assert (d > 0).any() and (d < 0).any()  # both branches exercised


def test_macro_constants_tiny_distribution_stays_positive():
    # Q -> 0: the peripheral coefficient b is ~Q-sized, must not cancel to 0 or < 0
    m = macro_constants(2.0, 4.0, 1e-9, 10.0)
    assert 0 < m.b < 1e-8
    np.testing.assert_allclose(m.alpha, 0.5, rtol=1e-8)


def test_two_cmt_with_negligible_periphery_equals_one_cmt():
    dm = _one([0.0, 30.0], [24.0, 5.0], [12.0, 0.0])
    t = np.linspace(0, 60, 61)
    p2 = dict(P1, Q=np.array([1e-10]), V2=np.array([10.0]))
    np.testing.assert_allclose(
        _pred(t, dm, p2, "2cmt", "dense"),
        _pred(t, dm, P1, "1cmt", "dense"),
        rtol=1e-8,
        atol=1e-12,
    )


def test_half_lives_and_css_helpers_with_published_values():
    # Zhu et al., Clin Pharmacokinet 2020 (doi:10.1007/s40262-019-00823-8):
    # CL 2.22 L/h, V 5.98 L -> t1/2 = ln2 * 5.98 / 2.22 = 1.87 h (derived from the two)
    assert half_life(2.22, 5.98) == pytest.approx(1.867, abs=1e-3)
    assert css_from_rate(28 / 24, 2.22) == pytest.approx(525.53, abs=0.01)
    assert cl_from_css(28 / 24, css_from_rate(28 / 24, 2.22)) == pytest.approx(2.22, rel=1e-14)
    ta, tb = half_lives_2cmt(2.0, 4.0, 1.0, 10.0)
    m = macro_constants(2.0, 4.0, 1.0, 10.0)
    assert ta == pytest.approx(np.log(2) / m.alpha) and tb == pytest.approx(np.log(2) / m.beta)
    assert ta < half_life(2.0, 4.0) < tb


def test_linearity_in_dose_and_superposition():
    t = np.linspace(0, 50, 101)
    a = _one([0.0], [10.0], [5.0])
    b = _one([7.0], [3.0], [0.0])
    both = _one([0.0, 7.0], [10.0, 3.0], [5.0, 0.0])
    double = _one([0.0], [20.0], [5.0])
    for method in METHODS:
        ca, cb = _pred(t, a, P2, "2cmt", method), _pred(t, b, P2, "2cmt", method)
        np.testing.assert_allclose(_pred(t, both, P2, "2cmt", method), ca + cb, rtol=1e-12)
        np.testing.assert_allclose(_pred(t, double, P2, "2cmt", method), 2 * ca, rtol=1e-12)


@pytest.mark.parametrize("method", METHODS)
def test_extreme_values_do_not_overflow(method):
    # fast elimination, very late observations, observation long before dose
    dm = _one([1e5], [10.0], [24.0])
    p = {"CL": np.array([500.0]), "V": np.array([1.0])}
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is fine
        c = _pred([0.0, 1e5 + 1.0, 1e5 + 500.0, 2e5], dm, p, "1cmt", method)
    assert np.all(np.isfinite(c))
    assert c[0] == 0.0 and c[-1] == 0.0
    np.testing.assert_allclose(c[1], 1000 * (10 / 24) / 500 * (1 - np.exp(-500.0)), rtol=1e-14)


def test_errors_for_bad_model_method_params():
    dm = _one([0.0], [1.0], [0.0])
    with pytest.raises(ModelSpecError, match="unknown pk model"):
        predict_conc([1.0], [0], dm, P1, "3cmt")
    with pytest.raises(ModelSpecError, match="unknown method"):
        predict_conc([1.0], [0], dm, P1, method="euler")
    with pytest.raises(ModelSpecError, match="missing"):
        predict_conc([1.0], [0], dm, P1, "2cmt")
    with pytest.raises(ModelSpecError, match="> 0"):
        predict_conc([1.0], [0], dm, {"CL": np.array([-1.0]), "V": np.array([1.0])})
    with pytest.raises(ModelSpecError, match="shape"):
        predict_conc([1.0], [0], dm, {"CL": np.array([1.0, 2.0]), "V": np.array([1.0])})
    with pytest.raises(ModelSpecError, match="dense"):
        predict_conc([1.0], [0], dm, P1, method="segments", per_observation=True)
    with pytest.raises(ValueError, match="out of range"):
        predict_conc([1.0], [1], dm, P1)
    with pytest.raises(ValueError, match="finite"):
        predict_conc([np.nan], [0], dm, P1)


def test_scalar_params_broadcast():
    dm = DoseMatrix(time=[[0.0], [0.0]], amt=[[10.0], [20.0]], duration=[[0.0], [0.0]])
    c = predict_conc([0.0, 0.0], [0, 1], dm, {"CL": 2.0, "V": 4.0})
    np.testing.assert_allclose(c, [2500.0, 5000.0])

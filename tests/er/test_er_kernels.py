"""The Emax function (pk/emax) and the batch concentration/AUC kernels (pk/exposure)."""

from __future__ import annotations

import numpy as np
import pytest

from blinapk.pk import DoseMatrix, predict_conc
from blinapk.pk.emax import emax, emax_fraction, log_emax_fraction
from blinapk.pk.exposure import auc_grid, conc_grid


def test_emax_fraction_is_the_hyperbola_exactly():
    x = np.array([0.0, 1e-3, 57.3, 200.0, 1e6])
    assert np.array_equal(emax_fraction(x, 200.0), x / (200.0 + x))  # bit-identical
    assert emax_fraction(200.0, 200.0, hill=4.0) == 0.5
    assert float(emax(100.0, 3.0, 100.0, hill=2.0, e0=-1.0)) == pytest.approx(0.5)


@pytest.mark.parametrize("hill", [1.0, 0.7, 3.0])
def test_log_fraction_matches_and_stays_finite(hill):
    x = np.geomspace(1e-8, 1e8, 50)
    ref = np.log(emax_fraction(x[10:40], 200.0, hill))
    got = log_emax_fraction(np.log(x), np.log(200.0), hill)
    np.testing.assert_allclose(got[10:40], ref, rtol=1e-10, atol=1e-12)
    assert np.all(np.isfinite(got)) and np.all(got <= 0)


def test_emax_backends_agree():
    import jax.numpy as jnp
    import pytensor.tensor as pt

    x = np.array([10.0, 150.0, 900.0])
    want = log_emax_fraction(np.log(x), np.log(200.0), 1.7)
    sym = log_emax_fraction(pt.as_tensor_variable(np.log(x)), np.log(200.0), 1.7, pt).eval()
    jx = np.asarray(log_emax_fraction(jnp.log(x), np.log(200.0), 1.7, jnp))
    np.testing.assert_allclose(sym, want, rtol=1e-12)
    np.testing.assert_allclose(jx, want, rtol=1e-5)  # JAX default float32


def test_the_simulator_drive_is_the_shared_emax():
    from blinapk.simulate.cytokines import event_amplitudes, load_cytokine_model, release_events

    m = load_cytokine_model()
    ev = release_events([0, 168], [168, 672], [0.375, 28 / 24], 2.2)
    out = event_amplitudes(m, ev, ([0, 168], [168, 672], [0.375, 28 / 24]), 2.2,
                           dict.fromkeys(m.analytes, 0.0))
    dc = ev["CSS_AFTER"] - ev["CSS_BEFORE"]
    assert np.array_equal(out["DRIVE"], emax_fraction(dc, m.ec50))


@pytest.fixture
def doses():
    # subject 0: 9 then 28 ug/day (label steps) and a bolus; subject 1: two short infusions
    return DoseMatrix(time=[[0.0, 168.0, 500.0], [0.0, 30.0, 0.0]],
                      amt=[[63.0, 588.0, 5.0], [3.0, 2.0, 0.0]],
                      duration=[[168.0, 504.0, 0.0], [24.0, 6.0, 0.0]])


@pytest.mark.parametrize("model", ["1cmt", "2cmt"])
def test_conc_grid_matches_predict_conc_for_every_draw(doses, model):
    t = np.array([[1.0, 100.0, 200.0, 500.0, 700.0], [5.0, 24.0, 31.0, 60.0, 200.0]])
    p = {"CL": np.array([[2.0, 1.5], [3.0, 1.0]]), "V": np.array([[5.0, 4.0], [6.0, 8.0]]),
         "Q": np.array([[1.0, 2.0], [3.0, 4.0]]), "V2": np.array([[10.0, 5.0], [3.0, 9.0]])}
    got = conc_grid(t, doses, p, model)
    assert got.shape == (2, 2, 5)
    for d in range(2):
        ref = predict_conc(t.ravel(), np.repeat([0, 1], 5), doses,
                           {k: v[d] for k, v in p.items()}, model=model)
        np.testing.assert_allclose(got[d].ravel(), ref, rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("model", ["1cmt", "2cmt"])
def test_auc_grid_is_the_integral_of_the_concentration(doses, model):
    p = {"CL": np.array([2.2, 1.1]), "V": np.array([5.0, 7.0]), "Q": np.array([1.0, 2.0]),
         "V2": np.array([4.0, 6.0])}
    t_end = np.array([[300.0, 800.0], [20.0, 100.0]])
    got = auc_grid(t_end, doses, p, model)
    for s in range(2):
        tt = np.linspace(0.0, t_end[s, 1], 200_001)
        c = predict_conc(tt, np.full(tt.size, s), doses, p, model=model)
        cum = np.concatenate([[0.0], np.cumsum(0.5 * (c[1:] + c[:-1]) * np.diff(tt))])
        np.testing.assert_allclose(got[s], np.interp(t_end[s], tt, cum), rtol=2e-4)


def test_auc_to_infinity_is_dose_over_clearance():
    dm = DoseMatrix(time=[[0.0, 10.0]], amt=[[28.0, 4.0]], duration=[[24.0, 0.0]])
    auc = auc_grid([[1e5]], dm, {"CL": 2.22, "V": 5.98, "Q": 1.0, "V2": 3.0}, "2cmt")
    assert float(auc[0, 0]) == pytest.approx(1000.0 * 32.0 / 2.22, rel=1e-12)

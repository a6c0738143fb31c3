"""Closed-form AUC / Cavg / time above threshold against a fine-grid numerical integral."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blinapk.pk import DoseMatrix, modes, predict_conc
from blinapk.simulate.exposure_math import segment_time_above, window_exposure

GRID = 200_001


def _numeric(params, structure, start, end, rate, a, b, thresholds):
    """Trapezoid AUC and grid time above, from blinapk.pk.predict_conc on a fine grid."""
    infusing = rate > 0
    dm = DoseMatrix(time=[start[infusing]], amt=[(rate * (end - start))[infusing]],
                    duration=[(end - start)[infusing]])
    t = np.linspace(a, b, GRID)
    c = np.asarray(predict_conc(t, np.zeros(t.size, int), dm, params, model=structure))
    dt = t[1] - t[0]
    auc = np.trapezoid(c, t)
    # time above on the grid: midpoint rule of the indicator
    mid = 0.5 * (c[1:] + c[:-1])
    return auc, [float((mid >= th).sum() * dt) for th in thresholds], c.max()


segments = st.lists(st.tuples(st.floats(0.5, 200.0), st.sampled_from([0.0, 0.2, 0.5, 1.17])),
                    min_size=1, max_size=6)


@settings(max_examples=25)
@given(segments, st.floats(0.5, 5.0), st.floats(2.0, 20.0), st.booleans(),
       st.floats(0.0, 1.0), st.floats(0.05, 1.0))
def test_closed_forms_match_the_numerical_integral(segs, cl, v, two, fa, fb):
    lengths = np.array([s[0] for s in segs])
    rate = np.array([s[1] for s in segs])
    edges = np.concatenate([[0.0], np.cumsum(lengths)])
    start, end = edges[:-1], edges[1:]
    structure = "2cmt" if two else "1cmt"
    params = {"CL": cl, "V": v} | ({"Q": 0.7, "V2": 3 * v} if two else {})
    a = fa * edges[-1] * 0.5
    b = a + max(fb * (edges[-1] - a), 0.5)
    peak = 1000 * rate.max() / cl
    thresholds = [0.3 * peak + 1.0, 0.8 * peak + 1.0]
    md = modes({k: np.array([[x]]) for k, x in params.items()}, structure)
    aucs, above = window_exposure(start[None], end[None], rate[None], md, [(a, b)], thresholds)
    auc_n, above_n, _ = _numeric(params, structure, start, end, rate, a, b, thresholds)
    step = (b - a) / (GRID - 1)
    assert aucs[0][0, 0] == pytest.approx(auc_n, rel=1e-6, abs=1e-6 * peak * (b - a) + 1e-9)
    for k in range(len(thresholds)):
        # the grid resolves each crossing to one step (a few crossings per segment)
        assert above[0][k][0, 0] == pytest.approx(above_n[k], abs=4 * len(segs) * step + 1e-9)


def test_one_compartment_crossing_is_the_closed_form():
    # rising from 0 at 28 ug/day, CL 2, V 6: C(t) = Css (1 - exp(-k t)), Css = 583.3
    css, k = 1000 * (28 / 24) / 2.0, 2.0 / 6.0
    t_x = -np.log(1 - 470.0 / css) / k
    out = segment_time_above([np.zeros((1, 1))], [(np.array([[k]]), np.array([[1000 / 6]]))],
                             np.array([28 / 24]), np.array([100.0]), 470.0)
    assert out[0, 0] == pytest.approx(100.0 - t_x, rel=1e-12)


def test_two_compartment_non_monotone_segment():
    # after a high rate, a low rate: C falls then (peripheral return) can rise; any shape
    params = {"CL": np.array([[1.0]]), "V": np.array([[2.0]]), "Q": np.array([[3.0]]),
              "V2": np.array([[40.0]])}
    start, end = np.array([[0.0, 3.0]]), np.array([[3.0, 400.0]])
    rate = np.array([[5.0, 0.6]])
    md = modes(params, "2cmt")
    th = [550.0, 590.0]
    _, above = window_exposure(start, end, rate, md, [(0.0, 400.0)], th)
    _, above_n, _ = _numeric({k: float(v[0, 0]) for k, v in params.items()}, "2cmt",
                             start[0], end[0], rate[0], 0.0, 400.0, th)
    for k in range(2):
        assert above[0][k][0, 0] == pytest.approx(above_n[k], abs=0.02)


def test_broadcast_over_draws_and_subjects():
    cl = np.array([[1.0, 2.0, 3.0], [1.5, 2.5, 3.5]])  # (draw, subject)
    v = np.full_like(cl, 6.0)
    start = np.array([[0.0, 168.0]] * 3)
    end = np.array([[168.0, 672.0]] * 3)
    rate = np.array([[9 / 24, 28 / 24]] * 3)
    aucs, above = window_exposure(start, end, rate, modes({"CL": cl, "V": v}), [(0.0, 672.0)],
                                  [470.0])
    assert aucs[0].shape == above[0][0].shape == (2, 3)
    # mass balance: AUC = 1000 (amount in - amount left in the body) / CL, at steady state
    left = 1000 * (28 / 24) / cl * v / 1000  # ug in the body at the end
    expect = 1000 * (9 * 7 + 28 * 21 - left) / cl
    assert np.allclose(aucs[0], expect, rtol=1e-9)

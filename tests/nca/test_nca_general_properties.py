"""Hypothesis properties of the AUC kernels, lambda_z and the driver."""

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blinapk.nca.auc import AUC_METHODS, integrate
from blinapk.nca.general import compute_nca
from blinapk.nca.intervals import Interval
from blinapk.nca.lambda_z import fit_lambda_z

SETTINGS = settings(max_examples=100, deadline=None)


@st.composite
def sample_times(draw, min_size=3, max_size=12):
    start = draw(st.floats(0.0, 10.0, allow_nan=False))
    steps = draw(st.lists(st.floats(0.05, 6.0, allow_nan=False), min_size=min_size - 1,
                          max_size=max_size - 1))
    return np.cumsum([start, *steps])


@SETTINGS
@given(times=sample_times(min_size=2), level=st.floats(1e-3, 1e4), method=st.sampled_from(
    AUC_METHODS))
def test_auc_of_a_constant_is_level_times_duration(times, level, method):
    conc = np.full(times.size, level)
    assert math.isclose(integrate(times, conc, method), level * (times[-1] - times[0]),
                        rel_tol=1e-12)


@SETTINGS
@given(times=sample_times(min_size=2), c0=st.floats(0.01, 1e5), k=st.floats(0.01, 3.0),
       method=st.sampled_from(["lin-up/log-down", "lin-log"]))
def test_log_down_auc_and_aumc_of_an_exponential_are_exact(times, c0, k, method):
    conc = c0 * np.exp(-k * times)
    if np.any(conc <= 0) or np.any(np.diff(conc) >= 0):
        return  # underflow to 0, or no decrease left in floating point
    t1, t2 = times[0], times[-1]
    auc = c0 / k * (math.exp(-k * t1) - math.exp(-k * t2))
    # int t c0 exp(-k t) dt = c0 [(t1/k + 1/k2) e^-k t1 - (t2/k + 1/k2) e^-k t2]
    aumc = c0 * ((t1 / k + 1 / k**2) * math.exp(-k * t1) - (t2 / k + 1 / k**2)
                 * math.exp(-k * t2))
    assert math.isclose(integrate(times, conc, method), auc, rel_tol=1e-9, abs_tol=1e-300)
    assert math.isclose(integrate(times, conc, method, moment=1), aumc, rel_tol=1e-8,
                        abs_tol=1e-300)


@SETTINGS
@given(times=sample_times(min_size=4, max_size=12), k=st.floats(0.01, 2.0),
       c0=st.floats(0.1, 1e4))
def test_lambda_z_of_an_exact_exponential_is_k(times, k, c0):
    conc = c0 * np.exp(-k * (times - times[0]))
    if conc[-1] < 1e-250:
        return
    fit = fit_lambda_z(times, conc, tmax=float(times[0]))
    assert abs(fit.lambda_z - k) < 1e-10
    assert fit.n_points == times.size - 1  # every candidate ties: the most points win


@st.composite
def profiles(draw):
    n_subj = draw(st.integers(1, 4))
    rows = []
    for i in range(n_subj):
        times = draw(sample_times(min_size=3, max_size=9))
        concs = draw(st.lists(st.floats(0.0, 100.0), min_size=times.size,
                              max_size=times.size))
        rows += [{"ID": i, "TIME": t, "CONC": c} for t, c in zip(times, concs, strict=True)]
    return pd.DataFrame(rows)


PARAMS = ("cmax", "tmax", "auclast", "aucall", "aumclast", "lambda_z", "aucinf_obs",
          "half_life", "clast_pred", "cl_obs", "aucint_inf_obs")


@settings(max_examples=50, deadline=None)
@given(frame=profiles(), seed=st.integers(0, 2**32 - 1),
       method=st.sampled_from(AUC_METHODS))
def test_results_do_not_depend_on_row_order(frame, seed, method):
    interval = Interval(float(frame["TIME"].min()), math.inf, PARAMS)
    a = compute_nca(frame, interval, dose=10.0, auc_method=method).to_frame()
    shuffled = frame.sample(frac=1.0, random_state=np.random.default_rng(seed).integers(2**31))
    b = compute_nca(shuffled, interval, dose=10.0, auc_method=method).to_frame()
    key = ["ID", "parameter"]
    a = a.sort_values(key).reset_index(drop=True)
    b = b.sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)


def test_split_of_a_segment_ending_at_zero_keeps_the_linear_rule():
    """Regression (found by hypothesis in CI): 1 -> 0 -> 1, lin-up/log-down, split at 1.5 h.

    The segment 1 -> 0 is integrated linearly (the log trapezoid needs two
    positive ends); its piece 1 -> 0.25 must stay linear too, else the halves
    add up to 1.374 instead of AUClast = 1.5.
    """
    one = pd.DataFrame({"ID": 0, "TIME": [0.0, 2.0, 3.0], "CONC": [1.0, 0.0, 1.0]})
    left = compute_nca(one, Interval(0.0, 1.5, ("aucint_last",)),
                       auc_method="lin-up/log-down").wide()["aucint_last"].item()
    right = compute_nca(one, Interval(1.5, 3.0, ("aucint_last",)),
                        auc_method="lin-up/log-down").wide()["aucint_last"].item()
    assert left == pytest.approx((1.0 + 0.25) / 2 * 1.5, rel=1e-12)
    assert left + right == pytest.approx(1.5, rel=1e-12)


@settings(max_examples=50, deadline=None)
@given(frame=profiles(), method=st.sampled_from(AUC_METHODS), frac=st.floats(0.0, 1.0))
def test_splitting_the_interval_adds_up(frame, method, frac):
    # AUC over [t0, m] + AUC over [m, tlast] == AUClast over [t0, inf) (interpolation is
    # consistent with the trapezoid rule of each segment)
    one = frame[frame["ID"] == 0]
    t0 = float(one["TIME"].min())
    whole = compute_nca(one, Interval(t0, math.inf, ("auclast", "tlast")),
                        auc_method=method).wide()
    tlast = whole["tlast"].item()
    if not tlast > 0:
        return
    mid = t0 + frac * tlast
    if not t0 < mid < t0 + tlast:
        return
    left = compute_nca(one, Interval(t0, mid, ("aucint_last",)), auc_method=method).wide()
    right = compute_nca(one, Interval(mid, t0 + tlast, ("aucint_last",)),
                        auc_method=method).wide()
    total = left["aucint_last"].item() + right["aucint_last"].item()
    assert math.isclose(total, whole["auclast"].item(), rel_tol=1e-9, abs_tol=1e-9)

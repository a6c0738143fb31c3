"""Segment plan structure and agreement of the two exact methods at scale."""

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from blinapk.pk import (
    DoseMatrix,
    compact_doses,
    dose_matrix,
    plan_segments,
    predict_conc,
    predict_conc_plan,
)


def test_bag_changes_merge_and_gaps_are_explicit():
    # three 24 h bags at 1 ug/h, a 4 h gap, then 2 ug/h; bolus at 10 h
    frame = pd.DataFrame(
        {
            "ID": 1,
            "TIME": [0.0, 24.0, 48.0, 76.0, 10.0],
            "AMT": [24.0, 24.0, 24.0, 48.0, 5.0],
            "RATE": [1.0, 1.0, 1.0, 2.0, 0.0],
        }
    )
    plan = plan_segments([9.0, 10.0, 50.0, 74.0, 80.0], [0] * 5, dose_matrix(frame, [1]))
    np.testing.assert_array_equal(plan.grid_time[0], [0.0, 10.0, 72.0, 76.0, 100.0])
    np.testing.assert_array_equal(plan.grid_rate[0], [1.0, 1.0, 0.0, 2.0, 0.0])
    np.testing.assert_array_equal(plan.grid_bolus[0], [0.0, 5.0, 0.0, 0.0, 0.0])
    np.testing.assert_array_equal(plan.state_index, [1, 2, 2, 3, 4])
    np.testing.assert_allclose(plan.dt, [9.0, 0.0, 40.0, 2.0, 4.0])
    np.testing.assert_array_equal(plan.rate, [1.0, 1.0, 1.0, 0.0, 2.0])


def test_overlap_rate_returns_to_exact_zero():
    # 0.1 + 0.2 - 0.1 - 0.2 is not 0 in floating point; the plan snaps it
    dm = DoseMatrix(time=[[0.0, 1.0]], amt=[[0.3, 0.6]], duration=[[3.0, 3.0]])
    plan = plan_segments([10.0], [0], dm)
    assert plan.grid_rate[0, -1] == 0.0 and plan.rate[0] == 0.0


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), model=st.sampled_from(["1cmt", "2cmt"]))
def test_dense_equals_segments_many_subjects(seed, model):
    rng = np.random.default_rng(seed)
    n_sub, n_dose = 7, 9
    start = np.round(rng.uniform(0, 200, (n_sub, n_dose)) * 4) / 4
    dur = np.where(
        rng.random((n_sub, n_dose)) < 0.3, 0.0, rng.choice([1.0, 24.0, 48.0], (n_sub, n_dose))
    )
    amt = np.where(rng.random((n_sub, n_dose)) < 0.2, 0.0, rng.uniform(0.1, 30, (n_sub, n_dose)))
    dm = DoseMatrix(time=start, amt=amt, duration=dur)
    subj = rng.integers(0, n_sub, 400)
    times = np.where(
        rng.random(400) < 0.3, start[subj, rng.integers(0, n_dose, 400)], rng.uniform(-5, 300, 400)
    )
    p = {
        "CL": rng.uniform(0.5, 5, n_sub),
        "V": rng.uniform(2, 10, n_sub),
        "Q": rng.uniform(0.1, 5, n_sub),
        "V2": rng.uniform(1, 30, n_sub),
    }
    dense = predict_conc(times, subj, dm, p, model, method="dense")
    seg = predict_conc(times, subj, dm, p, model, method="segments")
    np.testing.assert_allclose(seg, dense, rtol=1e-10, atol=1e-10)
    assert np.all(dense >= 0)
    compact = compact_doses(dm)
    assert compact.n_dose_max <= 2 * n_dose
    np.testing.assert_allclose(
        predict_conc(times, subj, compact, p, model, method="dense"), dense, rtol=1e-10, atol=1e-10
    )
    # per-observation parameters equal to the subject's reproduce the subject result
    p_obs = {k: v[subj] for k, v in p.items()}
    np.testing.assert_allclose(
        predict_conc(times, subj, dm, p_obs, model, per_observation=True), dense, rtol=1e-12
    )


def test_plan_reuse_and_dense_chunking(monkeypatch):
    import blinapk.pk.predict as predict_mod

    rng = np.random.default_rng(5)
    dm = DoseMatrix(time=[[0.0, 30.0]], amt=[[10.0, 4.0]], duration=[[20.0, 0.0]])
    times = rng.uniform(0, 100, 1000)
    subj = np.zeros(1000, int)
    plan = plan_segments(times, subj, dm)
    for cl in (1.0, 3.0):
        p = {"CL": np.array([cl]), "V": np.array([5.0])}
        full = predict_conc(times, subj, dm, p, method="dense")
        monkeypatch.setattr(predict_mod, "_CHUNK_ELEMENTS", 50)  # 25 obs per chunk
        chunked = predict_conc(times, subj, dm, p, method="dense")
        monkeypatch.undo()
        np.testing.assert_array_equal(chunked, full)
        np.testing.assert_allclose(predict_conc_plan(plan, p), full, rtol=1e-12)


def test_unsorted_observations_and_empty():
    dm = DoseMatrix(time=[[0.0], [2.0]], amt=[[10.0], [5.0]], duration=[[0.0], [4.0]])
    p = {"CL": np.array([2.0, 1.0]), "V": np.array([4.0, 5.0])}
    times = np.array([3.0, 1.0, 0.0, 7.0, 2.0])
    subj = np.array([1, 0, 0, 1, 1])
    seg = predict_conc(times, subj, dm, p, method="segments")
    np.testing.assert_allclose(seg, predict_conc(times, subj, dm, p, method="dense"), rtol=1e-13)
    assert predict_conc([], [], dm, p).shape == (0,)


def test_compact_doses_merges_bags_keeps_boluses_and_overlaps():
    dm = DoseMatrix(
        time=[[0.0, 24.0, 10.0, 30.0, 48.0]],
        amt=[[24.0, 24.0, 5.0, 12.0, 48.0]],
        duration=[[24.0, 24.0, 0.0, 6.0, 24.0]],
    )
    c = compact_doses(dm)
    # 1 ug/h on [0,10) and [10,30) (the bolus at 10 is a breakpoint); bolus 5 at 10;
    # [30,36) 3 ug/h (overlap); [36,48) 1 ug/h (bag change at 24 merged); [48,72) 2 ug/h
    np.testing.assert_allclose(c.time[0], [0.0, 10.0, 10.0, 30.0, 36.0, 48.0])
    np.testing.assert_allclose(c.amt[0], [10.0, 20.0, 5.0, 18.0, 12.0, 48.0])
    np.testing.assert_allclose(c.duration[0], [10.0, 20.0, 0.0, 6.0, 12.0, 24.0])
    assert c.subjects == dm.subjects


def test_one_exponential_step_error_is_below_1e_15_of_steady_state():
    # the recursion forms 1 - exp(-k dt) instead of -expm1(-k dt): the absolute
    # error is a rounding unit of the steady state, whatever the step length
    cl, v, r0 = 2.22, 5.98, 28.0 / 24.0  # L/h, L, ug/h
    k = cl / v
    css = 1000.0 * r0 / cl  # pg/mL
    dm = DoseMatrix(time=[[0.0]], amt=[[r0 * 1e5]], duration=[[1e5]])
    times = np.array([1e-12, 1e-9, 1e-6, 1e-3, 0.5, 2.0, 24.0, 1e4])
    got = predict_conc(times, np.zeros(times.size, int), dm, {"CL": cl, "V": v},
                       method="segments")
    exact = css * -np.expm1(-k * times)
    np.testing.assert_allclose(got, exact, rtol=0, atol=1e-15 * css)
    # where the concentration is more than 1e-3 of Css, it is also right relatively
    big = exact > 1e-3 * css
    np.testing.assert_allclose(got[big], exact[big], rtol=1e-12)

"""Dose-finding designs: hand-traced trials, the exact 3+3, boundaries, rolling-six properties."""

from __future__ import annotations

import time
from math import comb

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import expit

from blinapk.simulate import (
    ROLLING_SIX,
    THREE_PLUS_THREE,
    Accrual,
    EscalationDesign,
    dlt_probabilities_from_exposure,
    operating_characteristics,
    rolling_six,
    run_dose_finding,
    simulate_dose_finding,
    three_plus_three,
    three_plus_three_exact,
)

#: 3+3 that stops at the first level with >= 2 DLT and selects the level below.
NO_DE_ESCALATION = three_plus_three(confirm=False)


# --- the decision tables ----------------------------------------------------------------------

# Frankel et al. 2020 (JAMA Netw Open 3:e204787), Table 2, "Rolling 6" column:
# (enrolled, evaluable, DLT) -> decision for the next patient. Rows of "not allowed"
# (7-8 patients) are outside the design; "hold accrual" is 'suspend'.
FRANKEL_ROLLING_6 = [
    *[((n, 0, 0), "stay") for n in range(0, 6)], ((6, 0, 0), "suspend"),
    *[((n, 1, 0), "stay") for n in range(1, 6)], ((6, 1, 0), "suspend"),
    *[((n, 2, 0), "stay") for n in range(2, 6)], ((6, 2, 0), "suspend"),
    ((3, 3, 0), "escalate"), ((4, 3, 0), "stay"), ((5, 3, 0), "stay"), ((6, 3, 0), "suspend"),
    ((4, 4, 0), "escalate"), ((5, 4, 0), "stay"), ((6, 4, 0), "suspend"),
    ((5, 5, 0), "escalate"), ((6, 5, 0), "escalate"),
    *[((n, e, 1), "stay") for n in range(1, 6) for e in range(1, n + 1)],
    *[((6, e, 1), "suspend") for e in (1, 2, 3, 4, 5)], ((6, 6, 1), "escalate"),
    *[((n, e, 2), "de-escalate") for n in range(2, 7) for e in range(2, n + 1)],
    *[((n, e, 3), "de-escalate") for n in range(3, 7) for e in range(3, n + 1)],
]


@pytest.mark.parametrize(("state", "decision"), FRANKEL_ROLLING_6)
def test_rolling_six_table_is_the_published_one(state, decision):
    enrolled, evaluable, dlt = state
    assert ROLLING_SIX.decide(enrolled, dlt, enrolled - evaluable) == decision


def test_three_plus_three_table_is_the_standard_rule():
    tpt = THREE_PLUS_THREE
    assert [tpt.decide(3, d, 0) for d in range(4)] == ["escalate", "stay", "de-escalate",
                                                       "de-escalate"]
    assert [tpt.decide(6, d, 0) for d in range(4)] == ["escalate", "escalate", "de-escalate",
                                                       "de-escalate"]
    # the cohort is completed, then the trial waits for every outcome unless 2 DLTs decide it
    assert {tpt.decide(n, d, w) for n in (1, 2, 4, 5) for d in range(n + 1)
            for w in range(n - d + 1)} == {"stay"}
    assert tpt.decide(3, 1, 2) == "suspend" and tpt.decide(3, 2, 1) == "de-escalate"
    assert tpt.decide(6, 1, 1) == "suspend" and tpt.decide(6, 2, 4) == "de-escalate"


def test_tables_list_every_state_and_print():
    table = ROLLING_SIX.table()
    assert list(table.columns) == ["ENROLLED", "DLT", "NO_DLT", "PENDING", "DECISION"]
    # states with 0 <= DLT + PENDING <= ENROLLED <= 6
    assert len(table) == sum((n + 1) * (n + 2) // 2 for n in range(7))
    assert (table[["DLT", "NO_DLT", "PENDING"]].sum(axis=1) == table["ENROLLED"]).all()
    assert "Skolnik" in ROLLING_SIX.source and "Storer" in THREE_PLUS_THREE.source


def test_invalid_tables_are_refused():
    rules = ROLLING_SIX.rules
    with pytest.raises(ValueError, match="each state once"):
        EscalationDesign("short", rules[:-1])
    bad = tuple((n, d, w, "suspend" if (n, d, w) == (3, 0, 0) else dec)
                for n, d, w, dec in rules)
    with pytest.raises(ValueError, match="pending"):
        EscalationDesign("stalls", bad)
    over = tuple((n, d, w, "stay" if n == 6 else dec) for n, d, w, dec in rules)
    with pytest.raises(ValueError, match="max_per_level"):
        EscalationDesign("overfills", over)


# --- hand-traced trials -----------------------------------------------------------------------
# A patient every 10 days (counted from the previous enrolment, or from re-opening), a
# 28-day window, every DLT seen at the end of the window.

OUTCOMES = [[0, 0, 0, 0, 0, 0], [0, 1, 0, 0, 0, 0], [1, 0, 1, 0, 0]]


def test_three_plus_three_hand_traced():
    trial = run_dose_finding(THREE_PLUS_THREE, OUTCOMES, doses=[5, 15, 30])
    # level 1: days 10, 20, 30 -> evaluable 38, 48, 58: 0/3, escalate on day 58
    # level 2: days 68, 78 (DLT), 88 -> 96, 106, 116: 1/3, three more on 126, 136, 146
    #          -> 154, 164, 174: 1/6, escalate on day 174
    # level 3: days 184 (DLT), 194, 204 (DLT) -> 212, 222, 232: 2/3 on day 232
    #          -> back to level 2, which has 1/6: MTD
    assert trial.patients["ENROL_DAY"].tolist() == [10, 20, 30, 68, 78, 88, 126, 136, 146,
                                                    184, 194, 204]
    assert trial.patients["LEVEL"].tolist() == [0] * 3 + [1] * 6 + [2] * 3
    steps = trial.decisions[trial.decisions["ACTION"] != "enrol"]
    assert steps[["DAY", "ACTION"]].values.tolist() == [
        [30, "wait"], [38, "wait"], [48, "wait"], [58, "up"],  # cohort full on day 30
        [88, "wait"], [96, "wait"], [106, "wait"],             # day 116: 1/3, enrol
        [146, "wait"], [154, "wait"], [164, "wait"], [174, "up"],
        [204, "wait"], [212, "wait"], [222, "wait"], [232, "down"], [232, "select"]]
    assert trial.selected == 1 and trial.selected_dose == 15
    assert trial.duration_days == 232
    assert trial.patients_per_level().tolist() == [3, 6, 3]
    assert trial.dlts_per_level().tolist() == [0, 1, 2]


def test_rolling_six_hand_traced():
    trial = run_dose_finding(ROLLING_SIX, OUTCOMES, doses=[5, 15, 30])
    # level 1: patients on days 10..60 (never suspended before the 6th: < 6 enrolled);
    #          with 6 enrolled accrual waits; day 78: 5 evaluable, 0 DLT, 1 pending -> escalate
    # level 2: re-opened on day 78 -> days 88, 98 (DLT), 108, 118, 128, 138; the DLT is seen
    #          on day 126 (1 DLT: keep filling); six enrolled: wait for all; day 166: 1/6 -> up
    # level 3: days 176 (DLT), 186, 196 (DLT), 206, 216; second DLT seen on day 224
    #          -> back to level 2 (six patients, 1 DLT): MTD on day 224
    assert trial.patients["ENROL_DAY"].tolist() == [10, 20, 30, 40, 50, 60,
                                                    88, 98, 108, 118, 128, 138,
                                                    176, 186, 196, 206, 216]
    assert trial.patients_per_level().tolist() == [6, 6, 5]
    moves = trial.decisions[trial.decisions["ACTION"].isin(["up", "down", "select"])]
    assert moves[["DAY", "LEVEL", "ENROLLED", "DLT", "PENDING", "ACTION"]].values.tolist() == [
        [78, 0, 6, 0, 1, "up"], [166, 1, 6, 1, 0, "up"], [224, 2, 5, 2, 2, "down"],
        [224, 1, 6, 1, 0, "select"]]
    waits = trial.decisions.loc[trial.decisions["ACTION"] == "wait", "DAY"].tolist()
    assert waits == [60, 68, 138, 146, 156]
    assert trial.selected_dose == 15 and trial.duration_days == 224
    # the same patients take 232 days with 3+3 but only 12 patients
    assert trial.duration_days < run_dose_finding(THREE_PLUS_THREE, OUTCOMES).duration_days


def test_dlt_seen_early_moves_the_trial_early():
    # DLTs in the first two patients seen 7 days after enrolment: rolling six de-escalates
    # from level 1 as soon as the second is seen (day 27), with no dose selected
    trial = run_dose_finding(ROLLING_SIX, [[1, 1, 0, 0]], onsets=[[0.25, 0.25, 1, 1]])
    assert trial.selected is None and trial.selected_dose is None
    assert trial.duration_days == 27.0
    assert trial.patients["ENROL_DAY"].tolist() == [10, 20]  # third not yet arrived on day 27
    assert trial.decisions["ACTION"].iloc[-1] == "stop"


def test_confirmation_at_the_top_level_and_on_de_escalation():
    # 0/3 at the top level: 3+3 expands to six before selecting; without confirmation it selects
    trial = run_dose_finding(THREE_PLUS_THREE, [[0, 0, 0, 0, 0, 0]])
    assert trial.selected == 0 and trial.patients_per_level().tolist() == [6]
    assert run_dose_finding(NO_DE_ESCALATION, [[0, 0, 0]]).patients_per_level().tolist() == [3]
    # 0/3 at level 1, 2/3 at level 2: back to level 1 for three more (confirm) or not
    outcomes = [[0, 0, 0, 0, 1, 0], [1, 1, 0]]
    trial = run_dose_finding(THREE_PLUS_THREE, outcomes)
    assert trial.selected == 0 and trial.patients_per_level().tolist() == [6, 3]
    assert "expand" in trial.decisions["ACTION"].tolist()
    # ... and 2/6 there after all: no dose
    assert run_dose_finding(THREE_PLUS_THREE, [[0, 0, 0, 1, 1, 0], [1, 1, 0]]).selected is None
    trial = run_dose_finding(NO_DE_ESCALATION, outcomes)
    assert trial.selected == 0 and trial.patients_per_level().tolist() == [3, 3]


def test_missing_outcome_is_reported():
    with pytest.raises(ValueError, match="level 0 needs the outcome of patient 4"):
        run_dose_finding(THREE_PLUS_THREE, [[0, 1, 0]])
    with pytest.raises(ValueError, match="onsets"):
        run_dose_finding(THREE_PLUS_THREE, [[0, 1, 0]], onsets=[[0.5, 0.0, 1.0]])


# --- the exact 3+3 --------------------------------------------------------------------------


def _lin_shih_no_de_escalation(p):
    """Closed form of 3+3 without de-escalation: escalation from level j has probability
    e_j = P(0/3) + P(1/3) P(0/3); level k is selected when escalation passes levels <= k
    and stops at k + 1."""
    p = np.asarray(p)
    q = 1 - p
    p0, p1 = q**3, 3 * p * q**2
    e = p0 + p1 * p0
    reach = np.concatenate([[1.0], np.cumprod(e)])  # P(reach level j), j = 0..K
    select = np.append(reach[1:-1] * (1 - e[1:]), reach[-1])
    return np.append(select, 1 - e[0]), reach[:-1] * (3 + 3 * p1)


SCENARIOS = [[0.05, 0.1, 0.2, 0.35, 0.5, 0.6], [0.02, 0.15, 0.4], [0.3, 0.3, 0.3, 0.3],
             [0.01, 0.02, 0.03, 0.05, 0.08, 0.6]]


@pytest.mark.parametrize("p", SCENARIOS)
def test_exact_matches_the_closed_form_without_de_escalation(p):
    exact = three_plus_three_exact(p, confirm=False)
    select, mean_n = _lin_shih_no_de_escalation(p)
    np.testing.assert_allclose(exact.p_select, select, atol=1e-13)
    np.testing.assert_allclose(exact.mean_patients, mean_n, atol=1e-12)
    np.testing.assert_allclose(exact.mean_dlts, np.asarray(p) * mean_n, atol=1e-12)


def test_exact_one_level_with_confirmation_by_hand():
    p = 0.3
    q = 1 - p
    p0, p1 = q**3, comb(3, 1) * p * q**2
    # 0/3 -> three more must have <= 1 DLT; 1/3 -> three more must have 0
    select = p0 * (q**3 + 3 * p * q**2) + p1 * q**3
    exact = three_plus_three_exact([p])
    assert exact.p_select[0] == pytest.approx(select, abs=1e-14)
    assert exact.mean_patients[0] == pytest.approx(3 + 3 * (p0 + p1), abs=1e-14)
    assert exact.p_select.sum() == pytest.approx(1.0, abs=1e-14)


@pytest.mark.parametrize("confirm", [True, False])
@pytest.mark.parametrize("p", SCENARIOS[:2])
def test_simulated_3_plus_3_matches_the_exact_within_monte_carlo_error(p, confirm):
    n = 20_000
    design = three_plus_three(confirm=confirm)
    oc = operating_characteristics(design, p, n_trials=n, seed=11)
    exact = three_plus_three_exact(p, confirm=confirm)
    sim = oc.selection_probabilities()[0]
    se = np.sqrt(exact.p_select * (1 - exact.p_select) / n)
    assert np.all(np.abs(sim - exact.p_select) <= 4 * se + 1e-12), (sim, exact.p_select)
    total = oc.patients[0].sum(axis=1)
    assert abs(total.mean() - exact.mean_patients.sum()) < 4 * total.std() / np.sqrt(n)
    for level in range(len(p)):
        per = oc.patients[0, :, level]
        assert abs(per.mean() - exact.mean_patients[level]) <= 4 * per.std() / np.sqrt(n) + 1e-9
    dlt = oc.dlts[0].sum(axis=1)
    assert abs(dlt.mean() - exact.mean_dlts.sum()) < 4 * dlt.std() / np.sqrt(n)


# --- boundaries, reproducibility, speed -------------------------------------------------------


@pytest.mark.parametrize("design", [THREE_PLUS_THREE, ROLLING_SIX, NO_DE_ESCALATION])
def test_every_dose_toxic_selects_none(design):
    oc = operating_characteristics(design, [1.0, 1.0, 1.0], n_trials=300, seed=2)
    assert (oc.selected == -1).all()
    assert oc.summary()["P_NO_DOSE"].iloc[0] == 1.0
    assert (oc.patients[0, :, 1:] == 0).all()  # nobody beyond the first level
    assert (oc.dlts == oc.patients).all()


@pytest.mark.parametrize("design", [THREE_PLUS_THREE, ROLLING_SIX])
def test_no_dose_toxic_selects_the_highest(design):
    oc = operating_characteristics(design, [0.0] * 5, n_trials=300, seed=2)
    assert (oc.selected == 4).all()
    assert (oc.patients[0, :, -1] == 6).all()  # confirmed on six patients
    assert (oc.dlts == 0).all()
    if design is THREE_PLUS_THREE:
        assert (oc.patients[0].sum(axis=1) == 3 * 4 + 6).all()
    else:
        assert (oc.patients[0, :, :-1] >= 3).all() and (oc.patients[0] <= 6).all()


def test_same_seed_same_result_and_designs_share_patients():
    args = dict(n_trials=500, doses=[5, 15, 30])
    a = operating_characteristics([THREE_PLUS_THREE, ROLLING_SIX], [0.05, 0.2, 0.5], seed=4,
                                  **args)
    b = operating_characteristics([THREE_PLUS_THREE, ROLLING_SIX], [0.05, 0.2, 0.5], seed=4,
                                  **args)
    for field in ("selected", "patients", "dlts", "duration_days"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    pd.testing.assert_frame_equal(a.selection(), b.selection())
    c = operating_characteristics([THREE_PLUS_THREE, ROLLING_SIX], [0.05, 0.2, 0.5], seed=5,
                                  **args)
    assert not np.array_equal(a.duration_days, c.duration_days)
    # a design's results do not depend on which other designs run alongside it
    alone = operating_characteristics(ROLLING_SIX, [0.05, 0.2, 0.5], seed=4, **args)
    np.testing.assert_array_equal(alone.selected[0], a.selected[1])
    one = simulate_dose_finding(ROLLING_SIX, [0.05, 0.2, 0.5], seed=9)
    again = simulate_dose_finding(ROLLING_SIX, [0.05, 0.2, 0.5], seed=9)
    pd.testing.assert_frame_equal(one.decisions, again.decisions)


def test_ten_thousand_trials_of_two_designs_take_seconds():
    start = time.perf_counter()
    oc = operating_characteristics([THREE_PLUS_THREE, ROLLING_SIX],
                                   [0.05, 0.1, 0.2, 0.35, 0.5, 0.6], n_trials=10_000, seed=1)
    assert time.perf_counter() - start < 20  # about 0.5 s on one core
    assert oc.n_trials == 10_000


# --- rolling six properties -------------------------------------------------------------------


@pytest.fixture(scope="module")
def paired():
    return operating_characteristics([THREE_PLUS_THREE, ROLLING_SIX],
                                     [0.02, 0.08, 0.15, 0.3, 0.45, 0.6], n_trials=4000, seed=8)


def test_rolling_six_never_treats_more_than_six_per_level(paired):
    assert paired.patients.max() <= 6


def test_rolling_six_is_shorter_than_3_plus_3_under_the_same_accrual(paired):
    diff = paired.duration_days[1] - paired.duration_days[0]  # same patients: paired
    se = diff.std(ddof=1) / np.sqrt(len(diff))
    assert diff.mean() < -5 * se  # shorter on average, far beyond Monte Carlo error
    summary = paired.summary().set_index("DESIGN")
    # ... at the cost of more patients, with the same DLT risk per patient
    assert summary.loc["rolling six", "MEAN_N"] > summary.loc["3+3", "MEAN_N"]
    assert abs(summary.loc["rolling six", "DLT_RATE"] - summary.loc["3+3", "DLT_RATE"]) < 0.05


def _state(patients: pd.DataFrame, level: int, day: float, before: int) -> tuple[int, int, int]:
    """Counts at a level on a day, from the patient table alone (outcomes known by then count)."""
    here = patients[(patients["LEVEL"] == level) & (patients["PATIENT"] < before)]
    known = here["KNOWN_DAY"] <= day
    return len(here), int((known & here["DLT"]).sum()), int((~known).sum())


def _closed(design, patients, level, day, before, n_levels) -> bool:
    return level >= n_levels or design.decide(*_state(patients, level, day, before)) == \
        "de-escalate"


def _check_trial_respects_table(design, trial, n_levels):
    pts = trial.patients
    assert (trial.patients_per_level() <= design.max_per_level).all()
    previous = 0
    for row in pts.itertuples():
        state = _state(pts, row.LEVEL, row.ENROL_DAY, row.PATIENT)
        decision = design.decide(*state)
        # a patient is enrolled only where the table says so (never while suspended)
        if decision == "escalate":  # only to confirm a level whose next level is unavailable
            assert design.confirm and state[0] < design.max_per_level
            assert _closed(design, pts, row.LEVEL + 1, row.ENROL_DAY, row.PATIENT, n_levels)
        else:
            assert decision == "stay", (row, state, decision)
        # a level changes by one step, as the table of the level left says
        step = row.LEVEL - previous
        assert step in (-1, 0, 1)
        if step:
            left = design.decide(*_state(pts, previous, row.ENROL_DAY, row.PATIENT))
            assert left == ("escalate" if step == 1 else "de-escalate")
        previous = row.LEVEL
    end, after = trial.duration_days, len(pts) + 1
    # the final decision comes with an outcome, or with the enrolment that completes a level
    # whose pending outcome cannot change it (rolling six: 6 enrolled, 5 without DLT)
    assert end in set(pts["KNOWN_DAY"]) | set(pts["ENROL_DAY"])
    if trial.selected is None:
        assert design.decide(*_state(pts, 0, end, after)) == "de-escalate"
    else:
        s = trial.selected
        assert design.decide(*_state(pts, s, end, after)) == "escalate"
        assert _closed(design, pts, s + 1, end, after, n_levels)
        if design.confirm:
            assert trial.patients_per_level()[s] == design.max_per_level


@st.composite
def _trials(draw):
    n_levels = draw(st.integers(1, 6))
    p = draw(st.lists(st.sampled_from([0.0, 0.1, 0.3, 0.6, 1.0]), min_size=n_levels,
                      max_size=n_levels))
    return (sorted(p), draw(st.integers(0, 2**32 - 1)),
            draw(st.floats(1.0, 60.0)), draw(st.sampled_from(["uniform", "end"])))


@settings(max_examples=150, deadline=None)
@given(case=_trials(), design=st.sampled_from([ROLLING_SIX, THREE_PLUS_THREE,
                                                rolling_six(confirm=False), NO_DE_ESCALATION]))
def test_every_step_respects_the_decision_table(case, design):
    p, seed, gap, onset = case
    accrual = Accrual(interarrival_days=gap, window_days=28.0, dlt_onset=onset)
    trial = simulate_dose_finding(design, p, accrual=accrual, seed=seed)
    _check_trial_respects_table(design, trial, len(p))


@settings(max_examples=100, deadline=None)
@given(outcomes=st.lists(st.lists(st.booleans(), min_size=6, max_size=6), min_size=1,
                         max_size=5),
       gap=st.sampled_from([5.0, 10.0, 14.0, 28.0]))
def test_hand_style_trials_with_ties_respect_the_table(outcomes, gap):
    # fixed gaps and end-of-window outcomes make arrivals and outcomes fall on the same days
    for design in (ROLLING_SIX, THREE_PLUS_THREE):
        trial = run_dose_finding(design, outcomes, gaps=gap)
        _check_trial_respects_table(design, trial, len(outcomes))


# --- DLT probability from exposure ---------------------------------------------------------


def test_exposure_model_without_variability_is_the_logistic():
    doses = np.array([5.0, 15.0, 30.0])
    css = 1000 * doses / (24 * 1.5)
    p = dlt_probabilities_from_exposure(doses, 1.5, 0.0, css50=1200, slope=2.5)
    np.testing.assert_allclose(p, expit(2.5 * np.log(css / 1200)), atol=1e-14)


def test_exposure_model_averages_over_clearance():
    doses = np.array([5.0, 15.0, 30.0, 60.0])
    p = dlt_probabilities_from_exposure(doses, 1.5, 0.7, css50=1200, slope=2.5)
    rng = np.random.default_rng(0)
    cl = 1.5 * np.exp(0.7 * rng.standard_normal(400_000))
    mc = expit(2.5 * np.log(1000 * doses[:, None] / (24 * cl) / 1200)).mean(axis=1)
    assert np.all(np.abs(p - mc) < 4 * 0.5 / np.sqrt(len(cl)))
    assert np.all(np.diff(p) > 0)
    # variability flattens the curve: low doses riskier, high doses safer than the typical patient
    typical = dlt_probabilities_from_exposure(doses, 1.5, 0.0, css50=1200, slope=2.5)
    assert p[0] > typical[0] and p[-1] < typical[-1]


def test_dose_model_feeds_the_simulation():
    from functools import partial

    model = partial(dlt_probabilities_from_exposure, cl_median=1.5, cl_omega=0.7, css50=1200,
                    slope=2.5)
    oc = operating_characteristics(ROLLING_SIX, model, n_trials=50, seed=1, doses=[5, 15, 30])
    np.testing.assert_allclose(oc.p_dlt, model(np.array([5.0, 15.0, 30.0])))
    with pytest.raises(ValueError, match="needs the doses"):
        operating_characteristics(ROLLING_SIX, model, n_trials=5)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        operating_characteristics(ROLLING_SIX, [0.1, 1.2], n_trials=5)


# --- result tables --------------------------------------------------------------------------


def test_oc_tables_add_up(paired):
    sel = paired.selection()
    assert list(sel.columns) == ["DESIGN", "DOSE", "DOSE_UNIT", "P_DLT", "P_SELECT", "SE_SELECT",
                                 "MEAN_PATIENTS", "MEAN_DLT"]
    assert sel.groupby("DESIGN")["P_SELECT"].sum().round(12).eq(1.0).all()
    summary = paired.summary().set_index("DESIGN")
    means = sel.groupby("DESIGN")[["MEAN_PATIENTS", "MEAN_DLT"]].sum()
    np.testing.assert_allclose(summary["MEAN_N"], means.loc[summary.index, "MEAN_PATIENTS"])
    np.testing.assert_allclose(summary["MEAN_DLT"], means.loc[summary.index, "MEAN_DLT"])
    frame = paired.to_frame()
    assert len(frame) == 2 * paired.n_trials
    assert (frame.loc[frame["SELECTED"] < 0, "DOSE"] == "none").all()
    ds = paired.to_dataset()
    assert dict(ds.sizes) == {"design": 2, "trial": paired.n_trials, "dose": 6}
    assert int(ds["patients"].sum()) == int(paired.patients.sum())


def test_accrual_is_validated():
    with pytest.raises(ValueError, match="must be > 0"):
        Accrual(interarrival_days=0)
    with pytest.raises(ValueError, match="dlt_onset"):
        Accrual(dlt_onset="random")

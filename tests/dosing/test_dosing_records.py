"""dose_records: hand-calculable amounts (label doses), BSA caps, interruptions, bags."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from dosing_strategies import interruptions, regimens, subjects_frame
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from blinapk.dosing import (
    DOSE_COLUMNS,
    LABEL_BAG_HOURS,
    Interruption,
    dose_records,
    get_preset,
    rate_at,
    rate_table,
)
from blinapk.errors import DataValidationError, ModelSpecError

DAY = 24.0


def _totals(doses):
    return doses.groupby("ID", sort=False)["AMT"].sum()


def _check_contract(d):
    assert tuple(d.columns) == DOSE_COLUMNS
    assert (d["EVID"] == 1).all() and (d["MDV"] == 1).all() and (d["DV"] == 0).all()
    assert (d["RATE"] > 0).all() and (d["AMT"] > 0).all()
    assert d.groupby("ID", sort=False)["TIME"].apply(lambda t: t.is_monotonic_increasing).all()


def test_adult_cycle_1_and_2_amounts_are_hand_calculable():
    d = dose_records(get_preset("adult_rr", n_cycles=2), [7])
    _check_contract(d)
    by_cycle = d.groupby("CYCLE")["AMT"].sum()
    assert by_cycle[1] == pytest.approx(9 * 7 + 28 * 21)  # 651 ug
    assert by_cycle[2] == pytest.approx(28 * 28)
    assert d["TIME"].tolist() == [0.0, 7 * DAY, 42 * DAY]
    assert d["RATE"].tolist() == pytest.approx([9 / 24, 28 / 24, 28 / 24])
    assert d["DOSE_LEVEL"].tolist() == ["9 ug/day", "28 ug/day", "28 ug/day"]


def test_adult_nine_cycles_total():
    d = dose_records(get_preset("adult_rr", n_cycles=9), [1])
    assert d["AMT"].sum() == pytest.approx(651 + 8 * 784)
    # continued therapy: cycle 7 starts 8 weeks after cycle 6 ends
    starts = d.groupby("CYCLE")["TIME"].min() / DAY
    assert starts[7] - starts[6] == 84


@pytest.mark.parametrize(
    "bsa, first, second",
    [
        (0.8, 5 * 0.8, 15 * 0.8),  # 4 then 12 ug/day
        (0.5, 2.5, 7.5),
        (2.2, 9.0, 28.0),  # 11 and 33 ug/day are capped at 9 and 28
        (1.8, 9.0, 27.0),  # only the first step is capped
    ],
)
def test_paediatric_bsa_doses_and_caps(bsa, first, second):
    d = dose_records(
        get_preset("paediatric_rr", n_cycles=2), pd.DataFrame({"ID": [1], "BSA": [bsa]})
    )
    assert d["RATE"].tolist() == pytest.approx([first / 24, second / 24, second / 24])
    assert d["AMT"].tolist() == pytest.approx([first * 7, second * 21, second * 28])
    assert d["DOSE_LEVEL"].tolist() == ["5 ug/m2/day", "15 ug/m2/day", "15 ug/m2/day"]


def test_weight_based_chooses_arm_at_45_kg():
    subj = pd.DataFrame(
        {"id": ["p", "a", "b"], "wt": [44.9, 45.0, 70.0], "bsa": [1.0, np.nan, 1.9]}
    )
    before = subj.copy()
    d = dose_records(get_preset("weight_based_rr", n_cycles=1), subj, id_col="id")
    pd.testing.assert_frame_equal(subj, before)  # not mutated
    assert d["ID"].tolist() == ["p", "p", "a", "a", "b", "b"]  # input order kept
    rates = d.groupby("ID", sort=False)["RATE"].first()
    assert rates["p"] == pytest.approx(5 * 1.0 / 24)
    assert rates["a"] == pytest.approx(9 / 24)  # adult arm ignores the (missing) BSA
    assert rates["b"] == pytest.approx(9 / 24)


def test_mrd_preset_label_doses():
    subj = pd.DataFrame({"ID": [1, 2, 3], "WT": [70, 20, 40], "BSA": [1.9, 1.0, 2.0]})
    d = dose_records(get_preset("mrd"), subj)
    tot = _totals(d)
    assert tot[1] == pytest.approx(4 * 28 * 28)
    assert tot[2] == pytest.approx(4 * 15 * 28)
    assert tot[3] == pytest.approx(4 * 28 * 28)  # 30 ug/day capped at 28
    assert d.groupby("ID")["TIME"].min().eq(0).all()  # no step: full dose from day 1


def test_dose_finding_5_15_30_amounts():
    d = dose_records(
        get_preset("dose_finding_5_15_30", n_cycles=2), pd.DataFrame({"ID": [1], "BSA": [1.5]})
    )
    c = d.groupby("CYCLE")["AMT"].sum()
    assert c[1] == pytest.approx(1.5 * (5 * 7 + 15 * 7 + 30 * 14))
    assert c[2] == pytest.approx(1.5 * 30 * 28)


def test_missing_bsa_names_row_and_column():
    subj = pd.DataFrame({"ID": [1, 2, 3, 4], "BSA": [1.0, np.nan, 0.0, 1.2]})
    with pytest.raises(DataValidationError) as err:
        dose_records(get_preset("paediatric_rr"), subj)
    (v,) = err.value.violations
    assert v.column == "BSA" and v.rows == (2, 3)
    with pytest.raises(DataValidationError, match="BSA"):
        dose_records(get_preset("paediatric_rr"), pd.DataFrame({"ID": [1]}))
    with pytest.raises(DataValidationError) as err:
        dose_records(get_preset("mrd"), pd.DataFrame({"ID": [1, 2], "WT": [60, None]}))
    assert err.value.violations[0].column == "WT" and err.value.violations[0].rows == (2,)


def test_bad_subjects_table():
    with pytest.raises(DataValidationError, match="duplicate_id"):
        dose_records(get_preset("adult_rr"), pd.DataFrame({"ID": [1, 1]}))
    with pytest.raises(DataValidationError, match="missing_column"):
        dose_records(get_preset("adult_rr"), pd.DataFrame({"SUBJ": [1]}))
    with pytest.raises(DataValidationError, match="not_numeric"):
        dose_records(get_preset("paediatric_rr"), pd.DataFrame({"ID": [1], "BSA": ["big"]}))


def test_int_subjects_and_string_ids():
    d = dose_records(get_preset("adult_rr"), 3)
    assert d["ID"].unique().tolist() == [1, 2, 3]
    d = dose_records(get_preset("adult_rr"), pd.Series(["x", "y"], dtype="str"))
    assert d["ID"].tolist()[::3] == ["x", "y"]


def test_interruption_without_restart_removes_exactly_the_interrupted_amount():
    reg = get_preset("adult_rr", n_cycles=1)
    pause = Interruption.from_days(3, 2)  # day 3-4 of the 9 ug/day week
    d = dose_records(reg, [1], interruptions=pause)
    assert d["AMT"].sum() == pytest.approx(651 - 9 * 2)
    rt = rate_table(d)
    np.testing.assert_allclose(
        rt[["START", "END", "RATE"]].to_numpy(),
        [[0, 48, 9 / 24], [48, 96, 0], [96, 168, 9 / 24], [168, 672, 28 / 24]],
    )


def test_crs_restart_at_9_ug_day_for_7_days():
    # CRS grade 3 on day 11 (28 ug/day): pause 24 h, restart 9 ug/day for 7 days (label, U)
    reg = get_preset("adult_rr", n_cycles=2)
    crs = Interruption(240, 24, restart_dose=9, reason="CRS grade 3")
    d = dose_records(reg, [1], interruptions={1: crs})
    c = d.groupby("CYCLE")["AMT"].sum()
    assert c[1] == pytest.approx(651 - 28 - 7 * (28 - 9))
    assert c[2] == pytest.approx(784)
    at = rate_at(rate_table(d), 1, [250, 265, 264 + 168 - 1, 264 + 168 + 1])
    assert at["RATE"].tolist() == pytest.approx([0, 9 / 24, 9 / 24, 28 / 24])
    assert d.loc[d["TIME"] == 264, "DOSE_LEVEL"].item() == "9 ug/day"


def test_restart_never_spills_into_the_next_cycle():
    reg = get_preset("adult_rr", n_cycles=2)
    crs = Interruption.from_days(25, 1, restart_dose=9)  # restart window days 26-32
    c = dose_records(reg, [1], interruptions=[crs]).groupby("CYCLE")["AMT"].sum()
    assert c[1] == pytest.approx(651 - 28 - 3 * (28 - 9))
    assert c[2] == pytest.approx(784)
    off = Interruption.from_days(30, 5, restart_dose=9)  # inside the 2-week break
    assert dose_records(reg, [1], interruptions=[off])["AMT"].sum() == pytest.approx(651 + 784)


def test_per_subject_interruptions_as_mapping_or_table_agree():
    reg = get_preset("paediatric_rr", n_cycles=1)
    subj = pd.DataFrame({"ID": [1, 2, 3], "BSA": [0.6, 1.0, 1.4]})
    mapping = {
        2: [
            Interruption(30, 12),
            Interruption(300, 24, restart_dose=5, restart_unit="ug/m2/day", restart_cap=9),
        ]
    }
    table = pd.DataFrame(
        {
            "ID": [2, 2],
            "START": [30, 300],
            "DURATION": [12, 24],
            "RESTART_DOSE": [np.nan, 5],
            "RESTART_UNIT": [None, "ug/m2/day"],
            "RESTART_CAP": [np.nan, 9],
        }
    )
    a = dose_records(reg, subj, interruptions=mapping)
    b = dose_records(reg, subj, interruptions=table)
    pd.testing.assert_frame_equal(a, b)
    tot = _totals(a)
    assert tot[1] == pytest.approx(0.6 * (5 * 7 + 15 * 21))
    assert tot[2] == pytest.approx(
        1.0 * (5 * 7 + 15 * 21) - 5 / 24 * 12 - 15 / 24 * 24 - 7 * (15 - 5)
    )
    with pytest.raises(DataValidationError, match="unknown_id"):
        dose_records(reg, subj, interruptions={99: Interruption(1, 1)})


def test_interruptions_removing_everything_is_a_spec_error():
    with pytest.raises(ModelSpecError, match="every infusion"):
        dose_records(get_preset("adult_rr", n_cycles=1), [1], interruptions=Interruption(0, 700))


def _integral(rt, lo, hi):
    s = np.clip(rt["START"].to_numpy(), lo, hi)
    e = np.clip(rt["END"].to_numpy(), lo, hi)
    return float(np.sum(rt["RATE"].to_numpy() * (e - s)))


@settings(max_examples=80, deadline=None)
@given(regimens(with_interruptions=False), st.floats(0, 1500), st.floats(0.5, 300))
def test_pause_removes_the_scheduled_amount_in_its_interval(reg, start, duration):
    subj = subjects_frame(3, seed=1)
    base = dose_records(reg, subj)
    try:
        cut = dose_records(reg, subj, interruptions=Interruption(start, duration))
    except ModelSpecError:
        assume(False)
    for sid, rt in rate_table(base).groupby("ID"):
        expected = _totals(base)[sid] - _integral(rt, start, start + duration)
        assert _totals(cut)[sid] == pytest.approx(expected, rel=1e-10, abs=1e-5)


@settings(max_examples=80, deadline=None)
@given(regimens(), st.sampled_from(LABEL_BAG_HOURS) | st.floats(0.5, 400))
def test_bag_length_never_changes_exposure(reg, bag):
    subj = subjects_frame(4, seed=2)
    try:
        ref = dose_records(replace(reg, bag_hours=None), subj)  # one record per run
    except ModelSpecError:
        assume(False)
    bags = dose_records(reg, subj, bag_hours=bag)
    _check_contract(bags)
    assert (bags["AMT"] / bags["RATE"] <= bag + 1e-6).all()
    np.testing.assert_allclose(_totals(bags), _totals(ref), rtol=1e-12)
    a, b = rate_table(ref), rate_table(bags)
    assert a.shape == b.shape
    np.testing.assert_allclose(
        a[["START", "END", "RATE"]], b[["START", "END", "RATE"]], rtol=1e-12, atol=1e-9
    )
    assert a["CYCLE"].tolist() == b["CYCLE"].tolist()
    assert a["DOSE_LEVEL"].fillna("").tolist() == b["DOSE_LEVEL"].fillna("").tolist()
    assert len(ref) <= len(bags)


@settings(max_examples=40, deadline=None)
@given(regimens(), interruptions())
def test_shared_and_per_subject_interruptions_agree(reg, extra):
    subj = subjects_frame(3, seed=3)
    try:
        shared = dose_records(reg, subj, interruptions=extra)
    except ModelSpecError:
        assume(False)
    per = dose_records(reg, subj, interruptions={i: extra for i in subj["ID"]})
    pd.testing.assert_frame_equal(shared, per)


def test_large_population_is_vectorised():
    # 5,000 subjects x 2 cycles x 24 h bags: every subject has its own BSA
    subj = subjects_frame(5000, seed=4)
    d = dose_records(get_preset("weight_based_rr", n_cycles=2), subj, bag_hours=24)
    assert len(d) == 5000 * 56
    adult = subj["WT"].to_numpy() >= 45
    exp = np.where(
        adult, 651 + 784, np.minimum(5 * subj["BSA"], 9) * 7 + np.minimum(15 * subj["BSA"], 28) * 49
    )
    np.testing.assert_allclose(_totals(d).to_numpy(), exp, rtol=1e-12)

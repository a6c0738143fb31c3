"""The label's interruption rule, rate schedules, retreatment and the AALL1331 preset.

BLINCYTO label (dosage modifications): an interruption after an adverse reaction of
no longer than 7 days continues the same cycle to a total of 28 days of infusion;
a longer one starts a new cycle.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from dosing_strategies import regimens
from hypothesis import given, settings
from hypothesis import strategies as st

from blinapk.dosing import (
    Interruption,
    dose_records,
    get_preset,
    rate_schedule,
    rate_table,
    retreatment,
)
from blinapk.errors import ModelSpecError

DAY = 24.0


def _infused_hours(sched, cycle):
    on = (sched.cycle[0] == cycle) & (sched.rate[0] > 0)
    return float((sched.end[0] - sched.start[0])[on].sum())


def test_label_rule_resolves_by_duration():
    assert Interruption.from_days(10, 7, schedule="label").shift_rule == "continue"
    assert Interruption(216, 7 * DAY + 1, schedule="label").shift_rule == "new_cycle"
    assert Interruption(216, 24).shift_rule == "fixed"
    with pytest.raises(ModelSpecError, match="schedule"):
        Interruption(1, 1, schedule="later")


@pytest.mark.parametrize("days", [1, 3, 7])
def test_short_pause_continues_the_cycle_to_28_days(days):
    reg = get_preset("adult_rr")
    pause = Interruption.from_days(10, days, schedule="label")
    s = rate_schedule(reg, [1], interruptions=pause)
    assert _infused_hours(s, 1) == pytest.approx(28 * DAY)
    # cycle 1 ends `days` later, and cycle 2 starts that much later
    assert s.bounds[0].tolist() == [0, (42 + days) * DAY, (84 + days) * DAY]
    # no restart dose: the same amount as without the pause, only later
    assert s.amount()[0] == pytest.approx(9 * 7 + 28 * 21 + 28 * 28)
    d = dose_records(reg, [1], interruptions=pause)
    assert d["AMT"].sum() == pytest.approx(s.amount()[0])


def test_long_pause_starts_the_cycle_again_with_its_step_dose():
    reg = get_preset("adult_rr", n_cycles=2)
    pause = Interruption.from_days(10, 10, schedule="label")  # days 10-19 off
    s = rate_schedule(reg, [1], interruptions=pause)
    table = rate_table(dose_records(reg, [1], interruptions=pause))
    starts = (table["START"] / DAY).tolist()
    rates = (table["RATE"] * DAY).round(9).tolist()
    # days 1-9 of cycle 1 (step at day 8), pause, then cycle 1 again from its day 1
    assert starts[:5] == [0, 7, 9, 19, 26]
    assert rates[:5] == [9, 28, 0, 9, 28]
    assert s.bounds[0].tolist() == [0, (19 + 42) * DAY, (19 + 84) * DAY]
    assert _infused_hours(s, 1) == pytest.approx((9 + 28) * DAY)


def test_pause_in_the_treatment_free_interval_shifts_nothing():
    reg = get_preset("adult_rr")
    pause = Interruption.from_days(31, 10, schedule="label")
    shifted = rate_schedule(reg, [1], interruptions=pause)
    plain = rate_schedule(reg, [1])
    assert shifted.bounds.tolist() == plain.bounds.tolist()
    assert shifted.amount()[0] == pytest.approx(plain.amount()[0])


def test_fixed_pause_is_unchanged_default():
    reg = get_preset("adult_rr", n_cycles=1)
    pause = Interruption.from_days(3, 2)
    assert pause.schedule == "fixed"
    d = dose_records(reg, [1], interruptions=pause)
    assert d["AMT"].sum() == pytest.approx(651 - 2 * 9)


def test_restart_dose_with_the_continue_rule():
    reg = get_preset("adult_rr", n_cycles=1)
    crs = Interruption.from_days(11, 1, restart_dose=9, schedule="label")
    d = dose_records(reg, [1], interruptions=crs)
    # 28 infusion days kept; 7 of them at the 9 ug/day restart dose instead of 28
    assert d["AMT"].sum() == pytest.approx(651 - 7 * (28 - 9))


def test_schedule_round_trips_and_table_column():
    it = Interruption(200, 30, restart_dose=9, schedule="label")
    assert Interruption.from_dict(it.to_dict()) == it
    table = pd.DataFrame({"ID": [1], "START": [200.0], "DURATION": [30.0],
                          "SCHEDULE": ["label"]})
    a = dose_records(get_preset("adult_rr"), [1, 2], interruptions=table)
    b = dose_records(get_preset("adult_rr"), [1, 2],
                     interruptions={1: Interruption(200, 30, schedule="label")})
    pd.testing.assert_frame_equal(a, b)


@settings(max_examples=40)
@given(regimens(), st.floats(0, 1500), st.floats(0.5, 400), st.sampled_from(
    ["fixed", "continue", "new_cycle", "label"]))
def test_rate_schedule_agrees_with_dose_records(reg, start, duration, rule):
    subj = pd.DataFrame({"ID": [1, 2], "BSA": [0.8, 2.1]})
    pause = Interruption(start, duration, schedule=rule)
    try:
        d = dose_records(reg, subj, interruptions=pause)
    except ModelSpecError:
        return  # the pause removed everything: rate_schedule must agree
    s = rate_schedule(reg, subj, interruptions=pause)
    assert np.allclose(s.amount(), d.groupby("ID", sort=False)["AMT"].sum().to_numpy())
    assert np.allclose(s.end[:, :-1], s.start[:, 1:])  # contiguous
    table = rate_table(d)
    for i, sid in enumerate((1, 2)):
        rows = table[table["ID"] == sid]
        mids = 0.5 * (s.start[i] + s.end[i])
        live = s.end[i] > s.start[i]
        expect = np.zeros(mids.size)
        for _, r in rows.iterrows():
            expect[(mids >= r["START"]) & (mids < r["END"])] = r["RATE"]
        assert np.allclose(s.rate[i][live], expect[live])


def test_rate_schedule_of_weight_based_regimen_uses_bsa_and_caps():
    subj = pd.DataFrame({"ID": [1, 2, 3], "WT": [70, 20, 40], "BSA": [1.9, 0.8, 2.2]})
    s = rate_schedule(get_preset("weight_based_rr"), subj)
    assert s.arm.tolist() == ["adult", "paediatric", "paediatric"]
    assert s.regimen.tolist() == ["adult_rr", "paediatric_rr", "paediatric_rr"]
    per_day = dict(zip(s.levels, (s.level_rate * DAY).round(9).T.tolist(), strict=True))
    assert per_day["28 ug/day"][0] == 28
    assert per_day["15 ug/m2/day"][1:] == [12, 28]  # 15 x 0.8; 15 x 2.2 capped at 28
    assert np.isnan(per_day["9 ug/day"][1])


def test_retreatment_repeats_the_course_after_the_gap():
    course = get_preset("adult_rr", n_cycles=2)
    r = retreatment(course, gap_days=90)
    assert r.n_cycles == 4
    starts = np.array(r.cycle_starts()) / DAY
    assert starts.tolist() == [0, 42, 42 + 28 + 90, 42 + 28 + 90 + 42]
    assert [s.dose for s in r.cycle_spec(3).steps] == [9, 28]  # step dose again
    d = dose_records(r, [1])
    assert d["AMT"].sum() == pytest.approx(2 * (651 + 784))
    wb = retreatment(get_preset("weight_based_rr", n_cycles=1), gap_days=180, n_courses=3)
    assert wb.adult.n_cycles == wb.paediatric.n_cycles == 3
    with pytest.raises(ModelSpecError):
        retreatment(course, gap_days=-1)


def test_aall1331_blocks_are_five_weeks_at_15_ug_m2_day():
    reg = get_preset("aall1331")
    assert reg.cycle_starts() == (0.0, 35 * DAY)
    d = dose_records(reg, pd.DataFrame({"ID": [1, 2], "BSA": [1.0, 2.5]}))
    amounts = d.groupby("ID")["AMT"].sum()
    assert amounts[1] == pytest.approx(2 * 28 * 15)
    assert amounts[2] == pytest.approx(2 * 28 * 28)  # 37.5 ug/day capped at 28

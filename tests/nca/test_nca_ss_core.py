"""compute_css on small hand-made datasets: every number here is hand-calculable."""

import numpy as np
import pandas as pd
import pytest

from blinapk.data import read_dataset
from blinapk.errors import DataValidationError, ModelSpecError
from blinapk.nca.steady_state import CSS_COLUMNS, clearance_from_css, compute_css

R9, R28 = 9 / 24, 28 / 24  # ug/h for 9 and 28 ug/day


def _frame(doses, obs, extra=None):
    """doses: (ID, TIME, AMT, RATE); obs: (ID, TIME, DV[, CENS])."""
    rows = [dict(ID=i, TIME=t, EVID=1, AMT=a, RATE=r, DV=0.0, MDV=1) for i, t, a, r in doses]
    for o in obs:
        i, t, dv = o[:3]
        row = dict(ID=i, TIME=t, EVID=0, AMT=0.0, RATE=0.0, DV=dv, MDV=0)
        if len(o) > 3:
            row["CENS"] = o[3]
        rows.append(row)
    df = pd.DataFrame(rows)
    if "CENS" in df:
        df["CENS"] = df["CENS"].fillna(0).astype(int)
    for k, v in (extra or {}).items():
        df[k] = df["ID"].map(v)
    return df.sort_values(["ID", "TIME", "EVID"], ascending=[True, True, False])


def _step_dataset():
    # 9 ug/day for 7 days then 28 ug/day for 21 days (label cycle 1)
    doses = [(1, 0.0, 63.0, R9), (1, 168.0, 588.0, R28)]
    obs = [
        (1, 0.0, 0.0, 1),      # pre-dose: before first infusion
        (1, 6.0, 150.0),       # < 10 h after start
        (1, 24.0, 200.0),
        (1, 96.0, 2.0, 1),     # < LOD -> 0
        (1, 168.0, 240.0),     # at the step instant: reflects 9 ug/day
        (1, 170.0, 400.0),     # 2 h after step: too early
        (1, 192.0, 600.0),
        (1, 400.0, 30.0, 1),   # LOD <= DV < LLOQ: excluded
        (1, 672.0, 500.0),     # end of infusion: still 28 ug/day
        (1, 700.0, 20.0, 1),   # after end
    ]
    return read_dataset(_frame(doses, obs))


def test_hand_calculated_css_and_cl():
    res = compute_css(_step_dataset())
    t = res.to_frame()
    assert tuple(t.columns) == CSS_COLUMNS
    assert t["DOSE_LEVEL"].tolist() == ["9 ug/day", "28 ug/day"]
    np.testing.assert_allclose(t["CSS"], [(200 + 0 + 240) / 3, (600 + 500) / 2], rtol=1e-14)
    np.testing.assert_allclose(t["CL"], [1000 * R9 / (440 / 3), 1000 * R28 / 550], rtol=1e-14)
    assert t["N"].tolist() == [3, 2]
    assert t["START"].tolist() == [0.0, 168.0] and t["END"].tolist() == [168.0, 672.0]
    assert t["REASON"].tolist() == ["", ""]


def test_ledger_reasons_and_counts_add_up():
    ds = _step_dataset()
    res = compute_css(ds)
    led = res.ledger.to_frame().set_index("TIME")
    assert led.loc[0.0, "REASON"] == "before first infusion"
    assert led.loc[6.0, "REASON"].startswith("outside steady-state window")
    assert led.loc[170.0, "REASON"].startswith("outside steady-state window")
    assert (led.loc[96.0, "STATUS"], led.loc[96.0, "REASON"]) == ("modified", "<LOD set to 0")
    assert (led.loc[400.0, "STATUS"], led.loc[400.0, "REASON"]) == ("excluded", "<LLOQ excluded")
    assert led.loc[700.0, "REASON"] == "after end of infusion"
    assert led.loc[[24.0, 168.0, 192.0, 672.0], "STATUS"].eq("used").all()
    obs = ds.observations("BLIN")
    res.ledger.check(obs)
    counts = res.ledger.counts(by="status").set_index("STATUS")["N"]
    assert counts.sum() == len(obs) == 10
    # N in the table = used + modified rows
    assert res.to_frame()["N"].sum() == counts["used"] + counts["modified"]


def test_bag_changes_merge_and_interruption_restarts_clock():
    # two 24-h bags (bag change at 24 h), a 12-h interruption, then restart
    doses = [(1, 0.0, 24 * R28, R28), (1, 24.0, 24 * R28, R28), (1, 60.0, 48 * R28, R28)]
    obs = [
        (1, 30.0, 500.0),   # 6 h after the bag change but 30 h at this rate: used
        (1, 50.0, 100.0),   # during the pause (48-60 h): rate 0
        (1, 65.0, 300.0),   # 5 h after restart: too early
        (1, 80.0, 520.0),   # 20 h after restart: used
    ]
    res = compute_css(read_dataset(_frame(doses, obs)))
    t = res.to_frame()
    assert t["START"].tolist() == [0.0, 60.0] and t["END"].tolist() == [48.0, 108.0]
    assert t["CSS"].tolist() == [500.0, 520.0]
    led = res.ledger.to_frame().set_index("TIME")
    assert led.loc[50.0, "REASON"] == "during rate 0 (interruption or off treatment)"
    pooled = compute_css(read_dataset(_frame(doses, obs)), per="dose_level").to_frame()
    assert len(pooled) == 1
    assert pooled.loc[0, "CSS"] == 510.0 and pooled.loc[0, "N"] == 2
    assert (pooled.loc[0, "START"], pooled.loc[0, "END"]) == (0.0, 108.0)


def test_min_time_option():
    res = compute_css(_step_dataset(), min_time_after_start=1.0)
    assert res.to_frame()["N"].tolist() == [4, 3]  # adds the 6 h and the 170 h samples
    with pytest.raises(ModelSpecError):
        compute_css(_step_dataset(), min_time_after_start=-1)


def test_summary_statistics_options():
    ds = _step_dataset()
    med = compute_css(ds, summary="median").to_frame()
    np.testing.assert_allclose(med["CSS"], [200.0, 550.0])
    geo = compute_css(ds, summary="geometric").to_frame()
    # first segment has a zero (<LOD set to 0): geometric mean not estimable
    assert np.isnan(geo.loc[0, "CSS"]) and "Css is 0" in geo.loc[0, "REASON"]
    np.testing.assert_allclose(geo.loc[1, "CSS"], np.sqrt(600 * 500), rtol=1e-14)
    with pytest.raises(ModelSpecError):
        compute_css(ds, summary="mode")


def test_not_estimable_rows_are_nan_with_reason():
    doses = [(1, 0.0, 24.0, 1.0), (2, 0.0, 24.0, 1.0), (3, 0.0, 24.0, 1.0), (4, 0.0, 24.0, 1.0)]
    obs = [
        (1, 12.0, 2.0, 1),   # only <LOD: Css 0 -> NaN
        (2, 5.0, 400.0),     # only too early
        (3, 12.0, 20.0, 1),  # only LOD..LLOQ: excluded
        (4, 30.0, 400.0),    # only after the end
    ]
    with np.errstate(all="raise"):
        t = compute_css(read_dataset(_frame(doses, obs))).to_frame()
    assert t["CSS"].isna().all() and t["CL"].isna().all()
    assert not np.isinf(t[["CSS", "CL"]].to_numpy()).any()
    assert t["REASON"].tolist() == [
        "Css is 0 (all eligible samples <LOD)",
        "no sample >= 10 h after rate start",
        "all samples in window excluded (BLQ)",
        "no sample during segment",
    ]
    assert t["N"].tolist() == [1, 0, 0, 0]


def test_censored_placeholder_value_unknown():
    doses = [(1, 0.0, 48.0, 1.0)]
    obs = [(1, 12.0, 50.0, 1), (1, 24.0, 300.0)]  # DV == LLOQ with CENS 1: value not reported
    res = compute_css(read_dataset(_frame(doses, obs)))
    assert res.to_frame()["CSS"].tolist() == [300.0]
    led = res.ledger.to_frame()
    assert led.loc[led["TIME"] == 12.0, "REASON"].item() == "BLQ, value not reported"
    half = compute_css(read_dataset(_frame(doses, obs)), blq="lloq/2").to_frame()
    assert half["CSS"].tolist() == [(25.0 + 300.0) / 2]


def test_per_m2_clearance_uses_bsa():
    doses = [(1, 0.0, 48.0, 1.0), (2, 0.0, 48.0, 1.0)]
    obs = [(1, 24.0, 500.0), (2, 24.0, 500.0)]
    df = _frame(doses, obs, extra={"BSA": {1: 2.0, 2: 0.5}})
    t = compute_css(read_dataset(df), dose_unit="ug/m2/h").to_frame()
    np.testing.assert_allclose(t["CL"], [1000 * 0.5 / 500, 1000 * 2.0 / 500])
    assert t["BSA"].tolist() == [2.0, 0.5]
    assert t["DOSE_LEVEL"].tolist() == ["12 ug/m2/day", "48 ug/m2/day"]
    with pytest.raises(DataValidationError, match="BSA"):
        compute_css(read_dataset(_frame(doses, obs)), dose_unit="ug/m2/h")


def test_cycle_and_prescribed_dose_level_are_carried():
    df = _frame([(1, 0.0, 48.0, 1.0), (1, 100.0, 48.0, 1.0)], [(1, 24.0, 500.0), (1, 130.0, 480.0)])
    df["CYCLE"] = np.where(df["TIME"] < 100, 1, 2)
    df["DOSE_LEVEL"] = np.where(df["EVID"] == 1, "24 ug/day", "")
    t = compute_css(read_dataset(df)).to_frame()
    assert t["CYCLE"].tolist() == [1, 2]
    assert t["DOSE_LEVEL"].tolist() == ["24 ug/day", "24 ug/day"]


def test_sample_before_a_late_first_infusion():
    df = _frame([(1, 0.0, 24.0, 1.0), (2, 10.0, 24.0, 1.0)], [(1, 12.0, 300.0), (2, 3.0, 100.0)])
    res = compute_css(read_dataset(df))
    assert res.to_frame()["ID"].tolist() == [1, 2]
    led = res.ledger.to_frame()
    assert led.loc[led["ID"] == 2, "REASON"].item() == "before first infusion"


def test_input_frame_not_mutated_and_result_frozen():
    df = _frame([(1, 0.0, 24.0, 1.0)], [(1, 12.0, 300.0)])
    before = df.copy()
    res = compute_css(df)  # a DataFrame is read first
    pd.testing.assert_frame_equal(df, before)
    with pytest.raises(AttributeError):
        res.table = None  # frozen
    t = res.to_frame()
    t.loc[0, "CSS"] = -1
    assert res.to_frame().loc[0, "CSS"] == 300.0


def test_clearance_conversion():
    # 1 ug/h at 1000 pg/mL = 1 ug/L -> 1 L/h; label check 28 ug/day at 616 pg/mL
    np.testing.assert_allclose(clearance_from_css(1.0, 1000.0), 1.0)
    np.testing.assert_allclose(clearance_from_css(28 / 24, 616.0), 1.8939393939, rtol=1e-9)
    out = clearance_from_css([1.0, 1.0, 1.0], [0.0, np.nan, np.inf])
    assert np.isnan(out).all()


def test_summary_method_groups_by_dose_level():
    s = compute_css(_step_dataset()).summary(by=["DOSE_LEVEL"]).wide()
    row = s[(s["PARAM"] == "CSS") & (s["DOSE_LEVEL"] == "28 ug/day")].iloc[0]
    assert row["N"] == 1 and row["MEAN"] == 550.0 and row["UNIT"] == "pg/mL"

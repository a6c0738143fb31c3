"""rate_table / rate_at on arbitrary contract dose frames, checked against a brute-force sum."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from dosing_strategies import dose_frames
from hypothesis import given, settings
from hypothesis import strategies as st

from blinapk.dosing import bolus_table, rate_at, rate_table
from blinapk.errors import DataValidationError, DataWarning


def _brute_rate(doses, sid, t):
    """Sum of the rates of the infusions running at time t (the definition)."""
    d = doses[doses["ID"] == sid]
    end = d["TIME"] + d["AMT"] / d["RATE"]
    return float(d["RATE"][(d["TIME"] <= t) & (t < end)].sum())


@settings(max_examples=100, deadline=None)
@given(dose_frames(), st.lists(st.floats(-10, 160), min_size=1, max_size=20))
def test_rate_table_invariants_and_brute_force_rate(doses, times):
    before = doses.copy()
    rt = rate_table(doses)
    pd.testing.assert_frame_equal(doses, before)  # never mutated
    assert list(rt.columns) == ["ID", "START", "END", "RATE"]
    assert rt["ID"].unique().tolist() == doses["ID"].unique().tolist()  # input order
    assert (rt["END"] > rt["START"]).all() and (rt["RATE"] >= 0).all()
    for sid, seg in rt.groupby("ID", sort=False):
        d = doses[doses["ID"] == sid]
        start, end, rate = (seg[c].to_numpy() for c in ("START", "END", "RATE"))
        # contiguous and non-overlapping, spanning first start to last end
        np.testing.assert_array_equal(end[:-1], start[1:])
        assert start[0] == pytest.approx(d["TIME"].min())
        assert end[-1] == pytest.approx((d["TIME"] + d["AMT"] / d["RATE"]).max())
        # maximal merge: no two adjacent rows share a rate (no carried columns here)
        assert np.all(rate[1:] != rate[:-1])
        # integral of the rate = total amount infused
        assert np.sum(rate * (end - start)) == pytest.approx(d["AMT"].sum(), rel=1e-9)
    # rate in force = brute-force sum of running infusions (away from boundaries)
    edges = np.concatenate([doses["TIME"], doses["TIME"] + doses["AMT"] / doses["RATE"]])
    for sid in doses["ID"].unique():
        ts = [t for t in times if np.min(np.abs(edges - t)) > 1e-6]
        if not ts:
            continue
        got = rate_at(rt, sid, ts)["RATE"].to_numpy()
        want = [_brute_rate(doses, sid, t) for t in ts]
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(dose_frames(sort=True))
def test_sorted_and_shuffled_inputs_give_the_same_table(doses):
    shuffled = doses.sample(frac=1.0, random_state=np.random.default_rng(0))
    a, b = rate_table(doses), rate_table(shuffled)
    order = {k: i for i, k in enumerate(doses["ID"].unique())}
    b = b.sort_values("ID", key=lambda s: s.map(order), kind="stable").reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)


def test_hand_example_with_gap_overlap_and_bag_change():
    doses = pd.DataFrame(
        {
            "ID": [1, 1, 1, 1],
            "TIME": [0.0, 24.0, 36.0, 72.0],
            "AMT": [24.0, 24.0, 6.0, 12.0],  # 1 ug/h 0-24 and 24-48 (bag change); +0.5 ug/h 36-48
            "RATE": [1.0, 1.0, 0.5, 2.0],  # 2 ug/h 72-78
        }
    )
    rt = rate_table(doses)
    np.testing.assert_allclose(
        rt[["START", "END", "RATE"]].to_numpy(),
        [[0, 36, 1.0], [36, 48, 1.5], [48, 72, 0.0], [72, 78, 2.0]],
    )


def test_carried_columns_gaps_and_merging():
    doses = pd.DataFrame(
        {
            "ID": ["s"] * 4,
            "TIME": [0.0, 24.0, 48.0, 100.0],
            "AMT": [9.0, 9.0, 28.0, 28.0],
            "RATE": [0.375, 0.375, 28 / 24, 28 / 24],
            "CYCLE": [1, 1, 1, 2],
            "DOSE_LEVEL": ["9 ug/day", "9 ug/day", "28 ug/day", "28 ug/day"],
        }
    )
    rt = rate_table(doses)
    assert rt["START"].tolist() == [0.0, 48.0, 72.0, 100.0]
    assert rt["CYCLE"].tolist() == [1, 1, 1, 2]  # the gap belongs to the cycle before it
    assert rt["DOSE_LEVEL"].isna().tolist() == [False, False, True, False]
    assert rt["DOSE_LEVEL"][0] == "9 ug/day"


def test_same_rate_across_cycles_stays_split_but_rate_at_sees_one_run():
    doses = pd.DataFrame(
        {"ID": 1, "TIME": [0.0, 24.0], "AMT": [28.0, 28.0], "RATE": [28 / 24] * 2, "CYCLE": [1, 2]}
    )
    rt = rate_table(doses)
    assert len(rt) == 2
    at = rate_at(rt, 1, [30.0])
    assert at["RATE_START"].item() == 0.0 and at["TIME_AT_RATE"].item() == 30.0


def test_full_dataset_uses_dose_rows_only_and_boluses_are_listed_apart():
    data = pd.DataFrame(
        {
            "id": [1, 1, 1, 1],
            "time": [0.0, 0.0, 2.0, 5.0],
            "evid": [1, 1, 0, 1],
            "amt": [10.0, 5.0, 0.0, 3.0],
            "rate": [1.0, 0.0, 0.0, 1.0],
            "dv": [0, 0, 250.0, 0],
        }
    )
    with pytest.warns(DataWarning, match="1 bolus"):
        rt = rate_table(data)
    # infusions [0, 10) at 1 ug/h and [5, 8) at 1 ug/h overlap: summed on [5, 8)
    np.testing.assert_allclose(
        rt[["START", "END", "RATE"]].to_numpy(), [[0, 5, 1.0], [5, 8, 2.0], [8, 10, 1.0]]
    )
    assert bolus_table(data).to_dict("list") == {"ID": [1], "TIME": [0.0], "AMT": [5.0]}


def test_no_bolus_no_warning_and_empty_input():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rate_table(pd.DataFrame({"ID": [1], "TIME": [0.0], "AMT": [1.0], "RATE": [1.0]}))
    empty = rate_table(pd.DataFrame({"ID": [], "TIME": [], "AMT": [], "RATE": []}))
    assert empty.empty and list(empty.columns) == ["ID", "START", "END", "RATE"]


def test_invalid_dose_rows_name_rows_and_columns():
    bad = pd.DataFrame(
        {
            "ROW": [11, 12, 13, 14],
            "ID": [1, 1, 1, 1],
            "TIME": [0.0, np.nan, 2.0, 3.0],
            "AMT": [1.0, 1.0, 0.0, 1.0],
            "RATE": [1.0, 1.0, 1.0, -1.0],
        }
    )
    with pytest.raises(DataValidationError) as err:
        rate_table(bad)
    found = {(v.column, v.rows) for v in err.value.violations}
    assert found == {("TIME", (12,)), ("AMT", (13,)), ("RATE", (14,))}
    with pytest.raises(DataValidationError, match="RATE"):
        rate_table(pd.DataFrame({"ID": [1], "TIME": [0.0], "AMT": [1.0]}))


def test_rate_at_edges_unknown_subject_and_nca_rule():
    rt = pd.DataFrame(
        {
            "ID": ["a", "a", "a"],
            "START": [0.0, 168.0, 672.0],
            "END": [168.0, 672.0, 1008.0],
            "RATE": [0.375, 28 / 24, 0.0],
        }
    )
    at = rate_at(rt, ["a", "a", "a", "a", "a", "zz"], [-1.0, 168.0, 177.9, 700.0, 2000.0, 5.0])
    assert at["RATE"].tolist() == pytest.approx([0, 28 / 24, 28 / 24, 0, 0, 0])
    np.testing.assert_allclose(
        at["RATE_START"], [np.nan, 168.0, 168.0, 672.0, 672.0, np.nan], equal_nan=True
    )
    # NCA: a steady-state sample needs >= 10 h at the current rate
    assert (at["TIME_AT_RATE"] >= 10).tolist() == [False, False, False, True, True, False]
    with pytest.raises(DataValidationError):
        rate_at(rt, "a", [np.nan])
    with pytest.raises(ValueError, match="length"):
        rate_at(rt, ["a"], [1.0, 2.0])


def test_rate_at_on_an_empty_table():
    empty = rate_table(pd.DataFrame({"ID": [], "TIME": [], "AMT": [], "RATE": []}))
    at = rate_at(empty, [1, 2], [0.0, 5.0])
    assert at["RATE"].tolist() == [0.0, 0.0] and at["RATE_START"].isna().all()


def test_dose_records_round_trip_through_rate_table_matches_label_rates():
    from blinapk.dosing import dose_records, get_preset

    d = dose_records(
        get_preset("mrd_paediatric", n_cycles=2), pd.DataFrame({"ID": [5], "BSA": [1.2]})
    )
    rt = rate_table(d)
    np.testing.assert_allclose(
        rt[["START", "END", "RATE"]].to_numpy(),
        [[0, 672, 18 / 24], [672, 1008, 0], [1008, 1680, 18 / 24]],  # 15 x 1.2 = 18 ug/day
    )
    assert rt["CYCLE"].tolist() == [1, 1, 2]

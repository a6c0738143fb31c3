"""compute_nca: groups, intervals as data, doses, BLQ, exclusions, validation."""

import math

import numpy as np
import pandas as pd
import pytest

from blinapk.errors import DataValidationError, ModelSpecError
from blinapk.nca.general import compute_nca
from blinapk.nca.intervals import Interval, intervals_from_frame, intervals_to_frame

INF = math.inf


def two_subjects():
    t = [0.0, 1.0, 2.0, 4.0, 8.0]
    return pd.DataFrame({
        "ID": [1] * 5 + [2] * 5,
        "TRT": ["A"] * 5 + ["B"] * 5,
        "TIME": t + t,
        "CONC": [0.0, 8.0, 6.0, 3.0, 0.75, 0.0, 4.0, 3.0, 1.5, 0.375],
    })


def test_long_and_wide_shapes():
    res = compute_nca(two_subjects(), Interval(0, INF, ("cmax", "auclast")))
    long = res.to_frame()
    assert list(long.columns) == ["ID", "start", "end", "parameter", "PPTESTCD", "value",
                                  "unit", "reason"]
    assert len(long) == 4
    wide = res.wide()
    assert list(wide.columns) == ["ID", "start", "end", "cmax", "auclast"]
    assert wide["cmax"].tolist() == [8.0, 4.0]
    # the second subject is the first scaled by 1/2: AUC halves
    assert wide["auclast"].iloc[1] == pytest.approx(wide["auclast"].iloc[0] / 2)
    # accessors return copies
    long.loc[0, "value"] = -1
    assert res.to_frame().loc[0, "value"] != -1


def test_input_frame_is_not_modified():
    frame = two_subjects()
    before = frame.copy()
    compute_nca(frame, Interval(0, INF, ("cmax", "half_life")), dose=1.0)
    pd.testing.assert_frame_equal(frame, before)


def test_several_grouping_columns_and_group_filter():
    ivs = [Interval(0, INF, ("cmax",)), Interval(0, 2, ("auclast",), group={"TRT": "B"})]
    tab = compute_nca(two_subjects(), ivs, groups=["ID", "TRT"]).to_frame()
    assert tab[["ID", "TRT", "parameter"]].values.tolist() == [
        [1, "A", "cmax"], [2, "B", "cmax"], [2, "B", "auclast"]]
    with pytest.raises(ModelSpecError, match="not a group column"):
        compute_nca(two_subjects(), Interval(0, 1, ("cmax",), group={"ARM": 1}))


def test_intervals_from_a_pknca_style_frame_round_trip():
    df = pd.DataFrame({"start": [0.0, 0.0], "end": [4.0, INF], "auclast": [True, False],
                       "cmax": [False, True], "ID": [1, np.nan]})
    ivs = intervals_from_frame(df)
    assert ivs[0].parameters == ("auclast",) and dict(ivs[0].group) == {"ID": 1.0}
    assert ivs[1].parameters == ("cmax",) and ivs[1].group is None
    back = intervals_from_frame(intervals_to_frame(ivs))
    assert back == ivs
    tab = compute_nca(two_subjects(), df).to_frame()
    assert len(tab) == 3  # auclast for ID 1 only, cmax for both


def test_bad_intervals():
    with pytest.raises(ModelSpecError, match="end must be > start"):
        Interval(4, 2, ("cmax",))
    with pytest.raises(ModelSpecError, match="no parameters"):
        Interval(0, 2, ())
    with pytest.raises(ModelSpecError, match="no intervals"):
        compute_nca(two_subjects(), [])


def test_dose_records_sum_within_start_inclusive_end_exclusive():
    from blinapk.nca.general import DEFAULT_REGISTRY

    reg = DEFAULT_REGISTRY.with_parameter(lambda dose: dose, name="dose_in_interval",
                                          unit_kind="amount", label="dose")
    doses = pd.DataFrame({"ID": [1, 1, 2], "TIME": [0.0, 4.0, 0.0], "AMT": [10.0, 5.0, 7.0]})
    ivs = [Interval(0, 4, ("dose_in_interval", "c0")),
           Interval(4, 8, ("dose_in_interval", "c0")),
           Interval(0, INF, ("dose_in_interval", "cl_obs"))]
    res = compute_nca(two_subjects(), ivs, dose=doses, registry=reg,
                      units={"amt": "mg", "dv": "mg/L"})
    wide = res.wide()
    # ID 1: [0, 4) -> 10 (the 4 h dose is excluded), [4, 8) -> 5, [0, inf) -> 15;
    # ID 2: 7, no dose in [4, 8) (NaN), 7
    assert wide["dose_in_interval"].fillna(-1).tolist() == [10.0, 5.0, 15.0, 7.0, -1, 7.0]
    # c0 is observed at both starts (0 at t = 0; 3.0 and 1.5 at t = 4)
    assert wide["c0"].dropna().tolist() == [0.0, 3.0, 0.0, 1.5]
    cl = wide.set_index(["ID", "end"])["cl_obs"]
    # subject 2 has half the concentrations of subject 1 and dose 7 (subject 1: 15):
    # CL1/CL2 = (15/AUC1) / (7/(AUC1/2)) = 15/14
    assert cl[(1, INF)] / cl[(2, INF)] == pytest.approx(15 / 14, rel=1e-12)
    assert res.to_frame().query("parameter == 'dose_in_interval'")["unit"].iloc[0] == "mg"


def test_contract_frame_with_evid_mdv_and_amt():
    frame = pd.DataFrame({
        "ID": [1] * 7, "TIME": [0.0, 0.0, 1.0, 2.0, 3.0, 4.0, 8.0],
        "EVID": [1, 0, 0, 0, 0, 0, 0], "AMT": [100.0, 0, 0, 0, 0, 0, 0],
        "MDV": [1, 0, 0, 0, 1, 0, 0],
        "DV": [0.0, 0.0, 8.0, 6.0, 99.0, 3.0, 0.75],
    })
    res = compute_nca(frame, Interval(0, INF, ("cmax", "cl_obs", "auclast")))
    wide = res.wide()
    assert wide["cmax"].item() == 8.0  # the MDV=1 row (99) is not used
    assert wide["cl_obs"].item() > 0  # dose taken from the EVID=1 row
    assert res.excluded[["ROW", "TIME", "STATUS", "REASON"]].values.tolist() == [
        [5, 3.0, "excluded", "MDV=1"]]


def test_missing_concentrations_are_listed():
    frame = two_subjects()
    frame.loc[2, "CONC"] = np.nan
    res = compute_nca(frame, Interval(0, INF, ("cmax",)))
    assert res.excluded[["ID", "ROW", "REASON"]].values.tolist() == [
        [1, 3, "concentration missing"]]


def test_blq_rule_from_blq_module():
    frame = two_subjects().assign(LLOQ=1.0)
    res = compute_nca(frame, Interval(0, INF, ("clast", "tlast")), blq="exclude")
    wide = res.wide()
    # subject 1: 0 and 0.75 are < LLOQ -> excluded, Clast = 3 at t = 4
    assert wide.loc[0, ["clast", "tlast"]].tolist() == [3.0, 4.0]
    assert set(res.excluded["REASON"]) == {"BLQ excluded"}
    assert len(res.excluded) == 4  # two zeros, 0.75 and 0.375
    half = compute_nca(frame, Interval(0, INF, ("clast",)), blq="lloq/2")
    assert half.wide()["clast"].tolist() == [0.5, 0.5]
    assert set(half.excluded["STATUS"]) == {"modified"}
    with pytest.raises(ModelSpecError, match="LLOQ"):
        compute_nca(two_subjects(), Interval(0, INF, ("clast",)), blq="exclude")


def test_validation_errors_name_rows():
    frame = two_subjects()
    frame.loc[3, "TIME"] = 2.0  # duplicate of row 3 (TIME 2) in ID 1
    frame.loc[7, "CONC"] = -1.0
    with pytest.raises(DataValidationError) as err:
        compute_nca(frame, Interval(0, INF, ("cmax",)))
    rules = {v.rule: v.rows for v in err.value.violations}
    assert rules == {"conc_negative": (8,), "time_duplicated": (3, 4)}
    with pytest.raises(ModelSpecError, match="route"):
        compute_nca(two_subjects(), Interval(0, 1, ("cmax",)), route="oral")
    with pytest.raises(ModelSpecError, match="auc_method"):
        compute_nca(two_subjects(), Interval(0, 1, ("cmax",)), auc_method="spline")


def test_many_subjects_vectorised_enough():
    rng = np.random.default_rng(20240601)
    n = 300
    t = np.array([0.25, 0.5, 1, 2, 4, 6, 8, 12, 24])
    k = rng.lognormal(np.log(0.15), 0.3, n)
    ka = rng.lognormal(np.log(1.5), 0.3, n)
    conc = 100 * ka[:, None] / (ka - k)[:, None] * (np.exp(-k[:, None] * t)
                                                  - np.exp(-ka[:, None] * t))
    frame = pd.DataFrame({"ID": np.repeat(np.arange(n), t.size), "TIME": np.tile(t, n),
                          "CONC": conc.ravel()})
    wide = compute_nca(frame, Interval(0, INF, ("lambda_z", "half_life"))).wide()
    assert len(wide) == n
    # terminal samples are dominated by elimination for ka >> k: lambda_z close to k
    good = ka > 4 * k
    assert np.allclose(wide["lambda_z"].to_numpy()[good], k[good], rtol=0.03)

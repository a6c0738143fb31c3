"""Observation selection, BLQ handling, covariates and the row ledger."""

import numpy as np
import pandas as pd
import pytest
from poppk_helpers import infusion_frame

from blinapk.data import read_dataset
from blinapk.errors import DataValidationError, ModelSpecError
from blinapk.poppk.design import prepare_data, resolve_references
from blinapk.poppk.spec import PopPKSpec


def _mixed_frame():
    f = infusion_frame(3, cl=[1.0, 2.0, 40.0], obs_times=(0.0, 6.0, 24.0, 48.0))
    extra = pd.DataFrame([
        {"ID": 1, "TIME": 30.0, "EVID": 0, "AMT": 0.0, "RATE": 0.0, "DV": 300.0, "MDV": 0,
         "DVID": "IL6", "LLOQ": 125.0, "CENS": 0, "BSA": 1.4},
        {"ID": 1, "TIME": 31.0, "EVID": 0, "AMT": 0.0, "RATE": 0.0, "DV": 0.0, "MDV": 1,
         "DVID": "BLIN", "LLOQ": 50.0, "CENS": 0, "BSA": 1.4},
        {"ID": 2, "TIME": 10.0, "EVID": 2, "AMT": 0.0, "RATE": 0.0, "DV": 0.0, "MDV": 1,
         "DVID": "BLIN", "LLOQ": 50.0, "CENS": 0, "BSA": 1.9},
    ])
    return pd.concat([f, extra], ignore_index=True).sort_values(["ID", "TIME"], kind="stable")


def test_ledger_reasons_and_counts_add_up():
    ds = read_dataset(_mixed_frame())
    data = prepare_data(ds, PopPKSpec())
    led = data.ledger
    led.check(ds.frame)  # every input row listed exactly once, counts add up
    t = led.to_frame().set_index("ROW")
    frame = ds.frame.set_index("ROW")
    il6 = frame.index[frame["DVID"] == "IL6"]
    assert (t.loc[il6, "REASON"] == "DVID IL6: not the modelled analyte (BLIN)").all()
    mdv = frame.index[(frame["EVID"] == 0) & (frame["MDV"] == 1)]
    assert (t.loc[mdv, "REASON"] == "MDV=1: no usable DV").all()
    pre = frame.index[(frame["EVID"] == 0) & (frame["TIME"] == 0.0)]
    assert t.loc[pre, "REASON"].str.startswith("before the first dose").all()
    evid2 = frame.index[frame["EVID"] == 2]
    assert t.loc[evid2, "REASON"].str.startswith("EVID=2 record").all()
    assert (t.loc[frame.index[frame["EVID"] == 1], "STATUS"] == "used").all()
    # observations used = BLIN, MDV 0, after the dose; censored kept for M3
    assert data.n_obs == 9 and data.n_censored == 3
    assert set(data.obs_row) == set(t.index[(t["STATUS"] == "used") & (t["DVID"] == "BLIN")
                                            ] .intersection(frame.index[frame["EVID"] == 0]))


def test_m1_excludes_censored_rows_with_reason():
    ds = read_dataset(_mixed_frame())
    m3 = prepare_data(ds, PopPKSpec(blq="M3"))
    m1 = prepare_data(ds, PopPKSpec(blq="M1"))
    assert m1.n_censored == 0 and m1.n_obs == m3.n_obs - m3.n_censored
    excl = m1.ledger.excluded()
    cens_rows = set(m3.obs_row[m3.cens])
    got = set(excl.loc[excl["REASON"] == "BLQ (CENS=1) discarded: M1 method", "ROW"])
    assert got == cens_rows
    m1.ledger.check(ds.frame)


def test_m1_drops_subjects_left_without_observations():
    # subject 3 (CL 40 L/h, Css 29 pg/mL) is BLQ at every sample
    ds = read_dataset(_mixed_frame())
    m1 = prepare_data(ds, PopPKSpec(blq="M1"))
    assert m1.subjects == (1, 2)
    led = m1.ledger.to_frame()
    dose3 = led[(led["ID"] == 3) & (led["DVID"] == "BLIN") & (led["STATUS"] == "excluded")]
    assert "subject has no usable BLIN observation" in set(dose3["REASON"])


def test_censored_dv_is_lloq_and_rates_known():
    ds = read_dataset(_mixed_frame())
    data = prepare_data(ds, PopPKSpec())
    np.testing.assert_array_equal(data.dv[data.cens], data.lloq[data.cens])
    np.testing.assert_allclose(data.rate, 28 / 24)
    np.testing.assert_allclose(data.since_change, data.time)


def test_time_varying_covariate_locf():
    f = infusion_frame(2, obs_times=(6.0, 24.0, 48.0))
    f.loc[(f["ID"] == 2) & (f["TIME"] >= 24.0), "WT"] = 80.0
    f["WT"] = f["WT"].fillna(70.0)
    f.loc[(f["ID"] == 1) & (f["TIME"] == 24.0), "WT"] = np.nan  # gap: carry 70 forward
    data = prepare_data(read_dataset(f), PopPKSpec(covariates=("CL~WT:power",)))
    assert data.time_varying == ("WT",)
    np.testing.assert_array_equal(data.cov_obs["WT"], [70, 70, 70, 70, 80, 80])
    np.testing.assert_array_equal(data.cov_subject["WT"], [70, 70])


def test_missing_and_invalid_covariates_name_column_and_rows():
    f = infusion_frame(2)
    with pytest.raises(DataValidationError, match="WT"):
        prepare_data(read_dataset(f), PopPKSpec(covariates=("CL~WT",)))
    g = f.assign(BSA=np.where(f["ID"] == 2, 0.0, f["BSA"]))
    with pytest.raises(DataValidationError) as err:
        prepare_data(read_dataset(g), PopPKSpec(covariates=("CL~BSA",)))
    v = err.value.violations[0]
    assert v.column == "BSA" and v.rule == "covariate_not_positive" and len(v.rows) == 5


def test_no_usable_observation():
    f = infusion_frame(1, obs_times=(0.0,))
    with pytest.raises(ModelSpecError, match="no usable BLIN observation"):
        prepare_data(read_dataset(f), PopPKSpec())


def test_reference_defaults():
    f = infusion_frame(4, bsa=[1.0, 1.5, 2.0, 2.5]).assign(
        AGE=lambda d: d["ID"] * 10.0, SEX=lambda d: np.where(d["ID"] == 1, "F", "M"))
    spec = PopPKSpec(covariates=("CL~BSA", "CL~AGE:exponential", "V~SEX:categorical",
                                 "V~BSA:power@2"))
    refs = resolve_references(prepare_data(read_dataset(f), spec), spec)
    assert refs[("CL", "BSA")] == 1.88  # documented standard, not the median 1.75
    assert refs[("CL", "AGE")] == 25.0  # median
    assert refs[("V", "SEX")] == "M"  # mode
    assert refs[("V", "BSA")] == 2.0  # given


def test_dvid_selects_the_modelled_analyte():
    """PopPKSpec(dvid=...) models that analyte; every other DVID goes to the ledger."""
    ds = read_dataset(_mixed_frame())
    blin = prepare_data(ds, PopPKSpec())
    il6 = prepare_data(ds, PopPKSpec(dvid="il6"))
    frame = ds.frame.set_index("ROW")
    il6_rows = frame.index[(frame["DVID"] == "IL6") & (frame["EVID"] == 0)]
    assert list(il6.obs_row) == list(il6_rows) and il6.subjects == (1,)
    np.testing.assert_array_equal(il6.dv, [300.0])
    np.testing.assert_array_equal(il6.lloq, [125.0])
    t = il6.ledger.to_frame().set_index("ROW")
    blin_obs = frame.index[(frame["DVID"] == "BLIN") & (frame["EVID"] == 0)
                           & (frame["ID"] == 1) & (frame["MDV"] == 0)]
    assert (t.loc[blin_obs, "REASON"] == "DVID BLIN: not the modelled analyte (IL6)").all()
    other_doses = frame.index[(frame["ID"] != 1) & (frame["EVID"] == 1)]
    assert (t.loc[other_doses, "REASON"] == "subject has no usable IL6 observation").all()
    il6.ledger.check(ds.frame)  # counts still add up
    assert blin.n_obs == 9 and il6.n_obs == 1


def test_dvid_without_any_matching_row():
    with pytest.raises(ModelSpecError, match="no usable IL10 observation"):
        prepare_data(read_dataset(_mixed_frame()), PopPKSpec(dvid="IL10"))


def test_proportional_linear_keeps_nonpositive_dv_rows():
    """DV <= 0 is impossible on the log scale only; the linear-scale models keep it."""
    f = infusion_frame(2, obs_times=(6.0, 24.0, 48.0), lloq=0.0).assign(LOD=0.0)
    f.loc[(f["ID"] == 1) & (f["TIME"] == 24.0), "DV"] = 0.0
    ds = read_dataset(f)
    log_scale = prepare_data(ds, PopPKSpec(residual="proportional"))
    linear = prepare_data(ds, PopPKSpec(residual="proportional_linear"))
    assert linear.n_obs == log_scale.n_obs + 1
    reasons = set(log_scale.ledger.excluded()["REASON"])
    assert "DV <= 0 is not allowed with the proportional (log-scale) error model" in reasons

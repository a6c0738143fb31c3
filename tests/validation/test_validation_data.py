"""External validation, fast part: the public data sets and NONMEM's own predictions.

* Both data sets are read through :func:`blinapk.data.read_dataset` with their
  sidecar unit files and must reproduce the record / observation / subject
  counts printed in the NONMEM listings they were fitted with.
* The phenobarbital population predictions of blinapk's closed-form
  superposition (:func:`blinapk.pk.predict_conc`, repeated IV boluses) at the
  NONMEM final estimates must equal NONMEM's PRED column to its printed
  precision (5 significant digits).

Sources of every number: tests/validation/validation_references.py.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from validation_references import (
    DATA,
    INF_N_ID,
    INF_N_OBS,
    PHENO,
    PHENO_N_ID,
    PHENO_N_OBS,
    PHENO_N_RECORDS,
    PHENO_PRED,
)

from blinapk.data import read_dataset
from blinapk.pk import dose_matrix, predict_conc

PG_PER_ML_PER_MG_PER_L = 1e6


@pytest.fixture(scope="module")
def pheno():
    return read_dataset(DATA / "pheno.csv")


@pytest.fixture(scope="module")
def infusion():
    return read_dataset(DATA / "infusion_1cpt_sd.csv")


def test_pheno_counts_match_nonmem_listing(pheno):
    frame = pheno.frame
    assert len(frame) == PHENO_N_RECORDS
    assert len(pheno.subjects) == PHENO_N_ID
    obs = pheno.observations("BLIN")
    assert len(obs) == PHENO_N_OBS
    assert (obs["MDV"] == 0).all() and (obs["CENS"] == 0).all()
    doses = pheno.doses()
    assert (doses["RATE"] == 0).all()  # the NONMEM model gives every dose as a bolus
    assert len(doses) == PHENO_N_RECORDS - PHENO_N_OBS


def test_pheno_units_converted_once(pheno):
    assert pheno.declared_units.amt == "mg"
    raw = pd.read_csv(DATA / "pheno.csv", na_values=".")
    # mg -> ug and mg/L -> pg/mL, exactly once
    assert np.allclose(pheno.frame["AMT"].sum(), raw["AMT"].sum() * 1000.0)
    obs = pheno.observations("BLIN")
    assert np.allclose(np.sort(obs["DV"].to_numpy()),
                       np.sort(raw.loc[raw["EVID"] == 0, "DV"].to_numpy()) * 1e6)


def test_infusion_counts_match_nonmem_listing(infusion):
    assert len(infusion.subjects) == INF_N_ID
    obs = infusion.observations("BLIN")
    used = obs[obs["MDV"] == 0]
    assert len(used) == INF_N_OBS  # "(120 Ind/2276 Obs)"
    doses = infusion.doses()
    assert len(doses) == INF_N_ID
    # 1-h infusions (RATE = AMT per hour) of 10, 30, 60, 120 mg, 30 subjects each
    assert np.allclose(doses["AMT"] / doses["RATE"], 1.0)
    assert sorted(doses["AMT"].value_counts().items()) == [
        (1.0e4, 30), (3.0e4, 30), (6.0e4, 30), (1.2e5, 30)]
    # the 4 source rows coded EVID=2 (value rounded to 0) stay in the table, not used
    assert (infusion.frame["EVID"] == 2).sum() == 4


def test_pheno_population_predictions_equal_nonmem_pred(pheno):
    """blinapk's bolus superposition at the NONMEM estimates == NONMEM PRED (5 digits)."""
    theta_cl = PHENO["THETA_CL_PER_KG"][0]
    theta_v = PHENO["THETA_V_PER_KG"][0]
    theta_apgr = PHENO["THETA_APGR_LT5"][0]
    subjects = pheno.subjects
    cov = pheno.covariates(["WT", "APGR"]).set_index("ID").loc[list(subjects)]
    cl = theta_cl * cov["WT"].to_numpy(float)
    v = theta_v * cov["WT"].to_numpy(float) * np.where(cov["APGR"] < 5, 1.0 + theta_apgr, 1.0)
    doses = dose_matrix(pheno.doses(), subjects)
    ref = pd.DataFrame(PHENO_PRED, columns=["ID", "TIME", "PRED"])
    index = {s: i for i, s in enumerate(subjects)}
    conc = predict_conc(ref["TIME"].to_numpy(float), ref["ID"].map(index).to_numpy(int), doses,
                        {"CL": cl, "V": v}, "1cmt")
    pred = np.asarray(conc) / PG_PER_ML_PER_MG_PER_L
    # printed to 5 significant digits: half a unit of the last digit (0.0005 mg/L)
    # plus the 6-digit rounding of the printed THETAs (relative 1e-5)
    np.testing.assert_allclose(pred, ref["PRED"].to_numpy(), rtol=1e-5, atol=5.0001e-4)

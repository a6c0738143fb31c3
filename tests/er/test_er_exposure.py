"""Exposure metrics, exposures from parameters / posterior / NCA, outcomes and the design."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from blinapk.data import read_clinical, read_dataset
from blinapk.dosing import dose_records, get_preset
from blinapk.er import (
    derive_outcomes,
    exposure_from_params,
    make_design,
    observed_exposure,
    plan_exposure,
)
from blinapk.errors import DataValidationError, DataWarning, ModelSpecError


@pytest.fixture(scope="module")
def label_doses():
    subjects = pd.DataFrame({"ID": [1, 2, 3], "BSA": [1.9, 0.8, 1.7], "WT": [70.0, 25.0, 60.0]})
    doses = dose_records(get_preset("weight_based_rr", n_cycles=2), subjects)
    frame = doses.drop(columns="DOSE_LEVEL").merge(subjects, on="ID")
    return read_dataset(frame)


CL = np.array([2.2, 1.1, 3.0])
V = np.array([5.0, 3.0, 6.0])


def test_css_metrics_are_rate_over_clearance(label_doses):
    css = exposure_from_params(label_doses, {"CL": CL, "V": V}, "css")
    start = exposure_from_params(label_doses, {"CL": CL, "V": V}, "css_start")
    # targets: 28 ug/day (adults), 15 ug/m2/day x 0.8 m2 = 12 ug/day (child); starts 9 and 4
    np.testing.assert_allclose(css.point, 1000 * np.array([28, 12, 28]) / 24 / CL, rtol=1e-12)
    np.testing.assert_allclose(start.point, 1000 * np.array([9, 4, 9]) / 24 / CL, rtol=1e-12)
    assert css.draws.shape == (3, 1) and css.source == "given" and css.missing.empty


def test_cavg_is_the_dose_over_clearance_and_duration(label_doses):
    ex = exposure_from_params(label_doses, {"CL": CL, "V": V}, "cavg")
    dose = np.array([9 * 7 + 28 * 21, 4 * 7 + 12 * 21, 9 * 7 + 28 * 21])  # ug in cycle 1
    approx = 1000 * dose / CL / (28 * 24)
    # the amount still in the body at the end of the infusion is not counted: ~V/CL h short
    np.testing.assert_allclose(ex.point, approx, rtol=5e-3)
    assert np.all(ex.point < approx)
    window = exposure_from_params(label_doses, {"CL": CL, "V": V}, "cavg", window=(200, 600))
    # 32 h after the step the transient is gone to 1e-7
    np.testing.assert_allclose(window.point, 1000 * np.array([28, 12, 28]) / 24 / CL,
                               rtol=1e-6)


def test_cmax_after_start_and_step_reach_the_css(label_doses):
    params = {"CL": CL, "V": V}
    start = exposure_from_params(label_doses, params, "cmax_start").point
    step = exposure_from_params(label_doses, params, "cmax_step").point
    np.testing.assert_allclose(start, 1000 * np.array([9, 4, 9]) / 24 / CL, rtol=1e-9)
    np.testing.assert_allclose(step, 1000 * np.array([28, 12, 28]) / 24 / CL, rtol=1e-9)
    short = exposure_from_params(label_doses, params, "cmax_start", cmax_hours=2.0).point
    assert np.all(short < start)


def test_event_metrics_and_draw_batches(label_doses):
    draws = {"CL": np.vstack([CL, 2 * CL]), "V": np.vstack([V, V])}
    ev = exposure_from_params(label_doses, draws, "delta_css", level="event")
    assert list(ev.units.columns) == ["ID", "START", "KIND", "CYCLE"]
    assert ev.draws.shape == (len(ev.units), 2)
    first = ev.units.index[(ev.units["ID"] == 1) & (ev.units["KIND"] == "step-up")][0]
    assert ev.draws[first, 0] == pytest.approx(1000 * (28 - 9) / 24 / 2.2)
    np.testing.assert_allclose(ev.draws[:, 1], ev.draws[:, 0] / 2)
    with pytest.raises(ModelSpecError, match="unknown subject metric"):
        plan_exposure(label_doses, "delta_css")


def test_a_subject_without_a_step_up_is_missing_with_its_reason():
    doses = dose_records(get_preset("mrd_adult", n_cycles=1), pd.DataFrame({"ID": [7]}))
    plan = plan_exposure(doses.drop(columns="DOSE_LEVEL"), "cmax_step")
    assert plan.units.empty
    assert plan.missing.to_dict("records") == [{"ID": 7, "REASON": "no step-up event"}]


def test_observed_css_states_its_missingness():
    from blinapk.datasets import load_example

    ds = load_example()
    obs = observed_exposure(ds)
    assert obs.source == "observed" and obs.draws.shape[1] == 1
    assert len(obs.units) + len(obs.missing) == len(ds.subjects)
    assert obs.missing["REASON"].str.startswith("NCA Css not available").all()
    with pytest.raises(ModelSpecError, match="only css"):
        observed_exposure(ds, "cavg")


@pytest.fixture(scope="module")
def study():
    from endpoint_study import make_event_table, make_study

    tables = make_study()
    with pytest.warns(DataWarning, match="no response assessment"):
        clinical = read_clinical(**tables)
    dataset = read_dataset(make_event_table(tables["subjects"]).merge(
        tables["subjects"][["ID"]].assign(BSA=1.9, WT=70.0), on="ID"))
    return clinical, dataset, tables


@pytest.mark.parametrize("endpoint", ["crcrh", "mrd", "crs", "crs3", "neuro", "neuro3", "os",
                                      "rfs"])
def test_outcomes_follow_the_endpoint_layer(study, endpoint):
    from blinapk.endpoints import derive_best_response, derive_treatment_emergent, derive_tte

    clinical, _, tables = study
    out = derive_outcomes(endpoint, clinical)
    if endpoint in ("crcrh", "mrd"):
        best = derive_best_response(tables["assessments"], tables["subjects"]).table
        col = "CRCRH" if endpoint == "crcrh" else "MRD_RESPONSE"
        assert out.table["Y"].tolist() == best[col].fillna(0).astype(int).tolist()
    elif endpoint in ("os", "rfs"):
        best = derive_best_response(tables["assessments"], tables["subjects"])
        tte = derive_tte(tables["subjects"], best, endpoints=[endpoint.upper()]).to_frame()
        assert len(out.table) + len(out.excluded) == len(tte)
        assert out.table["EVENT"].sum() == tte["EVENT"].sum()
    else:
        te = derive_treatment_emergent(tables["adverse_events"], tables["subjects"]).events()
        cat = "CRS" if endpoint.startswith("crs") else "NEUROLOGIC"
        grade = 3 if endpoint.endswith("3") else 1
        hit = set(te.loc[(te["CATEGORY"] == cat) & (te["GRADE"] >= grade), "ID"])
        assert set(out.table.loc[out.table["Y"] == 1, "ID"]) == hit
    assert "AGEGROUP" in out.covariates.columns


def test_missing_table_and_unknown_endpoint_are_refused(study):
    clinical, _, _ = study
    with pytest.raises(DataValidationError, match="needs the event table"):
        derive_outcomes("il6", clinical)
    with pytest.raises(ModelSpecError, match="unknown"):
        derive_outcomes("remission", clinical)


def test_design_lists_subjects_without_exposure_and_codes_covariates(study):
    clinical, dataset, tables = study
    blin = tables["subjects"]["ARM"] == "blinatumomab"
    ids = tables["subjects"].loc[blin, "ID"].to_numpy()
    cl = np.full(ids.size, 2.0)
    expo = exposure_from_params(dataset, {"CL": cl, "V": cl * 2}, "css", subjects=tuple(ids))
    design = make_design(derive_outcomes("crs", clinical), expo, ["AGE"])
    assert design.n == blin.sum()
    assert (design.excluded["REASON"] == "no exposure: not in the PK data").sum() == (~blin).sum()
    assert [t.name for t in design.terms] == ["AGE"]
    np.testing.assert_allclose(design.X.mean(axis=0), 0.0, atol=1e-12)  # standardised
    with pytest.raises(ModelSpecError, match="every subject analysed is 'blinatumomab'"):
        make_design(derive_outcomes("crs", clinical), expo, ["ARM"])  # one arm has exposure
    with pytest.raises(DataValidationError, match="not a column"):
        make_design(derive_outcomes("crs", clinical), expo, ["HEIGHT"])


def test_peak_outcomes_are_censored_log_increases(il6_study):
    out = derive_outcomes("il6", dataset=il6_study.dataset)
    t = out.table
    assert set(t["KIND"]) == {"start", "step-up"}
    assert ((t["EPISODE"] == 1) == (t["KIND"] == "step-up")).all()
    cens = t["CENS"] == 1
    np.testing.assert_allclose(t.loc[cens, "Y"], np.log(125.0))  # BLQ baseline counts as 0
    assert (t.loc[~cens, "Y"] > np.log(125.0 - 5.0)).all()

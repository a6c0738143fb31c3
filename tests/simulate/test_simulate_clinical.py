"""simulate_trial's clinical tables: valid, true to their truth, calibrated, exposure-driven."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize
from scipy.special import expit

from blinapk.data import read_clinical
from blinapk.endpoints import (
    compute_ae_incidence,
    compute_km,
    derive_ae_episodes,
    derive_best_response,
    derive_response,
    derive_treatment_emergent,
    derive_tte,
)
from blinapk.errors import BlinapkError, DataWarning, ModelSpecError
from blinapk.simulate import load_clinical_model, simulate_trial
from blinapk.simulate.clinical import SUBJECT_COLUMNS

N = 80


@pytest.fixture(scope="module")
def trial():
    return simulate_trial(N, seed=11)


@pytest.fixture(scope="module")
def big():
    """4,000 subjects (20 % children): calibration and exposure-response checks."""
    return simulate_trial(4000, seed=2024, cytokines=False)


@pytest.fixture(scope="module")
def big_best(big):
    return derive_best_response(big.assessments, big.subjects)


def _rate(best, mask=None) -> float:
    b = best.to_frame()
    return float(b["CRCRH"][mask].mean() if mask is not None else b["CRCRH"].mean())


def test_tables_pass_the_reader_without_warnings(trial):
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        clin = trial.clinical
    assert clin.tables == ("subjects", "assessments", "adverse_events")
    assert clin.ids == tuple(trial.truth["ID"])
    assert list(trial.subjects.columns) == list(SUBJECT_COLUMNS)
    assert len(trial.assessments) == N * 2  # one per subject and cycle
    assert set(trial.subjects["ARM"]) <= {"adult", "paediatric"}
    assert (trial.subjects["ARM"].to_numpy() == trial.truth["ARM"].to_numpy()).all()
    assert set(trial.subjects["STUDY"]) == {"BLIN-SIM"}
    for col in ("BLAST", "AGE", "SEX", "BSA", "WT"):
        assert (trial.subjects[col].to_numpy() == trial.truth[col].to_numpy()).all(), col
    # the per-assessment truth is aligned with the table
    assert (trial.assessment_truth[["ID", "CYCLE", "DAY"]].to_numpy()
            == trial.assessments[["ID", "CYCLE", "DAY"]].to_numpy()).all()


def test_last_dose_day_comes_from_the_dose_records(trial):
    doses = trial.data[trial.data["EVID"] == 1]
    end = (doses["TIME"] + doses["AMT"] / doses["RATE"]).groupby(doses["ID"]).max()
    expected = np.ceil(end / 24.0 - 1e-9).reindex(trial.subjects["ID"]).to_numpy()
    assert (trial.subjects["LAST_DOSE_DAY"].to_numpy() == expected).all()
    assert (trial.subjects["LAST_DOSE_DAY"] == 70).all()  # two 42-day cycles, 28 days on


def _check_responses(t, best=None):
    derived = derive_response(t.assessments).to_frame()
    truth = t.assessment_truth
    complete = (truth["MISSING"] == "").to_numpy()
    got, want = derived["RESPONSE"].to_numpy(), truth["RESPONSE"].to_numpy()
    assert (got[complete] == want[complete]).all()
    # a missing count leaves the category or makes it NE, and the truth stays possible
    got, want = derived["RESPONSE"].to_numpy()[~complete], truth["RESPONSE"].to_numpy()[~complete]
    assert ((got == want) | (got == "NE")).all()
    possible = derived["POSSIBLE"].to_numpy()[~complete]
    assert all(w in p.split("|") for w, p in zip(want, possible, strict=True))
    mrd = derived["MRD_RESPONSE"].to_numpy()
    neg = truth["MRD_NEGATIVE"].to_numpy(float)
    measured = ~np.isnan(mrd)
    assert (mrd[measured] == neg[measured]).all()
    # best response of every subject is its truth
    best = (best or derive_best_response(t.assessments, t.subjects)).to_frame()
    assert (best["BEST_RESPONSE"].to_numpy() == t.clinical_truth["BEST_RESPONSE"].to_numpy()).all()
    assert (best["CRCRH"].to_numpy() == t.clinical_truth["RESPONDER"].to_numpy()).all()
    np.testing.assert_array_equal(best["FIRST_REMISSION_DAY"].to_numpy(float),
                                  t.clinical_truth["FIRST_REMISSION_DAY"].to_numpy(float))
    return derived


def test_derived_responses_equal_the_truth(trial):
    _check_responses(trial)


def test_derived_responses_equal_the_truth_on_a_large_trial(big, big_best):
    derived = _check_responses(big, big_best)
    assert (derived["RESPONSE"] == "NE").sum() > 0  # a few missing counts make assessments NE
    assert set(derived["RESPONSE"]) == {"CR", "CRh*", "PR", "NR", "NE"}


def test_survival_days_are_consistent(big):
    s, ct = big.subjects, big.clinical_truth
    last_assessment = big.assessments.groupby("ID")["DAY"].max().reindex(s["ID"]).to_numpy()
    dead = s["DEATH_DAY"].notna()
    assert (s.loc[dead, "DEATH_DAY"].to_numpy() > last_assessment[dead]).all()
    assert (s.loc[dead, "LAST_CONTACT_DAY"] == s.loc[dead, "DEATH_DAY"]).all()
    assert (s["LAST_CONTACT_DAY"].to_numpy() > last_assessment).all()
    # relapse only after a remission; progression deaths of responders only after a relapse
    rel = s["RELAPSE_DAY"].notna()
    assert (ct.loc[rel, "RESPONDER"] == 1).all()
    assert (s.loc[rel, "RELAPSE_DAY"] > ct.loc[rel, "FIRST_REMISSION_DAY"]).all()
    prog = (s["DEATH_CAUSE"] == "progression") & (ct["RESPONDER"] == 1)
    assert (ct.loc[prog, "RELAPSE_TRUE_DAY"] <= s.loc[prog, "DEATH_DAY"]).all()
    assert s.loc[(ct["RESPONDER"] == 1) & dead & ~rel, "DEATH_CAUSE"].isin(["other"]).all()
    hsct = s["HSCT_DAY"].notna()
    assert (ct.loc[hsct, "RESPONDER"] == 1).all() and (ct.loc[hsct, "HSCT_PLANNED"] == 1).all()
    assert ((s.loc[hsct, "HSCT_DAY"] < s.loc[hsct, "RELAPSE_DAY"]) | ~rel[hsct]).all()
    # some subjects are censored (cut-off or dropout) and some alive past a year
    assert 0.05 < (~dead).mean() < 0.4 and (s.loc[~dead, "LAST_CONTACT_DAY"] > 365).any()


def test_crs_follows_interruptions_and_episodes(big):
    ae, truth = big.adverse_events, big.truth.set_index("ID")
    crs = ae[ae["CATEGORY"] == "CRS"]
    interrupted = truth.index[truth["INT_START"].notna()]
    # every interruption is a CRS of grade 2-3 from the pause to the restart day
    at_pause = crs.merge(truth[["INT_START", "INT_HOURS"]].reset_index(), on="ID")
    at_pause = at_pause[at_pause["START_DAY"] == at_pause["INT_START"] // 24 + 1]
    assert set(at_pause["ID"]) == set(interrupted)
    assert at_pause["GRADE"].isin([2, 3]).all()
    restart_day = (at_pause["INT_START"] + at_pause["INT_HOURS"]) // 24 + 1
    assert (at_pause["END_DAY"] == restart_day).all()
    # grade >= 3 CRS only at an interruption (the label withholds the infusion for it)
    assert set(crs.loc[crs["GRADE"] >= 3, "ID"]) <= set(interrupted)
    assert crs["GRADE"].max() <= 3 and (crs["RELATED"] == 1).all()
    # CRS outside interruptions starts within 2 days of its episode (start, restart or step)
    plain = crs[~crs["ID"].isin(interrupted)]
    assigned = derive_ae_episodes(plain, big.episodes).to_frame()
    assert (assigned["DAY_IN_EPISODE"] <= 3).all()
    assert (assigned["EPISODE"] == "start").mean() > 0.7  # the first peak is the largest


def test_treatment_emergent_window(big):
    te = derive_treatment_emergent(big.adverse_events, big.subjects)
    late = te.ledger.excluded()
    assert len(late) > 0 and (late["REASON"] == "onset after LAST_DOSE_DAY + 30").all()
    ae = big.adverse_events
    assert (ae.loc[ae["CATEGORY"] != "INFECTION", "START_DAY"] <= 100).all()
    assert set(ae["RELATED"].dropna()) == {0.0, 1.0} and set(ae["SERIOUS"].dropna()) == {0.0, 1.0}


def test_published_rates_are_reproduced(big, big_best):
    """Calibration targets (docs/simulate.md) within about four standard errors at n = 4,000."""
    best = big_best
    b = best.to_frame()
    adult = (big.clinical_truth["GROUP"] == "adult").to_numpy()
    assert abs(_rate(best, adult) - 0.43) < 0.035  # MT103-211
    assert abs(_rate(best, ~adult) - 0.39) < 0.07  # MT103-205 (about 800 children)
    resp = b[b["CRCRH"] == 1]
    assert abs((resp["BEST_RESPONSE"] == "CR").mean() - 0.78) < 0.04  # 63/81
    assert abs(resp["MRD_RESPONSE"].mean() - 0.82) < 0.04  # among responders with MRD
    tte = derive_tte(big.subjects, best, rfs_censoring="contact")
    km = compute_km(tte, time="TIME_MONTHS").summary().set_index("ENDPOINT")
    assert abs(km.loc["OS", "MEDIAN"] - 6.1) < 0.6
    assert abs(km.loc["RFS", "MEDIAN"] - 5.9) < 0.8
    inc = compute_ae_incidence(big.adverse_events, big.subjects).to_frame()
    pct = inc.set_index(["CATEGORY", "MEASURE"])["PCT"]
    assert abs(pct["CRS", "any grade"] - 17.5) < 2.5  # label 15 %; every interruption is a CRS
    assert abs(pct["CRS", "grade >= 3"] - 2.4) < 1.0
    assert abs(pct["NEUROLOGIC", "any grade"] - 65.0) < 3.5
    assert abs(pct["NEUROLOGIC", "grade >= 3"] - 13.0) < 2.5
    assert abs(pct["INFECTION", "grade >= 3"] - 34.0) < 3.5


def _logistic(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    def nll(beta):
        eta = X @ beta
        return float(np.sum(np.logaddexp(0.0, eta) - y * eta))

    def grad(beta):
        return X.T @ (expit(X @ beta) - y)

    return minimize(nll, np.zeros(X.shape[1]), jac=grad, method="BFGS").x


def test_remission_depends_on_exposure_as_the_truth_says(big, big_best):
    model = load_clinical_model()
    b = big_best.to_frame()
    ct = big.clinical_truth
    x = np.log(ct["CSS_FULL"].to_numpy() / model["remission.css_ref"])
    blast = big.subjects["BLAST"].to_numpy() - model["remission.blast_ref"]
    child = (ct["GROUP"] == "child").to_numpy(float)
    X = np.column_stack([np.ones(len(x)), x, blast, child])
    beta = _logistic(X, b["CRCRH"].to_numpy(float))
    assert abs(beta[1] - model["remission.slope_log_css"]) < 0.25
    assert abs(beta[2] - model["remission.slope_blast"]) < 0.012
    # a model-free view: CR/CRh* rises from the lowest to the highest Css quartile
    q = pd.qcut(ct["CSS_FULL"], 4, labels=False).to_numpy()
    by_q = b.groupby(q)["CRCRH"].mean()
    assert by_q.iloc[3] - by_q.iloc[0] > 0.1


def test_crs_depends_on_the_il6_peak_as_the_truth_says(big):
    model = load_clinical_model()
    ae, truth = big.adverse_events, big.truth
    plain = truth["INT_START"].isna().to_numpy()
    crs = ae[(ae["CATEGORY"] == "CRS") & (ae["START_DAY"] <= 3)]
    y = big.clinical_truth["ID"].isin(crs["ID"]).to_numpy(float)[plain]
    z = np.log(big.clinical_truth["IL6_PEAK_FIRST"].to_numpy() / model["crs.il6_ref"])[plain]
    beta = _logistic(np.column_stack([np.ones(len(z)), z]), y)
    assert abs(beta[1] - model["crs.slope"]) < 0.45
    assert abs(beta[0] - model["crs.any_intercept"]) < 0.6


def test_same_seed_same_tables(trial):
    again = simulate_trial(N, seed=11)
    for name in ("subjects", "assessments", "adverse_events", "clinical_truth",
                 "assessment_truth"):
        pd.testing.assert_frame_equal(getattr(trial, name), getattr(again, name))
    assert read_clinical(trial.subjects, trial.assessments).hash == \
        read_clinical(again.subjects, again.assessments).hash
    other = simulate_trial(N, seed=12)
    assert not trial.subjects["LAST_CONTACT_DAY"].equals(other.subjects["LAST_CONTACT_DAY"])


def test_clinical_off_leaves_everything_else_unchanged(trial):
    off = simulate_trial(N, seed=11, clinical=False)
    for name in ("data", "truth", "observations", "events"):
        pd.testing.assert_frame_equal(getattr(trial, name), getattr(off, name))
    assert off.subjects is None and off.clinical_truth is None
    with pytest.raises(BlinapkError, match="clinical=False"):
        off.clinical  # noqa: B018
    on = dict(trial.settings)
    assert on.pop("clinical") is True and off.settings["clinical"] is False
    on.pop("clinical_model")
    assert on == {k: v for k, v in off.settings.items() if k != "clinical"}
    assert trial.settings["random_streams"][-1] == "clinical"


def test_settings_record_the_clinical_model(trial):
    s = trial.settings["clinical_model"]
    assert s["remission"]["slope_log_css"] == 0.6
    assert s["crs"]["slope"] == 1.0
    assert [e["term"] for e in s["other_events"]][0] == "Pyrexia"


def test_a_changed_model_changes_the_truth():
    flat = load_clinical_model().with_values({"remission.slope_log_css": 0.0,
                                              "remission.slope_blast": 0.0})
    t = simulate_trial(30, seed=5, clinical_model=flat, cytokines=False)
    p = t.clinical_truth["P_REMISSION"].to_numpy()
    child = (t.clinical_truth["GROUP"] == "child").to_numpy()
    np.testing.assert_allclose(p[~child], expit(flat["remission.intercept"]))
    assert t.settings["clinical_model"]["remission"]["slope_log_css"] == 0.0


def test_km_on_simulated_os_runs(trial):
    best = derive_best_response(trial.assessments, trial.subjects)
    tte = derive_tte(trial.subjects, best)
    km = compute_km(tte.to_frame("OS"), by="ARM", time="TIME_MONTHS")
    summary = km.summary()
    assert summary["N"].sum() == N and summary["EVENTS"].sum() > 0


def test_model_file_is_checked(tmp_path):
    from blinapk.simulate.clinical_model import MODEL_FILE

    text = MODEL_FILE.read_text()
    bad = tmp_path / "m.toml"
    bad.write_text(text.replace('flag = "assumed"\nsource = "assumption"\nnote = "centre of '
                                'the exposure effect', 'source = "assumption"\nnote = "x', 1))
    with pytest.raises(ModelSpecError, match="remission.css_ref.flag"):
        load_clinical_model(bad)
    bad.write_text(text.replace("[mrd.slope_log_css]", "[mrd.slope_log_cs]"))
    with pytest.raises(ModelSpecError, match="mrd.slope_log_cs"):
        load_clinical_model(bad)
    bad.write_text(text.replace("[remission.cr_fraction]\nvalue = 0.78",
                                "[remission.cr_fraction]\nvalue = 78"))
    with pytest.raises(ModelSpecError, match="probability"):
        load_clinical_model(bad)
    with pytest.raises(ModelSpecError, match="unknown"):
        load_clinical_model().with_values({"remission.slope": 1.0})

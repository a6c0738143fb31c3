"""compute_endpoints: one call on a ClinicalData gives what the endpoint functions give.

The study is the hand-built 40-subject, two-arm study of ``endpoint_study``.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest
from endpoint_study import make_study
from pandas.testing import assert_frame_equal

from blinapk.data import read_clinical
from blinapk.endpoints import (
    EndpointResults,
    compute_ae_incidence,
    compute_endpoints,
    compute_hsct_outcomes,
    compute_km,
    compute_logrank,
    derive_best_response,
    derive_tte,
    summarize_response,
)
from blinapk.errors import BlinapkError, DataValidationError


def _read(**tables):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # subjects without assessments: expected here
        return read_clinical(**tables)


@pytest.fixture(scope="module")
def study():
    return make_study()


@pytest.fixture(scope="module")
def clinical(study):
    return _read(**study)


@pytest.fixture(scope="module")
def results(clinical):
    return compute_endpoints(clinical, by="ARM")


def test_every_family_is_the_endpoint_functions_result(clinical, results):
    s, a, e = clinical.subjects, clinical.assessments, clinical.adverse_events
    best = derive_best_response(a, s)
    assert_frame_equal(results.best.to_frame(), best.to_frame())
    assert_frame_equal(results.response_rates.to_frame(),
                       summarize_response(best, by="ARM").to_frame())
    tte = derive_tte(s, best)
    assert_frame_equal(results.tte.to_frame(), tte.to_frame())
    marks = {"12_MONTHS": 12.0, "24_MONTHS": 24.0, "36_MONTHS": 36.0}
    for endpoint in ("OS", "RFS", "TTR", "DFS"):
        km = compute_km(tte.to_frame(endpoint), by="ARM", time="TIME_MONTHS", landmarks=marks)
        assert_frame_equal(results.km[endpoint].summary(), km.summary())
        assert_frame_equal(results.km[endpoint].to_frame(), km.to_frame())
    assert_frame_equal(results.logrank.summary(),
                       compute_logrank(tte, by="ARM", time="TIME_MONTHS").summary())
    assert_frame_equal(results.ae_incidence.to_frame(),
                       compute_ae_incidence(e, s, by="ARM").to_frame())
    assert_frame_equal(results.hsct.to_frame(), compute_hsct_outcomes(s, by="ARM").to_frame())


def test_the_study_reads_as_intended(results):
    """The hand-built study: TOWER-like remission and survival, some censoring, NE subjects."""
    rates = results.response_rates.to_frame().set_index(["ARM", "ENDPOINT", "DENOMINATOR"])
    assert rates.loc[("blinatumomab", "CR/CRh*", "all treated"), "N_SUBJECTS"] == 9
    assert rates.loc[("chemotherapy", "CR/CRh*", "all treated"), "N_SUBJECTS"] == 4
    os_ = results.km["OS"].summary().set_index("GROUP")
    assert os_["N"].tolist() == [20, 20] and os_["CENSORED"].sum() > 0
    assert os_.loc["blinatumomab", "MEDIAN"] > os_.loc["chemotherapy", "MEDIAN"]
    assert results.km["OS"].settings["unit"] == "month"
    assert (results.best.to_frame()["BEST_RESPONSE"] == "NE").sum() == 3
    assert repr(results) == ("EndpointResults(40 subjects; by: ARM; endpoints: OS, RFS, TTR, "
                             "DFS; adverse events: yes)")


def test_landmarks_are_in_months(clinical):
    res = compute_endpoints(clinical, by="ARM", landmarks_months=(6, 1.5))
    summary = res.km_summary()
    marks = [c for c in summary.columns if c.startswith("SURV_")]
    assert marks == ["SURV_6_MONTHS", "SURV_6_MONTHS_LOWER", "SURV_6_MONTHS_UPPER",
                     "SURV_1.5_MONTHS", "SURV_1.5_MONTHS_LOWER", "SURV_1.5_MONTHS_UPPER"]
    os_ = res.km["OS"]
    direct = os_.survival_at([6.0]).set_index("GROUP")["SURVIVAL"]
    assert summary.loc[summary["ENDPOINT"] == "OS", "SURV_6_MONTHS"].tolist() == direct.tolist()
    assert summary.attrs["units"]["MEDIAN"] == "month"
    assert res.settings["landmarks_months"] == (6.0, 1.5)


@pytest.mark.parametrize("by", ["arm", ["Arm"], ("ARM",)])
def test_by_is_case_insensitive(clinical, by):
    res = compute_endpoints(clinical, by=by, endpoints=["OS"])
    assert res.by == ["ARM"]
    assert set(res.km["OS"].summary()["GROUP"]) == {"blinatumomab", "chemotherapy"}


def test_by_any_subjects_column(clinical):
    """A grouping column the user added (an exposure group) works like ARM."""
    res = compute_endpoints(clinical, by="EXPOSURE")
    groups = res.km["OS"].summary().set_index("GROUP")["N"]
    assert groups.to_dict() == {"high": 10, "low": 10, "none": 20}
    assert set(res.response_rates.to_frame()["EXPOSURE"]) == {"high", "low", "none"}
    assert set(res.ae_incidence.to_frame()["EXPOSURE"]) == {"high", "low", "none"}
    assert res.logrank.summary()["DF"].tolist() == [2, 2, 2, 2]  # three groups
    both = compute_endpoints(clinical, by=["ARM", "EXPOSURE"], endpoints=["OS"])
    assert set(both.km["OS"].summary()["GROUP"]) == {
        "blinatumomab, high", "blinatumomab, low", "chemotherapy, none"}


def test_numeric_grouping_column(study):
    subjects = study["subjects"].assign(DOSE_LEVEL=lambda s: np.where(s["ID"] % 2, 9, 28))
    res = compute_endpoints(_read(**{**study, "subjects": subjects}), by="DOSE_LEVEL")
    assert set(res.km["OS"].summary()["GROUP"]) == {"9", "28"}
    assert res.response_rates.to_frame()["DOSE_LEVEL"].nunique() == 2


def test_unknown_by_column_is_named(clinical):
    with pytest.raises(DataValidationError) as info:
        compute_endpoints(clinical, by=["ARM", "DOSE", "CSS_GROUP"])
    violations = info.value.violations
    assert [(v.rule, v.column) for v in violations] == [("by_column", "DOSE"),
                                                        ("by_column", "CSS_GROUP")]
    assert "'DOSE' is not in the subjects table" in str(info.value)
    assert "EXPOSURE" in violations[0].message  # the columns there are


def test_without_groups(clinical):
    res = compute_endpoints(clinical)
    assert res.by == [] and res.logrank is None
    assert res.km["OS"].summary()["GROUP"].tolist() == ["all"]
    assert res.km["OS"].summary()["N"].tolist() == [40]
    assert "ARM" not in res.response_rates.to_frame().columns


def test_ledger_lists_every_row_of_every_table_once(clinical, results):
    ledger = results.ledger
    ledger.check({"subjects": clinical.subjects, "assessments": clinical.assessments,
                  "adverse_events": clinical.adverse_events})
    assert_frame_equal(ledger.to_frame().query("TABLE == 'assessments'").reset_index(drop=True),
                       results.best.ledger.to_frame())
    assert_frame_equal(ledger.to_frame().query("TABLE == 'adverse_events'")
                       .reset_index(drop=True), results.ae_incidence.ledger.to_frame())
    subj = ledger.to_frame().query("TABLE == 'subjects'").set_index("ID")
    ne = results.best.to_frame().query("BEST_RESPONSE == 'NE'")["ID"]
    assert (subj.loc[ne, "STATUS"] == "modified").all()
    assert subj.loc[ne.iloc[0], "REASON"] == ("response: no assessment in cycles 1-2; "
                                         "counted as a non-responder")
    hsct_out = results.hsct.ledger.excluded()
    for sid, reason in zip(hsct_out["ID"], hsct_out["REASON"], strict=True):
        assert subj.loc[sid, "STATUS"] == "excluded"
        assert f"alloHSCT outcomes: {reason}" in subj.loc[sid, "REASON"]


def test_counts_add_up_with_the_ledger(results):
    led = results.ledger.to_frame()
    best = results.best.to_frame()
    used = led.query("TABLE == 'assessments' and STATUS == 'used'")
    assert best["N_ASSESSMENTS"].sum() == len(used)
    events = led.query("TABLE == 'adverse_events' and STATUS != 'excluded'")
    ae = results.ae_incidence.to_frame()
    any_ = ae.query("CATEGORY == 'ANY' and MEASURE == 'any grade'").set_index("ARM")
    arm = best.set_index("ID")["ARM"]
    per_arm = events.assign(ARM=events["ID"].map(arm)).groupby("ARM")["ID"].nunique()
    assert any_["N_SUBJECTS"].to_dict() == per_arm.to_dict()
    assert any_["N_AT_RISK"].sum() == (led["TABLE"] == "subjects").sum()
    worst = ae[ae["MEASURE"].str.startswith("worst grade")]
    assert (worst.groupby(["ARM", "CATEGORY"])["N_SUBJECTS"].sum().to_numpy()
            == ae.query("MEASURE == 'any grade'").set_index(["ARM", "CATEGORY"])
            .sort_index()["N_SUBJECTS"].to_numpy()).all()


def test_a_subject_left_out_of_a_survival_analysis_is_excluded_with_the_analysis(study):
    subjects = study["subjects"].copy()
    alive = subjects.index[subjects["DEATH_DAY"].isna()][0]
    sid = subjects.loc[alive, "ID"]
    subjects.loc[alive, "LAST_CONTACT_DAY"] = np.nan  # nothing known after the last visit
    clinical = _read(**{**study, "subjects": subjects})
    res = compute_endpoints(clinical, by="ARM")
    row = res.ledger.to_frame().query("TABLE == 'subjects'").set_index("ID").loc[sid]
    assert row["STATUS"] == "excluded"
    assert "OS: no DEATH_DAY or LAST_CONTACT_DAY" in row["REASON"]
    assert res.km["OS"].summary()["N"].sum() == 39
    assert res.km["OS"].excluded["ID"].tolist() == [sid]


def test_an_excluded_subject_keeps_its_response_note(study):
    subjects = study["subjects"].copy()
    no_visit = sorted(set(subjects["ID"]) - set(study["assessments"]["ID"]))[0]
    row = subjects.index[subjects["ID"] == no_visit][0]
    subjects.loc[row, ["LAST_CONTACT_DAY", "DEATH_DAY", "DEATH_CAUSE"]] = [np.nan, np.nan, None]
    res = compute_endpoints(_read(**{**study, "subjects": subjects}))
    entry = res.ledger.to_frame().query("TABLE == 'subjects'").set_index("ID").loc[no_visit]
    assert entry["STATUS"] == "excluded"
    assert entry["REASON"].startswith("OS: no DEATH_DAY or LAST_CONTACT_DAY; DFS: ")
    assert entry["REASON"].endswith("response: no assessment in cycles 1-2; "
                                    "counted as a non-responder")


def test_non_responders_are_not_listed_as_left_out_of_rfs(results):
    subj = results.ledger.to_frame().query("TABLE == 'subjects'")
    assert not subj["REASON"].str.contains("RFS:|TTR:").any()
    assert results.km["RFS"].summary()["N"].sum() == results.best.to_frame()["CRCRH"].sum()


def test_options_reach_the_endpoint_functions(clinical):
    res = compute_endpoints(clinical, by="ARM", endpoints=["OS", "RFS"], censor_at_hsct=True,
                            rfs_censoring="contact", conf_level=0.9, conf_type="log")
    assert res.endpoints == ("OS", "RFS")
    assert set(res.settings["censor_at_hsct"]) == {"OS", "RFS", "TTR", "DFS"}
    assert (res.tte.to_frame()["REASON"] == "censored at alloHSCT").any()
    assert res.km["OS"].settings["conf_type"] == "log"
    assert res.response_rates.settings["conf_level"] == 0.9
    assert res.logrank.summary()["ENDPOINT"].tolist() == ["OS", "RFS"]


def test_without_adverse_events_or_assessments(study):
    no_ae = compute_endpoints(_read(subjects=study["subjects"],
                                    assessments=study["assessments"]), by="ARM")
    assert no_ae.ae_incidence is None
    assert set(no_ae.ledger.to_frame()["TABLE"]) == {"subjects", "assessments"}
    subjects = study["subjects"].assign(RELAPSE_DAY=np.nan)  # a relapse needs a remission
    alone = compute_endpoints(_read(subjects=subjects), by="ARM")
    assert (alone.best.to_frame()["BEST_RESPONSE"] == "NE").all()
    assert len(alone.km["RFS"].curves) == 0
    assert alone.km_summary()["ENDPOINT"].unique().tolist() == ["OS", "DFS"]


def test_needs_the_subjects_table_of_a_clinical_data(study):
    with pytest.raises(BlinapkError, match="needs the subjects table"):
        compute_endpoints(_read(assessments=study["assessments"]))
    with pytest.raises(BlinapkError, match="ClinicalData"):
        compute_endpoints(study["subjects"])


def test_invalid_data_is_reported_by_the_endpoint_rules(study):
    subjects = study["subjects"].copy()
    never = subjects.index[(subjects["ARM"] == "chemotherapy") & subjects["DEATH_DAY"].notna()
                           & subjects["RELAPSE_DAY"].isna()][0]
    subjects.loc[never, "RELAPSE_DAY"] = 30.0  # no CR/CRh* before it
    with pytest.raises(DataValidationError) as info:
        compute_endpoints(_read(**{**study, "subjects": subjects}))
    v = info.value.violations[0]
    assert (v.rule, v.column, v.rows) == ("relapse_without_remission", "RELAPSE_DAY",
                                          (never + 1,))


def test_results_are_frozen(results):
    assert isinstance(results, EndpointResults)
    with pytest.raises(dataclasses.FrozenInstanceError):
        results.by = ["X"]
    with pytest.raises(TypeError):
        results.km["OS"] = None
    with pytest.raises(TypeError):
        results.settings["by"] = ["X"]


def test_stacked_tables(results):
    curves = results.km_curves()
    assert list(pd.unique(curves["ENDPOINT"])) == ["OS", "RFS", "TTR", "DFS"]
    assert len(curves) == sum(len(km.curves) for km in results.km.values())
    assert results.km_summary().attrs["units"]["MEDIAN"] == "month"


def test_ae_per_dosing_episode_with_the_event_table(study):
    from endpoint_study import make_event_table

    from blinapk.data import read_dataset
    from blinapk.endpoints import derive_ae_episodes, derive_treatment_emergent, dosing_episodes

    clinical = _read(**study)
    dataset = read_dataset(make_event_table(study["subjects"]))
    res = compute_endpoints(clinical, dataset=dataset)
    t = res.ae_episodes
    assert set(t["MIN_GRADE"]) == {1, 3}
    # the same numbers as the endpoint functions called one by one
    te = derive_treatment_emergent(study["adverse_events"], study["subjects"]).events()
    assigned = derive_ae_episodes(te, dosing_episodes(dataset))
    crs = assigned.to_frame()
    crs = crs[crs["CATEGORY"] == "CRS"]
    row = t[(t["MIN_GRADE"] == 1) & (t["CYCLE"] == 1) & (t["EPISODE"] == "start")
            & (t["CATEGORY"] == "CRS")].iloc[0]
    want = crs[(crs["CYCLE"] == 1) & (crs["EPISODE"] == "start")]["ID"].nunique()
    assert row["N_SUBJECTS"] == want
    assert row["N_AT_RISK"] == 20
    assert compute_endpoints(clinical).ae_episodes is None

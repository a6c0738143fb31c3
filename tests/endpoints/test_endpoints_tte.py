"""Time-to-event derivation: every event and censoring case, HSCT, day checks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from endpoint_tables import assessment, assessments, subjects

from blinapk.endpoints import derive_best_response, derive_tte
from blinapk.errors import BlinapkError, DataValidationError

# Responders have CR on day 29 (cycle 1) and again on day 71 (cycle 2) and day 113
# (cycle 3); subject 9 never responds.
RESPONDERS = (1, 2, 3, 4, 5, 6, 7)
SUBJECTS = subjects(
    {"ID": 1, "ARM": "A", "RELAPSE_DAY": 100, "DEATH_DAY": 300, "DEATH_CAUSE": "progression",
     "LAST_CONTACT_DAY": 300},
    {"ID": 2, "ARM": "A", "DEATH_DAY": 90, "DEATH_CAUSE": "other", "LAST_CONTACT_DAY": 90},
    {"ID": 3, "ARM": "A", "DEATH_DAY": 150, "DEATH_CAUSE": "progression",
     "LAST_CONTACT_DAY": 150},
    {"ID": 4, "ARM": "B", "DEATH_DAY": 95, "LAST_CONTACT_DAY": 95},           # cause unknown
    {"ID": 5, "ARM": "B", "LAST_CONTACT_DAY": 400},                           # alive, no relapse
    {"ID": 6, "ARM": "B", "LAST_CONTACT_DAY": 400, "HSCT_DAY": 120, "RELAPSE_DAY": 250},
    {"ID": 7, "ARM": "B", "HSCT_DAY": 80, "RELAPSE_DAY": 80, "LAST_CONTACT_DAY": 200},
    {"ID": 9, "ARM": "B", "DEATH_DAY": 60, "DEATH_CAUSE": "progression", "LAST_CONTACT_DAY": 60},
    {"ID": 10, "ARM": "B"},                                                    # no days at all
)


def _assessments() -> pd.DataFrame:
    rows = []
    for i in RESPONDERS:
        rows += [assessment(i, 1, 29), assessment(i, 2, 71)]
        if i == 5:
            rows.append(assessment(i, 3, 113))
    rows.append(assessment(9, 1, 29, MARROW_BLAST=60.0))
    return assessments(*rows)


BEST = derive_best_response(_assessments(), SUBJECTS)


def tte(**kw) -> pd.DataFrame:
    return derive_tte(SUBJECTS, BEST, **kw).to_frame().set_index(["ENDPOINT", "ID"])


def check(t, endpoint, id_, time, event, reason):
    row = t.loc[(endpoint, id_)]
    if np.isnan(time):
        assert np.isnan(row["TIME"]) and np.isnan(row["EVENT"])
    else:
        assert (row["TIME"], row["EVENT"]) == (time, event)
    assert row["REASON"] == reason


def test_overall_survival():
    t = tte()
    check(t, "OS", 1, 300, 1, "death (progression)")            # day 1 .. day 300: 300 days
    check(t, "OS", 2, 90, 1, "death (other)")
    check(t, "OS", 4, 95, 1, "death (cause unknown)")
    check(t, "OS", 5, 400, 0, "alive at last contact")
    check(t, "OS", 9, 60, 1, "death (progression)")
    check(t, "OS", 10, np.nan, np.nan, "no DEATH_DAY or LAST_CONTACT_DAY")


def test_relapse_free_survival():
    t = tte()
    check(t, "RFS", 1, 100 - 29 + 1, 1, "relapse")
    check(t, "RFS", 2, 90 - 29 + 1, 1, "death (other) without relapse")
    check(t, "RFS", 3, 150 - 29 + 1, 1, "death (progression) without relapse")
    # censored at the last assessment confirming remission, cycle 3 included
    check(t, "RFS", 5, 113 - 29 + 1, 0, "relapse-free at the last CR/CRh* assessment (day 113)")
    check(t, "RFS", 9, np.nan, np.nan,
          "not a responder (no CR/CRh* in the best-response window)")
    assert t.loc[("RFS", 1), ["START_DAY", "END_DAY"]].tolist() == [29, 100]


def test_rfs_censored_at_last_contact_on_request():
    t = tte(rfs_censoring="contact")
    check(t, "RFS", 5, 400 - 29 + 1, 0, "relapse-free at last contact")
    check(t, "TTR", 5, 400 - 29 + 1, 0, "relapse-free at last contact")


def test_time_to_haematological_relapse():
    t = tte()
    check(t, "TTR", 1, 72, 1, "relapse")
    check(t, "TTR", 2, 62, 0, "death from other causes (censored)")
    check(t, "TTR", 3, 122, 1, "death (progression)")
    check(t, "TTR", 4, 67, 1, "death (cause unknown), counted as progression")
    check(t, "TTR", 5, 85, 0, "relapse-free at the last CR/CRh* assessment (day 113)")


def test_disease_free_survival():
    t = tte()
    check(t, "DFS", 1, 100, 1, "relapse")
    check(t, "DFS", 2, 90, 1, "death (other) in remission")
    check(t, "DFS", 5, 400, 0, "alive without relapse at last contact")
    check(t, "DFS", 10, np.nan, np.nan, "no RELAPSE_DAY, DEATH_DAY or LAST_CONTACT_DAY")


def test_hsct_is_not_censored_by_default():
    t = tte()
    check(t, "RFS", 6, 250 - 29 + 1, 1, "relapse")
    check(t, "OS", 6, 400, 0, "alive at last contact")


def test_censor_at_hsct():
    t = tte(censor_at_hsct=True)
    check(t, "RFS", 6, 120 - 29 + 1, 0, "censored at alloHSCT")
    check(t, "OS", 6, 120, 0, "censored at alloHSCT")
    # a relapse on the transplant day is still an event
    check(t, "RFS", 7, 80 - 29 + 1, 1, "relapse")
    only_rfs = tte(censor_at_hsct=["RFS"])
    check(only_rfs, "RFS", 6, 92, 0, "censored at alloHSCT")
    check(only_rfs, "OS", 6, 400, 0, "alive at last contact")


def test_months_and_units():
    res = derive_tte(SUBJECTS, BEST)
    t = res.to_frame()
    np.testing.assert_allclose(t["TIME_MONTHS"], t["TIME"] / 30.4375)
    assert t.attrs["units"] == {"TIME": "day", "TIME_MONTHS": "month"}
    assert res.to_frame("OS")["ENDPOINT"].unique().tolist() == ["OS"]
    assert t.columns.tolist()[:2] == ["ID", "ARM"]


def test_endpoint_selection_and_errors():
    t = derive_tte(SUBJECTS).to_frame()
    assert t["ENDPOINT"].unique().tolist() == ["OS", "DFS"]
    with pytest.raises(BlinapkError, match="need the best response"):
        derive_tte(SUBJECTS, endpoints=["RFS"])
    with pytest.raises(BlinapkError, match="unknown endpoint"):
        derive_tte(SUBJECTS, BEST, endpoints=["PFS"])
    with pytest.raises(BlinapkError, match="rfs_censoring"):
        derive_tte(SUBJECTS, BEST, rfs_censoring="never")


def test_contradictory_days_are_reported_together():
    s = subjects({"ID": 1, "DEATH_DAY": 50, "LAST_CONTACT_DAY": 60},
                 {"ID": 2, "DEATH_DAY": 50, "RELAPSE_DAY": 70, "LAST_CONTACT_DAY": 50},
                 {"ID": 3, "DEATH_DAY": 0, "LAST_CONTACT_DAY": 0})
    with pytest.raises(DataValidationError) as err:
        derive_tte(s)
    found = {(v.rule, v.column, v.rows) for v in err.value.violations}
    assert ("contact_after_death", "LAST_CONTACT_DAY", (1,)) in found
    assert ("relapse_after_death", "RELAPSE_DAY", (2,)) in found
    assert ("end_before_start", "DEATH_DAY", (3,)) in found


def test_death_before_the_first_remission_is_rejected():
    s = subjects({"ID": 1, "DEATH_DAY": 20, "LAST_CONTACT_DAY": 20})
    best = derive_best_response(assessments(assessment(1, 1, 29)), s)
    with pytest.raises(DataValidationError, match="end_before_start"):
        derive_tte(s, best)


def test_subjects_not_modified():
    before = SUBJECTS.copy()
    derive_tte(SUBJECTS, BEST, censor_at_hsct=True)
    pd.testing.assert_frame_equal(SUBJECTS, before)


def test_relapse_check_also_runs_in_derive_tte():
    s = subjects({"ID": 1, "RELAPSE_DAY": 60, "LAST_CONTACT_DAY": 90})
    best = derive_best_response(assessments(assessment(1, MARROW_BLAST=50.0)))  # no subjects
    with pytest.raises(DataValidationError, match="relapse_without_remission"):
        derive_tte(s, best)

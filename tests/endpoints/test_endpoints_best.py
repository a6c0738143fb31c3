"""Best response within cycles 1-2, MRD response, the relapse check and rates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from endpoint_tables import assessment, assessments, subjects

from blinapk.endpoints import derive_best_response, summarize_response, validate_relapse
from blinapk.endpoints.response import derive_response
from blinapk.errors import DataValidationError


def best_of(frame, subj=None, **kw) -> pd.DataFrame:
    return derive_best_response(frame, subj, **kw).to_frame().set_index("ID")


def test_best_is_the_best_category_in_the_window_and_cycle_3_is_left_out():
    a = assessments(
        assessment(1, 1, 29, MARROW_BLAST=10.0),        # PR
        assessment(1, 2, 71, PLT=60_000.0),             # CRh*
        assessment(1, 3, 113),                          # CR, but cycle 3
    )
    res = derive_best_response(a)
    row = res.to_frame().iloc[0]
    assert (row["BEST_RESPONSE"], row["BEST_DAY"], row["CRCRH"]) == ("CRh*", 71, 1)
    assert row["FIRST_REMISSION_DAY"] == 71
    assert row["N_ASSESSMENTS"] == 2
    led = res.ledger.to_frame()
    assert led["STATUS"].tolist() == ["used", "used", "excluded"]
    assert led.loc[2, "REASON"] == "cycle > 2: outside the best-response window"
    assert (led.loc[2, "ROW"], led.loc[2, "DAY"], led.loc[2, "TABLE"]) == (3, 113.0, "assessments")
    res.ledger.check(expected={"assessments": [1, 2, 3]})
    # the per-assessment table still has every cycle
    assert res.assessments.to_frame()["RESPONSE"].tolist() == ["PR", "CRh*", "CR"]


def test_max_cycle_widens_the_window():
    a = assessments(assessment(1, 1, 29, MARROW_BLAST=10.0), assessment(1, 3, 113))
    assert best_of(a, max_cycle=3).loc[1, "BEST_RESPONSE"] == "CR"


def test_first_remission_is_the_first_cr_or_crh_and_best_day_the_first_best():
    a = assessments(assessment(1, 1, 29, HGB=9.0), assessment(1, 2, 71),
                    assessment(1, 2, 80))
    row = best_of(a).loc[1]
    assert (row["BEST_RESPONSE"], row["BEST_DAY"], row["FIRST_REMISSION_DAY"]) == ("CR", 71, 29)


def test_ne_assessments_do_not_lower_a_response_but_are_counted():
    a = assessments(assessment(1, 1, 29, ANC=np.nan),           # NE (could be CR)
                    assessment(1, 2, 71, MARROW_BLAST=20.0),    # PR
                    assessment(2, 1, 29, ANC=np.nan),           # only NE
                    assessment(3, 1, 29, MARROW_BLAST=50.0))    # NR
    b = best_of(a)
    assert b.loc[1, ["BEST_RESPONSE", "N_NE", "BEST_POSSIBLE", "CRCRH"]].tolist() == [
        "PR", 1, "CR", 0]
    assert b.loc[2, ["BEST_RESPONSE", "CRCRH", "REASON"]].tolist() == [
        "NE", 0, "no evaluable assessment in cycles 1-2"]
    assert b.loc[3, ["BEST_RESPONSE", "BEST_POSSIBLE", "REASON"]].tolist() == ["NR", "NR", ""]


def test_subjects_table_gives_the_denominator_and_keeps_arm():
    a = assessments(assessment(1), assessment(9))
    s = subjects({"ID": 1, "ARM": "blin"}, {"ID": 2, "ARM": "soc"})
    res = derive_best_response(a, s)
    b = res.to_frame()
    assert b["ID"].tolist() == [1, 2]
    assert b.columns[:2].tolist() == ["ID", "ARM"]
    assert b.loc[1, ["BEST_RESPONSE", "N_ASSESSMENTS", "REASON"]].tolist() == [
        "NE", 0, "no assessment in cycles 1-2"]
    led = res.ledger.to_frame()
    assert led.loc[1, ["STATUS", "REASON"]].tolist() == ["excluded", "ID not in the subjects table"]


def test_missing_cycle_or_day_is_excluded_with_reason():
    a = assessments(assessment(1, np.nan, 29), assessment(1, 1, np.nan), assessment(1, 1, 29))
    led = derive_best_response(a).ledger.to_frame()
    assert led["REASON"].tolist() == ["CYCLE missing", "DAY missing", ""]


def test_mrd_response_in_the_window():
    a = assessments(
        assessment(1, 1, 29, MRD=2e-4), assessment(1, 2, 71, MRD=1e-4),   # measured, never < 1e-4
        assessment(2, 1, 29, MRD=5e-3), assessment(2, 2, 71, MRD=9e-5),   # response on day 71
        assessment(3, 1, 29), assessment(3, 3, 113, MRD=1e-5),            # only outside window
        assessment(4, 1, 29, MARROW_BLAST=40.0, MRD=5e-5),                # MRD- without CR
    )
    b = best_of(a)
    assert b["MRD_RESPONSE"].tolist()[:2] == [0.0, 1.0]
    assert b.loc[2, "MRD_DAY"] == 71
    assert np.isnan(b.loc[3, "MRD_RESPONSE"])
    assert b.loc[3, "MRD_REASON"] == "MRD not done in cycles 1-2"
    assert b.loc[4, ["MRD_RESPONSE", "CRCRH"]].tolist() == [1.0, 0]


def test_summarize_response_states_denominators():
    a = assessments(
        assessment(1, MRD=1e-5), assessment(2, MRD=5e-4), assessment(3, PLT=70_000.0),
        assessment(4, MARROW_BLAST=40.0, MRD=1e-5),
    )
    s = subjects(*({"ID": i, "ARM": "A"} for i in (1, 2, 3, 4)))
    t = summarize_response(derive_best_response(a, s), by="ARM").to_frame()
    t = t.set_index(["ENDPOINT", "DENOMINATOR"])
    assert t.loc[("CR/CRh*", "all treated"), ["N_SUBJECTS", "N_AT_RISK"]].tolist() == [3, 4]
    assert t.loc[("CR", "all treated"), "N_SUBJECTS"] == 2
    assert t.loc[("CRh*", "all treated"), "N_SUBJECTS"] == 1
    # MRD not done (subject 3) counts as no response; subject 4 is MRD- but not in CR/CRh*
    assert t.loc[("MRD response", "all treated"), ["N_SUBJECTS", "N_AT_RISK"]].tolist() == [2, 4]
    assert t.loc[("MRD response", "CR/CRh*"), ["N_SUBJECTS", "N_AT_RISK"]].tolist() == [1, 3]
    assert (t["ARM"] == "A").all()


def test_mt103_211_cr_crh_rate_and_exact_ci():
    # MT103-211 (Topp et al., Lancet Oncol 2015): CR/CRh* within 2 cycles in 81 of 189
    # patients, 43 % (95 % CI 36-50).
    rows = [assessment(i) for i in range(81)] + [
        assessment(i, MARROW_BLAST=50.0) for i in range(81, 189)]
    t = summarize_response(derive_best_response(assessments(*rows))).to_frame()
    r = t.loc[t["ENDPOINT"] == "CR/CRh*"].iloc[0]
    assert (r["N_SUBJECTS"], r["N_AT_RISK"]) == (81, 189)
    assert (round(r["PCT"]), round(r["LOWER"]), round(r["UPPER"])) == (43, 36, 50)


def test_relapse_without_prior_remission_names_column_and_row():
    a = assessments(assessment(1, 1, 29), assessment(2, 1, 29, MARROW_BLAST=40.0),
                    assessment(3, 1, 29))
    s = subjects({"ID": 1, "RELAPSE_DAY": 100.0}, {"ID": 2, "RELAPSE_DAY": 100.0},
                 {"ID": 3, "RELAPSE_DAY": 29.0})   # same day as the CR: not after it
    with pytest.raises(DataValidationError) as err:
        derive_best_response(a, s)
    (v,) = err.value.violations
    assert (v.rule, v.column, v.rows) == ("relapse_without_remission", "RELAPSE_DAY", (2, 3))


def test_relapse_after_a_remission_in_any_cycle_is_consistent():
    a = assessments(assessment(1, 1, 29, MARROW_BLAST=40.0), assessment(1, 3, 113))
    s = subjects({"ID": 1, "RELAPSE_DAY": 200.0})
    validate_relapse(s, derive_response(a))            # no error
    assert best_of(a, s).loc[1, "CRCRH"] == 0           # the remission was after cycle 2


def test_subject_row_numbers_come_from_the_table():
    a = assessments(assessment(1, MARROW_BLAST=40.0))
    s = subjects({"ID": 1, "RELAPSE_DAY": 60.0})
    s["ROW"] = [7]
    with pytest.raises(DataValidationError) as err:
        derive_best_response(a, s)
    assert err.value.violations[0].rows == (7,)


def test_duplicate_subject_is_rejected():
    with pytest.raises(DataValidationError, match="duplicate_id"):
        derive_best_response(assessments(assessment(1)), subjects({"ID": 1}, {"ID": 1}))


# --------------------------------------------------------------------------------------
# the vectorised per-subject derivation equals a plain per-subject loop

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from blinapk.endpoints.best import _BEST_COLUMNS, _RANK, _REMISSION  # noqa: E402

_LAB_VARIANTS = [{}, {"MARROW_BLAST": 10.0}, {"MARROW_BLAST": 40.0}, {"PLT": 60_000.0},
                 {"ANC": np.nan}, {"MARROW_BLAST": np.nan}, {"HGB": 9.0},
                 {"PLT": np.nan, "ANC": np.nan, "HGB": np.nan}]


def _reference_row(rows: pd.DataFrame, max_cycle: int) -> dict:
    """The per-subject loop the vectorised code replaced (one subject's rows, sorted)."""
    window = f"cycles 1-{max_cycle}"
    out = {"N_ASSESSMENTS": len(rows), "N_NE": int((rows["RESPONSE"] == "NE").sum())}
    evaluable = rows.loc[rows["RESPONSE"] != "NE"]
    if evaluable.empty:
        out.update(BEST_RESPONSE="NE", BEST_DAY=np.nan,
                   REASON=(f"no assessment in {window}" if rows.empty
                           else f"no evaluable assessment in {window}"))
    else:
        rank = evaluable["RESPONSE"].map(_RANK)
        best = evaluable.loc[rank == rank.min()]
        out.update(BEST_RESPONSE=best["RESPONSE"].iloc[0], BEST_DAY=best["DAY"].iloc[0],
                   REASON="")
    possible = [p for s in rows["POSSIBLE"] for p in s.split("|")]
    out["BEST_POSSIBLE"] = min(possible, key=_RANK.get) if possible else "NE"
    out["CRCRH"] = int(out["BEST_RESPONSE"] in _REMISSION)
    remission = rows.loc[rows["RESPONSE"].isin(_REMISSION), "DAY"]
    out["FIRST_REMISSION_DAY"] = remission.iloc[0] if len(remission) else np.nan
    mrd = rows.loc[rows["MRD_RESPONSE"].notna()]
    if mrd.empty:
        out.update(MRD_RESPONSE=np.nan, MRD_DAY=np.nan, MRD_REASON=f"MRD not done in {window}")
    else:
        hit = mrd.loc[mrd["MRD_RESPONSE"] == 1, "DAY"]
        out.update(MRD_RESPONSE=float(len(hit) > 0), MRD_REASON="",
                   MRD_DAY=hit.iloc[0] if len(hit) else np.nan)
    return out


@st.composite
def _trial(draw):
    n_subjects = draw(st.integers(1, 6))
    rows = []
    for _ in range(draw(st.integers(0, 25))):
        cycle = draw(st.sampled_from([1, 1, 2, 2, 3, np.nan]))
        values = dict(draw(st.sampled_from(_LAB_VARIANTS)))
        values["MRD"] = draw(st.sampled_from([np.nan, np.nan, 1e-5, 1e-3]))
        rows.append(assessment(draw(st.integers(1, n_subjects + 1)), cycle,
                               draw(st.integers(1, 90)), **values))
    frame = (pd.DataFrame(rows) if rows
             else assessments(assessment(1, 1, 29)))
    with_subjects = draw(st.booleans())
    # subject n_subjects + 1 is unknown to the subjects table; subject 0 has no assessment
    subj = subjects(*({"ID": i, "ARM": "A"} for i in range(n_subjects + 1)))
    return frame, (subj if with_subjects else None), draw(st.integers(1, 3))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_trial())
def test_vectorised_best_response_equals_the_per_subject_loop(trial):
    frame, subj, max_cycle = trial
    res = derive_best_response(frame, subj, max_cycle=max_cycle, keep=None)
    resp = res.assessments.to_frame()
    used = res.ledger.to_frame()["STATUS"].to_numpy() == "used"
    inside = resp.loc[used].sort_values(["ID", "DAY", "ROW"], kind="stable")
    ids = list(subj["ID"]) if subj is not None else list(pd.unique(resp["ID"]))
    groups = dict(tuple(inside.groupby("ID", sort=False)))
    expected = pd.DataFrame([{"ID": i, **_reference_row(groups.get(i, inside.iloc[0:0]),
                                                        max_cycle)} for i in ids],
                            columns=["ID", *_BEST_COLUMNS])
    pd.testing.assert_frame_equal(res.to_frame(), expected)

"""read_clinical: normalisation, order, types, warnings and the frozen ClinicalData."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest
from clinical_tables import NA, adverse_events, assessments, subjects, tables, with_cell

import blinapk
from blinapk.data import ClinicalData, ClinicalLedger, read_clinical, read_dataset
from blinapk.errors import BlinapkError, DataValidationError, DataWarning


def _quiet(**kwargs) -> ClinicalData:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return read_clinical(**kwargs)


def test_public_names():
    assert blinapk.read_clinical is read_clinical
    assert blinapk.ClinicalData is ClinicalData
    assert "write_clinical" in blinapk.__all__ and "read_clinical" in blinapk.__all__


def test_columns_types_and_case():
    t = tables()
    t["subjects"] = t["subjects"].rename(columns=str.lower).assign(
        death_cause=[None, " Progression", "OTHER"], extra_note=["a", None, "c"])
    t["adverse_events"] = t["adverse_events"].assign(CATEGORY=["crs", "Neurologic", "", "x"])
    data = _quiet(**t)
    s = data.subjects
    assert list(s.columns) == ["ROW", "ID", "ARM", "STUDY", "BLAST", "AGE", "SEX", "BSA", "WT",
                               "LAST_DOSE_DAY", "LAST_CONTACT_DAY", "DEATH_DAY", "DEATH_CAUSE",
                               "RELAPSE_DAY", "HSCT_DAY", "EXTRA_NOTE"]
    assert s["ID"].dtype == np.int64 and s["ROW"].dtype == np.int64
    assert s["DEATH_CAUSE"].tolist()[1:] == ["progression", "other"]
    assert pd.isna(s["DEATH_CAUSE"].iloc[0])
    assert s["EXTRA_NOTE"].tolist()[::2] == ["a", "c"]  # extra column passed through
    for col in ("AGE", "LAST_CONTACT_DAY", "DEATH_DAY"):
        assert s[col].dtype == np.float64
    ae = data.adverse_events
    assert ae["GRADE"].dtype == np.int64
    assert ae["CATEGORY"].tolist()[:2] == ["CRS", "NEUROLOGIC"] and pd.isna(ae["CATEGORY"][2])
    a = data.assessments
    assert [a[c].dtype for c in ("CYCLE", "CIRC_BLAST", "MRD")] == [np.float64] * 3


def test_order_follows_the_subjects_table_then_day():
    t = tables()
    t["subjects"] = t["subjects"].iloc[[2, 0, 1]].reset_index(drop=True)  # 103, 101, 102
    t["assessments"] = t["assessments"].iloc[[3, 0, 4, 2, 1]].reset_index(drop=True)
    data = _quiet(**t)
    assert data.ids == (103, 101, 102)
    a = data.assessments
    assert a["ID"].tolist() == [103, 101, 101, 102, 102]
    assert a["DAY"].tolist() == [29.0, 29, 71, 29, 71]
    assert a["ROW"].tolist() == [3, 2, 5, 4, 1]  # source rows kept
    assert data.subjects["ROW"].tolist() == [1, 2, 3]


def test_ids_match_across_tables_of_different_kinds():
    t = tables()
    t["subjects"] = t["subjects"].assign(ID=["101", "102", "P-103"])
    t["assessments"] = t["assessments"].assign(ID=[101.0, 101, 102, 102, NA])
    t["assessments"] = with_cell(t["assessments"], 5, "ID", "P-103")
    t["adverse_events"] = t["adverse_events"].assign(ID=[101.0, 101, 102, NA]).pipe(
        with_cell, 4, "ID", "P-103")
    data = _quiet(**t)
    assert data.ids == ("101", "102", "P-103")
    assert data.assessments["ID"].tolist() == ["101", "101", "102", "102", "P-103"]
    # float IDs with a gap still match integer IDs of another table
    t = tables()
    t["adverse_events"] = t["adverse_events"].assign(ID=[101.0, 101, 102, NA])
    with pytest.raises(DataValidationError) as info:
        read_clinical(**t)
    assert [(v.rule, v.rows) for v in info.value.violations] == [("missing_value", (4,))]


def test_user_frames_are_never_mutated_even_on_error():
    t = tables()
    t["assessments"] = with_cell(t["assessments"], 1, "MRD", 5)
    before = {k: v.copy(deep=True) for k, v in t.items()}
    with pytest.raises(DataValidationError):
        read_clinical(**t)
    _quiet(**tables())
    for k in t:
        pd.testing.assert_frame_equal(t[k], before[k])


def test_csv_path_and_dataframe_agree(tmp_path):
    t = tables()
    paths = {}
    for name, df in t.items():
        paths[name] = tmp_path / f"{name}.csv"
        df.to_csv(paths[name], index=False)
    a, b = _quiet(**t), _quiet(**paths)
    for name in a.tables:
        pd.testing.assert_frame_equal(a.table(name), b.table(name))
    assert a.hash == b.hash
    assert b.sources["subjects"].endswith("subjects.csv") and a.sources["subjects"] == "<DataFrame>"


def test_csv_keeps_text_spelling(tmp_path):
    path = tmp_path / "ae.csv"
    path.write_text("id,term,grade,start_day,category\n"
                    "7,007 reaction ,2,1,1.10\n7,.,1,2,\n", encoding="utf-8")
    with pytest.raises(DataValidationError) as info:
        read_clinical(adverse_events=path)
    assert [(v.rule, v.column, v.rows) for v in info.value.violations] == [
        ("missing_value", "TERM", (2,))]
    path.write_text("id,term,grade,start_day,category\n7,007 reaction ,2,1,1.10\n",
                    encoding="utf-8")
    ae = read_clinical(adverse_events=path).adverse_events
    assert ae["TERM"].tolist() == ["007 reaction"] and ae["CATEGORY"].tolist() == ["1.10"]


def test_frozen_and_copies():
    data = _quiet(**tables())
    s = data.subjects
    s.loc[0, "AGE"] = -1
    assert data.subjects.loc[0, "AGE"] == 45
    with pytest.raises(dataclasses.FrozenInstanceError):
        data.sources = {}  # type: ignore[misc]
    with pytest.raises(TypeError):
        data._frames["subjects"] = s  # type: ignore[index]


def test_tables_not_given_read_as_empty_tables():
    data = _quiet(adverse_events=adverse_events())
    assert data.tables == ("adverse_events",)
    s = data.subjects
    assert len(s) == 0 and "LAST_CONTACT_DAY" in s.columns and s["ID"].dtype == "str"
    assert data.n_rows == {"adverse_events": 4}
    assert data.ids == (101, 102, 103) and data.subjects_without_assessments == ()
    with pytest.raises(BlinapkError, match="unknown clinical table"):
        data.table("labs")
    assert repr(data) == "ClinicalData(adverse_events: 4 rows; 3 subjects)"


def test_subject_without_assessment_warns_and_keeps_the_subject():
    with pytest.warns(DataWarning, match=r"1 subject\(s\) have no response assessment: 103"):
        data = read_clinical(subjects(), assessments().iloc[:4])
    assert data.subjects_without_assessments == (103,)
    assert len(data.subjects) == 3


def test_ids_compared_with_the_event_table():
    r = 28.0 / 24
    events = pd.DataFrame({"ID": [101, 101, 102, 102, 999, 999], "TIME": [0.0, 2] * 3,
                           "EVID": [1, 0] * 3, "AMT": [28.0, 0] * 3, "RATE": [r, 0] * 3,
                           "DV": [0, 300.0] * 3, "MDV": [1, 0] * 3})
    ds = read_dataset(events)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        read_clinical(**tables(), dataset=ds)
    text = [str(w.message) for w in rec if issubclass(w.category, DataWarning)]
    assert text == [
        "1 subject(s) of the clinical tables have no row in the event table (no PK data): 103",
        "1 subject(s) of the event table have no row in the clinical tables: 999",
    ]
    # text IDs on one side are compared as text
    ds = read_dataset(events.assign(ID=["101"] * 2 + ["102"] * 2 + ["103"] * 2))
    _quiet(**tables(), dataset=ds)
    ds = read_dataset(events.assign(ID=["101"] * 2 + ["102"] * 2 + ["X-3"] * 2))
    with pytest.warns(DataWarning) as rec:
        read_clinical(**tables(), dataset=ds)
    assert [str(w.message).split(": ")[-1] for w in rec] == ["'103'", "'X-3'"]


def test_hash_changes_with_content():
    a = _quiet(**tables())
    t = tables()
    t["assessments"] = with_cell(t["assessments"], 1, "MRD", 6e-5)
    assert _quiet(**t).hash != a.hash == _quiet(**tables()).hash


def test_ledger_shortcut():
    data = _quiet(**tables())
    a = data.assessments
    led = data.ledger("assessments", np.where(a["MARROW_BLAST"] > 50, "excluded", "used"),
                      np.where(a["MARROW_BLAST"] > 50, "refractory", ""))
    assert isinstance(led, ClinicalLedger)
    assert led.excluded()[["TABLE", "ROW", "ID", "DAY"]].values.tolist() == [
        ["assessments", 5, 103, 29.0]]
    led.check({"assessments": a})


def test_wrong_source_type():
    with pytest.raises(TypeError, match="path or a DataFrame"):
        read_clinical(subjects=[1, 2, 3])  # type: ignore[arg-type]


def test_missing_death_day_and_contact_are_not_known_not_zero():
    t = tables()
    t["subjects"] = with_cell(t["subjects"], 1, "LAST_CONTACT_DAY", "")
    t["subjects"] = with_cell(t["subjects"], 1, "HSCT_DAY", ".")
    s = _quiet(**t).subjects
    assert np.isnan(s.loc[0, "LAST_CONTACT_DAY"]) and np.isnan(s.loc[0, "HSCT_DAY"])

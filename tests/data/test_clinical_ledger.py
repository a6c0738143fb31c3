"""ClinicalLedger: the RowLedger checks and counts for rows keyed by (TABLE, ROW)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from clinical_tables import tables
from hypothesis import given, settings
from hypothesis import strategies as st

from blinapk.data import ClinicalLedger, RowLedger, read_clinical
from blinapk.data.ledger import CLINICAL_LEDGER_COLUMNS, STATUSES
from blinapk.errors import BlinapkError


@pytest.fixture
def data():
    return read_clinical(**tables())


def test_one_table(data):
    a = data.assessments
    led = ClinicalLedger.from_reasons(a, np.where(a["MRD"].isna(), "excluded", "used"),
                                      np.where(a["MRD"].isna(), "MRD not done", ""),
                                      table="assessments")
    t = led.to_frame()
    assert tuple(t.columns) == CLINICAL_LEDGER_COLUMNS
    assert t["TABLE"].unique().tolist() == ["assessments"] and t["ROW"].tolist() == [1, 2, 3, 4, 5]
    assert led.excluded()["DAY"].tolist() == [71.0, 71, 29]
    assert led.counts().values.tolist() == [["used", "", 2], ["excluded", "MRD not done", 3]]
    led.check(a.assign(TABLE="assessments"))
    led.check({"assessments": a})
    led.check({"assessments": [1, 2, 3, 4, 5]})
    led.check([("assessments", r) for r in range(1, 6)])
    led.check(5)
    with pytest.raises(BlinapkError, match=r"input rows not in the ledger: \[\('assessments', 6\)"):
        led.check({"assessments": range(1, 7)})
    with pytest.raises(BlinapkError, match=r"ledger rows not in the input: \[\('assessments', 5\)"):
        led.check({"assessments": range(1, 5)})
    with pytest.raises(BlinapkError, match="ClinicalLedger does not add up"):
        led.check(4)


def test_day_column_per_table(data):
    s = ClinicalLedger.from_reasons(data.subjects, "used", table="subjects")
    assert s.to_frame()["DAY"].isna().all()
    ae = ClinicalLedger.from_reasons(data.adverse_events, "used", table="adverse_events")
    assert ae.to_frame()["DAY"].tolist() == [2.0, 10, 1, 35]
    explicit = ClinicalLedger.from_reasons(data.subjects, "used", table="subjects",
                                           day="DEATH_DAY")
    assert explicit.to_frame()["DAY"].tolist()[1:] == [150.0, 40]


def test_concat_across_tables_with_equal_row_numbers(data):
    s = data.ledger("subjects", ["used", "excluded", "excluded"], ["", "dead", "dead"])
    a = data.ledger("assessments", "used")
    led = ClinicalLedger.concat([a, s])
    t = led.to_frame()
    assert t[["TABLE", "ROW"]].values.tolist()[:4] == [
        ["assessments", 1], ["assessments", 2], ["assessments", 3], ["assessments", 4]]
    assert led.n_in == 8
    assert led.counts(by="status")["N"].tolist() == [6, 0, 2]
    led.check({"subjects": data.subjects, "assessments": data.assessments})
    with pytest.raises(BlinapkError, match=r"more than once: \[\('subjects', 1\)"):
        ClinicalLedger.concat([s, s])
    assert ClinicalLedger.concat([]).n_in == 0 == ClinicalLedger.empty().n_in


def test_invalid_clinical_ledgers(data):
    with pytest.raises(BlinapkError, match="table must be one of"):
        ClinicalLedger.from_reasons(data.subjects, "used", table="labs")
    with pytest.raises(BlinapkError, match="need a reason"):
        data.ledger("assessments", "excluded")
    with pytest.raises(BlinapkError, match=r"'used' rows carry a reason: rows \[\('subjects', 1\)"):
        data.ledger("subjects", "used", ["why", "", ""])
    with pytest.raises(BlinapkError, match="lacks column"):
        ClinicalLedger.from_reasons(data.subjects.drop(columns="ID"), "used", table="subjects")
    with pytest.raises(BlinapkError, match="lacks column"):
        ClinicalLedger.from_reasons(data.subjects, "used", table="subjects", day="VISIT_DAY")


def test_event_and_clinical_ledgers_do_not_mix(data):
    event = RowLedger.from_reasons(pd.DataFrame({"ROW": [9], "ID": [1], "TIME": [0.0]}), "used")
    clinical = data.ledger("subjects", "used")
    with pytest.raises(BlinapkError, match="cannot join"):
        ClinicalLedger.concat([clinical, event])
    with pytest.raises(BlinapkError, match="cannot join"):
        RowLedger.concat([event, clinical])


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["subjects", "assessments", "adverse_events"]),
                          st.sampled_from(STATUSES)), min_size=0, max_size=30))
def test_counts_always_add_up(entries):
    parts = []
    for table in ("subjects", "assessments", "adverse_events"):
        mine = [s for t, s in entries if t == table]
        frame = pd.DataFrame({"ROW": np.arange(1, len(mine) + 1), "ID": 1})
        reason = ["" if s == "used" else "r" for s in mine]
        parts.append(ClinicalLedger.from_reasons(frame, mine, reason, table=table))
    led = ClinicalLedger.concat(parts)
    assert led.counts(by="status")["N"].sum() == len(entries) == led.counts()["N"].sum()
    led.check(len(entries))

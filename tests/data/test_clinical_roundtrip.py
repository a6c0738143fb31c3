"""write_clinical: read -> write -> read gives equal tables (extra columns, empty cells)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from clinical_tables import NA, tables, with_cell

from blinapk.data import read_clinical, write_clinical


def _assert_same(a, b):
    assert a.tables == b.tables
    for name in a.tables:
        pd.testing.assert_frame_equal(a.table(name), b.table(name))
    assert a.hash == b.hash


def _with_extras():
    t = tables()
    t["subjects"] = t["subjects"].assign(SITE=["Mainz", None, "Lyon"], SCORE=[1.25, NA, 3.0],
                                         VISITS=[3, 4, 5])
    t["assessments"] = with_cell(t["assessments"], 3, "PLT", NA).assign(
        lab=["a", "b", None, "d", "e"])
    t["adverse_events"] = t["adverse_events"].assign(END_DAY=[4.0, NA, 2, 40])
    return t


def test_round_trip_with_extra_columns_and_empty_cells(tmp_path):
    data = read_clinical(**_with_extras())
    paths = write_clinical(data, tmp_path / "out")
    assert sorted(p.name for p in paths.values()) == [
        "adverse_events.csv", "assessments.csv", "subjects.csv"]
    back = read_clinical(**paths)
    _assert_same(data, back)
    s = back.subjects
    assert s["SITE"].isna().tolist() == [False, True, False] and s["VISITS"].dtype == np.int64
    assert np.isnan(back.assessments.set_index("ROW").loc[3, "PLT"])
    # a second round is a fixed point: the files are identical
    again = write_clinical(back, tmp_path / "again")
    for name, path in paths.items():
        assert again[name].read_text() == path.read_text()


def test_written_files_are_plain(tmp_path):
    data = read_clinical(**tables())
    text = write_clinical(data, tmp_path)["subjects"].read_text().splitlines()
    assert text[0] == ("ID,ARM,STUDY,BLAST,AGE,SEX,BSA,WT,LAST_DOSE_DAY,LAST_CONTACT_DAY,"
                       "DEATH_DAY,DEATH_CAUSE,RELAPSE_DAY,HSCT_DAY")  # no ROW: it is 1..n
    assert text[1] == "101,A,S1,80,45,F,1.8,70,56,365,,,,120"  # whole days without ".0"
    ae = write_clinical(data, tmp_path)["adverse_events"].read_text().splitlines()
    assert ae[3] == "102,Pyrexia,,1,1,2,1,0"


def test_source_order_and_row_numbers_survive(tmp_path):
    t = tables()
    t["assessments"] = t["assessments"].iloc[[4, 2, 0, 3, 1]].reset_index(drop=True)
    data = read_clinical(**t)
    back = read_clinical(**write_clinical(data, tmp_path))
    _assert_same(data, back)
    # rows are written in source order, so ROW needs no column of its own
    assert "ROW" not in (tmp_path / "assessments.csv").read_text().splitlines()[0].split(",")


def test_row_column_written_when_not_1_to_n(tmp_path):
    t = tables()
    t["adverse_events"] = t["adverse_events"].assign(ROW=[10, 20, 30, 40])
    data = read_clinical(**t)
    assert data.adverse_events["ROW"].tolist() == [10, 20, 30, 40]
    back = read_clinical(**write_clinical(data, tmp_path))
    _assert_same(data, back)


def test_only_given_tables_are_written(tmp_path):
    data = read_clinical(adverse_events=tables()["adverse_events"].iloc[:0])
    paths = write_clinical(data, tmp_path)
    assert list(paths) == ["adverse_events"]
    assert paths["adverse_events"].read_text().strip() == "ID,TERM,CATEGORY,GRADE,START_DAY," \
                                                          "END_DAY,RELATED,SERIOUS"
    _assert_same(data, read_clinical(**paths))


def test_text_ids_round_trip(tmp_path):
    t = tables()
    t["subjects"] = t["subjects"].assign(ID=["007", "Patiënt 2", "東京-3"])
    t["assessments"] = t["assessments"].assign(ID=["007", "007", "Patiënt 2", "Patiënt 2",
                                                   "東京-3"])
    t["adverse_events"] = t["adverse_events"].assign(ID=["007", "007", "Patiënt 2", "東京-3"])
    data = read_clinical(**t)
    assert data.ids == ("007", "Patiënt 2", "東京-3")
    _assert_same(data, read_clinical(**write_clinical(data, tmp_path)))

"""Every clinical-table rule on a hand-built table: the exact table, rule, column and rows."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from clinical_tables import NA, tables, with_cell

from blinapk.data import CLINICAL_RULES, CROSS_RULES, read_clinical, validate_clinical
from blinapk.data.clinical_schema import ClinicalViolation
from blinapk.errors import DataValidationError, Violation


def _cell(table, row, col, value):
    def mutate(t):
        t[table] = with_cell(t[table], row, col, value)
        return t

    return mutate


def _cells(table, col, values):
    def mutate(t):
        t[table] = t[table].assign(**{col: values})
        return t

    return mutate


def _drop(table, col):
    def mutate(t):
        t[table] = t[table].drop(columns=col)
        return t

    return mutate


def _append(table, **row):
    def mutate(t):
        t[table] = pd.concat([t[table], pd.DataFrame([row])], ignore_index=True)
        return t

    return mutate


def _both(*mutations):
    def mutate(t):
        for m in mutations:
            t = m(t)
        return t

    return mutate


S, A, AE = "subjects", "assessments", "adverse_events"
_AE5 = {"ID": 102, "TERM": "Pyrexia", "CATEGORY": None, "GRADE": 1, "START_DAY": 1.0,
        "END_DAY": 2.0, "RELATED": 1, "SERIOUS": 0}
_VISIT = {"ID": 101, "CYCLE": 3, "DAY": 71.0, "MARROW_BLAST": 1.0, "CIRC_BLAST": 0,
          "EXTRAMED": 0, "PLT": 1e5, "HGB": 11.0, "ANC": 1500.0, "MRD": NA}

#: (id, mutation, expected {(table, rule, column, rows)})
CASES = [
    # ---- shared with the event table
    ("empty_subjects", lambda t: {**t, S: t[S].iloc[:0]}, {(S, "empty", None, ())}),
    ("empty_assessments", lambda t: {**t, A: t[A].iloc[:0]}, {(A, "empty", None, ())}),
    ("duplicate_column", _cells(A, "day", [1.0] * 5), {(A, "duplicate_column", "DAY", ())}),
    ("row_column", _cells(AE, "ROW", [1, 2, 2, 4]), {(AE, "row_column", "ROW", (2, 3))}),
    ("missing_death_column", _both(_drop(S, "DEATH_DAY"), _drop(S, "DEATH_CAUSE")),
     {(S, "missing_column", "DEATH_DAY", ()), (S, "missing_column", "DEATH_CAUSE", ())}),
    ("missing_mrd_column", _drop(A, "MRD"), {(A, "missing_column", "MRD", ())}),
    ("missing_grade_column", _drop(AE, "GRADE"), {(AE, "missing_column", "GRADE", ())}),
    ("text_day", _cell(A, 2, "DAY", "day 71"), {(A, "non_numeric", "DAY", (2,))}),
    ("percent_sign", _cell(A, 3, "MARROW_BLAST", "3%"),
     {(A, "non_numeric", "MARROW_BLAST", (3,))}),
    ("roman_grade", _cell(AE, 2, "GRADE", "III"), {(AE, "non_numeric", "GRADE", (2,))}),
    # the assessments and adverse events of subject 101 lose their subject as well
    ("missing_id", _cell(S, 1, "ID", None), {(S, "missing_value", "ID", (1,)),
                                             (A, "unknown_subject", "ID", (1, 2)),
                                             (AE, "unknown_subject", "ID", (1, 2))}),
    ("missing_day", _cell(A, 4, "DAY", NA), {(A, "missing_value", "DAY", (4,))}),
    ("missing_term", _cell(AE, 3, "TERM", "  "), {(AE, "missing_value", "TERM", (3,))}),
    ("missing_grade", _cell(AE, 1, "GRADE", NA), {(AE, "missing_value", "GRADE", (1,))}),
    ("missing_start", _cell(AE, 1, "START_DAY", NA), {(AE, "missing_value", "START_DAY", (1,))}),
    ("infinite_contact", _cell(S, 1, "LAST_CONTACT_DAY", math.inf),
     {(S, "non_finite", "LAST_CONTACT_DAY", (1,))}),
    ("infinite_hgb", _cell(A, 5, "HGB", -math.inf), {(A, "non_finite", "HGB", (5,)),
                                                    (A, "negative", "HGB", (5,))}),
    # ---- subjects
    ("negative_age", _cell(S, 2, "AGE", -60), {(S, "negative", "AGE", (2,))}),
    ("negative_wt", _cell(S, 3, "WT", -1), {(S, "negative", "WT", (3,))}),
    ("blast_over_100", _cell(S, 1, "BLAST", 180), {(S, "percent_range", "BLAST", (1,))}),
    ("duplicate_subject", lambda t: {**t, S: pd.concat([t[S], t[S].iloc[[1]]])},
     {(S, "duplicate_id", "ID", (2, 4))}),
    ("unknown_cause", _cell(S, 2, "DEATH_CAUSE", "relapse"),
     {(S, "death_cause_values", "DEATH_CAUSE", (2,))}),
    ("death_without_cause", _cell(S, 3, "DEATH_CAUSE", ""),
     {(S, "death_cause_pairing", "DEATH_CAUSE", (3,))}),
    ("cause_without_death", _cell(S, 1, "DEATH_CAUSE", "other"),
     {(S, "death_cause_pairing", "DEATH_CAUSE", (1,))}),
    ("contact_after_death", _cell(S, 3, "LAST_CONTACT_DAY", 41),
     {(S, "contact_after_death", "LAST_CONTACT_DAY", (3,))}),
    ("contact_before_last_dose", _cell(S, 1, "LAST_DOSE_DAY", 400),
     {(S, "contact_before_last_dose", "LAST_CONTACT_DAY", (1,))}),
    ("dose_after_death", _cell(S, 3, "LAST_DOSE_DAY", 40.5),
     {(S, "dose_after_death", "LAST_DOSE_DAY", (3,)),
      (S, "contact_before_last_dose", "LAST_CONTACT_DAY", (3,))}),
    ("relapse_after_death", _cell(S, 2, "RELAPSE_DAY", 151),
     {(S, "relapse_after_death", "RELAPSE_DAY", (2,))}),
    ("hsct_after_death", _cell(S, 3, "HSCT_DAY", 60),
     {(S, "hsct_after_death", "HSCT_DAY", (3,))}),
    # ---- assessments
    ("cycle_zero", _cell(A, 1, "CYCLE", 0), {(A, "cycle_values", "CYCLE", (1,))}),
    ("cycle_fraction", _cell(A, 2, "CYCLE", 1.5), {(A, "cycle_values", "CYCLE", (2,))}),
    ("marrow_over_100", _cell(A, 5, "MARROW_BLAST", 100.5),
     {(A, "percent_range", "MARROW_BLAST", (5,))}),
    ("marrow_negative", _cell(A, 1, "MARROW_BLAST", -1),
     {(A, "percent_range", "MARROW_BLAST", (1,))}),
    ("circ_blast_two", _cell(A, 4, "CIRC_BLAST", 2), {(A, "flag_values", "CIRC_BLAST", (4,))}),
    ("extramed_half", _cell(A, 3, "EXTRAMED", 0.5), {(A, "flag_values", "EXTRAMED", (3,))}),
    ("negative_plt", _cell(A, 2, "PLT", -5), {(A, "negative", "PLT", (2,))}),
    ("negative_anc", _cell(A, 3, "ANC", -1), {(A, "negative", "ANC", (3,))}),
    ("mrd_as_percent", _cell(A, 1, "MRD", 5), {(A, "fraction_range", "MRD", (1,))}),
    ("duplicate_assessment", _cell(A, 2, "DAY", 29), {(A, "duplicate_assessment", "DAY",
                                                       (1, 2))}),
    # ---- adverse events
    ("grade_six", _cell(AE, 2, "GRADE", 6), {(AE, "grade_values", "GRADE", (2,))}),
    ("grade_zero", _cell(AE, 3, "GRADE", 0), {(AE, "grade_values", "GRADE", (3,))}),
    ("grade_fraction", _cell(AE, 1, "GRADE", 2.5), {(AE, "grade_values", "GRADE", (1,))}),
    ("related_two", _cell(AE, 1, "RELATED", 2), {(AE, "flag_values", "RELATED", (1,))}),
    ("serious_minus", _cell(AE, 4, "SERIOUS", -1), {(AE, "flag_values", "SERIOUS", (4,))}),
    ("end_before_start", _cell(AE, 2, "END_DAY", 9),
     {(AE, "ae_end_before_start", "END_DAY", (2,))}),
    ("duplicate_ae_row", _append(AE, **_AE5), {(AE, "duplicate_row", None, (5,))}),
    # ---- across tables
    ("assessment_unknown_subject", _cell(A, 5, "ID", 104),
     {(A, "unknown_subject", "ID", (5,))}),
    ("ae_unknown_subject", _cell(AE, 4, "ID", "x9"), {(AE, "unknown_subject", "ID", (4,))}),
    ("assessment_after_death", _append(A, **{**_VISIT, "ID": 103, "DAY": 45.0}),
     {(A, "assessment_after_death", "DAY", (6,)),
      (S, "contact_before_assessment", "LAST_CONTACT_DAY", (3,))}),
    ("ae_start_after_death", _both(_cell(AE, 4, "START_DAY", 41), _cell(AE, 4, "END_DAY", NA)),
     {(AE, "ae_after_death", "START_DAY", (4,))}),
    ("ae_end_after_death", _cell(AE, 4, "END_DAY", 42), {(AE, "ae_after_death", "END_DAY", (4,))}),
    ("contact_before_assessment", _cell(S, 1, "LAST_CONTACT_DAY", 70),
     {(S, "contact_before_assessment", "LAST_CONTACT_DAY", (1,))}),
]  # fmt: skip


def _found(violations):
    return {(v.table, v.rule, v.column, v.rows) for v in violations}


def test_base_tables_are_valid():
    assert validate_clinical(**tables()) == []


@pytest.mark.parametrize(("mutate", "expected"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_rule_names_table_column_and_rows(mutate, expected):
    t = mutate(tables())
    assert _found(validate_clinical(**t)) == expected
    with pytest.raises(DataValidationError) as info:
        read_clinical(**t)
    assert _found(info.value.violations) == expected
    text = str(info.value)
    for table, rule, column, rows in expected:
        where = f"column {column}" if column else "table"
        shown = f", row(s) {', '.join(map(str, rows))}:" if rows else ":"
        assert f"[{rule}] {table} {where}{shown}" in text


def test_every_rule_has_a_case():
    tested = {rule for _, _, exp in CASES for _, rule, _, _ in exp}
    names = {r.name for rules in CLINICAL_RULES.values() for r in rules}
    names |= {r.name for r in CROSS_RULES}
    assert names - tested == set()


def test_docs_list_every_rule():
    text = (Path(__file__).resolve().parents[2] / "docs" / "clinical_data.md").read_text(
        encoding="utf-8")
    names = {r.name for rules in CLINICAL_RULES.values() for r in rules}
    names |= {r.name for r in CROSS_RULES} | {"csv_parse"}
    assert {n for n in names if f"`{n}`" not in text} == set()


def test_rule_descriptions_are_sentences():
    for rule in (*[r for rules in CLINICAL_RULES.values() for r in rules], *CROSS_RULES):
        assert rule.description.endswith(".") and rule.description[0].isupper(), rule


def test_every_violation_is_reported_at_once():
    t = _both(_cell(S, 2, "DEATH_CAUSE", "relapse"), _cell(A, 1, "MRD", 5),
              _cell(AE, 2, "GRADE", 6), _cell(A, 5, "ID", 104))(tables())
    with pytest.raises(DataValidationError) as info:
        read_clinical(**t)
    assert _found(info.value.violations) == {
        (S, "death_cause_values", "DEATH_CAUSE", (2,)), (A, "fraction_range", "MRD", (1,)),
        (AE, "grade_values", "GRADE", (2,)), (A, "unknown_subject", "ID", (5,))}
    assert all(isinstance(v, ClinicalViolation) and isinstance(v, Violation)
               for v in info.value.violations)


def test_messages_name_values_and_subjects():
    t = _cell(A, 5, "ID", 104)(_cell(S, 2, "RELAPSE_DAY", 151)(tables()))
    text = str(pytest.raises(DataValidationError, read_clinical, **t).value)
    assert "RELAPSE_DAY 151 > DEATH_DAY 150" in text
    assert "ID(s) 104 are not in the subjects table" in text
    t = _append(A, **{**_VISIT, "ID": 103, "DAY": 45.0})(tables())
    text = str(pytest.raises(DataValidationError, read_clinical, **t).value)
    assert "row 6: ID 103 DAY 45 > DEATH_DAY 40" in text


def test_equal_days_are_allowed():
    # death on the day of last contact, relapse or transplant is consistent
    t = _both(_cell(S, 1, "DEATH_DAY", 365), _cell(S, 1, "DEATH_CAUSE", "other"),
              _cell(S, 1, "HSCT_DAY", 365), _cell(S, 2, "RELAPSE_DAY", 150),
              _cell(A, 4, "DAY", 150))(tables())
    assert validate_clinical(**t) == []


def test_empty_cells_are_not_checked_but_text_is():
    t = _both(_cell(A, 1, "PLT", NA), _cell(A, 2, "CYCLE", None), _cell(AE, 1, "RELATED", ""),
              _cell(S, 1, "AGE", "."))(tables())
    assert validate_clinical(**t) == []
    t = _cell(S, 1, "AGE", "forty")(tables())
    assert _found(validate_clinical(**t)) == {(S, "non_numeric", "AGE", (1,))}


def test_optional_columns_may_be_absent():
    t = tables()
    t[S] = t[S][["ID", "LAST_DOSE_DAY", "LAST_CONTACT_DAY", "DEATH_DAY", "DEATH_CAUSE",
                 "RELAPSE_DAY", "HSCT_DAY"]]
    t[AE] = t[AE][["ID", "TERM", "GRADE", "START_DAY"]]
    assert validate_clinical(**t) == []


def test_adverse_event_table_may_have_no_rows_but_not_no_header(tmp_path):
    t = tables()
    t[AE] = t[AE].iloc[:0]
    data = read_clinical(**t)
    assert len(data.adverse_events) == 0 and data.tables == (S, A, AE)
    path = tmp_path / "ae.csv"
    path.write_text("", encoding="utf-8")
    got = _found(validate_clinical(adverse_events=path))
    assert got == {(AE, "empty", None, ())}


def test_unparsable_file_is_collected_with_the_other_tables(tmp_path):
    path = tmp_path / "ae.csv"
    path.write_text("ID,TERM,GRADE,START_DAY\n101,Pyrexia,1,1,99\n", encoding="utf-8")
    t = _cell(A, 1, "MRD", 5)(tables())
    got = {(v.table, v.rule) for v in validate_clinical(t[S], t[A], path)}
    assert got == {(AE, "csv_parse"), (A, "fraction_range")}


def test_no_table_is_an_error():
    with pytest.raises(DataValidationError, match="no_table"):
        read_clinical()


def test_cross_rules_need_their_tables():
    # without a subjects table nothing is compared (and nothing warns)
    t = _cell(A, 5, "ID", 104)(tables())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        data = read_clinical(assessments=t[A], adverse_events=t[AE])
    assert data.ids == (101, 102, 104, 103)
    assert np.isnan(data.subjects.get("DEATH_DAY", pd.Series([np.nan]))).all()

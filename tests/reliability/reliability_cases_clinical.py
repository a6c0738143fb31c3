"""Catalogue cases for the clinical tables: subjects, assessments, adverse events.

Each case writes the three valid CSV files below, with one of them spoiled, and
reads them with ``read_clinical``; see reliability_cases.py for :class:`Case`.
Rows are 1-based data rows of the table the violation names.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from reliability_cases import BASE_CSV, Case

from blinapk.data import read_clinical, read_dataset
from blinapk.errors import DataValidationError, DataWarning

#: 101 transplanted (day 120), alive; 102 relapsed (day 100), died of progression
#: (day 150); 103 died of other causes (day 40). Data rows 1-3.
SUBJECTS_CSV = """\
ID,ARM,AGE,BLAST,LAST_DOSE_DAY,LAST_CONTACT_DAY,DEATH_DAY,DEATH_CAUSE,RELAPSE_DAY,HSCT_DAY
101,A,45,80,56,365,,,,120
102,A,60,95,28,150,150,progression,100,
103,B,30,50,14,40,40,other,,
"""

#: Rows 1-2 subject 101, 3-4 subject 102, 5 subject 103.
ASSESSMENTS_CSV = """\
ID,CYCLE,DAY,MARROW_BLAST,CIRC_BLAST,EXTRAMED,PLT,HGB,ANC,MRD
101,1,29,2,0,0,150000,11,2000,0.00005
101,2,71,1,0,0,180000,12,2500,
102,1,29,3,0,0,60000,9.5,800,0.001
102,2,71,40,1,0,30000,8,300,
103,1,29,60,1,1,20000,7.5,200,
"""

#: Rows 1-2 subject 101, 3 subject 102, 4 subject 103 (fatal sepsis ending on the death day).
AE_CSV = """\
ID,TERM,CATEGORY,GRADE,START_DAY,END_DAY,RELATED,SERIOUS
101,Cytokine release syndrome,CRS,2,2,4,1,0
101,Encephalopathy,NEUROLOGIC,3,10,15,1,1
102,Pyrexia,,1,1,2,1,0
103,Sepsis,INFECTION,5,35,40,0,1
"""

BASE = {"subjects": SUBJECTS_CSV, "assessments": ASSESSMENTS_CSV, "adverse_events": AE_CSV}


def clinical(**texts: str | None) -> Callable[[Path], Any]:
    """Write the base tables, with ``texts`` replacing some (None: not given), and read them.

    The call carries ``tables`` (name -> text), for the command-line test.
    """
    tables = {name: texts.get(name, base) for name, base in BASE.items()}

    def call(tmp: Path):
        paths = {}
        for name, text in tables.items():
            if text is not None:
                paths[name] = tmp / f"{name}.csv"
                paths[name].write_text(text, encoding="utf-8")
        return read_clinical(**paths)

    call.tables = tables
    return call


def cell_in(text: str, row: int, column: str, value: str) -> str:
    """CSV ``text`` with one cell (1-based data row) set to ``value``."""
    lines = text.splitlines()
    fields = lines[row].split(",")
    fields[lines[0].split(",").index(column)] = value
    lines[row] = ",".join(fields)
    return "\n".join(lines) + "\n"


def cell(table: str, row: int, column: str, value: str) -> str:
    """The base CSV of ``table`` with one cell set to ``value``."""
    return cell_in(BASE[table], row, column, value)


def cells(table: str, row: int, **values: str) -> str:
    """:func:`cell` for several columns of one row."""
    text = BASE[table]
    for column, value in values.items():
        text = cell_in(text, row, column, value)
    return text


def plus_row(table: str, row: int) -> str:
    """The base CSV of ``table`` with data row ``row`` repeated at the end."""
    return BASE[table] + BASE[table].splitlines()[row] + "\n"


def _e(name, what, call, rule, column, rows=(), key=()):
    return Case(name, "clinical", what, call, DataValidationError, rule, column, tuple(rows),
                tuple(key))


S, A, AE = "subjects", "assessments", "adverse_events"

CLINICAL_CASES: tuple[Case, ...] = (
    _e("clinical_subjects_empty_file", "a 0-byte subjects file", clinical(subjects=""),
       "empty", None, key=("subjects table", "empty file")),
    _e("clinical_assessments_header_only", "an assessments header without data rows",
       clinical(assessments=ASSESSMENTS_CSV.splitlines()[0] + "\n"), "empty", None,
       key=("header only",)),
    _e("clinical_death_day_column_missing", "DEATH_DAY spelt DOD",
       clinical(subjects=SUBJECTS_CSV.replace("DEATH_DAY", "DOD")), "missing_column",
       "DEATH_DAY", key=("DOD",)),
    _e("clinical_mrd_column_missing", "no MRD column (MRD_PCT instead)",
       clinical(assessments=ASSESSMENTS_CSV.replace(",MRD\n", ",MRD_PCT\n")), "missing_column",
       "MRD", key=("MRD_PCT",)),
    _e("clinical_duplicate_column", "DAY given twice (DAY and day)",
       clinical(assessments=ASSESSMENTS_CSV.replace(",MRD\n", ",day\n")), "duplicate_column",
       "DAY"),
    _e("clinical_text_in_day", "assessment DAY 'day 71'", clinical(assessments=cell(A, 2, "DAY",
                                                                                     "day 71")),
       "non_numeric", "DAY", (2,), ("'day 71'",)),
    _e("clinical_percent_sign", "MARROW_BLAST written '3%'",
       clinical(assessments=cell(A, 3, "MARROW_BLAST", "3%")), "non_numeric", "MARROW_BLAST",
       (3,), ("'3%'",)),
    _e("clinical_mrd_as_percent", "MRD 5 (a percentage, not a fraction)",
       clinical(assessments=cell(A, 1, "MRD", "5")), "fraction_range", "MRD", (1,),
       ("0 to 1",)),
    _e("clinical_marrow_over_100", "MARROW_BLAST 160 %",
       clinical(assessments=cell(A, 5, "MARROW_BLAST", "160")), "percent_range",
       "MARROW_BLAST", (5,)),
    _e("clinical_flag_two", "CIRC_BLAST 2 (a count instead of 0/1)",
       clinical(assessments=cell(A, 4, "CIRC_BLAST", "2")), "flag_values", "CIRC_BLAST", (4,)),
    _e("clinical_negative_platelets", "PLT -30000",
       clinical(assessments=cell(A, 4, "PLT", "-30000")), "negative", "PLT", (4,)),
    _e("clinical_cycle_zero", "CYCLE 0", clinical(assessments=cell(A, 1, "CYCLE", "0")),
       "cycle_values", "CYCLE", (1,)),
    _e("clinical_blank_day", "an assessment without DAY",
       clinical(assessments=cell(A, 2, "DAY", "")), "missing_value", "DAY", (2,)),
    _e("clinical_duplicate_assessment", "two assessments of subject 101 on day 29",
       clinical(assessments=cell(A, 2, "DAY", "29")), "duplicate_assessment", "DAY", (1, 2)),
    _e("clinical_duplicate_subject", "subject 102 listed twice", clinical(subjects=plus_row(S, 2)),
       "duplicate_id", "ID", (2, 4), ("102",)),
    _e("clinical_unknown_death_cause", "DEATH_CAUSE 'relapse'",
       clinical(subjects=cell(S, 2, "DEATH_CAUSE", "relapse")), "death_cause_values",
       "DEATH_CAUSE", (2,), ("'relapse'",)),
    _e("clinical_death_without_cause", "a death day without cause",
       clinical(subjects=cell(S, 3, "DEATH_CAUSE", "")), "death_cause_pairing", "DEATH_CAUSE",
       (3,)),
    _e("clinical_cause_without_death", "a death cause without death day",
       clinical(subjects=cell(S, 1, "DEATH_CAUSE", "other")), "death_cause_pairing",
       "DEATH_CAUSE", (1,)),
    _e("clinical_contact_after_death", "last contact on day 60, death on day 40",
       clinical(subjects=cell(S, 3, "LAST_CONTACT_DAY", "60")), "contact_after_death",
       "LAST_CONTACT_DAY", (3,), ("LAST_CONTACT_DAY 60 > DEATH_DAY 40",)),
    _e("clinical_relapse_after_death", "relapse on day 160, death on day 150",
       clinical(subjects=cell(S, 2, "RELAPSE_DAY", "160")), "relapse_after_death",
       "RELAPSE_DAY", (2,)),
    _e("clinical_hsct_after_death", "transplant on day 50, death on day 40",
       clinical(subjects=cell(S, 3, "HSCT_DAY", "50")), "hsct_after_death", "HSCT_DAY", (3,)),
    _e("clinical_dose_after_death", "last infusion ending on day 45, death on day 40",
       clinical(subjects=cell(S, 3, "LAST_DOSE_DAY", "45")), "dose_after_death",
       "LAST_DOSE_DAY", (3,)),
    _e("clinical_contact_before_last_dose", "last dose day 400 after last contact day 365",
       clinical(subjects=cell(S, 1, "LAST_DOSE_DAY", "400")), "contact_before_last_dose",
       "LAST_CONTACT_DAY", (1,)),
    _e("clinical_grade_six", "adverse-event GRADE 6",
       clinical(adverse_events=cell(AE, 2, "GRADE", "6")), "grade_values", "GRADE", (2,)),
    _e("clinical_grade_roman", "GRADE written 'II'",
       clinical(adverse_events=cell(AE, 1, "GRADE", "II")), "non_numeric", "GRADE", (1,),
       ("'II'",)),
    _e("clinical_ae_end_before_start", "adverse event ending on day 9, starting on day 10",
       clinical(adverse_events=cell(AE, 2, "END_DAY", "9")), "ae_end_before_start", "END_DAY",
       (2,)),
    _e("clinical_ae_term_blank", "adverse event without TERM",
       clinical(adverse_events=cell(AE, 3, "TERM", " ")), "missing_value", "TERM", (3,)),
    _e("clinical_ae_related_yes", "RELATED written 'Y'",
       clinical(adverse_events=cell(AE, 1, "RELATED", "Y")), "non_numeric", "RELATED", (1,)),
    _e("clinical_ae_duplicate_row", "an adverse-event row pasted twice",
       clinical(adverse_events=plus_row(AE, 3)), "duplicate_row", None, (5,),
       ("row 5 = row 3",)),
    _e("clinical_assessment_unknown_subject", "an assessment of subject 104 (not a subject)",
       clinical(assessments=cell(A, 5, "ID", "104")), "unknown_subject", "ID", (5,), ("104",)),
    _e("clinical_ae_unknown_subject", "an adverse event of subject 1033 (typo)",
       clinical(adverse_events=cell(AE, 4, "ID", "1033")), "unknown_subject", "ID", (4,)),
    _e("clinical_assessment_after_death", "an assessment on day 45 of a subject dead on day 40",
       clinical(assessments=cell(A, 5, "DAY", "45")), "assessment_after_death", "DAY", (5,),
       ("DAY 45 > DEATH_DAY 40",)),
    _e("clinical_ae_after_death", "an adverse event starting the day after death",
       clinical(adverse_events=cells(AE, 4, START_DAY="41", END_DAY="")), "ae_after_death",
       "START_DAY", (4,)),
    _e("clinical_contact_before_assessment", "last contact day 60 before an assessment on day 71",
       clinical(subjects=cell(S, 1, "LAST_CONTACT_DAY", "60")), "contact_before_assessment",
       "LAST_CONTACT_DAY", (1,)),
    _e("clinical_infinite_day", "START_DAY inf",
       clinical(adverse_events=cell(AE, 1, "START_DAY", "inf")), "non_finite", "START_DAY",
       (1,)),
    _e("clinical_too_many_fields", "an adverse-event line with an extra field",
       clinical(adverse_events=cell(AE, 2, "SERIOUS", "1,1")), "csv_parse", None,
       key=("adverse_events", "line 3")),
    _e("clinical_no_table", "read_clinical() without any table", lambda tmp: read_clinical(),
       "no_table", None),
)


def _warn(name, what, call, key):
    return Case(name, "clinical", what, call, DataWarning, key=tuple(key))


def _write(tmp: Path, name: str, text: str) -> Path:
    path = tmp / f"{name}.csv"
    path.write_text(text, encoding="utf-8")
    return path


def _with_event_table(tmp: Path):
    """The base clinical tables beside the event-table catalogue's base file (IDs 1 and 2)."""
    dataset = read_dataset(_write(tmp, "events", BASE_CSV))
    return read_clinical(**{k: _write(tmp, k, v) for k, v in BASE.items()}, dataset=dataset)


CLINICAL_WARNINGS: tuple[Case, ...] = (
    _warn("clinical_subject_without_assessment", "subject 103 has no assessment row",
          clinical(assessments="".join(ASSESSMENTS_CSV.splitlines(keepends=True)[:5])),
          ("no response assessment", "103")),
    _warn("clinical_ids_missing_from_event_table", "clinical IDs 101-103, event-table IDs 1-2",
          _with_event_table, ("no PK data", "101", "no row in the clinical tables")),
)

"""Properties of the clinical reader: random valid tables pass, whole and sorted; any single
injected violation is reported with the right table, rule, column and row."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
from clinical_strategies import valid_studies
from clinical_tables import with_cell
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from blinapk.data import read_clinical, validate_clinical, write_clinical
from blinapk.errors import BlinapkWarning, DataValidationError

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _col(df: pd.DataFrame, name: str) -> str:
    """The frame's spelling of contract column ``name`` (names may be lower-case)."""
    return next(c for c in df.columns if c.upper() == name)


@FUZZ
@given(valid_studies())
def test_valid_tables_pass_whole_and_sorted(t):
    before = {k: v.copy(deep=True) for k, v in t.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every subject has an assessment: nothing to warn about
        data = read_clinical(**t)
    for name, df in t.items():
        pd.testing.assert_frame_equal(df, before[name])  # never mutated
        got = data.table(name)
        assert sorted(got["ROW"]) == list(range(1, len(df) + 1))
        src = df.rename(columns=str.upper).assign(ROW=np.arange(1, len(df) + 1)).set_index("ROW")
        mine = got.set_index("ROW").loc[src.index]
        for col in ("LAST_CONTACT_DAY", "DAY", "MARROW_BLAST", "MRD", "GRADE", "END_DAY"):
            if col in src.columns:  # values travel with their row
                np.testing.assert_array_equal(mine[col].to_numpy(float), src[col].to_numpy(float))
    order = {sid: k for k, sid in enumerate(data.subjects["ID"])}
    for name in ("assessments", "adverse_events"):
        f, day = data.table(name), "DAY" if name == "assessments" else "START_DAY"
        key = list(zip(f["ID"].map(order), f[day], f["ROW"], strict=True))
        assert key == sorted(key)


#: (table, reported column, cells to set from the row's values, rule, only that row)
INJECTIONS = [
    ("subjects", "AGE", lambda r: {"AGE": -1.0}, "negative"),
    ("subjects", "BLAST", lambda r: {"BLAST": 150.0}, "percent_range"),
    ("subjects", "DEATH_CAUSE", lambda r: {"DEATH_CAUSE": "relapse"}, "death_cause_values"),
    ("subjects", "LAST_DOSE_DAY", lambda r: {"LAST_DOSE_DAY": "abc"}, "non_numeric"),
    ("subjects", "LAST_CONTACT_DAY", lambda r: {"LAST_CONTACT_DAY": math.inf}, "non_finite"),
    ("subjects", "LAST_CONTACT_DAY",
     lambda r: {"DEATH_DAY": r["LAST_CONTACT_DAY"] - 1, "DEATH_CAUSE": "other"},
     "contact_after_death"),
    ("subjects", "RELAPSE_DAY",
     lambda r: {"DEATH_DAY": r["LAST_CONTACT_DAY"], "DEATH_CAUSE": "other",
                "RELAPSE_DAY": r["LAST_CONTACT_DAY"] + 1}, "relapse_after_death"),
    ("subjects", "DEATH_CAUSE", lambda r: {"DEATH_DAY": r["LAST_CONTACT_DAY"],
                                           "DEATH_CAUSE": None}, "death_cause_pairing"),
    ("assessments", "MRD", lambda r: {"MRD": 1.5}, "fraction_range"),
    ("assessments", "CIRC_BLAST", lambda r: {"CIRC_BLAST": 2}, "flag_values"),
    ("assessments", "CYCLE", lambda r: {"CYCLE": 0}, "cycle_values"),
    ("assessments", "PLT", lambda r: {"PLT": -5.0}, "negative"),
    ("assessments", "MARROW_BLAST", lambda r: {"MARROW_BLAST": 101}, "percent_range"),
    ("assessments", "DAY", lambda r: {"DAY": None}, "missing_value"),
    ("assessments", "ID", lambda r: {"ID": "ghost?"}, "unknown_subject"),
    ("adverse_events", "GRADE", lambda r: {"GRADE": 6}, "grade_values"),
    ("adverse_events", "GRADE", lambda r: {"GRADE": "III"}, "non_numeric"),
    ("adverse_events", "SERIOUS", lambda r: {"SERIOUS": 3}, "flag_values"),
    ("adverse_events", "END_DAY", lambda r: {"END_DAY": r["START_DAY"] - 1},
     "ae_end_before_start"),
    ("adverse_events", "TERM", lambda r: {"TERM": ""}, "missing_value"),
]  # fmt: skip


@FUZZ
@given(valid_studies(), st.sampled_from(INJECTIONS), st.data())
def test_single_injected_violation_is_reported_at_its_row(t, injection, data):
    table, column, cells, rule = injection
    df = t[table]
    assume(len(df) > 0)
    i = data.draw(st.integers(0, len(df) - 1), label="row index")
    row = {c.upper(): v for c, v in df.iloc[i].items()}
    for col, value in cells(row).items():
        df = with_cell(df, i + 1, _col(df, col), value)
    t = {**t, table: df}
    hits = [v for v in validate_clinical(**t)
            if (v.table, v.rule, v.column) == (table, rule, column)]
    assert len(hits) == 1, validate_clinical(**t)
    assert hits[0].rows == (i + 1,)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_studies())
def test_csv_round_trip_of_random_tables(tmp_path_factory, t):
    src = tmp_path_factory.mktemp("source")
    paths = {}
    for name, df in t.items():
        paths[name] = src / f"{name}.csv"
        df.to_csv(paths[name], index=False)
    data = read_clinical(**paths)
    back = read_clinical(**write_clinical(data, tmp_path_factory.mktemp("written")))
    for name in data.tables:
        pd.testing.assert_frame_equal(back.table(name), data.table(name))
    assert back.hash == data.hash
    # the CSV file and the DataFrame give the same contract columns
    from_frames = read_clinical(**t)
    for name in data.tables:
        got, want = from_frames.table(name), data.table(name)
        cols = [c for c in want.columns if c not in ("NOTE",)]
        pd.testing.assert_frame_equal(got[cols], want[cols])


_JUNK = st.sampled_from(["", " ", ".", "abc", "3%", "NA", "inf", "-inf", math.inf, -1.0, 0,
                         1e308, -1e-300, True, None, np.nan, "II", "1,5", "Progression", 7,
                         pd.Timestamp("2024-01-01"), 2.5])


@FUZZ
@given(valid_studies(), st.data())
def test_corrupted_tables_raise_only_data_validation_errors(t, data):
    for _ in range(data.draw(st.integers(1, 4), label="corruptions")):
        name = data.draw(st.sampled_from(sorted(t)), label="table")
        df = t[name]
        if len(df) == 0:
            continue
        kind = data.draw(st.sampled_from(["cell", "drop", "dup"]), label="kind")
        if kind == "cell":
            i = data.draw(st.integers(1, len(df)))
            col = data.draw(st.sampled_from(list(df.columns)))
            df = with_cell(df, i, col, data.draw(_JUNK, label="value"))
        elif kind == "drop":
            df = df.drop(columns=data.draw(st.sampled_from(list(df.columns))))
        else:
            df = pd.concat([df, df.iloc[[0]]], ignore_index=True)
        t = {**t, name: df}
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        try:
            result = read_clinical(**t)
        except DataValidationError as exc:
            assert exc.violations
            for v in exc.violations:
                n = len(t[v.table]) if getattr(v, "table", "") in t else 0
                assert all(1 <= r <= n for r in v.rows), (v, n)
            assert {(v.table, v.rule, v.rows) for v in validate_clinical(**t)} == {
                (v.table, v.rule, v.rows) for v in exc.violations}
        else:
            for name in result.tables:
                assert sorted(result.table(name)["ROW"]) == list(range(1, len(t[name]) + 1))
    leaked = [w for w in rec if not issubclass(w.category, BlinapkWarning)]
    assert not leaked, [f"{w.category.__name__}: {w.message}" for w in leaked]

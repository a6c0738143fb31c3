"""One test per validation rule: the error names the rule, the column and the 1-based rows."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from blinapk.data import RULES, read_dataset, validate_frame
from blinapk.errors import DataValidationError


def _set(df, row, col, value):
    """Set a cell by 1-based source row (object-safe)."""
    df = df.copy()
    if not isinstance(value, int | float) or df[col].dtype.kind not in "if":
        df[col] = df[col].astype(object)
    df.loc[row - 1, col] = value
    return df


CASES = {
    # rule: (mutation, column, rows)
    "non_numeric": (lambda d: _set(d, 3, "DV", "<50"), "DV", (3,)),
    "missing_value": (lambda d: _set(d, 4, "TIME", np.nan), "TIME", (4,)),
    "non_finite": (lambda d: _set(d, 2, "DV", np.inf), "DV", (2,)),
    "negative": (lambda d: _set(d, 1, "RATE", -1.0), "RATE", (1,)),
    "time_decreasing": (lambda d: _set(d, 3, "TIME", 1.0), "TIME", (3,)),
    "evid_values": (lambda d: _set(d, 7, "EVID", 4), "EVID", (7,)),
    "mdv_values": (lambda d: _set(d, 7, "MDV", 2), "MDV", (7,)),
    "mdv_non_observation": (lambda d: _set(d, 6, "MDV", 0), "MDV", (6,)),
    "missing_dv": (lambda d: _set(d, 9, "DV", np.nan), "DV", (9,)),
    "dose_amount": (lambda d: _set(d, 4, "AMT", 0.0), "AMT", (4,)),
    "dose_rate_missing": (lambda d: _set(d, 4, "RATE", np.nan), "RATE", (4,)),
    "unknown_dvid": (lambda d: _set(d, 8, "DVID", "CRP"), "DVID", (8,)),
    "cens_values": (lambda d: d.assign(CENS=[0, 0, 0, 0, 0, 0, 0, 2, 0]), "CENS", (8,)),
    "cens_above_lloq": (lambda d: d.assign(CENS=[0, 1, 0, 0, 0, 0, 0, 1, 0]), "DV", (2,)),
    "lod_above_lloq": (lambda d: d.assign(LOD=[3.0] * 6 + [80.0, 3.0, 3.0]), "LOD", (7,)),
    "duplicate_row": (
        lambda d: pd.concat([d, d.iloc[[4]]], ignore_index=True), None, (10,)),
    "duplicate_dose": (
        lambda d: pd.concat([d.iloc[:1].assign(CYCLE=2), d.assign(CYCLE=1)], ignore_index=True),
        "AMT", (1, 2)),
    "obs_without_dose": (
        lambda d: pd.concat([d, d.iloc[[1, 2]].assign(ID=3)], ignore_index=True), "ID", (10, 11)),
    "missing_column": (lambda d: d.drop(columns="MDV"), "MDV", ()),
    "empty_column": (lambda d: d.assign(WT=np.nan), "WT", ()),
    "empty": (lambda d: d.iloc[:0], None, ()),
    "duplicate_column": (lambda d: d.assign(dv=d["DV"]), "DV", ()),
    "row_column": (lambda d: d.assign(ROW=[1, 2, 3, 4, 5, 6, 7, 7, 9]), "ROW", (7, 8)),
    "comment_flag": (lambda d: d.assign(C=[".", ".", "X", ".", ".", ".", ".", ".", "."]), "C",
                     (3,)),
    "addl_values": (lambda d: d.assign(ADDL=[0, 0, 0, 1.5, 0, 0, 0, 0, 0], II=24.0), "ADDL",
                    (4,)),
    "addl_without_ii": (lambda d: d.assign(ADDL=[2, 0, 0, 0, 0, 0, 0, 0, 0]), "II", (1,)),
    "steady_state": (lambda d: d.assign(SS=[0, 0, 0, 0, 0, 1, 0, 0, 0]), "SS", (6,)),
}  # fmt: skip

CSV_ONLY = {"csv_parse"}


def test_every_rule_has_a_case():
    names = {r.name for r in RULES}
    assert names - CSV_ONLY == set(CASES), names ^ set(CASES)
    assert len(names) == len(RULES)
    for rule in RULES:
        assert rule.description.endswith(".")


def test_base_frame_is_valid(frame):
    assert validate_frame(frame) == []


@pytest.mark.parametrize("rule", sorted(CASES))
def test_rule(rule, frame):
    mutate, column, rows = CASES[rule]
    bad = mutate(frame)
    found = [v for v in validate_frame(bad) if v.rule == rule]
    assert found, f"{rule} not reported"
    v = found[0]
    assert v.column == column
    assert v.rows == rows
    with pytest.raises(DataValidationError) as info:
        read_dataset(bad)
    text = str(info.value)
    assert f"[{rule}]" in text
    if column:
        assert f"column {column}" in text
    for r in rows:
        assert str(r) in text
    assert any(x.rule == rule for x in info.value.violations)


def test_non_numeric_names_the_text(frame):
    bad = _set(_set(frame, 3, "DV", "<50"), 5, "DV", "1,5")
    (v,) = [v for v in validate_frame(bad) if v.rule == "non_numeric"]
    assert v.rows == (3, 5)
    assert "'<50'" in v.message and "'1,5'" in v.message and "row 3" in v.message


def test_all_violations_collected_at_once(frame):
    bad = _set(_set(_set(frame, 3, "TIME", 1.0), 7, "EVID", 4), 2, "DV", -5.0)
    with pytest.raises(DataValidationError) as info:
        read_dataset(bad)
    rules = {v.rule for v in info.value.violations}
    assert {"time_decreasing", "evid_values", "negative"} <= rules
    assert "3 data validation error(s)" in str(info.value)


def test_interleaved_subjects_are_fine_but_per_subject_time_counts(frame):
    # subject rows need not be contiguous; TIME order is checked per subject
    order = [0, 5, 1, 6, 2, 3, 7, 4, 8]
    assert validate_frame(frame.iloc[order].reset_index(drop=True)) == []


def test_nonmem_dot_and_blank_are_missing(tmp_path: Path, frame):
    p = tmp_path / "d.csv"
    text = frame.to_csv(index=False).splitlines()
    # observation with MDV 1 and DV "." is fine; AMT "." on an observation reads as 0
    text[2] = "1,2.0,0,.,0.0,.,1,BLIN"
    p.write_text("\n".join(text) + "\n")
    ds = read_dataset(p)
    row = ds.frame.set_index("ROW").loc[2]
    assert np.isnan(row["DV"]) and row["AMT"] == 0.0


def test_doses_without_observations_are_valid(frame):
    sim = pd.concat([frame, frame.iloc[[0]].assign(ID=9)], ignore_index=True)
    ds = read_dataset(sim)
    assert ds.subjects_without_observations == (9,)


def test_empty_file_and_header_only(tmp_path: Path, frame):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(DataValidationError, match=r"\[empty\]"):
        read_dataset(empty)
    header = tmp_path / "header.csv"
    header.write_text(",".join(frame.columns) + "\n")
    (v,) = validate_frame(header)
    assert v.rule == "empty" and "header only" in v.message


def test_unparsable_csv_is_a_typed_error(tmp_path: Path):
    p = tmp_path / "bad.csv"
    p.write_text("ID,TIME\n1,0,5,6\n")
    with pytest.raises(DataValidationError, match=r"\[csv_parse\]"):
        read_dataset(p)


def test_negative_dv_allowed_only_when_mdv_1(frame):
    ok = _set(_set(frame, 9, "DV", -99.0), 9, "MDV", 1)
    assert validate_frame(ok) == []


def test_registered_dvid_is_known(frame):
    bad = _set(frame, 8, "DVID", "crp")
    ds = read_dataset(bad, dvids={"CRP": {"lloq": 300.0, "lod": 10.0}})
    row = ds.frame.set_index("ROW").loc[8]
    assert row["DVID"] == "CRP" and row["LLOQ"] == 300.0 and row["CENS"] == 1


@pytest.mark.parametrize(
    "spec", [{"CRP": {"lod": 1.0}}, {"CRP": {"lloq": -1}}, {"CRP": {"lloq": 1, "x": 2}},
             {"CRP": {"lloq": 1, "lod": 5}}, {"CRP": 3}])
def test_bad_dvid_registration(spec, frame):
    with pytest.raises(DataValidationError, match="dvid_registry"):
        read_dataset(frame, dvids=spec)


def test_blank_dvid_on_observation_is_reported(frame):
    bad = _set(frame, 2, "DVID", "")
    (v,) = [v for v in validate_frame(bad) if v.rule == "unknown_dvid"]
    assert v.rows == (2,) and v.column == "DVID"
    # a blank DVID on a dose row is filled with BLIN
    ok = _set(frame, 1, "DVID", "")
    assert read_dataset(ok).frame.set_index("ROW").loc[1, "DVID"] == "BLIN"


def test_validation_is_vectorised_on_many_violations():
    n = 20_000
    k = n // 4
    df = pd.DataFrame({"ID": np.repeat(np.arange(k), 4), "TIME": np.tile([0, 1, 2, 3.0], k),
                       "EVID": np.tile([1, 0, 0, 0], k), "AMT": 0.0, "RATE": 1.0,
                       "DV": np.tile([0, 100, 200, 300.0], k), "MDV": np.tile([1, 0, 0, 0], k)})
    (v,) = validate_frame(df)
    assert v.rule == "dose_amount" and len(v.rows) == n // 4
    assert "(+4990 more)" in str(v)

"""NONMEM idioms and first-contact files: ADDL/II/SS, comment records, ADaM input, file formats,
per-subject unit jumps. Each test is the regression test of one item that was once misread."""

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from blinapk.data import read_dataset, write_dataset
from blinapk.dosing import ADDL_SOURCE, expand_addl
from blinapk.errors import DataValidationError, DataWarning
from blinapk.nca import compute_css

R = 28.0 / 24.0
BASE = f"""ID,TIME,EVID,AMT,RATE,DV,MDV
1,0,1,28,{R!r},0,1
1,2,0,0,0,310,0
1,24,0,0,0,520,0
2,0,1,28,{R!r},0,1
2,6,0,0,0,400,0
2,24,0,0,0,30,0
"""


def _write(tmp_path: Path, text: str | bytes, name: str = "d.csv") -> Path:
    p = tmp_path / name
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text, encoding="utf-8")
    return p


def _rule(exc: DataValidationError) -> set[str]:
    return {v.rule for v in exc.violations}


# ------------------------------------------------------------------ ADDL / II / SS

ADDL = f"""ID,TIME,EVID,AMT,RATE,DV,MDV,ADDL,II
1,0,1,28,{repr(R)},0,1,3,24
1,30,0,0,0,520,0,.,.
1,90,0,0,0,560,0,.,.
1,200,0,0,0,20,0,.,.
"""


def test_addl_ii_doses_are_written_out_and_the_nca_sees_them(tmp_path):
    ds = read_dataset(_write(tmp_path, ADDL))
    doses = ds.doses()
    assert doses["TIME"].tolist() == [0.0, 24.0, 48.0, 72.0]
    assert doses["ROW"].tolist() == [1, 5, 6, 7]  # generated rows numbered after the file's
    assert doses[ADDL_SOURCE].tolist() == [0, 1, 1, 1]
    assert (ds.frame["ADDL"] == 0).all()  # written out: a re-read does not expand again
    assert any("3 additional dose record(s)" in n for n in ds.notes)
    # the samples at 30 h and 90 h are during the infusion (before: "after end of infusion")
    css = compute_css(ds).to_frame()
    assert css["N"].tolist() == [2] and css["CSS"].iloc[0] == pytest.approx(540.0)
    reasons = compute_css(ds).ledger.to_frame().set_index("ROW")["REASON"]
    assert reasons[4] == "after end of infusion"


def test_addl_dataset_round_trips_without_expanding_twice(tmp_path):
    ds = read_dataset(_write(tmp_path, ADDL))
    again = read_dataset(write_dataset(ds, tmp_path / "w.csv"))
    assert again.hash == ds.hash and len(again.doses()) == 4


def test_addl_ii_time_unit_is_converted(tmp_path):
    text = ADDL.replace(",3,24", ",2,1").replace(f"1,0,1,28,{R!r}", "1,0,1,28,28")
    ds = read_dataset(_write(tmp_path, text), units={"time": "day", "rate": "ug/day"})
    assert ds.doses()["TIME"].tolist() == [0.0, 24.0, 48.0]


@pytest.mark.parametrize(("cells", "rule", "column"), [
    (",2,.", "addl_without_ii", "II"),
    (",1.5,24", "addl_values", "ADDL"),
    (",-1,24", "addl_values", "ADDL"),
])
def test_bad_addl_records_are_refused(tmp_path, cells, rule, column):
    text = ADDL.replace(",3,24", cells, 1)
    with pytest.raises(DataValidationError) as info:
        read_dataset(_write(tmp_path, text))
    (v,) = [v for v in info.value.violations if v.rule == rule]
    assert v.column == column and v.rows == (1,)


def test_addl_on_an_observation_is_refused(tmp_path):
    text = ADDL.replace("1,30,0,0,0,520,0,.,.", "1,30,0,0,0,520,0,2,24")
    with pytest.raises(DataValidationError) as info:
        read_dataset(_write(tmp_path, text))
    assert any(v.rule == "addl_values" and v.rows == (2,) and "not a dose" in v.message
               for v in info.value.violations)


def test_steady_state_doses_are_refused_with_what_to_do(tmp_path):
    text = BASE.replace("MDV\n", "MDV,SS,II\n").replace(",1\n", ",1,1,24\n").replace(
        ",0\n", ",0,0,.\n")
    with pytest.raises(DataValidationError) as info:
        read_dataset(_write(tmp_path, text))
    (v,) = [v for v in info.value.violations if v.rule == "steady_state"]
    assert v.rows == (1, 4) and "not supported" in v.message and "ADDL/II" in v.message


def test_expand_addl_is_pure_and_vectorised():
    doses = pd.DataFrame({"ROW": [1, 2], "ID": [1, 2], "TIME": [0.0, 5.0], "AMT": [1.0, 2.0],
                          "ADDL": [2, 0], "II": [12.0, np.nan]})
    before = doses.copy()
    out = expand_addl(doses, first_row=3)
    pd.testing.assert_frame_equal(doses, before)
    assert out["TIME"].tolist() == [12.0, 24.0] and out["ROW"].tolist() == [3, 4]
    assert expand_addl(doses.assign(ADDL=0), first_row=3).empty


# ------------------------------------------------------------------ comment records

def test_hash_lines_are_skipped_and_listed(tmp_path):
    text = "# exported 2024-05-01\n" + BASE.replace("1,24,0", "#1,24,0") + "# end of file\n"
    ds = read_dataset(_write(tmp_path, text))
    assert ds.frame["ROW"].tolist() == [1, 2, 4, 5, 6]  # rows keep their place in the file
    skipped = ds.skipped.to_frame()
    assert skipped["ROW"].tolist() == [3, 7]
    assert set(skipped["STATUS"]) == {"excluded"}
    assert set(skipped["REASON"]) == {"comment record (#)"}
    assert any("before the header" in n for n in ds.notes)


def test_commented_header_is_read(tmp_path):
    ds = read_dataset(_write(tmp_path, "#" + BASE))
    assert ds.n_rows == 6 and len(ds.skipped) == 0


def test_nonmem_c_column_first(tmp_path):
    lines = BASE.splitlines()
    text = "\n".join(["C," + lines[0]] + [".," + x for x in lines[1:]]) + "\n"
    text = text.replace(".,1,2,0", "C,1,2,0") + "C free text, of any length, here\n"
    ds = read_dataset(_write(tmp_path, text))
    assert "C" not in ds.frame.columns
    assert ds.skipped.to_frame()["ROW"].tolist() == [2, 7]
    assert sorted(ds.frame["ROW"]) == [1, 3, 4, 5, 6]


def test_nonmem_c_column_anywhere_and_frames(tmp_path):
    df = pd.read_csv(_write(tmp_path, BASE)).assign(C=[".", "C", ".", "#", ".", "0"])
    with pytest.raises(DataValidationError):  # row 4 was the only dose of subject 2
        read_dataset(df)
    ds = read_dataset(df.assign(C=[".", "C", ".", ".", ".", "0"]))
    assert ds.skipped.to_frame()[["ROW", "ID", "TIME"]].values.tolist() == [[2, "1", 2.0]]
    with pytest.raises(DataValidationError) as info:
        read_dataset(df.assign(C=[".", "X", ".", ".", ".", "."]))
    (v,) = info.value.violations
    assert (v.rule, v.column, v.rows) == ("comment_flag", "C", (2,))


def test_a_subject_id_starting_with_c_is_data(tmp_path):
    ds = read_dataset(_write(tmp_path, BASE.replace("\n2,", "\nC,")))
    assert ds.subjects == ("1", "C") and len(ds.skipped) == 0


# ------------------------------------------------------------------ files users have

def test_missing_file(tmp_path):
    with pytest.raises(DataValidationError) as info:
        read_dataset(tmp_path / "nope.csv")
    assert _rule(info.value) == {"file_not_found"} and "nope.csv" in str(info.value)
    with pytest.raises(DataValidationError, match="directory"):
        read_dataset(tmp_path)


@pytest.mark.parametrize("magic", [b"PK\x03\x04\x14\x00", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"])
def test_excel_workbook_renamed_csv(tmp_path, magic):
    with pytest.raises(DataValidationError) as info:
        read_dataset(_write(tmp_path, magic + b"\x00" * 64))
    assert _rule(info.value) == {"not_csv"} and "Save As" in str(info.value)


def test_utf16_with_bom_is_read_and_without_bom_is_explained(tmp_path):
    ds = read_dataset(_write(tmp_path, BASE.encode("utf-16")))
    assert ds.n_rows == 6 and any("UTF-16" in n for n in ds.notes)
    with pytest.raises(DataValidationError, match="encoding='utf-16-le'"):
        read_dataset(_write(tmp_path, BASE.encode("utf-16-le"), "le.csv"))
    ds = read_dataset(_write(tmp_path, BASE.encode("utf-16-le"), "le.csv"),
                      encoding="utf-16-le")
    assert ds.n_rows == 6


def test_latin1_file_is_explained_then_read(tmp_path):
    raw = BASE.replace("MDV\n", "MDV,SITE\n").replace(",1\n", ",1,Zürich\n").replace(
        ",0\n", ",0,Köln\n").encode("latin-1")
    with pytest.raises(DataValidationError, match="latin-1") as info:
        read_dataset(_write(tmp_path, raw))
    assert _rule(info.value) == {"csv_parse"} and "line 2" in str(info.value)
    ds = read_dataset(_write(tmp_path, raw), encoding="latin-1")
    assert ds.frame["SITE"].iloc[0] == "Zürich"


def test_semicolons_and_decimal_commas(tmp_path):
    text = BASE.replace(",", ";").replace("310", "310,5")
    with pytest.raises(DataValidationError) as info:
        read_dataset(_write(tmp_path, text))
    assert _rule(info.value) == {"csv_separator"} and "sep=';'" in str(info.value)
    with pytest.raises(DataValidationError, match="decimal=','") as info:
        read_dataset(_write(tmp_path, text), sep=";")
    assert _rule(info.value) == {"non_numeric"}
    ds = read_dataset(_write(tmp_path, text), sep=";", decimal=",")
    assert ds.frame.set_index("ROW").loc[2, "DV"] == 310.5
    tab = read_dataset(_write(tmp_path, BASE.replace(",", "\t"), "t.csv"), sep="\t")
    assert tab.n_rows == 6


def test_decimal_comma_in_a_comma_file_says_so(tmp_path):
    with pytest.raises(DataValidationError, match="decimal comma"):
        read_dataset(_write(tmp_path, BASE.replace("1,2,0,0,0,310,0", "1,2,0,0,0,310,5,0")))


@pytest.mark.parametrize("clock", ["08:30", "2024-01-02 08:30", "02/01/2024 08:30"])
def test_clock_times_in_time_are_named_not_duplicates(tmp_path, clock):
    text = BASE.replace("1,2,0,0,0,310,0", f"1,{clock},0,0,0,310,0").replace(
        "1,24,0,0,0,520,0", f"1,{clock},0,0,0,310,0")
    with pytest.raises(DataValidationError) as info:
        read_dataset(_write(tmp_path, text))
    (v,) = info.value.violations  # formerly also a misleading duplicate_row
    assert (v.rule, v.column, v.rows) == ("non_numeric", "TIME", (2, 3))
    assert "hours since the subject's first dose" in v.message


# ------------------------------------------------------------------ ADaM

def _adppk() -> pd.DataFrame:
    rows = []
    for sid, wt in (("STUDY1-001", 70.0), ("STUDY1-002", 55.0)):
        rows.append(dict(STUDYID="STUDY1", USUBJID=sid, AFRLT=0.0, AFRLTU="HOURS", EVID=1,
                         MDV=1, AMT=0.028, DOSEU="mg", RATE=0.028 / 24, AVAL=np.nan, AVALU="",
                         PARAMCD="", BLQFL="", WTBL=wt))
        for t, v in ((12.0, 0.52), (20.0, 0.61)):
            rows.append(dict(STUDYID="STUDY1", USUBJID=sid, AFRLT=t, AFRLTU="HOURS", EVID=0,
                             MDV=0, AMT=0.0, DOSEU="mg", RATE=0.0, AVAL=v, AVALU="ng/mL",
                             PARAMCD="BLIN", BLQFL="N", WTBL=wt))
    return pd.DataFrame(rows)


def test_adppk_is_mapped_and_the_mapping_reported(tmp_path):
    path = tmp_path / "adppk.csv"
    _adppk().to_csv(path, index=False)
    ds = read_dataset(path)
    f = ds.frame
    assert ds.subjects == ("STUDY1-001", "STUDY1-002")
    assert ds.observations()["DV"].tolist() == [520.0, 610.0, 520.0, 610.0]  # ng/mL -> pg/mL
    assert ds.doses()["AMT"].tolist() == [28.0, 28.0]  # mg -> ug
    assert (f["WT"].groupby(f["ID"]).first() == [70.0, 55.0]).all()
    notes = "\n".join(ds.notes)
    for line in ("ID <- USUBJID", "TIME <- AFRLT", "DV <- AVAL", "DVID <- PARAMCD",
                 "dv unit ng/mL (from AVALU)", "amt unit mg (from DOSEU)", "CENS <- BLQFL",
                 "WT <- WTBL"):
        assert line in notes, line


def test_adpc_without_evid_and_mixed_units(tmp_path):
    adpc = _adppk().drop(columns=["EVID", "MDV"])
    adpc.loc[2, ["AVAL", "AVALU"]] = [610.0, "pg/mL"]
    ds = read_dataset(adpc)
    assert ds.observations()["DV"].tolist() == [520.0, 610.0, 520.0, 610.0]
    notes = "\n".join(ds.notes)
    assert "EVID derived" in notes and "converted to ng/mL" in notes


def test_adam_without_time_since_first_dose_is_refused():
    adpc = _adppk().rename(columns={"AFRLT": "ARELTM"})
    with pytest.raises(DataValidationError, match="ARELTM is the time since the most recent"):
        read_dataset(adpc)


# ------------------------------------------------------------------ per-subject unit jumps

def test_one_subject_in_ng_per_ml_in_a_pg_per_ml_file_warns():
    rows = []
    for sid in range(1, 7):
        rows.append(dict(ID=sid, TIME=0.0, EVID=1, AMT=28.0 * 7, RATE=R, DV=0.0, MDV=1))
        for t in (24.0, 72.0, 144.0):
            dv = 500.0 + 10 * sid
            rows.append(dict(ID=sid, TIME=t, EVID=0, AMT=0.0, RATE=0.0,
                             DV=dv / 1000 if sid == 4 else dv, MDV=0))
    df = pd.DataFrame(rows)
    with pytest.warns(DataWarning, match=r"1 subject\(s\).*4 .*ng/mL in a pg/mL file"):
        read_dataset(df)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        read_dataset(df[df["ID"] != 4])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.booleans(), min_size=6, max_size=6), st.sampled_from(["\n", "\r\n", "\r"]),
       st.booleans())
def test_comment_records_are_either_rows_or_listed(tmp_path_factory, commented, newline,
                                                   c_column):
    lines = BASE.splitlines()
    if c_column:
        body = ["C," + lines[0]] + [("C," if c else ".,") + x
                                    for x, c in zip(lines[1:], commented, strict=True)]
    else:
        body = [lines[0]] + [("#" if c else "") + x
                             for x, c in zip(lines[1:], commented, strict=True)]
    path = tmp_path_factory.mktemp("c") / "d.csv"
    path.write_bytes((newline.join(body) + newline).encode())
    try:
        ds = read_dataset(path)
    except DataValidationError as exc:  # e.g. a subject's only dose commented out
        assert {v.rule for v in exc.violations} <= {"obs_without_dose", "empty"}
        return
    rows = set(ds.frame["ROW"])
    skipped = set(ds.skipped.to_frame()["ROW"])
    assert rows | skipped == set(range(1, 7)) and not rows & skipped
    assert skipped == {i + 1 for i, c in enumerate(commented) if c}

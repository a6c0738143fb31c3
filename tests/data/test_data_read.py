"""The Dataset contract of docs/design.md, checked on hand-built inputs."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from blinapk.data import Dataset, read_dataset
from blinapk.data.dataset import CANONICAL_ORDER, frame_hash
from blinapk.errors import DataValidationError


def test_input_frame_is_not_mutated(frame):
    frame.columns = [c.lower() for c in frame.columns]
    before = frame.copy(deep=True)
    ds = read_dataset(frame)
    pd.testing.assert_frame_equal(frame, before)
    f = ds.frame
    f.loc[0, "DV"] = -1.0
    f["NEW"] = 1
    assert "NEW" not in ds.frame.columns and ds.frame.loc[0, "DV"] == 0.0


def test_contract_columns_types_and_defaults(frame):
    ds = read_dataset(frame.drop(columns="DVID").assign(Wt=70.0, site="X"))
    f = ds.frame
    assert tuple(f.columns) == CANONICAL_ORDER + ("WT", "SITE")
    assert f["ID"].dtype == np.int64 and f["EVID"].dtype == np.int64
    assert f["MDV"].dtype == np.int64 and f["CENS"].dtype == np.int64
    assert f["ROW"].dtype == np.int64
    for c in ("TIME", "AMT", "RATE", "DV", "LLOQ", "LOD"):
        assert f[c].dtype == np.float64
    assert (f["DVID"] == "BLIN").all()
    assert (f["LLOQ"] == 50.0).all() and (f["LOD"] == 3.0).all()  # seed BLIN limits
    assert (f["SITE"] == "X").all() and (f["WT"] == 70.0).all()


def test_seed_limits_per_dvid_and_cens_derivation(frame):
    f = read_dataset(frame).frame.set_index("ROW")
    assert f.loc[3, "DVID"] == "IL6" and f.loc[3, "LLOQ"] == 125.0 and f.loc[3, "LOD"] == 20.0
    # IL6 150 >= 125 quantified; BLIN 30 < 50 censored; doses never censored
    assert f.loc[3, "CENS"] == 0 and f.loc[8, "CENS"] == 1
    assert f.loc[[1, 4, 6], "CENS"].eq(0).all()
    assert int(f["CENS"].sum()) == 1


def test_row_specific_limits_and_given_cens_win(frame):
    df = frame.assign(LLOQ=[np.nan] * 7 + [20.0, np.nan], CENS=[np.nan] * 8 + [0])
    f = read_dataset(df).frame.set_index("ROW")
    assert f.loc[8, "LLOQ"] == 20.0 and f.loc[8, "CENS"] == 0  # 30 >= 20
    assert f.loc[2, "LLOQ"] == 50.0


def test_sorting_first_appearance_time_dose_first_then_row(frame):
    # subject 2 first in the file; the tied dose (row 5) is written after its observation (row 4)
    df = pd.concat([frame.iloc[5:], frame.iloc[:5]], ignore_index=True)
    df = df.iloc[[0, 1, 2, 3, 4, 5, 6, 8, 7]].reset_index(drop=True)
    ds = read_dataset(df)
    f = ds.frame
    assert ds.subjects == (2, 1)
    assert f["ROW"].tolist() == [1, 2, 3, 4, 5, 6, 7, 9, 8]
    assert f.loc[7, "EVID"] == 1 and f.loc[8, "EVID"] == 0  # dose before obs at TIME 24
    assert f.index.equals(pd.RangeIndex(len(f)))


def test_accessors(frame):
    ds = read_dataset(frame.assign(BSA=[1.8] * 5 + [np.nan, 2.0, 2.1, 2.1]))
    obs = ds.observations()
    assert set(obs["DVID"]) == {"BLIN"} and len(obs) == 5 and (obs["EVID"] == 0).all()
    assert len(ds.observations("il6")) == 1 and len(ds.observations(None)) == 6
    assert len(ds.observations("IL2")) == 0
    with pytest.raises(DataValidationError):
        ds.observations("CRP")
    assert ds.doses()["ROW"].tolist() == [1, 4, 6]
    cov = ds.covariates(["bsa"])
    assert cov["ID"].tolist() == [1, 2] and cov["BSA"].tolist() == [1.8, 2.0]
    with pytest.raises(DataValidationError, match="missing_column"):
        ds.covariates("WT")
    assert ds.n_rows == 9 and ds.units.dv == "pg/mL"
    s = ds.summary().set_index("DVID")
    assert s.loc["BLIN", "N_OBS"] == 5 and s.loc["BLIN", "N_CENSORED"] == 1
    assert s.loc["BLIN", "N_SUBJECTS"] == 2
    assert "9 rows, 2 subjects" in repr(ds)
    obs.loc[obs.index[0], "DV"] = 0.0
    assert ds.observations()["DV"].iloc[0] == 310.0


def test_huge_and_non_ascii_ids(tmp_path: Path, frame):
    huge = "123456789012345678901234567890"
    df = frame.assign(ID=[huge] * 5 + ["Pätiënt-東京"] * 4)
    ds = read_dataset(df)
    assert ds.subjects == (huge, "Pätiënt-東京")
    p = tmp_path / "ids.csv"
    df.to_csv(p, index=False, encoding="utf-8")
    ds2 = read_dataset(p)
    assert ds2.subjects == (huge, "Pätiënt-東京")
    # int64 IDs near the limit stay exact integers
    big = 2**62 + 1
    assert read_dataset(frame.assign(ID=[big] * 5 + [3] * 4)).subjects == (big, 3)


def test_integer_like_text_ids_become_int(tmp_path: Path, frame):
    assert read_dataset(frame.assign(ID=frame["ID"].astype(str))).frame["ID"].dtype == np.int64
    assert read_dataset(frame.assign(ID=frame["ID"] * 1.0)).subjects == (1, 2)
    # distinct texts that would collide as integers stay text
    ds = read_dataset(frame.assign(ID=["007"] * 5 + ["7"] * 4))
    assert ds.subjects == ("007", "7")


def test_csv_case_insensitive_header_and_bom(tmp_path: Path, frame):
    p = tmp_path / "d.csv"
    text = frame.rename(columns=str.lower).to_csv(index=False)
    p.write_bytes(("\ufeff" + text).encode("utf-8"))
    ds = read_dataset(p)
    assert ds.frame.loc[0, "ID"] == 1 and ds.source == str(p)


def test_input_row_column_is_honoured(frame):
    ds = read_dataset(frame)
    again = read_dataset(ds.frame)
    pd.testing.assert_frame_equal(again.frame, ds.frame)
    assert again.hash == ds.hash


def test_hash_is_sensitive_and_canonical(frame):
    ds = read_dataset(frame)
    assert len(ds.hash) == 64 and ds.hash == read_dataset(frame.copy()).hash
    changed = frame.copy()
    changed.loc[1, "DV"] = 310.0000001
    assert read_dataset(changed).hash != ds.hash
    f = ds.frame
    g = f.copy()
    g["DV"] = g["DV"] * -0.0 + g["DV"]  # -0.0 vs 0.0 fold
    assert frame_hash(f) == frame_hash(g)
    assert frame_hash(f) != frame_hash(f.assign(ID=f["ID"].astype(str)))


def test_dataset_is_frozen(frame):
    ds = read_dataset(frame)
    with pytest.raises(AttributeError):
        ds.source = "x"  # type: ignore[misc]
    assert isinstance(ds, Dataset)

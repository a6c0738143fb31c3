"""Hypothesis fuzzing of the reader: valid data never raises and no row is ever lost;
corrupted data raises only DataValidationError / UnitError naming real source rows."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reliability_strategies import corrupted_frames, valid_frames

from blinapk.data import RowLedger, read_dataset, validate_frame
from blinapk.errors import BlinapkWarning, DataValidationError, UnitError

FUZZ = settings(max_examples=50, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _read(source, **kwargs):
    """read_dataset with every non-blinapk warning turned into an error."""
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        ds = read_dataset(source, **kwargs)
    leaked = [w for w in rec if not issubclass(w.category, BlinapkWarning)]
    assert not leaked, [f"{w.category.__name__}: {w.message}" for w in leaked]
    return ds


@FUZZ
@given(valid_frames())
def test_valid_data_never_raises_and_keeps_every_row(df):
    before = df.copy(deep=True)
    ds = _read(df)
    pd.testing.assert_frame_equal(df, before)  # never mutated
    f = ds.frame
    n_in = len(df)
    # row accounting: every source row is in the table exactly once
    assert len(f) == n_in
    assert sorted(f["ROW"]) == list(range(1, n_in + 1))
    # values travel with their row (sorting never mixes rows up)
    src = df.rename(columns=str.upper).assign(ROW=np.arange(1, n_in + 1)).set_index("ROW")
    got = f.set_index("ROW").loc[src.index]
    for col in ("TIME", "EVID", "AMT", "RATE", "MDV"):
        np.testing.assert_array_equal(got[col].to_numpy(float), src[col].to_numpy(float))
    np.testing.assert_array_equal(got["DV"].to_numpy(float), src["DV"].to_numpy(float))
    # IDs are normalised ("7.0" -> 7) but never merged or split: a bijection of subjects
    pairs = set(zip([str(x).strip() for x in src["ID"]], [str(x) for x in got["ID"]],
                    strict=True))
    assert len(pairs) == len({a for a, _ in pairs}) == len({b for _, b in pairs})
    # sorted by subject (first appearance) then time, doses first at ties
    for _, g in f.groupby("ID", sort=False):
        assert (np.diff(g["TIME"].to_numpy()) >= 0).all()
    assert list(ds.subjects) == list(dict.fromkeys(f["ID"]))
    # a ledger of the observation rows adds up: n_in = used + modified + excluded
    obs = ds.observations(None)
    status = np.where(obs["MDV"] == 1, "excluded", np.where(obs["CENS"] == 1, "modified",
                                                              "used"))
    reason = np.where(obs["MDV"] == 1, "MDV=1", np.where(obs["CENS"] == 1, "BLQ", ""))
    ledger = RowLedger.from_reasons(obs, status, reason)
    ledger.check(obs)
    counts = ledger.counts(by="status").set_index("STATUS")["N"]
    assert counts.sum() == len(obs) == int((df.rename(columns=str.upper)["EVID"] == 0).sum())


@settings(FUZZ, max_examples=30)
@given(valid_frames())
def test_csv_and_frame_give_the_same_dataset(tmp_path_factory, df):
    path = tmp_path_factory.mktemp("fuzz") / "d.csv"
    df.to_csv(path, index=False)
    a, b = _read(df), _read(path)
    assert len(a.frame) == len(b.frame) == len(df)
    pd.testing.assert_frame_equal(
        a.frame.assign(ID=a.frame["ID"].astype(str)), b.frame.assign(ID=b.frame["ID"].astype(str)),
        check_dtype=False)


@settings(FUZZ, max_examples=80)
@given(corrupted_frames())
def test_corrupted_data_is_refused_with_real_rows_or_read_whole(df):
    before = df.copy(deep=True)
    n = len(df)
    try:
        ds = _read(df)
    except (DataValidationError, UnitError) as exc:
        violations = exc.violations if isinstance(exc, DataValidationError) else ()
        for v in violations:
            assert set(v.rows) <= set(range(1, n + 1)), (v, n)
            assert v.column is None or isinstance(v.column, str)
        # validate_frame reports the same problems without raising
        if isinstance(exc, DataValidationError) and violations[0].rule != "csv_parse":
            assert tuple(validate_frame(df)) == violations
    else:
        assert len(ds.frame) == n  # accepted: nothing dropped
        assert sorted(ds.frame["ROW"]) == list(range(1, n + 1))
    pd.testing.assert_frame_equal(df, before)


_CELLS = st.sampled_from(["1", "0", "2", "28", "1.5", "-1", "", ".", "abc", "inf", "nan",
                          '"', '"1,2"', " ", "1e309", "é", "\t"])


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(_CELLS, min_size=0, max_size=9), min_size=0, max_size=8),
       st.sampled_from(["ID,TIME,EVID,AMT,RATE,DV,MDV", "id,time,evid,amt,rate,dv,mdv,cens",
                        "ID,TIME,DV", ""]))
def test_arbitrary_csv_text_never_escapes_as_an_internal_error(tmp_path_factory, body, header):
    path = tmp_path_factory.mktemp("txt") / "d.csv"
    text = header + "\n" + "\n".join(",".join(r) for r in body) + ("\n" if body else "")
    path.write_text(text, encoding="utf-8")
    try:
        ds = _read(path)
    except (DataValidationError, UnitError):
        return
    # accepted: one row per non-blank data line
    assert len(ds.frame) == sum(1 for r in body if "".join(r).strip())


@settings(max_examples=60, deadline=None)
@given(st.binary(min_size=0, max_size=200))
def test_arbitrary_bytes_are_refused_cleanly(tmp_path_factory, raw):
    path = tmp_path_factory.mktemp("bin") / "d.csv"
    path.write_bytes(raw)
    try:
        _read(path)
    except (DataValidationError, UnitError):
        pass

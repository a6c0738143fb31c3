"""frame_to_csv writes the same bytes as DataFrame.to_csv."""

import io

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from blinapk.data.csv_text import frame_to_csv


def _both(frame: pd.DataFrame, header: bool = True) -> tuple[str, str]:
    fast, ref = io.StringIO(), io.StringIO()
    frame_to_csv(frame, fast, header=header)
    frame.to_csv(ref, index=False, header=header, lineterminator="\n")
    return fast.getvalue(), ref.getvalue()


def test_hand_table_with_every_column_kind():
    frame = pd.DataFrame({
        "ID": [1, 2, 3, 4],
        "TIME": [0.0, -0.0, 1e-7, np.nan],
        "BIG": [1e16, 123456789.125, np.inf, -np.inf],
        "F32": np.array([0.1, 2.5, np.nan, 3.0], dtype=np.float32),
        "OK": [True, False, True, True],
        "N": pd.array([1, None, 3, 4], dtype="Int64"),
        "TEXT": ["a,b", 'say "hi"', None, "line\nbreak"],
        "STR": pd.array(["x", None, "y", "x"], dtype="str"),
        "CAT": pd.Categorical(["used", "excluded", None, "used"]),
        "OBJ": [1, "two", 3.5, None],
    })
    fast, ref = _both(frame)
    assert fast == ref
    assert fast.splitlines()[1] == '1,0.0,1e+16,0.1,True,1,"a,b",x,used,1'
    assert _both(frame, header=False)[0] == _both(frame, header=False)[1]


def test_falls_back_for_one_column_and_dates():
    one = pd.DataFrame({"A": ["", "x"]})
    multi = pd.DataFrame([[1, 2.5]], columns=pd.MultiIndex.from_tuples([("a", "x"), ("a", "y")]))
    numbered = pd.DataFrame([[1, 2.5]], columns=[0, 1.5])
    dates = pd.DataFrame({"A": [1, 2], "D": pd.to_datetime(["2024-01-01", "2024-01-02"])})
    for frame in (one, dates, multi, numbered):
        fast, ref = _both(frame)
        assert fast == ref


def test_empty_table_is_the_header():
    fast, ref = _both(pd.DataFrame({"A": pd.Series([], dtype=float), "B": []}))
    assert fast == ref == "A,B\n"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-10**12, 10**12),
    st.one_of(st.none(), st.text(alphabet='ab ,"\n\r\t', max_size=4)),
), max_size=30))
def test_random_tables_match_to_csv(rows):
    frame = pd.DataFrame(rows, columns=["X", "I", "S"]).astype({"X": float, "I": "int64"})
    fast, ref = _both(frame)
    assert fast == ref

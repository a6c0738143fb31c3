"""dose_matrix: padding, ordering, validation with rows, no mutation."""

import numpy as np
import pandas as pd
import pytest

from blinapk.errors import DataValidationError
from blinapk.pk import DoseMatrix, dose_matrix


def _frame():
    return pd.DataFrame(
        {
            "id": ["B", "A", "B", "A", "B"],
            "time": [24.0, 0.0, 0.0, 0.0, 5.0],
            "evid": [1, 1, 1, 0, 1],
            "amt": [28.0, 9.0, 9.0, 0.0, 2.0],
            "rate": [28 / 24, 0.375, 0.375, 0.0, 0.0],
            "DV": [0.0, 0.0, 0.0, 123.0, 0.0],
        }
    )


def test_padding_sorting_and_durations():
    frame = _frame()
    before = frame.copy()
    dm = dose_matrix(frame, subjects=("A", "B", "C"))
    pd.testing.assert_frame_equal(frame, before)  # not mutated
    assert dm.amt.shape == (3, 3)
    assert dm.subjects == ("A", "B", "C")
    assert dm.n_doses.tolist() == [1, 3, 0]
    np.testing.assert_array_equal(dm.time[1], [0.0, 5.0, 24.0])  # sorted by time
    np.testing.assert_allclose(dm.duration[1], [24.0, 0.0, 24.0])
    np.testing.assert_allclose(dm.rate[1], [0.375, 0.0, 28 / 24])
    np.testing.assert_array_equal(dm.amt[2], 0.0)  # subject without doses: padding only
    np.testing.assert_allclose(dm.end[1], [24.0, 5.0, 48.0])
    with pytest.raises(ValueError):
        dm.amt[0, 0] = 1.0  # read-only


def test_string_dtype_ids_match():
    frame = _frame().astype({"id": "string"})
    dm = dose_matrix(frame, subjects=["A", "B"])
    assert dm.n_doses.tolist() == [1, 3]


def test_violations_name_rows_and_columns():
    frame = pd.DataFrame(
        {
            "ROW": [10, 11, 12, 13],
            "ID": [1, 1, 2, 9],
            "TIME": [0.0, np.nan, 1.0, 2.0],
            "EVID": 1,
            "AMT": [1.0, 2.0, 0.0, 1.0],
            "RATE": [-1.0, 0.0, 0.0, 0.0],
        }
    )
    with pytest.raises(DataValidationError) as info:
        dose_matrix(frame, subjects=[1, 2])
    got = {(v.rule, v.column, v.rows) for v in info.value.violations}
    assert got == {
        ("not_finite", "TIME", (11,)),
        ("amt_not_positive", "AMT", (12,)),
        ("rate_negative", "RATE", (10,)),
        ("unknown_subject", "ID", (13,)),
    }


def test_missing_columns_and_positional_rows():
    with pytest.raises(DataValidationError, match="RATE"):
        dose_matrix(pd.DataFrame({"ID": [1], "TIME": [0.0], "AMT": [1.0]}), [1])
    frame = pd.DataFrame({"ID": [1, 1], "TIME": [0.0, 1.0], "AMT": [1.0, -2.0], "RATE": 0.0})
    with pytest.raises(DataValidationError) as info:
        dose_matrix(frame, [1])
    assert info.value.violations[0].rows == (2,)


def test_no_doses_gives_one_padding_column():
    frame = pd.DataFrame({"ID": [], "TIME": [], "AMT": [], "RATE": []})
    dm = dose_matrix(frame, [1, 2])
    assert dm.amt.shape == (2, 1) and dm.n_doses.tolist() == [0, 0]


def test_dosematrix_direct_validation():
    with pytest.raises(ValueError, match="shape"):
        DoseMatrix(time=[[0.0]], amt=[[1.0, 2.0]], duration=[[0.0]])
    with pytest.raises(ValueError, match=">= 0"):
        DoseMatrix(time=[[0.0]], amt=[[1.0]], duration=[[-1.0]])
    with pytest.raises(ValueError, match="non-finite"):
        DoseMatrix(time=[[np.inf]], amt=[[1.0]], duration=[[0.0]])

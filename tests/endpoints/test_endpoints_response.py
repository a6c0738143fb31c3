"""Per-assessment response rule: every threshold at and just past its boundary,
the missing-value rule, and a brute-force oracle over completions."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from endpoint_tables import CR_VALUES, assessment, assessments
from hypothesis import given
from hypothesis import strategies as st

from blinapk.endpoints import MT103_211, ResponseCriteria, derive_response
from blinapk.errors import BlinapkError, DataValidationError


def response_of(**values) -> str:
    return derive_response(assessments(assessment(**values))).to_frame()["RESPONSE"].iloc[0]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({}, "CR"),
        # marrow blasts: <= 5 % for CR/CRh*, <= 25 % for PR
        ({"MARROW_BLAST": 5.0}, "CR"),
        ({"MARROW_BLAST": 5.01}, "PR"),
        ({"MARROW_BLAST": 25.0}, "PR"),
        ({"MARROW_BLAST": 25.01}, "NR"),
        ({"MARROW_BLAST": 0.0}, "CR"),
        # platelets: > 100,000 for CR, > 50,000 for CRh*
        ({"PLT": 100_000.0}, "CRh*"),
        ({"PLT": 100_001.0}, "CR"),
        ({"PLT": 50_001.0}, "CRh*"),
        ({"PLT": 50_000.0}, "PR"),
        # haemoglobin: >= 11 for CR, >= 7 for CRh*
        ({"HGB": 11.0}, "CR"),
        ({"HGB": 10.99}, "CRh*"),
        ({"HGB": 7.0}, "CRh*"),
        ({"HGB": 6.99}, "PR"),
        # ANC: > 1,500 for CR, > 500 for CRh*
        ({"ANC": 1_500.0}, "CRh*"),
        ({"ANC": 1_501.0}, "CR"),
        ({"ANC": 501.0}, "CRh*"),
        ({"ANC": 500.0}, "PR"),
        # circulating blasts / extramedullary disease rule out CR and CRh*
        ({"CIRC_BLAST": 1}, "PR"),
        ({"EXTRAMED": 1}, "PR"),
        ({"CIRC_BLAST": 1, "MARROW_BLAST": 40.0}, "NR"),
        # CRh* needs all three counts in its band
        ({"PLT": 60_000.0, "HGB": 8.0, "ANC": 600.0}, "CRh*"),
        ({"PLT": 60_000.0, "HGB": 8.0, "ANC": 400.0}, "PR"),
    ],
)
def test_boundaries(values, expected):
    assert response_of(**values) == expected


@pytest.mark.parametrize(
    ("values", "expected", "reason"),
    [
        # no lab value can turn 30 % blasts into a remission
        ({"MARROW_BLAST": 30.0, "PLT": np.nan}, "NR", ""),
        ({"MARROW_BLAST": 30.0, "PLT": np.nan, "HGB": np.nan, "ANC": np.nan,
          "CIRC_BLAST": np.nan, "EXTRAMED": np.nan}, "NR", ""),
        # a missing ANC could give CR, CRh* or PR: not evaluable, never a silent CR
        ({"ANC": np.nan}, "NE", "ANC missing; could be CR, CRh* or PR"),
        # ... but known platelets below 50,000 already rule out CR and CRh*
        ({"ANC": np.nan, "PLT": 30_000.0}, "PR", ""),
        # platelets in the CRh* band: CR is out, CRh* and PR remain
        ({"ANC": np.nan, "PLT": 80_000.0}, "NE", "ANC missing; could be CRh* or PR"),
        ({"MARROW_BLAST": np.nan}, "NE", "MARROW_BLAST missing; could be CR, PR or NR"),
        ({"MARROW_BLAST": np.nan, "CIRC_BLAST": 1}, "NE",
         "MARROW_BLAST missing; could be PR or NR"),
        ({"CIRC_BLAST": np.nan}, "NE", "CIRC_BLAST missing; could be CR or PR"),
        ({"EXTRAMED": np.nan, "HGB": 9.0}, "NE", "EXTRAMED missing; could be CRh* or PR"),
        ({"MARROW_BLAST": 10.0, "PLT": np.nan, "ANC": np.nan}, "PR", ""),
        ({"PLT": np.nan, "HGB": np.nan}, "NE", "PLT, HGB missing; could be CR, CRh* or PR"),
    ],
)
def test_missing_values(values, expected, reason):
    row = derive_response(assessments(assessment(**values))).to_frame().iloc[0]
    assert row["RESPONSE"] == expected
    assert row["REASON"] == reason


def test_possible_column_and_row_order():
    a = assessments(assessment(1, ANC=np.nan), assessment(2, MARROW_BLAST=40.0),
                    assessment(3, PLT=80_000.0, ANC=np.nan))
    r = derive_response(a).to_frame()
    assert r["POSSIBLE"].tolist() == ["CR|CRh*|PR", "NR", "CRh*|PR"]
    assert r["ROW"].tolist() == [1, 2, 3]
    assert r["ID"].tolist() == [1, 2, 3]


def test_input_not_modified_and_row_kept():
    a = assessments(assessment(1), assessment(2))
    a["ROW"] = [11, 12]
    before = a.copy()
    r = derive_response(a).to_frame()
    assert r["ROW"].tolist() == [11, 12]
    assert a.equals(before)


@pytest.mark.parametrize(("mrd", "expected"), [(1e-4, 0.0), (0.99e-4, 1.0), (0.0, 1.0),
                                                (0.05, 0.0), (np.nan, np.nan)])
def test_mrd_boundary(mrd, expected):
    r = derive_response(assessments(assessment(MRD=mrd))).to_frame()["MRD_RESPONSE"].iloc[0]
    assert r == expected or (np.isnan(expected) and np.isnan(r))


def test_missing_column_is_a_validation_error():
    a = assessments(assessment()).drop(columns=["ANC", "PLT"])
    with pytest.raises(DataValidationError) as err:
        derive_response(a)
    assert {v.column for v in err.value.violations} == {"ANC", "PLT"}


def test_custom_criteria_and_their_check():
    strict = ResponseCriteria(cr_plt=200_000.0)
    r = derive_response(assessments(assessment()), criteria=strict).to_frame()
    assert r["RESPONSE"].iloc[0] == "CRh*"
    with pytest.raises(BlinapkError):
        ResponseCriteria(cr_plt=40_000.0)


# ---- oracle: classify complete rows with plain if-statements, enumerate missing values ----

def _oracle_complete(b, c, e, p, h, a) -> str:
    clear = b <= 5 and c == 0 and e == 0
    if clear and p > 100_000 and h >= 11 and a > 1_500:
        return "CR"
    if clear and p > 50_000 and h >= 7 and a > 500:
        return "CRh*"
    return "PR" if b <= 25 else "NR"


# Values on, just inside and just outside every threshold.
_GRID = {
    "MARROW_BLAST": [0.0, 5.0, 5.5, 25.0, 26.0, 80.0],
    "CIRC_BLAST": [0, 1],
    "EXTRAMED": [0, 1],
    "PLT": [10_000.0, 50_000.0, 50_001.0, 100_000.0, 100_001.0, 300_000.0],
    "HGB": [5.0, 6.99, 7.0, 10.99, 11.0, 14.0],
    "ANC": [100.0, 500.0, 501.0, 1_500.0, 1_501.0, 4_000.0],
}
_COLS = list(_GRID)


def _oracle(row: dict) -> set[str]:
    choices = [[row[k]] if not np.isnan(row[k]) else _GRID[k] for k in _COLS]
    return {_oracle_complete(*combo) for combo in itertools.product(*choices)}


@st.composite
def _rows(draw):
    row = {}
    for k in _COLS:
        missing = draw(st.booleans()) and draw(st.booleans())  # ~25 % missing
        row[k] = np.nan if missing else float(draw(st.sampled_from(_GRID[k])))
    return row


@given(st.lists(_rows(), min_size=1, max_size=8))
def test_rule_matches_enumeration_of_missing_values(rows):
    frame = assessments(*[{"ID": i, "CYCLE": 1, "DAY": 29, **r} for i, r in enumerate(rows)])
    out = derive_response(frame).to_frame()
    for row, got, possible in zip(rows, out["RESPONSE"], out["POSSIBLE"], strict=True):
        want = _oracle(row)
        assert got == (next(iter(want)) if len(want) == 1 else "NE")
        assert set(possible.split("|")) == want
        if got == "CR":  # never a CR with a value missing
            assert not any(np.isnan(row[k]) for k in _COLS)


def test_default_criteria_are_mt103_211():
    assert MT103_211 == ResponseCriteria()
    assert (MT103_211.cr_blast, MT103_211.pr_blast, MT103_211.mrd) == (5.0, 25.0, 1e-4)
    assert CR_VALUES["PLT"] > MT103_211.cr_plt

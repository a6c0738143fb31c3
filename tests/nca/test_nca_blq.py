"""BLQ rules: hand-calculable cases for every rule, per-row limits, positions."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blinapk.errors import ModelSpecError
from blinapk.nca.blq import (
    BLQ_POLICIES,
    POSITION_FIRST,
    POSITION_LAST,
    POSITION_MIDDLE,
    ExcludeBLQ,
    PositionalBLQ,
    SeedRule,
    SubstituteBLQ,
    blq_mask,
    blq_positions,
    get_blq_policy,
)

# quantified, <LOD (reported 2), LOD..LLOQ (reported 20), censored placeholder DV=LLOQ, missing
DV = np.array([80.0, 2.0, 20.0, 50.0, np.nan])
CENS = np.array([0, 1, 1, 1, 0])
LLOQ, LOD = 50.0, 3.0


def test_blq_mask_known_vs_unknown():
    blq, known = blq_mask(DV, CENS, LLOQ)
    assert blq.tolist() == [False, True, True, True, False]
    assert known.tolist() == [False, True, True, False, False]


def test_blq_mask_derives_blq_from_value_when_cens_zero():
    blq, known = blq_mask([30.0], [0], [50.0])
    assert blq.tolist() == [True] and known.tolist() == [True]


def test_seed_rule_hand_cases():
    out = SeedRule().apply(DV, CENS, LLOQ, LOD)
    np.testing.assert_array_equal(out.value, [80.0, 0.0, np.nan, np.nan, np.nan])
    assert out.status_labels.tolist() == ["used", "modified", "excluded", "excluded", "excluded"]
    assert out.reason.tolist() == [
        "", "<LOD set to 0", "<LLOQ excluded", "BLQ, value not reported", "DV missing",
    ]


def test_seed_rule_boundaries_lod_inclusive_excluded():
    # DV == LOD is not < LOD -> excluded; DV == LLOQ with CENS 0 is quantified
    out = SeedRule().apply([3.0, 50.0], [1, 0], 50.0, 3.0)
    assert out.reason.tolist() == ["<LLOQ excluded", ""]
    assert out.value[1] == 50.0


def test_seed_rule_without_lod_cannot_set_zero():
    out = SeedRule().apply([1.0], [1], 50.0, np.nan)
    assert out.reason.tolist() == ["<LLOQ excluded"]


def test_per_row_limits_are_honoured():
    # same DV 30: quantified under an LLOQ of 25, BLQ under 50; LOD 40 makes it <LOD
    out = SeedRule().apply([30.0, 30.0, 30.0], [0, 0, 0], [25.0, 50.0, 50.0], [3.0, 3.0, 40.0])
    assert out.status_labels.tolist() == ["used", "excluded", "modified"]
    np.testing.assert_array_equal(out.value, [30.0, np.nan, 0.0])


def test_exclude_all():
    out = ExcludeBLQ().apply(DV, CENS, LLOQ, LOD)
    assert out.status_labels.tolist() == ["used"] + ["excluded"] * 4
    assert out.reason.tolist()[1:4] == ["BLQ excluded"] * 3


@pytest.mark.parametrize(
    ("name", "expected", "reason"),
    [
        ("lloq/2", 25.0, "BLQ set to LLOQ/2"),
        ("lod/2", 1.5, "BLQ set to LOD/2"),
        ("lloq", 50.0, "BLQ set to LLOQ"),
    ],
)
def test_substitution_rules(name, expected, reason):
    out = get_blq_policy(name).apply(DV, CENS, LLOQ, LOD)
    np.testing.assert_array_equal(out.value[:4], [80.0, expected, expected, expected])
    assert set(out.reason.tolist()[1:4]) == {reason}
    assert out.status_labels.tolist()[1:4] == ["modified"] * 3  # value unknown is fine here


def test_substitution_without_limit_is_excluded():
    out = SubstituteBLQ("LOD", 0.5).apply([1.0], [1], 50.0, np.nan)
    assert out.status_labels.tolist() == ["excluded"]
    assert out.reason.tolist() == ["BLQ, LOD not available"]


def test_substitute_validation():
    with pytest.raises(ModelSpecError):
        SubstituteBLQ("ULOQ", 0.5)
    with pytest.raises(ModelSpecError):
        SubstituteBLQ("LLOQ", -1.0)


def test_positions_hand_case():
    # profile A: BLQ, Q, BLQ, Q, BLQ ; profile B: all BLQ ; rows given out of time order
    groups = np.array(["A"] * 5 + ["B"] * 2)
    time = np.array([0.0, 1, 2, 3, 4, 1, 0])
    blq = np.array([True, False, True, False, True, True, True])
    perm = np.array([4, 0, 6, 2, 1, 5, 3])
    pos = blq_positions(groups[perm], time[perm], blq[perm])
    # quantified rows get a position too: the last quantified one is "last"
    expected = np.array([POSITION_FIRST, POSITION_FIRST, POSITION_MIDDLE, POSITION_LAST,
                         POSITION_LAST, POSITION_FIRST, POSITION_FIRST])
    np.testing.assert_array_equal(pos, expected[perm])


def test_pknca_default_first_zero_middle_last_drop():
    groups = np.zeros(5, dtype=int)
    time = np.arange(5.0)
    dv = np.array([10.0, 80.0, 10.0, 90.0, 10.0])
    cens = np.array([1, 0, 1, 0, 1])
    pos = blq_positions(groups, time, cens == 1)
    out = PositionalBLQ().apply(dv, cens, 50.0, 3.0, pos)
    np.testing.assert_array_equal(out.value, [0.0, 80.0, np.nan, 90.0, np.nan])
    assert out.reason.tolist() == [
        "BLQ (first) set to 0", "", "BLQ (middle) dropped", "", "BLQ (last) dropped",
    ]


def test_pknca_configurable_and_string_positions():
    rule = PositionalBLQ(first="drop", middle="lloq/2", last="lod/2")
    out = rule.apply([1.0, 1.0, 1.0], [1, 1, 1], 50.0, 3.0, ["first", "middle", "last"])
    np.testing.assert_array_equal(out.value, [np.nan, 25.0, 1.5])
    with pytest.raises(ModelSpecError):
        PositionalBLQ(first="keep")
    with pytest.raises(ModelSpecError):
        rule.apply([1.0], [1], 50.0, 3.0)  # position required


def test_registry_and_lookup():
    assert set(BLQ_POLICIES) == {"seed", "exclude", "lloq/2", "lod/2", "lloq", "pknca"}
    assert get_blq_policy("SEED") is BLQ_POLICIES["seed"]
    rule = SubstituteBLQ("LLOQ", 0.25)
    assert get_blq_policy(rule) is rule and rule.label == "LLOQ/4"
    with pytest.raises(ModelSpecError, match="unknown BLQ rule"):
        get_blq_policy("half")


def test_inputs_not_mutated():
    dv = DV.copy()
    SeedRule().apply(dv, CENS, LLOQ, LOD)
    np.testing.assert_array_equal(dv, DV)


finite = st.floats(0.0, 1e4, allow_nan=False)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(finite, st.booleans(), st.floats(1.0, 500.0), st.floats(0.0, 1.0)),
                min_size=1, max_size=30))
def test_every_rule_is_consistent(rows):
    dv = np.array([r[0] for r in rows])
    cens = np.array([int(r[1]) for r in rows])
    lloq = np.array([r[2] for r in rows])
    lod = lloq * np.array([r[3] for r in rows])
    cens = np.where(cens == 1, 1, 0)
    dv = np.where(cens == 1, np.minimum(dv, lloq), dv)  # contract: censored DV <= LLOQ
    blq, _ = blq_mask(dv, cens, lloq)
    pos = blq_positions(np.zeros(dv.size), np.arange(dv.size, dtype=float), blq)
    for name, rule in BLQ_POLICIES.items():
        out = rule.apply(dv, cens, lloq, lod, pos)
        # quantified rows pass unchanged
        np.testing.assert_array_equal(out.value[~blq], dv[~blq], err_msg=name)
        assert np.all(out.status[~blq] == 0), name
        # excluded <-> NaN; modified rows carry a reason; used rows none
        assert np.array_equal(np.isnan(out.value), out.status == 2), name
        reasons = out.reason
        assert all(r == "" for r in reasons[out.status == 0]), name
        assert all(r != "" for r in reasons[out.status != 0]), name
        # no rule invents a value at or above LLOQ for a BLQ row
        kept = blq & (out.status != 2)
        assert np.all(out.value[kept] <= lloq[kept]), name

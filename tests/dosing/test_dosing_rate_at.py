"""rate_at's ``at_change`` convention: hand cases at the instants of change and
brute-force per-row loops (random rate tables; random dose records)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blinapk.dosing import AT_CHANGE, rate_at, rate_table
from blinapk.errors import ModelSpecError

# 9 ug/day (0.375 ug/h) for 7 days, then 30 ug/day (1.25 ug/h, exact in
# binary) until day 28, bags changed at an unchanged rate (24, 48, 72, 360 h);
# a second line at 1 ug/h overlaps 60-62 h. Subject 2: 0.5 ug/h over 10-20 h.
_DOSES = pd.DataFrame(
    {
        "ID": [1] * 7 + [2],
        "TIME": [0.0, 24, 48, 60, 72, 168, 360, 10],
        "AMT": [9.0, 9, 9, 2, 9 * 4, 30 * 8, 30 * 13, 5],
        "RATE": [0.375, 0.375, 0.375, 1.0, 0.375, 1.25, 1.25, 0.5],
    }
)


def _at(times, conv, sid=1):
    return rate_at(rate_table(_DOSES), sid, times, at_change=conv)


def test_a_time_exactly_at_a_step_up():
    new, prev = _at([168.0], "new"), _at([168.0], "previous")
    assert new["RATE"].item() == 1.25
    assert new["RATE_START"].item() == 168.0 and new["TIME_AT_RATE"].item() == 0.0
    assert prev["RATE"].item() == 0.375
    assert prev["RATE_START"].item() == 62.0 and prev["TIME_AT_RATE"].item() == 106.0


def test_before_the_first_dose_and_at_its_start():
    new, prev = _at([-1.0, 0.0], "new"), _at([-1.0, 0.0], "previous")
    assert new["RATE"].tolist() == [0.0, 0.375]
    np.testing.assert_array_equal(new["RATE_START"], [np.nan, 0.0])
    assert prev["RATE"].tolist() == [0.0, 0.0]  # a sample at the first start is pre-dose
    assert prev["RATE_START"].isna().all() and prev["SEGMENT"].tolist() == [-1, -1]


def test_after_the_last_dose_and_at_its_end():
    end = 360.0 + 24 * 13
    new, prev = _at([end, end + 5], "new"), _at([end, end + 5], "previous")
    assert new["RATE"].tolist() == [0.0, 0.0]
    assert new["RATE_START"].tolist() == [end, end] and new["TIME_AT_RATE"].tolist() == [0, 5]
    assert prev["RATE"].tolist() == [1.25, 0.0]  # end-of-infusion sample
    assert prev["RATE_START"].tolist() == [168.0, end]
    assert (new["SEGMENT"] == -1).all() and prev["SEGMENT"].tolist()[1] == -1


def test_overlapping_infusions_at_their_start_and_end():
    times = [60.0, 61.0, 62.0]
    assert _at(times, "new")["RATE"].tolist() == [1.375, 1.375, 0.375]
    assert _at(times, "previous")["RATE"].tolist() == [0.375, 1.375, 1.375]


def test_bag_changes_at_the_same_rate_are_invisible_to_both_conventions():
    for conv in AT_CHANGE:
        at = _at([24.0, 48.0, 192.0, 360.0], conv)
        assert at["RATE"].tolist() == [0.375, 0.375, 1.25, 1.25]
        assert at["RATE_START"].tolist() == [0.0, 0.0, 168.0, 168.0]


def test_segment_points_at_the_row_in_force_and_other_subjects_are_separate():
    rt = rate_table(_DOSES)
    for conv in AT_CHANGE:
        at = rate_at(rt, [1, 1, 2, 2, 3], [100.0, 400.0, 10.0, 20.0, 5.0], at_change=conv)
        seg = at["SEGMENT"].to_numpy()
        inside = seg >= 0
        np.testing.assert_array_equal(rt["RATE"].to_numpy()[seg[inside]], at["RATE"][inside])
        np.testing.assert_array_equal(rt["ID"].to_numpy()[seg[inside]], at["ID"][inside])
        assert at["RATE"].tolist()[2:] == ([0.5, 0.0, 0.0] if conv == "new" else [0.0, 0.5, 0.0])


def test_unknown_convention_is_rejected():
    with pytest.raises(ModelSpecError, match="at_change"):
        _at([1.0], "after")


# ---- random rate tables against a brute-force per-row loop -----------------


@st.composite
def rate_tables(draw) -> pd.DataFrame:
    """Per subject: rows on a half-hour grid, contiguous or with gaps, rates
    that repeat (a cycle split) or are 0; rows in any order."""
    rows = []
    for sid in draw(st.lists(st.sampled_from(["a", "b", 7]), min_size=0, max_size=3, unique=True)):
        t = draw(st.integers(-10, 20)) / 2
        for _ in range(draw(st.integers(1, 5))):
            t += draw(st.sampled_from([0, 0, 0, 1, 3])) / 2  # mostly contiguous
            dur = draw(st.integers(1, 20)) / 2
            rows.append((sid, t, t + dur, draw(st.sampled_from([0.0, 0.375, 1.0, 28 / 24]))))
            t += dur
    frame = pd.DataFrame(rows, columns=["ID", "START", "END", "RATE"])
    perm = draw(st.permutations(range(len(frame))))
    return frame.iloc[list(perm)].reset_index(drop=True)


def _brute_rate_at(rates: pd.DataFrame, sid, t: float, conv: str) -> tuple[float, float, int]:
    """(RATE, RATE_START, SEGMENT) by a loop over the subject's rows (the definition)."""
    rows = sorted(
        (r.START, r.END, r.RATE, pos) for pos, r in enumerate(rates.itertuples()) if r.ID == sid
    )

    def run_start(i: int) -> float:
        while i > 0 and rows[i - 1][2] == rows[i][2] and rows[i - 1][1] == rows[i][0]:
            i -= 1
        return rows[i][0]

    for i, (start, end, rate, pos) in enumerate(rows):
        if (start <= t < end) if conv == "new" else (start < t <= end):
            return rate, run_start(i), pos
    begun = [i for i, r in enumerate(rows) if (r[0] <= t if conv == "new" else r[0] < t)]
    if not begun:
        return 0.0, np.nan, -1
    last = begun[-1]
    return 0.0, run_start(last) if rows[last][2] == 0 else rows[last][1], -1


@settings(max_examples=150, deadline=None)
@given(
    rate_tables(),
    st.lists(st.tuples(st.sampled_from(["a", "b", 7, "zz"]), st.integers(-12, 80)), max_size=25),
)
def test_rate_at_matches_a_per_row_loop_for_both_conventions(rates, queries):
    # query times on the same half-hour grid hit every START and END exactly
    ids = [q[0] for q in queries]
    times = [q[1] / 2 for q in queries]
    for conv in AT_CHANGE:
        got = rate_at(rates, pd.Series(ids, dtype=object), times, at_change=conv)
        want = [_brute_rate_at(rates, sid, t, conv) for sid, t in zip(ids, times, strict=True)]
        assert got["ID"].tolist() == ids and got["TIME"].tolist() == times
        np.testing.assert_array_equal(got["RATE"], [w[0] for w in want])
        np.testing.assert_array_equal(got["RATE_START"], [w[1] for w in want])
        np.testing.assert_array_equal(got["SEGMENT"], [w[2] for w in want])
        np.testing.assert_array_equal(got["TIME_AT_RATE"], got["TIME"] - got["RATE_START"])


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 2), st.integers(0, 40), st.integers(1, 30),
                  st.sampled_from([0.5, 1.0, 2.0, 3.0])),
        min_size=1, max_size=12,
    ),
    st.lists(st.tuples(st.integers(0, 3), st.integers(-2, 80)), min_size=1, max_size=25),
)  # fmt: skip
def test_rate_of_dose_records_matches_running_infusions_at_every_instant(doses, queries):
    # integer grid (start, duration): ends are exact, so queries land on them
    frame = pd.DataFrame(
        [(i, float(s), float(r * d), r) for i, s, d, r in doses],
        columns=["ID", "TIME", "AMT", "RATE"],
    )
    rt = rate_table(frame)
    ids = [q[0] for q in queries]
    times = [float(q[1]) for q in queries]
    for conv in AT_CHANGE:
        got = rate_at(rt, ids, times, at_change=conv)["RATE"].to_numpy()
        want = [
            sum(
                r
                for i, s, d, r in doses
                if i == sid and ((s <= t < s + d) if conv == "new" else (s < t <= s + d))
            )
            for sid, t in zip(ids, times, strict=True)
        ]
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)

"""RowLedger: construction, counts that add up, concat and check."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blinapk.data import RowLedger, read_dataset
from blinapk.data.ledger import LEDGER_COLUMNS, STATUSES
from blinapk.errors import BlinapkError


def test_from_reasons_on_dataset_observations(frame):
    ds = read_dataset(frame)
    obs = ds.observations()
    reason = np.where(obs["CENS"] == 1, "BLQ excluded", "")
    status = np.where(obs["CENS"] == 1, "excluded", "used")
    led = RowLedger.from_reasons(obs, status, reason)
    assert tuple(led.to_frame().columns) == LEDGER_COLUMNS
    assert led.n_in == len(obs) == 5
    assert led.excluded()["ROW"].tolist() == [8]
    assert led.excluded()["REASON"].tolist() == ["BLQ excluded"]
    c = led.counts(by="status").set_index("STATUS")["N"]
    assert c.to_dict() == {"used": 4, "modified": 0, "excluded": 1}
    r = led.counts()
    assert r.values.tolist() == [["used", "", 4], ["excluded", "BLQ excluded", 1]]
    led.check(obs)
    led.check(5)


def test_scalar_status_and_missing_dvid():
    f = pd.DataFrame({"ROW": [5, 2], "ID": ["a", "b"], "TIME": [1.0, 0.0]})
    led = RowLedger.from_reasons(f, "excluded", "pre-dose")
    t = led.to_frame()
    assert t["ROW"].tolist() == [2, 5] and (t["DVID"] == "").all()
    assert len(led) == 2 and len(led.rows("used")) == 0


@pytest.mark.parametrize(
    ("status", "reason", "match"),
    [
        ("dropped", "x", "STATUS must be one of"),
        ("used", "why?", "'used' rows carry a reason"),
        ("excluded", "", "need a reason"),
        ("modified", None, "need a reason"),
    ],
)
def test_invalid_ledgers(status, reason, match):
    f = pd.DataFrame({"ROW": [1], "ID": [1], "TIME": [0.0]})
    with pytest.raises(BlinapkError, match=match):
        RowLedger.from_reasons(f, status, reason)


def test_wrong_lengths_and_columns():
    f = pd.DataFrame({"ROW": [1, 2], "ID": [1, 1], "TIME": [0.0, 1.0]})
    with pytest.raises(BlinapkError, match="2 rows"):
        RowLedger.from_reasons(f, ["used"], "")
    with pytest.raises(BlinapkError, match="lacks column"):
        RowLedger.from_reasons(f.drop(columns="TIME"), "used")


def test_concat_and_check_coverage():
    a = RowLedger.from_reasons(pd.DataFrame({"ROW": [1, 3], "ID": [1, 1], "TIME": [0.0, 2]}),
                               "used")
    b = RowLedger.from_reasons(pd.DataFrame({"ROW": [2], "ID": [1], "TIME": [1.0]}),
                               "modified", "<LOD set to 0")
    led = RowLedger.concat([a, b])
    assert led.to_frame()["ROW"].tolist() == [1, 2, 3]
    led.check([1, 2, 3])
    with pytest.raises(BlinapkError, match="input rows not in the ledger: \\[4\\]"):
        led.check([1, 2, 3, 4])
    with pytest.raises(BlinapkError, match="ledger rows not in the input: \\[3\\]"):
        led.check([1, 2])
    with pytest.raises(BlinapkError, match="ledger has 3 rows, input had 4"):
        led.check(4)
    with pytest.raises(BlinapkError, match="more than once"):
        RowLedger.concat([a, a])
    assert RowLedger.concat([]).n_in == 0 and RowLedger.empty().counts(by="status")["N"].sum() == 0
    with pytest.raises(BlinapkError):
        led.counts(by="subject")
    with pytest.raises(BlinapkError):
        led.rows("gone")


def test_ledger_is_frozen_and_copies():
    led = RowLedger.from_reasons(pd.DataFrame({"ROW": [1], "ID": [1], "TIME": [0.0]}), "used")
    t = led.to_frame()
    t.loc[0, "STATUS"] = "excluded"
    assert led.to_frame().loc[0, "STATUS"] == "used"
    with pytest.raises(AttributeError):
        led._table = t  # type: ignore[misc]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(STATUSES), st.sampled_from(["a", "b", "c"])),
                min_size=0, max_size=40))
def test_counts_always_add_up(entries):
    n = len(entries)
    f = pd.DataFrame({"ROW": np.arange(1, n + 1), "ID": 1, "TIME": np.arange(n, dtype=float)})
    status = [s for s, _ in entries]
    reason = ["" if s == "used" else r for s, r in entries]
    led = RowLedger.from_reasons(f, status, reason)
    led.check(f)
    by_status = led.counts(by="status")
    assert by_status["N"].sum() == n == led.counts()["N"].sum()
    for s in STATUSES:
        assert by_status.set_index("STATUS").loc[s, "N"] == status.count(s)

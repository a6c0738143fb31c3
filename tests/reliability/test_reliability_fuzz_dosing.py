"""Hypothesis fuzzing of the regimen builder: any valid regimen and subjects give contract
dose rows that the reader accepts, and no amount is lost between records and rate table;
bad covariates are refused naming exactly the bad rows."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from blinapk.data import read_dataset, validate_frame
from blinapk.dosing import CycleSpec, Regimen, Step, dose_records, rate_table
from blinapk.errors import BlinapkWarning, DataValidationError

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def regimens(draw):
    on = draw(st.integers(1, 28))
    n_steps = draw(st.integers(1, min(3, on)))
    days = [1, *sorted(draw(st.lists(st.integers(2, on), min_size=n_steps - 1,
                                     max_size=n_steps - 1, unique=True)))] if on > 1 else [1]
    steps = tuple(Step(d, draw(st.floats(0.1, 100.0)), draw(st.sampled_from(["ug/day",
                                                                             "ug/m2/day"])),
                       draw(st.none() | st.floats(1.0, 60.0))) for d in days)
    off = draw(st.sampled_from([0.0, 14.0]) | st.floats(0.0, 30.0))
    block = CycleSpec(1, None, steps, on_days=on, off_days=off)
    bag = draw(st.none() | st.sampled_from([24.0, 48.0, 72.0, 96.0, 168.0]))
    return Regimen("fuzz", (block,), n_cycles=draw(st.integers(1, 3)), bag_hours=bag)


@st.composite
def subjects(draw):
    n = draw(st.integers(1, 6))
    ids = draw(st.lists(st.integers(1, 10**6) | st.sampled_from(["A", "Patiënt-ß", "東京"]),
                        min_size=n, max_size=n, unique_by=str))
    bsa = draw(st.lists(st.floats(0.2, 3.0), min_size=n, max_size=n))
    return pd.DataFrame({"ID": ids, "BSA": bsa})


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        out = fn(*args, **kwargs)
    leaked = [w for w in rec if not issubclass(w.category, BlinapkWarning)]
    assert not leaked, [str(w.message) for w in leaked]
    return out


@FUZZ
@given(regimens(), subjects())
def test_valid_regimens_give_valid_records_and_no_amount_is_lost(reg, subj):
    before = subj.copy(deep=True)
    doses = _quiet(dose_records, reg, subj)
    pd.testing.assert_frame_equal(subj, before)
    # every subject gets doses, and the rows satisfy the data contract
    assert list(dict.fromkeys(doses["ID"])) == subj["ID"].tolist()
    assert validate_frame(doses) == []
    ds = _quiet(read_dataset, doses)
    assert len(ds.frame) == len(doses)
    # amount accounting: sum(AMT) == integral of the rate table, per subject
    rt = _quiet(rate_table, doses)
    assert (rt["END"] > rt["START"]).all()
    area = (rt["RATE"] * (rt["END"] - rt["START"])).groupby(rt["ID"], sort=False).sum()
    amt = doses.groupby("ID", sort=False)["AMT"].sum()
    np.testing.assert_allclose(area.loc[amt.index].to_numpy(), amt.to_numpy(), rtol=1e-9)


_BAD_BSA = st.sampled_from([np.nan, -1.0, 0.0, np.inf, -np.inf])


@FUZZ
@given(regimens(), subjects(), st.data())
def test_bad_bsa_is_refused_naming_exactly_the_bad_rows(reg, subj, data):
    if not any(s.per_m2 for s in reg.cycles[0].steps):
        reg = Regimen("fuzz_m2", (CycleSpec(1, None, (Step(1, 5.0, "ug/m2/day"),)),),
                      n_cycles=1)
    n = len(subj)
    bad = sorted(data.draw(st.sets(st.integers(0, n - 1), min_size=1)))
    bsa = subj["BSA"].to_numpy(copy=True)
    for i in bad:
        bsa[i] = data.draw(_BAD_BSA)
    try:
        dose_records(reg, subj.assign(BSA=bsa))
    except DataValidationError as exc:
        rows = sorted({r for v in exc.violations if v.column == "BSA" for r in v.rows})
        assert rows == [i + 1 for i in bad]
    else:
        raise AssertionError("non-positive/non-finite BSA accepted")


@FUZZ
@given(regimens(), subjects(), st.lists(st.floats(0.0, 2000.0), min_size=1, max_size=20))
def test_doses_plus_samples_read_back_whole(reg, subj, times):
    doses = dose_records(reg, subj)
    first = subj["ID"].iloc[0]
    obs = pd.DataFrame({"ID": first, "TIME": sorted(times), "EVID": 0, "AMT": 0.0,
                        "RATE": 0.0, "DV": 100.0, "MDV": 0})
    data = pd.concat([doses.drop(columns=["DOSE_LEVEL"]), obs], ignore_index=True)
    data = data.drop_duplicates()
    key = pd.factorize(data["ID"])[0]
    data = (data.assign(_K=key).sort_values(["_K", "TIME", "EVID"], ascending=[True, True, False],
                                            kind="stable")
            .drop(columns="_K").reset_index(drop=True))
    ds = _quiet(read_dataset, data)
    assert len(ds.frame) == len(data)
    assert len(ds.doses()) == len(doses)

"""Hypothesis fuzzing of NCA: arbitrary valid concentration data never raise, every
observation row is either used or listed as excluded/modified (n_in = n_used + n_excluded),
and every group gets a result row; compute_css's ledger adds up on arbitrary valid datasets."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reliability_strategies import valid_frames

from blinapk.data import RowLedger, read_dataset
from blinapk.errors import BlinapkWarning
from blinapk.nca.general import compute_nca
from blinapk.nca.intervals import Interval
from blinapk.nca.steady_state import compute_css

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PARAMS = ("cmax", "tmax", "auclast", "aucall", "aucinf_obs", "half_life", "cl_obs", "mrt_last",
          "vz_obs")


@st.composite
def conc_frames(draw):
    """Contract-like NCA input: groups, unique times per group, NaN and MDV=1 samples,
    dose rows, rows in any order, optional LLOQ."""
    rows = []
    for gid in range(draw(st.integers(1, 4))):
        n = draw(st.integers(0, 10))
        ts = draw(st.lists(st.floats(0.0, 200.0, allow_nan=False), min_size=n, max_size=n,
                           unique=True))
        rows.append(dict(ID=gid, TIME=0.0, EVID=1, AMT=draw(st.floats(0.1, 1e3)), MDV=1,
                         CONC=np.nan))
        for t in ts:
            c = draw(st.just(np.nan) | st.just(0.0) | st.floats(0.0, 1e5))
            rows.append(dict(ID=gid, TIME=t, EVID=0, AMT=0.0, MDV=int(draw(st.integers(0, 5))
                                                                       == 0), CONC=c))
    df = pd.DataFrame(rows)
    df = df.iloc[draw(st.permutations(range(len(df))))].reset_index(drop=True)
    if draw(st.booleans()):
        df["LLOQ"] = draw(st.floats(0.0, 100.0))
    return df


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        out = fn(*args, **kwargs)
    leaked = [f"{w.category.__name__}: {w.message}" for w in rec
              if not issubclass(w.category, BlinapkWarning)]
    assert not leaked, leaked
    return out


@FUZZ
@given(conc_frames(), st.sampled_from(["lin-up/log-down", "linear", "lin-log"]),
       st.sampled_from([None, "seed", "exclude", "lloq/2", "pknca"]),
       st.sampled_from(["extravascular", "iv_bolus", "iv_infusion"]))
def test_valid_nca_input_never_raises_and_rows_add_up(df, method, blq, route):
    if blq is not None and "LLOQ" not in df.columns:
        blq = None
    before = df.copy(deep=True)
    ivs = [Interval(0, math.inf, PARAMS), Interval(0, 24, ("auclast", "cmax"))]
    res = _quiet(compute_nca, df, ivs, auc_method=method, blq=blq, route=route,
                 duration=1.0)
    pd.testing.assert_frame_equal(df, before)
    rows = np.arange(1, len(df) + 1)
    obs = df.assign(ROW=rows).loc[df["EVID"] == 0]
    exc = res.excluded
    # every ledger row is an observation row, listed once, with a reason
    assert exc["ROW"].is_unique
    assert set(exc["ROW"]) <= set(obs["ROW"])
    assert (exc["REASON"].str.len() > 0).all()
    status = obs["ROW"].map(exc.set_index("ROW")["STATUS"]).astype(object).fillna("used")
    reason = obs["ROW"].map(exc.set_index("ROW")["REASON"]).astype(object).fillna("")
    ledger = RowLedger.from_reasons(obs, status.to_numpy(), reason.to_numpy())
    ledger.check(obs)  # n_in == used + modified + excluded, each row once
    # nothing silent: MDV=1 and missing concentrations are always in the ledger
    assert set(obs.loc[obs["MDV"] == 1, "ROW"]) <= set(exc["ROW"])
    assert set(obs.loc[obs["CONC"].isna(), "ROW"]) <= set(exc["ROW"])
    # the rows left as "used" are the ones NCA saw: without BLQ rule cmax is their max
    if blq is None:
        used = obs.loc[status.to_numpy() == "used"]
        expect = used.groupby("ID")["CONC"].max()
        wide = res.wide()
        if len(expect):
            first = wide.loc[np.isinf(wide["end"])].set_index("ID")["cmax"]
            for gid, value in expect.items():
                assert first.loc[gid] == value
    # one result row per group x interval x parameter for every group with an MDV 0 sample
    # (a group whose samples are all MDV 1 has no result row; its rows are in the ledger)
    groups = obs.loc[obs["MDV"] == 0, "ID"].nunique()
    assert len(res.to_frame()) == groups * (len(PARAMS) + 2)
    assert res.to_frame().loc[res.to_frame()["value"].isna(), "reason"].str.len().gt(0).all()


@settings(FUZZ, max_examples=30)
@given(valid_frames(infusion_only=True, max_subjects=3),
       st.sampled_from(["seed", "exclude", "lloq/2"]), st.sampled_from(["segment", "dose_level"]))
def test_css_ledger_adds_up_on_arbitrary_datasets(df, blq, per):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BlinapkWarning)  # unit heuristics on random DVs
        ds = read_dataset(df)
    res = _quiet(compute_css, ds, blq=blq, per=per)
    obs = ds.observations("BLIN")
    res.ledger.check(obs)
    counts = res.ledger.counts(by="status")
    assert int(counts["N"].sum()) == len(obs)
    table = res.to_frame()
    assert table.loc[table["CSS"].isna(), "REASON"].str.len().gt(0).all()

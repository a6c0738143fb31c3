"""Hypothesis properties: valid data never raises, read -> write -> read is lossless,
and the result does not depend on how subjects' rows are interleaved in the file."""

import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from blinapk.data import read_dataset, validate_frame, write_dataset
from blinapk.data.assays import SEED_ASSAYS

SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
finite = st.floats(min_value=0.0, max_value=1e6, allow_nan=False, allow_infinity=False)
positive = st.floats(min_value=1e-6, max_value=1e4, allow_nan=False, allow_infinity=False)
ID_TEXT = st.text(alphabet="abcXYZéü東京-_", min_size=1, max_size=6)


@st.composite
def subject_rows(draw, sid):
    times = sorted(draw(st.lists(st.floats(0.0, 1e4, allow_nan=False), min_size=1, max_size=8,
                                 unique=True)))
    rows = []
    for i, t in enumerate(times):
        kind = "dose" if i == 0 else draw(st.sampled_from(["dose", "obs", "obs", "obs", "other"]))
        if kind == "dose":
            rows.append(dict(ID=sid, TIME=t, EVID=1, AMT=draw(positive),
                             RATE=draw(st.one_of(st.just(0.0), positive)), DV=0.0, MDV=1,
                             DVID="BLIN"))
            if draw(st.booleans()):  # an observation tied with the dose
                kind = "obs"
        if kind == "other":
            rows.append(dict(ID=sid, TIME=t, EVID=2, AMT=0.0, RATE=0.0, DV=np.nan, MDV=1,
                             DVID="BLIN"))
        if kind == "obs":
            missing = draw(st.booleans()) and draw(st.booleans())
            rows.append(dict(ID=sid, TIME=t, EVID=0, AMT=0.0, RATE=0.0,
                             DV=np.nan if missing else draw(finite), MDV=int(missing),
                             DVID=draw(st.sampled_from(sorted(SEED_ASSAYS)))))
    return rows


@st.composite
def datasets(draw):
    n = draw(st.integers(1, 5))
    if draw(st.booleans()):
        ids = draw(st.lists(st.integers(-(2**63), 2**63 - 1), min_size=n, max_size=n, unique=True))
    else:
        ids = draw(st.lists(ID_TEXT, min_size=n, max_size=n, unique=True))
    blocks = [draw(subject_rows(i)) for i in ids]
    df = pd.DataFrame([r for b in blocks for r in b])
    if draw(st.booleans()):
        df["WT"] = draw(st.lists(finite, min_size=len(df), max_size=len(df)))
    if draw(st.booleans()):
        df["SITE"] = draw(st.lists(ID_TEXT, min_size=len(df), max_size=len(df)))
    if draw(st.booleans()):
        df["LLOQ"] = draw(st.lists(st.floats(1.0, 200.0), min_size=len(df), max_size=len(df)))
        df["LOD"] = df["LLOQ"] / 10
    if draw(st.booleans()):  # consistent given CENS
        lloq = df["LLOQ"] if "LLOQ" in df else df["DVID"].map(lambda d: SEED_ASSAYS[d].lloq)
        df["CENS"] = ((df["EVID"] == 0) & (df["DV"] < lloq)).astype(int)
    if draw(st.booleans()):
        df.columns = [c.lower() for c in df.columns]
    return df, [len(b) for b in blocks]


def _read(source):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # unit heuristics may fire on random values
        return read_dataset(source)


@SETTINGS
@given(datasets())
def test_valid_data_never_raises_and_round_trips(data):
    df, _ = data
    ds = _read(df)
    assert ds.n_rows == len(df)
    with tempfile.TemporaryDirectory() as tmp:
        path = write_dataset(ds, Path(tmp) / "d.csv")
        back = _read(path)
        pd.testing.assert_frame_equal(back.frame, ds.frame, check_exact=True)
        assert back.hash == ds.hash
        # and again: writing is idempotent byte for byte
        again = write_dataset(back, Path(tmp) / "e.csv")
        assert again.read_bytes() == path.read_bytes()


@SETTINGS
@given(datasets(), st.randoms(use_true_random=False))
def test_result_invariant_to_interleaving(data, rnd):
    df, sizes = data
    # random interleaving of the subjects' rows, keeping each subject's own order
    owner = [i for i, k in enumerate(sizes) for _ in range(k)]
    rnd.shuffle(owner)
    starts = np.cumsum([0] + sizes[:-1])
    taken = [0] * len(sizes)
    order = []
    for o in owner:
        order.append(starts[o] + taken[o])
        taken[o] += 1
    shuffled = df.iloc[order].reset_index(drop=True)
    a, b = _read(df), _read(shuffled)
    fa, fb = a.frame, b.frame
    assert set(a.subjects) == set(b.subjects)
    for sid in a.subjects:
        pa = fa[fa["ID"] == sid].drop(columns="ROW").reset_index(drop=True)
        pb = fb[fb["ID"] == sid].drop(columns="ROW").reset_index(drop=True)
        pd.testing.assert_frame_equal(pa, pb, check_exact=True)


@SETTINGS
@given(datasets())
def test_one_broken_cell_is_always_reported(data):
    df, _ = data
    bad = df.copy()
    time_col = [c for c in bad.columns if c.upper() == "TIME"][0]
    bad[time_col] = bad[time_col].astype(object)
    bad.loc[len(bad) - 1, time_col] = "soon"
    found = [v for v in validate_frame(bad) if v.rule == "non_numeric"]
    assert found and found[0].rows == (len(bad),) and found[0].column == "TIME"

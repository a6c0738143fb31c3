"""Hypothesis strategies for the reliability fuzz tests (not a test module)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import strategies as st

KNOWN_DVIDS = ("BLIN", "IL2", "IL6", "IL10", "TNFA", "IFNG")

ids_int = st.integers(0, 10**9)
ids_text = st.sampled_from(["A-01", "Patiënt-ß", "東京-7", "123456789012345678901234567890",
                            "x y", "007", "S_1"])
times = st.floats(0.0, 2000.0, allow_nan=False, allow_infinity=False)
amounts = st.floats(1e-3, 1e4, allow_nan=False, allow_infinity=False)
rates = st.floats(1e-3, 1e3, allow_nan=False, allow_infinity=False)
concs = st.floats(0.0, 1e6, allow_nan=False, allow_infinity=False)


@st.composite
def subject_rows(draw, sid, *, dvid: bool, cens: bool, infusion_only: bool = False):
    """Rows of one valid subject, in time order: a first dose, then events."""
    t0 = draw(times)
    n = draw(st.integers(0, 8))
    ts = sorted(draw(st.lists(st.floats(t0, t0 + 1000.0, allow_nan=False), min_size=n,
                              max_size=n)))
    rate0 = draw(rates) if infusion_only else draw(st.sampled_from([0.0]) | rates)
    rows = [dict(ID=sid, TIME=t0, EVID=1, AMT=draw(amounts), RATE=rate0, DV=0.0, MDV=1)]
    for t in ts:
        kind = draw(st.sampled_from(["obs", "obs", "obs", "missing", "dose", "other"]))
        if kind == "dose":
            rate = draw(rates) if infusion_only else draw(st.sampled_from([0.0]) | rates)
            rows.append(dict(ID=sid, TIME=t, EVID=1, AMT=draw(amounts), RATE=rate, DV=0.0,
                             MDV=1))
        elif kind == "other":
            rows.append(dict(ID=sid, TIME=t, EVID=2, AMT=0.0, RATE=0.0, DV=np.nan, MDV=1))
        else:
            dv = np.nan if kind == "missing" else draw(concs)
            rows.append(dict(ID=sid, TIME=t, EVID=0, AMT=0.0, RATE=0.0, DV=dv,
                             MDV=int(kind == "missing")))
        if dvid:
            rows[-1]["DVID"] = draw(st.sampled_from(KNOWN_DVIDS))
    if cens:
        for r in rows:
            lloq = 50.0 if r.get("DVID", "BLIN") == "BLIN" else 125.0
            r["CENS"] = int(r["EVID"] == 0 and r["MDV"] == 0 and r["DV"] < lloq)
    return rows


@st.composite
def valid_frames(draw, *, infusion_only: bool = False, max_subjects: int = 5):
    """A valid contract DataFrame: subjects may interleave, times sorted within a subject."""
    n_sub = draw(st.integers(1, max_subjects))
    pool = ids_int if draw(st.booleans()) else ids_text
    sids = draw(st.lists(pool, min_size=n_sub, max_size=n_sub, unique=True))
    dvid, cens = draw(st.booleans()), draw(st.booleans())
    blocks = [draw(subject_rows(s, dvid=dvid, cens=cens, infusion_only=infusion_only))
              for s in sids]
    # interleave the subjects, keeping each subject's own order
    order = draw(st.permutations([i for i, b in enumerate(blocks) for _ in b]))
    pos = [0] * len(blocks)
    rows = []
    for i in order:
        rows.append(blocks[i][pos[i]])
        pos[i] += 1
    df = pd.DataFrame(rows)
    # exact duplicates (hypothesis loves them) are invalid by contract: keep the first
    dose = df["EVID"] == 1
    dup = df.duplicated() | (dose & df[["ID", "TIME", "AMT", "RATE"]].where(dose).duplicated())
    df = df.loc[~dup].reset_index(drop=True)
    if draw(st.booleans()):
        df["BSA"] = df["ID"].map({s: draw(st.floats(0.2, 3.0)) for s in sids})
    if draw(st.booleans()):
        df["SEX"] = df["ID"].map({s: draw(st.sampled_from("MF")) for s in sids})
    if draw(st.booleans()):
        df.columns = [c.lower() for c in df.columns]
    return df


#: Corruptions of a valid frame: (name, function(df, row_index, draw) -> df).
JUNK = st.sampled_from(["abc", "", ".", "nan", "-1", "inf", "-inf", "1e400", "<50", "2,5",
                        "  7 ", "True", "ß", "0x10", "1_000", "NaN"])


@st.composite
def corrupted_frames(draw):
    """A valid frame with 1-3 random corruptions (cells, rows or columns)."""
    df = draw(valid_frames()).copy()
    df.columns = [str(c).upper() for c in df.columns]
    for _ in range(draw(st.integers(1, 3))):
        what = draw(st.sampled_from(["cell", "cell", "cell", "drop_col", "dup_row", "swap_rows",
                                     "rename"]))
        n = len(df)
        if what == "cell" and n:
            col = draw(st.sampled_from(list(df.columns)))
            i = draw(st.integers(0, n - 1))
            value = draw(JUNK | st.floats(allow_nan=True, allow_infinity=True)
                         | st.integers(-10**20, 10**20))
            df[col] = df[col].astype(object)
            df.iloc[i, df.columns.get_loc(col)] = value
        elif what == "drop_col":
            df = df.drop(columns=draw(st.sampled_from(list(df.columns))))
        elif what == "dup_row" and n:
            i = draw(st.integers(0, n - 1))
            df = pd.concat([df, df.iloc[[i]]], ignore_index=True)
        elif what == "swap_rows" and n > 1:
            i, j = draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))
            idx = list(range(n))
            idx[i], idx[j] = idx[j], idx[i]
            df = df.iloc[idx].reset_index(drop=True)
        elif what == "rename":
            col = draw(st.sampled_from(list(df.columns)))
            df = df.rename(columns={col: col + "_X"})
    return df

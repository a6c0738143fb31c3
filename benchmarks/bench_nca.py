"""Benchmark: vectorised compute_css vs a straightforward pandas groupby/apply peer.

Usage::

    python benchmarks/bench_nca.py --subjects 50000 --obs 20 --naive-subjects 5000

Builds a synthetic study (label cycle: 9 ug/day for 7 days then 28 ug/day, 4-day
bags, a 12-h interruption in 10 % of subjects, BLQ and <LOD samples), reads it
once with ``read_dataset`` (not timed), then times

* ``compute_css`` (seed BLQ rule, mean, 10 h) -- table only and table + ledger;
* ``naive_css``: the same rules written the obvious way (``groupby("ID").apply``
  with a Python loop over each subject's segments), on ``--naive-subjects``
  subjects (and on all when ``--naive-subjects 0``),

and checks that both give the same table (``rtol=1e-12``). Results go to
docs/benchmarks-nca.md by hand.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from blinapk.data import read_dataset
from blinapk.dosing import rate_table
from blinapk.nca.steady_state import compute_css

R9, R28 = 9 / 24, 28 / 24


def make_frame(n_subjects: int, n_obs: int, seed: int = 1) -> pd.DataFrame:
    """Synthetic contract frame: dose rows (bags, steps, interruptions) and BLIN samples."""
    rng = np.random.default_rng(seed)
    ids = np.arange(1, n_subjects + 1)
    # dose template: 9 ug/day 0-168 h in 2 bags (96 h + 72 h), 28 ug/day 168-672 in 96-h bags
    starts = [0.0, 96.0] + list(np.arange(168.0, 672.0, 96.0))
    ends = [96.0, 168.0] + [min(s + 96.0, 672.0) for s in np.arange(168.0, 672.0, 96.0)]
    rates = [R9, R9] + [R28] * (len(starts) - 2)
    nd = len(starts)
    d_id = np.repeat(ids, nd)
    d_t0 = np.tile(starts, n_subjects)
    d_t1 = np.tile(ends, n_subjects)
    d_rate = np.tile(rates, n_subjects)
    # interruption: 10 % of subjects pause 12 h starting 24 h into the bag that starts at 360 h
    pause = rng.random(n_subjects) < 0.10
    hit = np.repeat(pause, nd) & (d_t0 == 360.0)
    extra_id, extra_t0, extra_t1 = d_id[hit], d_t0[hit] + 36.0, d_t1[hit]
    d_t1 = np.where(hit, d_t0 + 24.0, d_t1)
    d_id = np.concatenate([d_id, extra_id])
    d_t0 = np.concatenate([d_t0, extra_t0])
    d_t1 = np.concatenate([d_t1, extra_t1])
    d_rate = np.concatenate([d_rate, np.full(extra_id.size, R28)])
    doses = pd.DataFrame({"ID": d_id, "TIME": d_t0, "EVID": 1, "AMT": d_rate * (d_t1 - d_t0),
                          "RATE": d_rate, "DV": 0.0, "MDV": 1, "CENS": 0})
    # samples: one pre-dose, the rest uniform over 0-700 h
    o_id = np.repeat(ids, n_obs)
    o_t = np.round(rng.uniform(0.0, 700.0, o_id.size), 2)
    o_t[::n_obs] = 0.0
    cl = np.repeat(rng.lognormal(np.log(2.2), 0.5, n_subjects), n_obs)
    r = np.where(o_t < 168.0, R9, R28)
    dv = np.round(1000 * r / cl * rng.lognormal(0.0, 0.3, o_id.size), 1)
    dv[o_t == 0.0] = 0.0
    low = rng.random(o_id.size) < 0.05  # assay readings below LLOQ, some below LOD
    dv[low] = np.round(rng.uniform(0.0, 49.0, low.sum()), 1)
    cens = (dv < 50.0).astype(int)
    obs = pd.DataFrame({"ID": o_id, "TIME": o_t, "EVID": 0, "AMT": 0.0, "RATE": 0.0, "DV": dv,
                        "MDV": 0, "CENS": cens})
    obs = obs.drop_duplicates(subset=["ID", "TIME"])  # the reader rejects identical rows
    frame = pd.concat([doses, obs], ignore_index=True)
    return frame.sort_values(["ID", "TIME", "EVID"], ascending=[True, True, False],
                             kind="stable").reset_index(drop=True)


def naive_css(frame: pd.DataFrame, min_time: float = 10.0) -> pd.DataFrame:
    """The same rules as compute_css (seed rule, mean, per segment), written plainly."""
    rt = rate_table(frame[frame["EVID"] == 1])
    obs = frame[(frame["EVID"] == 0) & (frame["DVID"] == "BLIN") & (frame["MDV"] == 0)]
    obs_by_id = dict(list(obs.groupby("ID", sort=False)))

    def per_subject(seg: pd.DataFrame) -> pd.DataFrame:
        sid = seg.name
        seg = seg.sort_values("START")
        o = obs_by_id.get(sid, obs.iloc[:0])
        out = []
        run_start = None
        prev_end, prev_rate = None, None
        for s in seg.itertuples():
            if prev_end is None or s.RATE != prev_rate or s.START != prev_end:
                run_start = s.START
            prev_end, prev_rate = s.END, s.RATE
            if s.RATE <= 0:
                continue
            w = o[(o["TIME"] > s.START) & (o["TIME"] <= s.END)
                  & (o["TIME"] - run_start >= min_time)]
            values = []
            for dv, cens, lloq, lod in zip(w["DV"], w["CENS"], w["LLOQ"], w["LOD"], strict=True):
                if cens == 1 or dv < lloq:
                    if dv < lloq and dv < lod:
                        values.append(0.0)
                    continue
                values.append(dv)
            css = float(np.mean(values)) if values and np.mean(values) > 0 else np.nan
            out.append({"START": s.START, "END": s.END, "R0": s.RATE, "CSS": css,
                        "N": len(values), "CL": 1000 * s.RATE / css})
        return pd.DataFrame(out)

    res = rt.groupby("ID", sort=False)[["START", "END", "RATE"]].apply(per_subject)
    return res.reset_index(level=0).reset_index(drop=True)


def _time(f, repeat: int = 3):
    best, out = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = f()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--subjects", type=int, default=50_000)
    ap.add_argument("--obs", type=int, default=20)
    ap.add_argument("--naive-subjects", type=int, default=5_000,
                    help="subjects for the naive peer (0 = all)")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    frame = make_frame(args.subjects, args.obs)
    t0 = time.perf_counter()
    ds = read_dataset(frame)
    t_read = time.perf_counter() - t0
    n_obs = int((ds.frame["EVID"] == 0).sum())
    print(f"rows {len(frame):,} (observations {n_obs:,}, subjects {args.subjects:,}); "
          f"read_dataset {t_read:.2f} s (not timed below)")

    t_rt, _ = _time(lambda: rate_table(ds.frame.loc[ds.frame["EVID"] == 1]), args.repeat)
    t_tab, res = _time(lambda: compute_css(ds), args.repeat)
    t_led, _ = _time(lambda: compute_css(ds).ledger, args.repeat)
    print(f"rate_table alone                       {t_rt:8.3f} s")
    print(f"compute_css (table + lazy ledger)      {t_tab:8.3f} s")
    print(f"compute_css + ledger materialised      {t_led:8.3f} s")

    n_naive = args.subjects if args.naive_subjects <= 0 else min(args.naive_subjects, args.subjects)
    sub = ds.frame[ds.frame["ID"] <= n_naive]
    ds_sub = read_dataset(sub.drop(columns=["ROW"]))
    t_nv, naive = _time(lambda: naive_css(ds_sub.frame), 1)
    t_vec_sub, vec = _time(lambda: compute_css(ds_sub), args.repeat)
    mine = vec.to_frame()[["ID", "START", "END", "R0", "CSS", "N", "CL"]]
    pd.testing.assert_frame_equal(mine.reset_index(drop=True),
                                  naive[["ID", "START", "END", "R0", "CSS", "N", "CL"]],
                                  check_dtype=False, rtol=1e-12)
    scale = args.subjects / n_naive
    print(f"naive groupby/apply on {n_naive:,} subjects {t_nv:8.3f} s "
          f"(x{scale:g} -> ~{t_nv * scale:.1f} s for all)")
    print(f"compute_css on the same {n_naive:,} subjects {t_vec_sub:8.3f} s; "
          f"speed-up {t_nv / t_vec_sub:.0f}x; tables identical (rtol 1e-12)")
    print(f"segments {len(res):,}; estimable {int(res.to_frame()['CSS'].notna().sum()):,}")


if __name__ == "__main__":
    main()

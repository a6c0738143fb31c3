"""Speed of blinapk.pk.predict_conc (numpy) against a naive per-subject loop.

Run:  python benchmarks/bench_pk.py [--subjects 1000] [--obs-per-subject 1000]
      [--repeats 3] [--pytensor]

Workload: every subject gets 4 blinatumomab cycles (28 days on, 14 off; 48 h
bags; cycle 1 at 9 ug/day for 7 days then 28 ug/day, later cycles 28 ug/day),
a random 4 h interruption in cycle 1, and a 1-cmt model with log-normal
CL/V.  Observation times are uniform over the 168 days, plus every dose
boundary of the subject (ties).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from blinapk.pk import DoseMatrix, compact_doses, plan_segments, predict_conc, predict_conc_plan


def make_workload(n_sub: int, n_obs_per: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    starts, amts, durs = [], [], []
    for _s in range(n_sub):
        recs = []
        for cycle in range(4):
            t0 = cycle * 42 * 24.0
            for bag in range(14):
                t = t0 + 48.0 * bag
                rate = (9.0 if (cycle == 0 and bag < 4) else 28.0) / 24.0
                recs.append((t, rate * 48.0, 48.0))
        # interruption: cut one cycle-1 bag short by 4 h, restart after the gap
        k = int(rng.integers(4, 13))
        t, a, d = recs[k]
        cut = float(rng.uniform(1.0, 40.0))
        recs[k] = (t, a * cut / d, cut)
        recs.insert(k + 1, (t + cut + 4.0, a * (d - cut - 4.0) / d, d - cut - 4.0))
        starts.append([r[0] for r in recs])
        amts.append([r[1] for r in recs])
        durs.append([r[2] for r in recs])
    dm = DoseMatrix(time=starts, amt=amts, duration=durs)
    subj = np.repeat(np.arange(n_sub), n_obs_per)
    times = rng.uniform(0.0, 168 * 24.0, subj.size)
    # put boundaries (exact ties) among the observations
    n_tie = min(n_obs_per // 10, dm.n_dose_max)
    ties = (dm.time[:, :n_tie]).ravel()
    times[np.arange(n_sub)[:, None] * n_obs_per + np.arange(n_tie)] = ties.reshape(n_sub, n_tie)
    params = {
        "CL": 2.22 * np.exp(rng.normal(0, 0.5, n_sub)),
        "V": 5.98 * np.exp(rng.normal(0, 0.3, n_sub)),
    }
    return times, subj, dm, params


def naive_loop(times, subj, dm, params):
    """Peer: loop over subjects and doses; closed form vectorised over a subject's times."""
    out = np.zeros(times.size)
    for s in range(dm.n_subjects):
        idx = np.flatnonzero(subj == s)
        t = times[idx]
        k = params["CL"][s] / params["V"][s]
        c = np.zeros(t.size)
        for ts, amt, dur in zip(dm.time[s], dm.amt[s], dm.duration[s], strict=True):
            if amt <= 0:
                continue
            if dur == 0:
                c += np.where(t >= ts, 1000 * amt / params["V"][s] * np.exp(-k * (t - ts)), 0.0)
                continue
            r = amt / dur
            on = (t >= ts) & (t <= ts + dur)
            after = t > ts + dur
            with np.errstate(over="ignore"):
                c += np.where(on, 1000 * r / params["CL"][s] * (1 - np.exp(-k * (t - ts))), 0.0)
                c += np.where(
                    after,
                    1000
                    * r
                    / params["CL"][s]
                    * (1 - np.exp(-k * dur))
                    * np.exp(-k * (t - ts - dur)),
                    0.0,
                )
        out[idx] = c
    return out


def best_of(fn, repeats):
    best, result = np.inf, None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def bench_pytensor(repeats):
    import pytensor
    import pytensor.tensor as pt

    # PyMC-sized: 674 subjects, ~3.6 observations each (Zhu 2020 scale)
    times, subj, dm, params = make_workload(674, 4, seed=1)
    rows = []
    compact = compact_doses(dm)
    for label, method, doses in (
        ("dense", "dense", dm),
        (f"dense on compact_doses (n_dose_max={compact.n_dose_max})", "dense", compact),
        ("segments", "segments", dm),
    ):
        cl, v = pt.dvector("cl"), pt.dvector("v")
        t0 = time.perf_counter()
        conc = predict_conc(times, subj, doses, {"CL": cl, "V": v}, xp=pt, method=method)
        loss = pt.sum(pt.log(conc + 1.0))
        f = pytensor.function([cl, v], [loss, *pt.grad(loss, [cl, v])])
        compile_s = time.perf_counter() - t0
        call_s, _ = best_of(lambda f=f: f(params["CL"], params["V"]), max(repeats, 20))
        rows.append((label, compile_s, call_s))
    return times.size, dm.n_dose_max, rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--subjects", type=int, default=1000)
    ap.add_argument("--obs-per-subject", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--pytensor", action="store_true")
    args = ap.parse_args()
    times, subj, dm, params = make_workload(args.subjects, args.obs_per_subject)
    print(f"n_obs={times.size:,} n_subjects={dm.n_subjects} n_dose_max={dm.n_dose_max}")

    t_seg, c_seg = best_of(lambda: predict_conc(times, subj, dm, params), args.repeats)
    t_plan, plan = best_of(lambda: plan_segments(times, subj, dm), args.repeats)
    t_eval, _ = best_of(lambda: predict_conc_plan(plan, params), args.repeats)
    t_dense, c_dense = best_of(
        lambda: predict_conc(times, subj, dm, params, method="dense"), args.repeats
    )
    t_naive, c_naive = best_of(lambda: naive_loop(times, subj, dm, params), 1)

    def rel(a, b):
        return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-6)))

    print(f"{'method':<34}{'seconds':>10}{'vs naive':>10}")
    for name, sec in [
        ("segments (plan + evaluate)", t_seg),
        ("  plan only (data, once)", t_plan),
        ("  evaluate with a reused plan", t_eval),
        ("dense (chunked n_obs x n_dose)", t_dense),
        ("naive per-subject loop (peer)", t_naive),
    ]:
        print(f"{name:<34}{sec:>10.3f}{t_naive / sec:>9.1f}x")
    print(f"max rel diff segments vs naive: {rel(c_seg, c_naive):.2e}")
    print(f"max rel diff dense vs naive:    {rel(c_dense, c_naive):.2e}")
    if args.pytensor:
        n_obs, n_dose, rows = bench_pytensor(args.repeats)
        print(f"\npytensor value+grad (1cmt), n_obs={n_obs}, n_dose_max={n_dose}")
        for method, compile_s, call_s in rows:
            print(f"  {method:<44} compile {compile_s:6.2f} s   call {1e3 * call_s:8.3f} ms")


if __name__ == "__main__":
    main()

"""Speed and memory of blinapk.simulate.simulate_exposure against a plain numpy peer.

Run:  python benchmarks/bench_simulate.py [--n 1000000] [--repeats 3]
      [--rss 1000000 10000000] [--chunk-size 100000] [--out results.json]

Workload: N adults from the Zhu 2020 card (CL = 2.22 (BSA/1.88)^0.61 e^eta,
omega 0.7; V = 5.98 e^eta, omega 0.4) on 2 cycles of the adult label regimen
(9 ug/day days 1-7, 28 ug/day days 8-28, 14 days off; then 28 ug/day 28 days,
14 off). Outputs: Css at 9 and 28 ug/day and Cavg over cycle 1 and cycle 2.

* ``end-to-end``: ``simulate_exposure(N, ..., thresholds=())`` against the peer,
  which draws the same covariates with ``blinapk.simulate.simulate_population``
  (the documented covariate model) and then computes CL, V, Css and the cycle
  Cavg in closed form with plain numpy arrays (written for this regimen only).
* ``engine``: the same CL/V arrays given to both; blinapk's schedule +
  closed-form engine (``rate_schedule`` + ``window_exposure``) against the
  peer's closed form. Both give the same numbers (checked).
* ``rss``: peak resident memory of a fresh process that runs the call chunked
  on dask (threaded scheduler) and reduces it with ``summarize_exposure``, at
  each population size; plus the in-memory call at the first size.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

import numpy as np

DAY = 24.0
#: (hours, ug/h) of the two cycles; a cycle is 42 days.
SEGMENTS = ((7 * DAY, 9 / DAY), (21 * DAY, 28 / DAY), (14 * DAY, 0.0),
            (28 * DAY, 28 / DAY), (14 * DAY, 0.0))


def peer_exposure(cl: np.ndarray, v: np.ndarray) -> dict[str, np.ndarray]:
    """Css at both levels and Cavg per cycle, one closed-form update per segment."""
    k = cl / v
    y = np.zeros_like(cl)  # amount in the body (ug)
    auc = np.zeros_like(cl)
    cavg = []
    for j, (d, r) in enumerate(SEGMENTS):
        e = np.exp(-k * d)
        y_inf = r / k
        auc += 1000.0 / v * (y_inf * d + (y - y_inf) * (1.0 - e) / k)
        y = y_inf + (y - y_inf) * e
        if j in (2, 4):  # end of a 42-day cycle
            cavg.append(auc / (42 * DAY))
            auc = np.zeros_like(cl)
    return {"CSS9": 1000 * (9 / DAY) / cl, "CSS28": 1000 * (28 / DAY) / cl,
            "CAVG1": cavg[0], "CAVG2": cavg[1]}


def peer_end_to_end(n: int, seed: int) -> dict[str, np.ndarray]:
    from blinapk.simulate import simulate_population

    rng = np.random.default_rng(seed)
    pop = simulate_population(n, rng, paediatric_fraction=0.0)
    bsa = pop["BSA"].to_numpy()
    cl = 2.22 * (bsa / 1.88) ** 0.61 * np.exp(rng.normal(0.0, 0.7, n))
    v = 5.98 * np.exp(rng.normal(0.0, 0.4, n))
    return peer_exposure(cl, v)


def blinapk_engine(cl: np.ndarray, v: np.ndarray) -> dict[str, np.ndarray]:
    from blinapk.dosing import get_preset, rate_schedule
    from blinapk.pk import modes
    from blinapk.simulate.exposure_math import window_exposure

    sched = rate_schedule(get_preset("adult_rr"), len(cl))
    md = modes({"CL": cl[None], "V": v[None]})
    b = sched.bounds
    aucs, _ = window_exposure(sched.start, sched.end, sched.rate, md,
                              [(b[:, 0], b[:, 1]), (b[:, 1], b[:, 2])])
    css = 1000 * sched.level_rate[None] / cl[None, :, None]
    return {"CSS9": css[0, :, 0], "CSS28": css[0, :, 1], "CAVG1": aucs[0][0] / (42 * DAY),
            "CAVG2": aucs[1][0] / (42 * DAY)}


def best(fn, repeats: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


_RSS_CHILD = """
import json, sys, time
from blinapk.simulate import simulate_exposure, summarize_exposure
def peak_mb():  # VmHWM: this process's own peak (getrusage can report the parent's at fork)
    line = next(x for x in open("/proc/self/status") if x.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024
n, chunk, mode = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
t = time.perf_counter()
ds = simulate_exposure(n, 1, regimen="adult_rr", thresholds=(470.0,), chunk_size=chunk,
                       dask=None if mode == "memory" else mode)
s = summarize_exposure(ds, by=("BSA_BAND",))
row = s.distribution.query("METRIC == 'CSS' and KEY == '28 ug/day'")
print(json.dumps({"n": n, "mode": mode, "seconds": time.perf_counter() - t,
                  "peak_rss_mb": peak_mb(),
                  "n_summarised": int(row["N"].sum())}))
"""


def rss(n: int, chunk: int, mode: str) -> dict:
    out = subprocess.run([sys.executable, "-c", _RSS_CHILD, str(n), str(chunk), mode],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--chunk-size", type=int, default=100_000)
    ap.add_argument("--rss", type=int, nargs="*", default=[1_000_000, 10_000_000])
    ap.add_argument("--out", default=None, help="write the results as JSON here")
    args = ap.parse_args()

    from blinapk.simulate import simulate_exposure

    result: dict = {"n": args.n, "repeats": args.repeats}
    lib_t, ds = best(lambda: simulate_exposure(args.n, 1, regimen="adult_rr", thresholds=(),
                                               chunk_size=args.chunk_size), args.repeats)
    peer_t, _ = best(lambda: peer_end_to_end(args.n, 1), args.repeats)
    result["end_to_end"] = {"blinapk_s": lib_t, "peer_s": peer_t, "ratio": lib_t / peer_t}
    print(f"end-to-end, {args.n:,} adults x 2 cycles: blinapk {lib_t:.2f} s, "
          f"numpy peer {peer_t:.2f} s, ratio {lib_t / peer_t:.2f}")

    cl, v = ds["CL"].values[0], ds["V"].values[0]
    eng_t, ours = best(lambda: blinapk_engine(cl, v), args.repeats)
    peng_t, theirs = best(lambda: peer_exposure(cl, v), args.repeats)
    for key in ours:
        np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-9)
    np.testing.assert_allclose(ds["CAVG"].values[0, :, 0], theirs["CAVG1"], rtol=1e-9)
    result["engine"] = {"blinapk_s": eng_t, "peer_s": peng_t, "ratio": eng_t / peng_t}
    print(f"engine only (same CL, V; identical numbers): blinapk {eng_t:.2f} s, "
          f"peer {peng_t:.2f} s, ratio {eng_t / peng_t:.2f}")

    result["rss"] = []
    for i, n in enumerate(args.rss):
        modes = ["memory", "threads"] if i == 0 else ["threads"]
        for mode in modes:
            r = rss(n, args.chunk_size, mode)
            result["rss"].append(r)
            print(f"peak RSS, {n:,} patients, {mode}: {r['peak_rss_mb']:.0f} MB "
                  f"({r['seconds']:.1f} s incl. summary)")
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            json.dump(result, fh, indent=2)


if __name__ == "__main__":
    main()

"""Benchmark: ``blinapk nca`` end to end on a 10^6-row event file, against a pandas peer.

Usage::

    python benchmarks/bench_nca_command.py --subjects 36000 --obs 20 --repeat 3

Writes the synthetic study of ``bench_nca.make_frame`` (label cycle 1 with bag
changes, 10 % interruptions, BLQ and <LOD samples; 36,000 subjects x 20
samples = 1,011,526 rows) to a CSV file (not timed), then, each in a fresh
process, wall time from process start to exit:

* ``blinapk nca FILE --out DIR --no-figures`` (the five tables: Css/CL,
  summary, row ledger, SDTM PP, PP codes), ``--repeat`` times;
* the stages of that command timed inside one process (import, read and
  validate, Css/CL, summary, ledger, writing), then ``write_dataset`` of the
  dataset read and, as its peer, ``DataFrame.to_csv`` of the same frame;
* the peer a skilled pandas user would write for the same numbers:
  ``read_csv``, constant-rate segments from the dose rows (bags of one rate
  merged), samples matched to segments with ``merge_asof``, the same
  steady-state window (10 h after the rate started) and BLQ rule (< LLOQ 50
  pg/mL or CENS = 1: dropped, set to 0 below LOD 3 pg/mL), ``groupby`` mean
  -> Css, CL = 1000 R0 / Css, ``to_csv``. Its Css table is checked against
  blinapk's (same segments, ``rtol=1e-12``).

Prints best and median of each; results go to docs/benchmarks-nca.md by hand.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent

STAGES = r"""
import json, sys, time
t0 = time.perf_counter()
from blinapk.data import read_dataset
from blinapk.nca import compute_css
from blinapk.report import write_nca
t1 = time.perf_counter()
ds = read_dataset(sys.argv[1])
t2 = time.perf_counter()
css = compute_css(ds)
t3 = time.perf_counter()
summary = css.summary(by=["CYCLE", "DOSE_LEVEL"], dataset=ds)
t4 = time.perf_counter()
css.ledger
t5 = time.perf_counter()
write_nca(css, summary, sys.argv[2], dataset=ds, figures=False)
t6 = time.perf_counter()
from blinapk.data import write_dataset
write_dataset(ds, sys.argv[2] + "/dataset.csv")
t7 = time.perf_counter()
ds.frame.to_csv(sys.argv[2] + "/to_csv.csv", index=False)
t8 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "read and validate": t2 - t1, "Css/CL": t3 - t2,
                  "summary": t4 - t3, "ledger": t5 - t4, "write tables": t6 - t5,
                  "write_dataset (not in nca)": t7 - t6,
                  "DataFrame.to_csv of ds.frame (peer of write_dataset)": t8 - t7}))
"""

PEER = r"""
import sys
import numpy as np
import pandas as pd

LLOQ, LOD, MIN_TIME = 50.0, 3.0, 10.0
f = pd.read_csv(sys.argv[1])
d = f[(f["EVID"] == 1) & (f["RATE"] > 0)].copy()
d["END"] = d["TIME"] + d["AMT"] / d["RATE"]
d = d.sort_values(["ID", "TIME"], kind="stable")
# a new segment where the rate changes or the infusion does not continue the previous bag
prev_end = d.groupby("ID")["END"].shift()
prev_rate = d.groupby("ID")["RATE"].shift()
new = (d["TIME"] != prev_end) | (d["RATE"] != prev_rate)
d["SEG"] = new.cumsum()
seg = d.groupby("SEG").agg(ID=("ID", "first"), START=("TIME", "first"), END=("END", "last"),
                           R0=("RATE", "first"))
o = f[(f["EVID"] == 0) & (f["MDV"] == 0)].sort_values("TIME", kind="stable")
# samples at the start of a segment belong to the previous one: (START, END]
o = pd.merge_asof(o, seg.reset_index().sort_values("START"), left_on="TIME", right_on="START",
                  by="ID", allow_exact_matches=False)
o = o[(o["TIME"] <= o["END"]) & (o["TIME"] - o["START"] >= MIN_TIME)]
blq = (o["CENS"] == 1) | (o["DV"] < LLOQ)
o = o[~blq | (o["DV"] < LOD)]
o["C"] = np.where(o["DV"] < LOD, 0.0, o["DV"])
res = o.groupby("SEG").agg(CSS=("C", "mean"), N=("C", "size"))
out = seg.join(res, how="left")
out["N"] = out["N"].fillna(0).astype(int)
out["CSS"] = out["CSS"].where(out["CSS"] > 0)
out["CL"] = 1000 * out["R0"] / out["CSS"]
out.reset_index(drop=True).to_csv(sys.argv[2], index=False)
"""


def _wall(cmd: list[str]) -> float:
    """Wall seconds of a fresh process; its CPU seconds (user + system) go to CPU."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU.setdefault(cmd[2] if cmd[1] == "-m" else "peer", []).append(
        after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return wall


#: CPU seconds of each run by program: on a shared machine they move less than wall times.
CPU: dict[str, list[float]] = {}


def _stats(times: list[float]) -> str:
    return f"best {min(times):.2f} s, median {statistics.median(times):.2f} s"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--subjects", type=int, default=36_000)
    ap.add_argument("--obs", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    sys.path.insert(0, str(HERE))
    from bench_nca import make_frame

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "study.csv"
        make_frame(args.subjects, args.obs).to_csv(data, index=False)
        n_rows = sum(1 for _ in data.open()) - 1
        print(f"{data.name}: {n_rows:,} rows, {data.stat().st_size / 1e6:.1f} MB")
        py = sys.executable
        runs = {"blinapk nca": [], "pandas peer": []}
        stages: list[dict] = []
        for k in range(args.repeat):
            out = Path(tmp) / f"nca{k}"
            runs["blinapk nca"].append(_wall([py, "-m", "blinapk", "nca", str(data), "--out",
                                              str(out), "--no-figures"]))
            runs["pandas peer"].append(_wall([py, "-c", PEER, str(data), str(out / "peer.csv")]))
            res = subprocess.run([py, "-c", STAGES, str(data), str(Path(tmp) / f"st{k}")],
                                 check=True, capture_output=True, text=True)
            stages.append(json.loads(res.stdout.strip().splitlines()[-1]))
        mine = pd.read_csv(out / "css_observed.csv", skiprows=[1])
        peer = pd.read_csv(out / "peer.csv")
        key = ["ID", "START"]
        both = mine.merge(peer, on=key, suffixes=("", "_peer"), validate="one_to_one")
        assert len(both) == len(mine) == len(peer), (len(both), len(mine), len(peer))
        np.testing.assert_allclose(both["CSS"], both["CSS_peer"], rtol=1e-12)
        np.testing.assert_array_equal(both["N"], both["N_peer"])
        print(f"Css tables agree: {len(both):,} segments, "
              f"{int(both['CSS'].notna().sum()):,} with Css (rtol 1e-12)")
        for name, times in runs.items():
            each = ", ".join(f"{t:.2f}" for t in times)
            print(f"{name:12s} end to end: {_stats(times)}  ({each})")
        for name, times in CPU.items():
            print(f"{name:12s} CPU (user + system): {_stats(times)}")
        print(f"load average at the end: {os.getloadavg()[0]:.1f}")
        ratio = [a / b for a, b in zip(runs["blinapk nca"], runs["pandas peer"], strict=True)]
        print(f"ratio blinapk / peer per run: {', '.join(f'{r:.2f}' for r in ratio)}")
        print("stages inside one process (median over runs):")
        for stage in stages[0]:
            times = [s[stage] for s in stages]
            print(f"  {stage:18s} median {statistics.median(times):6.2f} s, "
                  f"best {min(times):6.2f} s")


if __name__ == "__main__":
    main()

"""Benchmark: garbage-collection time inside a population-PK fit, with and without the freeze.

:func:`blinapk.poppk.fit` and :func:`blinapk.mcmc.sample_nuts` keep the
objects alive before them out of the garbage collector's passes while they
run (:func:`blinapk.mcmc.gcfreeze.frozen_heap`). The peer is the same fit
with that block replaced by a no-op (what the code did before). Each side
runs in fresh processes, alternating: first with an empty blinapk cache (a
first fit of the data: translation, tracing, XLA compilation), then again
with the cache it filled (a second fit). Every process imports what the
N = 200 benchmark worker imports (ArviZ, JAX, NumPyro, pandas, PyMC,
blinapk), then times the fit and the collector's passes inside it
(``gc.callbacks``).

Run from the repository root (about 5 minutes)::

    python benchmarks/bench_gcfreeze.py --pairs 5

Data: the N = 200 trial of ``bench_poppk.py`` (same simulation seed), the
same model and sampler settings (2 chains, 1000 + 1000, seed 1). Prints the
median of each measure and writes ``benchmarks/results/gcfreeze_n200_<stamp>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _bench_common import machine_notes, write_json  # noqa: E402
from bench_poppk import SPEC, make_dataset  # noqa: E402  (the N = 200 benchmark's model and data)

#: Subjects and simulation seed of the N = 200 benchmark trial (bench_poppk's --data-seed).
N, SEED = 200, 20240601


def worker(data: str, off: bool) -> None:
    """One fit in this process; print its wall time and the collector's time inside it."""
    import contextlib
    import gc

    spent = {"n_full": 0, "full_s": 0.0, "all_s": 0.0}
    started = [0.0]

    def clock(phase: str, info: dict) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
            return
        dt = time.perf_counter() - started[0]
        spent["all_s"] += dt
        if info["generation"] == 2:
            spent["n_full"] += 1
            spent["full_s"] += dt

    import arviz  # noqa: F401
    import jax  # noqa: F401
    import numpyro  # noqa: F401
    import pandas as pd
    import pymc  # noqa: F401

    from blinapk.data import read_dataset
    from blinapk.poppk.fit import fit

    if off:  # the code before: no freeze around the fit
        for name in ("blinapk.poppk.fit", "blinapk.mcmc.nuts"):
            sys.modules[name].frozen_heap = lambda: contextlib.nullcontext(False)
    ds = read_dataset(pd.read_csv(data))
    gc.callbacks.append(clock)
    t0 = time.perf_counter()
    fit(ds, SPEC, draws=1000, tune=1000, chains=2, seed=1, progressbar=False)
    spent["fit_s"] = time.perf_counter() - t0
    gc.callbacks.remove(clock)
    print(json.dumps(spent))


def _child(data: Path, off: bool, cache: Path) -> dict:
    env = {**os.environ, "BLINAPK_CACHE_DIR": str(cache)}
    cmd = [sys.executable, __file__, "--worker", "--data", str(data)] + (["--off"] if off else [])
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(out.strip().splitlines()[-1])


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pairs", type=int, default=5)
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--off", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--data", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        worker(args.data, args.off)
        return 0
    runs = []
    with tempfile.TemporaryDirectory(prefix="blinapk-bench-gc-") as tmp:
        work = Path(tmp)
        data, _ = make_dataset(N, SEED, work)
        for pair in range(args.pairs):
            for off in (False, True):
                cache = work / f"cache-{pair}-{int(off)}"
                for phase in ("empty", "filled"):
                    r = _child(data, off, cache)
                    r.update(pair=pair, freeze=not off, cache=phase)
                    runs.append(r)
                    print(json.dumps(r), flush=True)
    summary = {}
    for freeze in (True, False):
        for phase in ("empty", "filled"):
            sel = [r for r in runs if r["freeze"] == freeze and r["cache"] == phase]
            summary[f"{'freeze' if freeze else 'no freeze'}, {phase} cache"] = {
                k: round(statistics.median(r[k] for r in sel), 3)
                for k in ("fit_s", "full_s", "all_s", "n_full")}
    for label, med in summary.items():
        print(f"{label:26s} median fit {med['fit_s']:.2f} s, full collections "
              f"{med['n_full']:.0f} taking {med['full_s']:.3f} s, "
              f"all collections {med['all_s']:.3f} s")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    command = f"python benchmarks/bench_gcfreeze.py --pairs {args.pairs}"
    write_json(HERE / "results" / f"gcfreeze_n{N}_{stamp}.json",
               {"stamp": stamp, "command": command, "machine": machine_notes(),
                "runs": runs, "median": summary})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

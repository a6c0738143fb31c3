"""Benchmark: best response (``derive_best_response``) on large simulated trials.

A virtual trial of many patients goes through the same endpoint derivation
as a clinical one. This times ``derive_best_response`` (response of every
assessment, the window ledger, best response, CR/CRh*, MRD response) on
simulated trials of increasing size, best of ``--repeat`` runs.

Run from the repository root::

    python benchmarks/bench_endpoints.py --n 5000 50000
"""

from __future__ import annotations

import argparse
import time

from blinapk.endpoints import derive_best_response
from blinapk.simulate import simulate_trial


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, nargs="+", default=[5000, 50000])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=3)
    args = ap.parse_args()
    for n in args.n:
        clinical = simulate_trial(n, seed=args.seed).clinical
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            best = derive_best_response(clinical.assessments, clinical.subjects)
            times.append(time.perf_counter() - t0)
        print(f"N = {n}: {len(clinical.assessments):,} assessments, {len(best):,} subjects; "
              f"derive_best_response best {min(times):.3f} s "
              f"({', '.join(f'{t:.3f}' for t in times)})")


if __name__ == "__main__":
    main()

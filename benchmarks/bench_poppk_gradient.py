"""Cost of one log density + gradient of the default population-PK model.

Run::

    python benchmarks/bench_poppk_gradient.py [--n 3000] [--calls 300] [--repeats 5]
        [--backends NUMBA]

Builds the model that ``bench_poppk.py`` fits (same simulated trial, same
specification: 1 compartment, BSA power on CL, proportional error, M3),
freezes its data as the samplers do, compiles ``(logp, dlogp)`` over the
sampled variables with each backend, and times ``--calls`` evaluations at
the initial point, ``--repeats`` times, in this one process (one core). The
per-call median and minimum go to
``benchmarks/results/poppk_gradient_n<N>_<stamp>.json`` with the code
version, so two versions of the package can be compared by running the script
against each (``PYTHONPATH`` pointing at the other checkout) back to back on
an idle machine. This is the quantity a NUTS step pays per leapfrog; the
end-to-end benchmark is ``bench_poppk.py``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _bench_common import machine_notes, write_json  # noqa: E402
from bench_poppk import SPEC, make_dataset  # noqa: E402
from sbc_poppk import code_version  # noqa: E402


def time_backend(model, mode: str, calls: int, repeats: int) -> dict:
    """Compile ``(logp, grad)`` with PyTensor ``mode`` and time it at the initial point."""
    import pytensor
    import pytensor.tensor as pt

    value_vars = model.value_vars
    logp = model.logp()
    grads = pt.grad(logp, value_vars)
    t0 = time.perf_counter()
    f = pytensor.function(value_vars, [logp, *grads], mode=mode, on_unused_input="ignore")
    point = model.initial_point()
    args = [point[v.name] for v in value_vars]
    f(*args)  # first call: JIT of the backend
    compile_s = time.perf_counter() - t0
    per_call = []
    for _ in range(repeats):
        t = time.perf_counter()
        for _ in range(calls):
            f(*args)
        per_call.append((time.perf_counter() - t) / calls)
    return {"backend": mode, "compile_s": compile_s, "calls": calls,
            "per_call_ms_median": 1e3 * statistics.median(per_call),
            "per_call_ms_min": 1e3 * min(per_call),
            "per_call_ms_all": [1e3 * x for x in per_call],
            "logp": float(f(*args)[0])}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=3000, help="subjects (default 3000)")
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--calls", type=int, default=300)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--backends", nargs="+", default=["NUMBA"],
                    help="PyTensor modes; JAX here includes a Python call per evaluation")
    ap.add_argument("--out", type=Path, default=HERE / "results")
    ap.add_argument("--label", default="", help="free text stored with the results, "
                    "e.g. which version of the package was imported")
    args = ap.parse_args(argv)

    import pandas as pd

    import blinapk
    from blinapk.data import read_dataset
    from blinapk.mcmc.nuts import _frozen
    from blinapk.poppk.build import build_model
    from blinapk.poppk.spec import PopPKSpec

    with tempfile.TemporaryDirectory() as tmp:
        csv, desc = make_dataset(args.n, args.seed, Path(tmp))
        ds = read_dataset(pd.read_csv(csv))
    model = _frozen(build_model(ds, PopPKSpec.from_dict(SPEC)))
    runs = []
    for mode in args.backends:
        r = time_backend(model, mode, args.calls, args.repeats)
        print(f"N={args.n} {mode}: {r['per_call_ms_median']:.3f} ms per logp+grad "
              f"(min {r['per_call_ms_min']:.3f}), compile {r['compile_s']:.1f} s, "
              f"logp {r['logp']:.3f}")
        runs.append(r)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = args.out / f"poppk_gradient_n{args.n}_{stamp}.json"
    write_json(out, {"command": "python benchmarks/bench_poppk_gradient.py "
                                + " ".join(argv if argv is not None else sys.argv[1:]),
                     "label": args.label, "code": code_version(),
                     "imported_blinapk_is_this_checkout":
                         Path(blinapk.__file__).resolve().parent.parent == HERE.parent,
                     "machine": machine_notes(), "dataset": desc,
                     "spec": SPEC, "runs": runs})
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

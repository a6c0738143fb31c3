"""Experiment: cost of one log-density + gradient evaluation, per backend.

NUTS wall time = compile time + (gradient evaluations) x (cost of one).  This
script measures the second factor in isolation (and the compile time) on
one dataset, for

* blinapk's PyMC model (``blinapk.poppk.build.build_model``) compiled by
  PyTensor to C, Numba and JAX (``model.logp_dlogp_function``), and by
  ``nutpie.compile_pymc_model`` (numba / jax backends: compile time only);
* variants of the prediction graph (dense superposition over all dose
  records vs. compacted to the doses that started before each observation);
* the NumPyro peer (``peer_numpyro.py``) in float64 and float32.

Usage::

    /work/venv/bin/python benchmarks/exp_poppk_grad.py --data trial.csv [--repeat 200]

Prints one line per variant: compile seconds and microseconds per
evaluation (median of ``--repeat`` calls after a warm-up).
"""

from __future__ import annotations

import os

os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=1")

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

SPEC = {"structure": "1cmt", "covariates": ["CL~BSA:power"], "bsv": ["CL", "V"]}


def _time_calls(fn, x, repeat):
    """Median wall microseconds per call (and CPU microseconds, robust to load)."""
    fn(x)
    out = []
    c0 = time.process_time()
    for _ in range(repeat):
        t = time.perf_counter()
        fn(x)
        out.append(time.perf_counter() - t)
    cpu = (time.process_time() - c0) / repeat
    return float(np.median(out)) * 1e6, cpu * 1e6


def bench_pytensor(model, modes, repeat):
    """Compile logp+dlogp of a PyMC model in several PyTensor modes and time it."""
    rows = []
    ip = model.initial_point()
    for mode in modes:
        t0 = time.perf_counter()
        f = model.logp_dlogp_function(mode=mode, ravel_inputs=True)
        f.set_extra_values({})
        x = np.concatenate([np.ravel(ip[v.name]) for v in f._grad_vars])
        if mode == "JAX":
            import jax

            def call(z, f=f):
                return jax.block_until_ready(f(z))
        else:
            call = f
        call(x)
        compile_s = time.perf_counter() - t0
        us, cpu = _time_calls(call, x, repeat)
        rows.append({"variant": f"pytensor-{mode}", "compile_s": compile_s, "us_per_eval": us,
                     "cpu_us_per_eval": cpu, "dim": int(x.size)})
    return rows


def bench_nutpie_compile(model, backends):
    """Compile time of nutpie's model compilation (what fit() pays once)."""
    import nutpie

    rows = []
    for be in backends:
        t0 = time.perf_counter()
        kw = {"backend": be}
        if be == "jax":
            kw["gradient_backend"] = "jax"
        nutpie.compile_pymc_model(model, **kw)
        rows.append({"variant": f"nutpie-compile-{be}", "compile_s": time.perf_counter() - t0})
    return rows


def bench_peer(df, repeat, x64):
    """Compile and time value_and_grad of the peer's potential (JAX)."""
    import jax
    import numpyro

    if x64:
        numpyro.enable_x64()
    import peer_numpyro as P
    from numpyro.infer.util import initialize_model

    t0 = time.perf_counter()
    pdat = P.prepare(df)
    model = P.make_model(pdat)
    from numpyro.infer import init_to_value

    info = initialize_model(jax.random.PRNGKey(0), model,
                            init_strategy=init_to_value(values=P.init_values(pdat)))
    pe = jax.jit(jax.value_and_grad(info.potential_fn))
    x = info.param_info.z

    def call(z):
        return jax.block_until_ready(pe(z))

    call(x)
    compile_s = time.perf_counter() - t0
    us, cpu = _time_calls(call, x, repeat)
    dim = sum(int(np.size(v)) for v in x.values())
    return [{"variant": f"peer-jax-{'f64' if x64 else 'f32'}", "compile_s": compile_s,
             "us_per_eval": us, "cpu_us_per_eval": cpu, "dim": dim,
             "width_inf": int(pdat.inf_amp.shape[1])}]


def main(argv=None) -> int:
    """Command-line entry point."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--repeat", type=int, default=200)
    p.add_argument("--what", nargs="+", default=["pytensor", "nutpie", "peer64", "peer32"])
    p.add_argument("--modes", nargs="+", default=["FAST_RUN", "NUMBA", "JAX"])
    p.add_argument("--out", type=Path, default=None)
    a = p.parse_args(argv)
    df = pd.read_csv(a.data)
    rows = []
    if "pytensor" in a.what or "nutpie" in a.what:
        from blinapk.data import read_dataset
        from blinapk.poppk.build import build_model
        from blinapk.poppk.spec import PopPKSpec

        t0 = time.perf_counter()
        model = build_model(read_dataset(df), PopPKSpec.from_dict(SPEC))
        rows.append({"variant": "blinapk-build_model", "compile_s": time.perf_counter() - t0})
        if "pytensor" in a.what:
            rows += bench_pytensor(model, a.modes, a.repeat)
        if "nutpie" in a.what:
            rows += bench_nutpie_compile(model, ["numba", "jax"])
    if "peer64" in a.what:
        rows += bench_peer(df, a.repeat, True)
    if "peer32" in a.what:
        rows += bench_peer(df, a.repeat, False)
    for r in rows:
        print(json.dumps(r))
    if a.out:
        a.out.write_text(json.dumps({"data": str(a.data), "rows": rows,
                                     "loadavg": os.getloadavg()}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

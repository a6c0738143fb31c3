"""Experiment: which changes to blinapk's PyMC model make nutpie faster?

Builds blinapk's model (``blinapk.poppk.build.build_model``) with one piece
swapped at a time -- by patching the functions the builder calls, nothing in
``blinapk/`` is edited -- and measures, with nutpie:

* compile time (``nutpie.compile_pymc_model``),
* microseconds per log-density + gradient evaluation on 1 and 2 concurrent
  threads (``CompiledModel.benchmark_logp``; the 2-thread figure tells
  whether two chains really run in parallel),
* optionally (``--sample``) a full 2-chain 1000 + 1000 run: wall time,
  leapfrog steps per iteration, minimum bulk-ESS over the population
  parameters.

Prediction variants (all exact, same posterior):

``dense``       blinapk's current graph: every (merged) dose record of the
                subject, padded to the widest subject;
``compact``     only the segments that started before each observation,
                left-compacted (the peer's layout), 2 ``exp`` per element;
``ratechange``  ``C = 1000/CL [R(t) - sum_j dR_j exp(-k (t - s_j))]`` over the
                rate changes before ``t`` (1 ``exp`` per element, R(t) data);
``segments``    blinapk.pk's recursion over breakpoints (O(n_obs + n_seg)).

Backends: ``jax`` / ``numba`` (nutpie), ``NUMBA`` / ``FAST_RUN`` (a PyTensor
function, gradient timing only) and ``numpyro-parallel`` (a full fit through
``pm.sample(nuts_sampler="numpyro")`` with both chains in parallel).

Likelihood variants: ``custom`` (blinapk's CustomDist: normal log-density and
M3 log-CDF evaluated on every row, selected by ``where``) and ``split``
(quantified rows in a ``pm.Normal``, censored rows only through the log-CDF).

Usage::

    /work/venv/bin/python benchmarks/exp_poppk_variants.py --data trial.csv \
        --pred dense compact ratechange segments --lik custom split --backend jax numba
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time
from pathlib import Path

# two XLA host devices for the numpyro-parallel variant (before jax is imported)
os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=2")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _bench_common import summarize_posterior  # noqa: E402

SPEC = {"structure": "1cmt", "covariates": ["CL~BSA:power"], "bsv": ["CL", "V"]}
NAME_MAP = {"cl_pop": "log_CL", "v_pop": "log_V", "omega_cl": "omega_CL",
            "omega_v": "omega_V", "sigma": "sigma_prop", "theta_bsa": "beta_CL_BSA"}


def _segments_per_obs(times, subj, doses):
    """Per observation: merged infusion segments that started before it."""
    rows = []
    for t, s in zip(times, subj, strict=True):
        n = int(doses.n_doses[s])
        ts, dur, amt = doses.time[s, :n], doses.duration[s, :n], doses.amt[s, :n]
        keep = (ts < t) & (dur > 0)
        rows.append((ts[keep], amt[keep] / dur[keep], ts[keep] + dur[keep], t))
    return rows


def compact_predict(times, subject_index, doses, params, model="1cmt", xp=None, **_):
    """Dense superposition over the segments that started before each observation."""
    rows = _segments_per_obs(np.asarray(times), np.asarray(subject_index), doses)
    k = max(1, max(len(r[0]) for r in rows))
    amp = np.zeros((len(rows), k))
    since_end = np.zeros((len(rows), k))
    since_start = np.zeros((len(rows), k))
    for j, (st, rt, en, t) in enumerate(rows):
        m = st.size
        amp[j, :m] = 1000.0 * rt
        since_end[j, :m] = np.maximum(t - en, 0.0)
        since_start[j, :m] = t - st
    cl, v = params["CL"], params["V"]
    lam = (cl / v)[subject_index][:, None]
    tot = (amp * (xp.exp(-lam * since_end) - xp.exp(-lam * since_start))).sum(axis=1)
    return tot / cl[subject_index]


def ratechange_predict(times, subject_index, doses, params, model="1cmt", xp=None, **_):
    """C = 1000/CL [R(t) - sum_j dR_j exp(-k (t - s_j))] over rate changes before t."""
    rows = _segments_per_obs(np.asarray(times), np.asarray(subject_index), doses)
    per = []
    for st, rt, en, t in rows:
        ev_t = np.concatenate([st, en])
        ev_r = np.concatenate([rt, -rt])
        keep = ev_t < t
        ev_t, ev_r = ev_t[keep], ev_r[keep]
        # merge coincident change points (end of one segment = start of the next)
        ut, inv = np.unique(ev_t, return_inverse=True)
        dr = np.bincount(inv, weights=ev_r, minlength=ut.size)
        nz = np.abs(dr) > 1e-12
        per.append((ut[nz], dr[nz], float(rt[(st < t) & (en >= t)].sum()) if st.size else 0.0,
                    t))
    k = max(1, max(len(p[0]) for p in per))
    dr = np.zeros((len(per), k))
    since = np.zeros((len(per), k))
    r_now = np.zeros(len(per))
    for j, (ut, d, r, t) in enumerate(per):
        dr[j, : ut.size] = 1000.0 * d
        since[j, : ut.size] = t - ut
        r_now[j] = 1000.0 * r
    cl, v = params["CL"], params["V"]
    lam = (cl / v)[subject_index][:, None]
    tot = r_now - (dr * xp.exp(-lam * since)).sum(axis=1)
    return tot / cl[subject_index]


def split_observations(pred, data, residual, sigma_prop=None, sigma_add=None, name="conc"):
    """Quantified rows as pm.Normal on log DV; censored rows only via the M3 log-CDF."""
    import pymc as pm
    import pytensor.tensor as pt

    from blinapk.poppk.likelihood import PRED_FLOOR, log_ndtr

    assert residual == "proportional"
    mu = pt.log(pred + PRED_FLOOR)
    q = np.flatnonzero(~data.cens)
    c = np.flatnonzero(data.cens)
    pm.Normal(name, mu=mu[q], sigma=sigma_prop, observed=np.log(data.dv[q]))
    if c.size:
        z = (np.log(data.lloq[c]) - mu[c]) / sigma_prop
        pm.Potential(f"{name}_cens", log_ndtr(z, pt).sum())


def build(df, pred: str, lik: str):
    """blinapk's model with the requested prediction / likelihood variant."""
    import blinapk.poppk.build as B
    from blinapk.data import read_dataset
    from blinapk.pk import predict_conc
    from blinapk.poppk.likelihood import add_observations
    from blinapk.poppk.spec import PopPKSpec

    funcs = {
        "dense": predict_conc,
        "segments": lambda *a, **k: predict_conc(*a, **{**k, "method": "segments"}),
        "compact": compact_predict,
        "ratechange": ratechange_predict,
    }
    B.predict_conc = funcs[pred]
    B.add_observations = {"custom": add_observations, "split": split_observations}[lik]
    try:
        return B.build_model(read_dataset(df), PopPKSpec.from_dict(SPEC))
    finally:
        B.predict_conc = predict_conc
        B.add_observations = add_observations


def time_logp(compiled, x, evals) -> dict:
    """Median microseconds per logp+gradient call, alone and with 2 threads at once."""
    if hasattr(compiled, "_make_logp_func"):  # jax backend: a Python callback per call
        import threading

        fn = compiled._make_logp_func()
        shared = compiled._shared_data
        t_first = time.perf_counter()
        logp0, _ = fn(x, **shared)  # triggers the XLA compilation
        first = time.perf_counter() - t_first

        def loop(out):
            for _ in range(evals):
                t = time.perf_counter()
                fn(x, **shared)
                out.append(time.perf_counter() - t)

        one: list[float] = []
        c0 = time.process_time()
        loop(one)
        cpu = (time.process_time() - c0) / evals
        two: list[list[float]] = [[], []]
        th = [threading.Thread(target=loop, args=(two[i],)) for i in range(2)]
        for t in th:
            t.start()
        for t in th:
            t.join()
        return {"logp_at_init": float(logp0), "first_call_s": first,
                "us_per_eval_1thread": float(np.median(one)) * 1e6,
                "cpu_us_per_eval_1thread": cpu * 1e6,
                "us_per_eval_2threads": float(np.median(two[0] + two[1])) * 1e6}
    bench = compiled.benchmark_logp(x, evals, [1, 2])
    per = bench.groupby(level="concurrent_cores").apply(lambda d: float(np.median(d.values)))
    return {"us_per_eval_1thread": per.get(1, np.nan) * 1e6,
            "us_per_eval_2threads": per.get(2, np.nan) * 1e6}


def run_numpyro_parallel(df, pred, lik, a) -> dict:
    """Full fit with PyMC -> JAX -> NumPyro NUTS, chains in parallel on XLA host devices."""
    import pymc as pm
    import xarray as xr

    from blinapk.poppk.build import model_info

    t0 = time.perf_counter()
    model = build(df, pred, lik)
    info = model_info(model)
    with model:
        idata = pm.sample(draws=a.draws, tune=a.tune, chains=2, random_seed=a.seed,
                          progressbar=False, initvals=dict(info.initvals),
                          nuts_sampler="numpyro",
                          nuts_sampler_kwargs={"chain_method": "parallel"},
                          idata_kwargs={"log_likelihood": False})
    wall = time.perf_counter() - t0
    post = idata.posterior
    canon = idata.copy()
    canon.posterior = xr.Dataset({k: post[v] for k, v in NAME_MAP.items()})
    s = summarize_posterior(canon, {k: k for k in NAME_MAP})
    return {"pred": pred, "lik": lik, "backend": "numpyro-parallel", "wall_s": wall,
            **{k: s[k] for k in ("min_ess_bulk", "min_ess_param", "max_r_hat", "divergences")},
            "ess_per_s": s["min_ess_bulk"] / wall}


def run_variant(df, pred, lik, backend, a) -> dict:
    """Compile, time gradient evaluations, optionally sample."""
    if backend == "numpyro-parallel":
        return run_numpyro_parallel(df, pred, lik, a)
    import nutpie

    from blinapk.poppk.build import model_info
    from blinapk.poppk.fit import _population_rvs

    t0 = time.perf_counter()
    c0 = time.process_time()
    model = build(df, pred, lik)
    t1 = time.perf_counter()
    if backend in ("NUMBA", "FAST_RUN"):  # PyTensor function (nutpie's benchmark is broken)
        f = model.logp_dlogp_function(mode=backend, ravel_inputs=True)
        f.set_extra_values({})
        ip = model.initial_point()
        x = np.concatenate([np.ravel(ip[v.name]) for v in f._grad_vars])
        logp0 = float(f(x)[0])
        t2 = time.perf_counter()
        c0 = time.process_time()
        ts = []
        for _ in range(a.evals):
            t = time.perf_counter()
            f(x)
            ts.append(time.perf_counter() - t)
        cpu = (time.process_time() - c0) / a.evals
        return {"pred": pred, "lik": lik, "backend": backend, "build_s": t1 - t0,
                "compile_s": t2 - t1, "logp_at_init": logp0,
                "us_per_eval_1thread": float(np.median(ts)) * 1e6,
                "cpu_us_per_eval_1thread": cpu * 1e6}
    info = model_info(model)
    compiled = nutpie.compile_pymc_model(
        model, backend=backend, gradient_backend="jax" if backend == "jax" else "pytensor",
        initial_points=dict(info.initvals), jitter_rvs=_population_rvs(model))
    t2 = time.perf_counter()
    ip = model.initial_point()
    x = np.concatenate([np.ravel(ip[v.name]) for v in model.value_vars])
    row = {"pred": pred, "lik": lik, "backend": backend, "build_s": t1 - t0,
           "compile_s": t2 - t1, **time_logp(compiled, x, a.evals)}
    if a.sample:
        t3 = time.perf_counter()
        idata = nutpie.sample(compiled, draws=a.draws, tune=a.tune, chains=2, seed=a.seed,
                              progress_bar=False, cores=2, save_warmup=False)
        row["sample_s"] = time.perf_counter() - t3
        row["wall_s"] = time.perf_counter() - t0
        row["cpu_s"] = time.process_time() - c0
        import xarray as xr

        post = idata.posterior
        canon = idata.copy()
        canon.posterior = xr.Dataset({k: post[v] for k, v in NAME_MAP.items()})
        s = summarize_posterior(canon, {k: k for k in NAME_MAP})
        row.update({k: s[k] for k in ("min_ess_bulk", "min_ess_param", "max_r_hat",
                                      "divergences")})
        row["mean_leapfrog"] = float(idata.sample_stats["n_steps"].mean())
        row["ess_per_s"] = row["min_ess_bulk"] / row["wall_s"]
    return row


def main(argv=None) -> int:
    """Command-line entry point."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--pred", nargs="+", default=["dense", "compact", "ratechange", "segments"])
    p.add_argument("--lik", nargs="+", default=["custom", "split"])
    p.add_argument("--backend", nargs="+", default=["jax"])
    p.add_argument("--evals", type=int, default=300)
    p.add_argument("--sample", action="store_true")
    p.add_argument("--draws", type=int, default=1000)
    p.add_argument("--tune", type=int, default=1000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", type=Path, default=None)
    a = p.parse_args(argv)
    df = pd.read_csv(a.data)
    rows = []
    for pred, lik, be in itertools.product(a.pred, a.lik, a.backend):
        try:
            row = run_variant(df, pred, lik, be, a)
        except Exception as exc:  # noqa: BLE001 - an experiment reports and goes on
            row = {"pred": pred, "lik": lik, "backend": be, "error": repr(exc)[:500]}
        row["loadavg"] = os.getloadavg()[0]
        print(json.dumps(row), flush=True)
        rows.append(row)
        if a.out:
            a.out.write_text(json.dumps({"data": str(a.data), "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Experiment: chain starting-point jitter and the N = 3000 seed-6 trap.

Background (docs/validation.md, "N = 3000"): with PyMC/nutpie's U(-1, 1)
jitter on every unconstrained value, one chain of the seed-6 robustness fit
started subject 877 at twice its clearance and fell into a mode of V with
about 1e-8 of the posterior mass. :mod:`blinapk.poppk.starts` now scales the
jitter by role (typical values U(-0.2, 0.2), log variance components
U(-0.5, 0.5), subject effects U(-0.5, 0.5)).

Two measurements on one simulated trial (``simulate_trial(N, seed)``, the
robustness model), compiled once with numba:

``--mode configs``
    For each jitter configuration ``[location, variance, subject]`` and each
    sampler seed: a short 2-chain run (``--tune`` warm-up + 100 draws).
    Recorded: leapfrog steps of the warm-up (its cost), wall time, the number
    of subjects whose per-chain means of ``psi_V`` / ``psi_CL`` differ by more
    than 5 within-chain SDs (a chain in another mode), subject 877's V per
    chain and ``omega_V`` per chain.
``--mode replay``
    Replays the start of the trapped chain, read from a nutpie trace saved
    with ``store_unconstrained=True`` (``--trace``): one chain from that exact
    start, and one from the same uniform draws shrunk to the new scales
    (``centre + (start - centre) * half_width``), each with several sampler
    seeds (``--chains 2 --seeds 6``: both chains start there and chain 0 has
    the trapped chain's own random stream). Recorded: subject 877's V over the
    first warm-up draws and after the warm-up.

Usage::

    python benchmarks/exp_poppk_starts.py --mode configs \\
        --configs '[[1,1,1],[0.2,0.5,0.5]]' --seeds 1 2 3 4 5 6
    python benchmarks/exp_poppk_starts.py --mode replay \\
        --trace s6/mm.nc --seeds 6 --chains 2 --tune 300

Output: JSON lines on stdout (results kept in
``benchmarks/results/exp_starts_n3000_seed6.jsonl``).
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from collections.abc import Sequence

import numpy as np

SUBJECT = 876  # index of subject ID 877 in the seed-6 trial


def _compiled(n_subjects: int, data_seed: int):
    import nutpie
    from pymc.model.transform.optimization import freeze_dims_and_data

    from blinapk.data import read_dataset
    from blinapk.datasets import simulate_trial
    from blinapk.poppk import PopPKSpec
    from blinapk.poppk.build import build_model, model_info

    trial = simulate_trial(n_subjects, seed=data_seed, cytokines=False)
    spec = PopPKSpec(covariates=("CL~BSA:power@1.88",), residual="combined")
    model = build_model(read_dataset(trial.data), spec)
    info = model_info(model)
    target = freeze_dims_and_data(model)
    compiled = nutpie.compile_pymc_model(target, backend="numba",
                                         initial_points=dict(info.initvals),
                                         jitter_rvs=set(), freeze_model=False)
    return target, info, compiled


def _scales(target, config: Sequence[float]) -> dict[str, float]:
    from blinapk.poppk import starts

    return starts.jitter_scales(target, location=config[0], variance=config[1],
                                subject=config[2])


def run_configs(configs, seeds, *, n_subjects: int, data_seed: int, tune: int) -> None:
    """Short runs per jitter configuration and sampler seed (see module docstring)."""
    import nutpie

    from blinapk.mcmc.starts import install_starts
    from blinapk.poppk import starts

    target, info, compiled = _compiled(n_subjects, data_seed)
    for config in configs:
        fn, centre = starts.make_start_fn(target, info.initvals, _scales(target, config))
        model = install_starts(compiled, fn, centre)
        for seed in seeds:
            t0 = time.perf_counter()
            idata = nutpie.sample(model, draws=100, tune=tune, chains=2, seed=seed,
                                  progress_bar=False, cores=2, save_warmup=True)
            post = idata.posterior
            out = {"config": list(config), "seed": seed,
                   "wall_s": round(time.perf_counter() - t0, 1),
                   "warmup_steps": int(idata.warmup_sample_stats["n_steps"].sum()),
                   "draw_steps": int(idata.sample_stats["n_steps"].sum())}
            for par in ("psi_V", "psi_CL"):
                x = post[par].values
                z = np.abs(x[0].mean(0) - x[1].mean(0)) / (x.std(axis=1).mean(0) + 1e-12)
                out[f"{par}_subjects_z_gt_5"] = int((z > 5).sum())
                out[f"{par}_max_z"] = round(float(z.max()), 2)
            if n_subjects > SUBJECT:
                out["V_877_per_chain"] = np.round(
                    post["indiv"].values[:, :, SUBJECT, 1].mean(1), 2).tolist()
            out["omega_V_per_chain"] = np.round(post["omega_V"].values.mean(1), 3).tolist()
            print(json.dumps(out), flush=True)


def run_replay(trace: str, seeds, *, tune: int, chains: int = 1) -> None:
    """Replay the trapped chain's start, as is and shrunk (see module docstring)."""
    import arviz as az
    import nutpie

    from blinapk.mcmc.starts import half_widths, install_starts
    from blinapk.poppk import starts

    target, info, compiled = _compiled(3000, 6)
    fn, centre = starts.make_start_fn(target, info.initvals)
    half = half_widths(target, starts.jitter_scales(target))
    stats = az.from_netcdf(trace).warmup_sample_stats
    names = [str(n) for n in stats.unconstrained_parameter.values]
    if names[0] != target.value_vars[0].name:
        raise SystemExit("trace layout differs from the model's value variables")
    old = stats["unconstrained_draw"].values[0, 0]
    for label, start in (("old jitter", old), ("shrunk", centre + (old - centre) * half)):
        model = install_starts(compiled, lambda seed, v=start: v.copy(), centre)
        for seed in seeds:
            idata = nutpie.sample(model, draws=100, tune=tune, chains=chains, seed=seed,
                                  progress_bar=False, cores=chains, save_warmup=True)
            v_warm = idata.warmup_posterior["indiv"].values[:, :10, SUBJECT, 1]
            v_post = idata.posterior["indiv"].values[:, :, SUBJECT, 1].mean(1)
            print(json.dumps({"mode": "replay", "start": label, "seed": seed, "chains": chains,
                              "tune": tune,
                              "V_877_first_10_warmup": np.round(v_warm, 2).tolist(),
                              "V_877_after_warmup": np.round(v_post, 2).tolist()}), flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line (see module docstring)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mode", choices=("configs", "replay"), default="configs")
    ap.add_argument("--configs", default="[[1,1,1],[0.2,0.5,0.5]]")
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--n-subjects", type=int, default=3000)
    ap.add_argument("--data-seed", type=int, default=6)
    ap.add_argument("--tune", type=int, default=200)
    ap.add_argument("--trace", default=None)
    ap.add_argument("--chains", type=int, default=1, help="replay: chains, all from the start")
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    if args.mode == "configs":
        run_configs(json.loads(args.configs), args.seeds, n_subjects=args.n_subjects,
                    data_seed=args.data_seed, tune=args.tune)
    else:
        run_replay(args.trace, args.seeds, tune=args.tune, chains=args.chains)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

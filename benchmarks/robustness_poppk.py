"""Convergence robustness of the population-PK fit over many seeds.

For each seed ``s`` in ``--first-seed .. --first-seed + --seeds - 1`` a trial
``blinapk.simulate.simulate_trial(N, seed=s, cytokines=False)`` (Zhu 2020 card)
is simulated and fitted with :func:`blinapk.poppk.fit` using the **default
fit settings** (nutpie, 2 chains, 1000 warm-up + 1000 draws, target
acceptance 0.8, default priors, automatic parameterisation; the same ``s`` as
the sampler seed) and the generating model (1-cmt, CL ~ BSA power at 1.88 m2,
combined residual error, M3; ``--residual proportional`` fits the model of
``docs/benchmarks-poppk.md`` instead). Recorded per seed: max rank-normalised
split R-hat over the population parameters and over the per-subject effects,
divergences, min bulk / tail ESS, min E-BFMI, whether every convergence gate
passed, the population estimates and wall time.

The target (issue "Reliability"): every seed at N = 200 and N = 3000 with
R-hat <= 1.01 and no divergences.

Outputs: ``benchmarks/results/robustness_poppk_n<N>.jsonl`` (one line per seed,
**resumable**: seeds already there are skipped) and
``benchmarks/results/robustness_poppk_n<N>_summary.json``.

Examples
--------
::

    python benchmarks/robustness_poppk.py --n-subjects 200 --seeds 20
    python benchmarks/robustness_poppk.py --n-subjects 3000 --seeds 20
    python benchmarks/robustness_poppk.py --n-subjects 200 --summarize-only
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import sys
import time
import traceback
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sbc_poppk import code_version  # one implementation for both scripts

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


def run_seed(seed: int, *, n_subjects: int, residual: str, draws: int, tune: int,
             chains: int, target_accept: float | None) -> dict[str, Any]:
    """Simulate and fit one trial; return its convergence record.

    Parameters
    ----------
    seed : int
        Seed of :func:`blinapk.simulate.simulate_trial` and of the sampler.
    n_subjects : int
        Subjects in the trial.
    residual : {"combined", "proportional"}
        Residual model of the fit.
    draws, tune, chains : int
        NUTS settings.
    target_accept : float or None
        NUTS target acceptance (None: the fit's automatic choice).

    Returns
    -------
    dict
        JSON-serialisable record.
    """
    from blinapk.data import read_dataset
    from blinapk.poppk import PopPKSpec, fit
    from blinapk.simulate import simulate_trial

    t0 = time.perf_counter()
    trial = simulate_trial(n_subjects, seed=seed, cytokines=False)
    ds = read_dataset(trial.data)
    obs = trial.data[(trial.data["EVID"] == 0) & (trial.data["DVID"] == "BLIN")]
    spec = PopPKSpec(covariates=("CL~BSA:power@1.88",), residual=residual)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = fit(ds, spec, draws=draws, tune=tune, chains=chains, seed=seed,
                  progressbar=False, log_likelihood=False, target_accept=target_accept)
    wall = time.perf_counter() - t0
    gates = res.convergence.to_frame().set_index("GATE")
    table = res.summary(ci=0.9).set_index("PARAMETER")
    keep = [p for p in ("TV_CL", "TV_V", "OMEGA_CL", "OMEGA_V", "BETA_CL_BSA", "SIGMA_PROP",
                        "SIGMA_ADD") if p in table.index]
    return {
        "seed": seed, "n_subjects": n_subjects, "n_obs": len(obs), "sampler": res.sampler,
        "fit_settings": json.loads(res.idata.posterior.attrs["blinapk_settings"]),
        "blq_fraction": float(obs["CENS"].mean()), "residual": residual,
        "rhat_max": float(gates.loc["rhat", "VALUE"]),
        "rhat_worst": str(gates.loc["rhat", "WORST"]),
        "rhat_group_max": float(gates.loc["rhat_group", "VALUE"]),
        "divergences": int(gates.loc["divergences", "VALUE"]),
        "ess_bulk_min": float(gates.loc["ess_bulk", "VALUE"]),
        "ess_bulk_worst": str(gates.loc["ess_bulk", "WORST"]),
        "ess_tail_min": float(gates.loc["ess_tail", "VALUE"]),
        "ebfmi_min": float(gates.loc["ebfmi", "VALUE"]),
        "all_gates_passed": bool(res.converged),
        "parameterisation": dict(res.parameterisation),
        "estimates": {p: {"median": float(table.loc[p, "MEDIAN"]),
                          "ci90": [float(table.loc[p, "LOWER"]), float(table.loc[p, "UPPER"])],
                          "r_hat": float(table.loc[p, "R_HAT"]),
                          "ess_bulk": float(table.loc[p, "ESS_BULK"])} for p in keep},
        "wall_s": wall, "timings": {k: float(v) for k, v in res.timings.items()},
        "loadavg_1m": os.getloadavg()[0],
    }


def summarize(records: Sequence[Mapping[str, Any]], rhat_target: float = 1.01
              ) -> dict[str, Any]:
    """Counts of seeds meeting the target, worst values, wall-time statistics.

    Parameters
    ----------
    records : sequence of dict
        Records from :func:`run_seed` (failed seeds carry ``error``).
    rhat_target : float, default 1.01
        R-hat threshold of the target.

    Returns
    -------
    dict
        Summary (JSON-serialisable).
    """
    ok = [r for r in records if "rhat_max" in r]
    out: dict[str, Any] = {"n_seeds_run": len(records), "n_failed": len(records) - len(ok),
                           "failed_seeds": [r["seed"] for r in records if "rhat_max" not in r]}
    if not ok:
        return out
    meets = [r for r in ok if r["rhat_max"] <= rhat_target and r["divergences"] == 0]
    walls = np.array([r["wall_s"] for r in ok])
    out.update({
        "n_meeting_target": len(meets),
        "seeds_missing_target": [r["seed"] for r in ok if r not in meets],
        "rhat_max": max(r["rhat_max"] for r in ok),
        "rhat_group_max": max(r["rhat_group_max"] for r in ok),
        "n_with_divergences": sum(r["divergences"] > 0 for r in ok),
        "divergences_total": sum(r["divergences"] for r in ok),
        "ess_bulk_min": min(r["ess_bulk_min"] for r in ok),
        "ess_tail_min": min(r["ess_tail_min"] for r in ok),
        "ebfmi_min": min(r["ebfmi_min"] for r in ok),
        "n_all_gates_passed": sum(r["all_gates_passed"] for r in ok),
        "wall_s": {"median": float(np.median(walls)), "max": float(walls.max()),
                   "total": float(walls.sum())},
    })
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point (see the module docstring)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-subjects", type=int, default=200)
    ap.add_argument("--seeds", type=int, default=20, help="number of seeds")
    ap.add_argument("--first-seed", type=int, default=1)
    ap.add_argument("--residual", default="combined", choices=("combined", "proportional"))
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--tune", type=int, default=1000)
    ap.add_argument("--chains", type=int, default=2)
    ap.add_argument("--target-accept", type=float, default=None,
                    help="NUTS target acceptance (default: the fit's automatic choice)")
    ap.add_argument("--out", type=Path, default=None,
                    help="output prefix (default benchmarks/results/robustness_poppk_n<N>)")
    ap.add_argument("--summarize-only", action="store_true")
    args = ap.parse_args(argv)

    prefix = args.out or RESULTS / f"robustness_poppk_n{args.n_subjects}"
    jsonl = Path(f"{prefix}.jsonl")
    jsonl.parent.mkdir(parents=True, exist_ok=True)
    records = [json.loads(x) for x in jsonl.read_text().splitlines()
               if x.strip()] if jsonl.exists() else []
    done = {r["seed"] for r in records if "rhat_max" in r}
    if not args.summarize_only:
        code = code_version()
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            if seed in done:
                continue
            t0 = time.perf_counter()
            try:
                rec = run_seed(seed, n_subjects=args.n_subjects, residual=args.residual,
                               draws=args.draws, tune=args.tune, chains=args.chains,
                               target_accept=args.target_accept)
            except Exception as exc:  # noqa: BLE001 - a failed fit is a result, recorded
                rec = {"seed": seed, "error": f"{type(exc).__name__}: {exc}",
                       "traceback": traceback.format_exc()}
            rec["settings"] = {"draws": args.draws, "tune": args.tune, "chains": args.chains,
                               "target_accept": args.target_accept}
            rec["code"] = code
            with jsonl.open("a") as fh:
                fh.write(json.dumps(rec) + "\n")
            records.append(rec)
            print(f"[{time.strftime('%H:%M:%S')}] N={args.n_subjects} seed {seed}: "
                  f"{time.perf_counter() - t0:.0f} s rhat {rec.get('rhat_max', float('nan')):.4f}"
                  f" (subj {rec.get('rhat_group_max', float('nan')):.3f}) "
                  f"div {rec.get('divergences', '?')} ess {rec.get('ess_bulk_min', 0):.0f} "
                  f"{rec.get('error', '')}", flush=True)
            gc.collect()
    summary = summarize(records)
    summary.update({
        "n_subjects": args.n_subjects, "residual": args.residual,
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "code_versions": sorted({json.dumps(r.get("code"), sort_keys=True) for r in records}),
        "machine": {"platform": platform.platform(), "cpu_count": os.cpu_count()},
    })
    Path(f"{prefix}_summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(json.dumps({k: v for k, v in summary.items() if k != "machine"}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Population-PK benchmark: blinapk's samplers against a hand-tuned NumPyro peer.

For each N (200 and 3000 subjects by default) one dataset is simulated with
``blinapk.simulate.simulate_trial(N, seed)`` and written to CSV; every fitter
then reads that same file in a **fresh Python process** (so each pays its own
imports and JIT/C compilation, as a user would):

* ``default``  ``blinapk.poppk.fit(..., sampler="default")``
* ``nutpie``, ``pymc``, ``numpyro``  the other selectable blinapk samplers;
  ``nutpie-numba`` / ``nutpie-jax`` force nutpie's backend (``nutpie`` picks
  JAX when it is importable, numba otherwise -- the base install has no JAX)
* ``peer``  ``benchmarks/peer_numpyro.py`` (hand-tuned NumPyro, no blinapk code,
  float32, chains in parallel); ``peer-f64`` the same in float64, ``peer-seq``
  with the chains run one after the other (the ratio column divides by the
  fastest converged variant; see docs/benchmarks-poppk.md)

All fit the same model (1-cmt, log-normal BSV on CL and V, CL ~ BSA power,
proportional error, M3 for censored rows, same priors) with 2 chains,
1000 warm-up + 1000 draws. Reported per run: the process's wall time from
start to exit (interpreter start, imports, reading the CSV, data preparation,
model building, compilation, warm-up, sampling, post-processing, exit), the
wall time inside the fit alone, process CPU time, the minimum bulk-ESS over
the population parameters (typical CL and V, both omegas, sigma, BSA
exponent), ESS per second of process wall time, max R-hat, divergences and
the ratio of that rate to the peer's (on the mean over repeats, and repeat by
repeat: repeat 0 starts with empty compilation caches, later ones find them
filled).

Examples
--------
Quick (N = 200 only)::

    python benchmarks/bench_poppk.py --quick

Full::

    python benchmarks/bench_poppk.py --n 200 3000

Results go to ``benchmarks/results/poppk_<N>_<stamp>.json`` and the table in
``docs/benchmarks-poppk.md`` (between the ``BEGIN/END poppk-results`` markers)
is regenerated from the newest result file of each N.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
DOC = ROOT / "docs" / "benchmarks-poppk.md"
sys.path.insert(0, str(HERE))

from _bench_common import machine_notes, summarize_posterior, write_json  # noqa: E402

FITTERS = ("default", "nutpie", "nutpie-numba", "nutpie-jax", "pymc", "numpyro", "peer",
           "peer-f64", "peer-seq")
#: Extra arguments of each peer variant (peer_numpyro.py defaults: float32, parallel chains).
PEER_VARIANTS = {"peer": [], "peer-f64": ["--float64"],
                 "peer-seq": ["--chain-method", "sequential"]}
BLINAPK_NAME_MAP = {
    "cl_pop": "log_CL",
    "v_pop": "log_V",
    "omega_cl": "omega_CL",
    "omega_v": "omega_V",
    "sigma": "sigma_prop",
    "theta_bsa": "beta_CL_BSA",
}
SPEC = {"structure": "1cmt", "covariates": ["CL~BSA:power"], "bsv": ["CL", "V"],
        "residual": "proportional", "blq": "M3"}
BEGIN, END = "<!-- BEGIN poppk-results -->", "<!-- END poppk-results -->"


# --------------------------------------------------------------------------
# worker: one blinapk fit in this (fresh) process
# --------------------------------------------------------------------------

def _canonical_posterior(idata):
    """Posterior with the canonical names (typical values back on the natural scale)."""
    import numpy as np
    import xarray as xr

    post = idata.posterior
    out = {}
    for canon, var in BLINAPK_NAME_MAP.items():
        x = post[var]
        out[canon] = np.exp(x) if var.startswith("log_") else x
    return xr.Dataset(out)


def run_blinapk_worker(args) -> int:
    """Fit with blinapk in this process and write the JSON summary."""
    t_start = time.perf_counter()
    # the libraries the fit needs count as imports here, as the peer's jax/numpyro do
    import arviz as az
    import jax  # noqa: F401
    import numpyro  # noqa: F401
    import pandas as pd
    import pymc  # noqa: F401

    if args.sampler.startswith("nutpie"):
        import nutpie  # noqa: F401

    from blinapk.data import read_dataset
    from blinapk.poppk.fit import fit
    from blinapk.poppk.spec import PopPKSpec

    t_imp = time.perf_counter()
    ds = read_dataset(pd.read_csv(args.data))
    spec = PopPKSpec.from_dict(SPEC)
    t0 = time.perf_counter()
    sampler, _, backend = args.sampler.partition("-")
    kwargs = {"nutpie_backend": backend} if backend else {}
    res = fit(ds, spec, sampler=sampler, draws=args.draws, tune=args.tune,
              chains=args.chains, seed=args.seed, progressbar=False, **kwargs)
    t1 = time.perf_counter()
    idata = res.idata
    canon = az.InferenceData(posterior=_canonical_posterior(idata),
                             sample_stats=idata.sample_stats)
    summ = summarize_posterior(canon, {k: k for k in BLINAPK_NAME_MAP})
    info = {
        "fitter": f"blinapk-{args.sampler}",
        "sampler": res.sampler,
        "fit_s": t1 - t0,
        "read_s": t0 - t_imp,
        "import_s": t_imp - t_start,
        "timings": dict(res.timings),
        "parameterisation": dict(res.parameterisation),
        "n_obs": int(idata.observed_data.sizes.get("obs", 0)),
    }
    ss = idata.sample_stats
    for key in ("n_steps", "tree_size", "num_steps"):
        if key in ss:
            info["mean_leapfrog"] = float(ss[key].mean())
            info["grad_evals"] = int(ss[key].sum())
            break
    write_json(args.out, {**info, **summ})
    return 0


# --------------------------------------------------------------------------
# driver
# --------------------------------------------------------------------------

def make_dataset(n: int, seed: int, workdir: Path) -> tuple[Path, dict]:
    """Simulate the trial once and write it to CSV (shared by every fitter)."""
    from blinapk.simulate import simulate_trial

    path = workdir / f"trial_n{n}_seed{seed}.csv"
    trial = simulate_trial(n, seed)
    trial.data.to_csv(path, index=False)
    d = trial.data
    blin = d[(d["EVID"] == 0) & (d["DVID"] == "BLIN")]
    desc = {
        "n_subjects": int(n),
        "seed": int(seed),
        "csv": path.name,  # the work directory is temporary
        "n_rows": int(len(d)),
        "n_dose_records": int((d["EVID"] == 1).sum()),
        "n_blin_obs": int(len(blin)),
        "blin_obs_per_subject": float(len(blin) / n),
        "blin_censored_fraction": float(blin["CENS"].mean()),
        "truth": {
            "omega_cl_realised": float(trial.truth["ETA_CL"].std()),
            "omega_v_realised": float(trial.truth["ETA_V"].std()),
        },
        "card_numbers": trial.settings["card_numbers"],
        "residual": trial.settings["residual"],
    }
    return path, desc


def _run_child(cmd: list[str], out: Path, timeout: float) -> dict:
    """Run one fit in a fresh process; wall and CPU time from outside."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=str(ROOT))
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
        status = "ok" if proc.returncode == 0 else f"exit {proc.returncode}"
    except subprocess.TimeoutExpired:
        proc.kill()
        stdout, stderr = proc.communicate()
        status = f"timeout after {timeout:.0f} s"
    wall = time.perf_counter() - t0
    res: dict = {"status": status, "process_wall_s": wall, "cmd": _portable(cmd, out.parent)}
    if status == "ok" and out.exists():
        res.update(json.loads(out.read_text()))
    else:
        res["stderr_tail"] = stderr[-3000:]
    return res


def _portable(cmd: list[str], workdir: Path) -> str:
    """The child's command line as recorded: no interpreter path, repository or work dir.

    Recorded commands must be re-runnable on another machine, so the interpreter
    is written ``python``, scripts relative to the repository root and files in
    the (temporary) work directory as ``<workdir>/NAME``.
    """
    def one(arg: str) -> str:
        if arg == sys.executable:
            return "python"
        path = Path(arg)
        if path.parent == HERE:
            return f"benchmarks/{path.name}"
        if path.parent == workdir:
            return f"<workdir>/{path.name}"
        return arg

    return " ".join(one(a) for a in cmd)


def _cpu_children() -> float:
    import resource

    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def run_one(fitter: str, data: Path, workdir: Path, args, rep: int) -> dict:
    """Run ``fitter`` on ``data`` in a subprocess and return its summary."""
    py = sys.executable
    out = workdir / f"{data.stem}_{fitter}_rep{rep}.json"
    out.unlink(missing_ok=True)
    common = ["--draws", str(args.draws), "--tune", str(args.tune),
              "--chains", str(args.chains), "--seed", str(args.fit_seed + rep)]
    if fitter.startswith("peer"):
        extra = PEER_VARIANTS[fitter]
        cmd = [py, str(HERE / "peer_numpyro.py"), "--data", str(data), "--out", str(out),
               "--jax-cache", str(workdir / "jax-cache-peer"), *common, *extra, *args.peer_args]
    else:
        cmd = [py, str(HERE / "bench_poppk.py"), "--worker", "--sampler", fitter,
               "--data", str(data), "--out", str(out), *common]
    cpu0 = _cpu_children()
    res = _run_child(cmd, out, args.timeout)
    res["cpu_s"] = _cpu_children() - cpu0
    res["load_after"] = os.getloadavg()[0]
    res["fitter"] = fitter
    res["rep"] = rep
    if "min_ess_bulk" in res:
        # the goal's measure: wall time of the whole process (start, imports, reading,
        # fit, exit); the fit alone is kept as a second, diagnostic rate
        res["ess_per_s"] = res["min_ess_bulk"] / res["process_wall_s"]
        res["ess_per_fit_s"] = res["min_ess_bulk"] / res["fit_s"]
        res["ess_per_cpu_s"] = res["min_ess_bulk"] / res["cpu_s"]
    return res


def _fmt(x, nd=1):
    if x is None or (isinstance(x, float) and x != x):
        return "n/a"
    return f"{x:.{nd}f}"


def _rates(run: dict) -> dict:
    """``run`` with ESS/s per process-wall second (files written before it was the measure)."""
    if "min_ess_bulk" in run and "process_wall_s" in run:
        run = {**run, "ess_per_s": run["min_ess_bulk"] / run["process_wall_s"],
               "ess_per_fit_s": run["min_ess_bulk"] / run["fit_s"]}
    return run


def render_table(result: dict) -> str:
    """Markdown table of one result file (one N)."""
    runs = [_rates(r) for r in result["runs"]]
    # reference = the faster peer variant (float64 / float32) among those that converged:
    # R-hat <= 1.01 and no divergent transition (a fit with divergences is not one a
    # skilled user would accept, however fast)
    best = None
    for name in PEER_VARIANTS:
        ok = [r for r in runs if r["fitter"] == name and "ess_per_s" in r
              and r["max_r_hat"] <= 1.01 and r.get("divergences", 0) == 0]
        if ok:
            rate = sum(r["ess_per_s"] for r in ok) / len(ok)
            cpu = sum(r["ess_per_cpu_s"] for r in ok) / len(ok)
            if best is None or rate > best[1]:
                best = (name, rate, cpu)
    ref_name, peer_rate, peer_cpu = best if best else ("(no peer run finished)", None, None)
    d = result["dataset"]
    lines = [
        f"**N = {d['n_subjects']}** subjects, {d['n_blin_obs']} BLIN observations "
        f"({d['blin_obs_per_subject']:.1f} per subject, "
        f"{100 * d['blin_censored_fraction']:.0f} % censored), {d['n_dose_records']} dose "
        f"records; run {result['stamp']}, load average before "
        f"{result['machine']['loadavg_1m']:.1f}. Ratios are relative to {ref_name}.",
        "",
        "| fitter | rep | process wall (s) | in the fit (s) | CPU (s) | min bulk-ESS (param) "
        "| ESS/s (process) | ratio vs peer | ratio vs peer, same rep | ESS/CPU-s ratio "
        "| max R-hat | div. | leapfrog/iter | status |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    same_rep = {r.get("rep"): r for r in runs if r["fitter"] == ref_name and "ess_per_s" in r}
    for r in runs:
        rep = r.get("rep", 0)
        if "min_ess_bulk" not in r:
            lines.append(f"| {r['fitter']} | {rep} | | | | | | | | | | | | {r['status']} |")
            continue
        ratio = r["ess_per_s"] / peer_rate if peer_rate else None
        pair = same_rep.get(rep)
        ratio_rep = r["ess_per_s"] / pair["ess_per_s"] if pair else None
        ratio_cpu = r["ess_per_cpu_s"] / peer_cpu if peer_cpu else None
        lines.append(
            f"| {r['fitter']} | {rep} | {_fmt(r['process_wall_s'])} | {_fmt(r['fit_s'])} | "
            f"{_fmt(r['cpu_s'])} | {r['min_ess_bulk']:.0f} ({r['min_ess_param']}) | "
            f"{_fmt(r['ess_per_s'], 2)} | {_fmt(ratio, 2)} | {_fmt(ratio_rep, 2)} | "
            f"{_fmt(ratio_cpu, 2)} | {r['max_r_hat']:.3f} | {r['divergences']} | "
            f"{_fmt(r.get('mean_leapfrog'))} | {r['status']} |")
    return "\n".join(lines)


def update_doc() -> None:
    """Rewrite the results block of docs/benchmarks-poppk.md from the newest JSON per N.

    Files marked ``"baseline"`` (older code run alongside for comparison) are skipped.
    """
    newest: dict[int, tuple[Path, dict]] = {}
    for p in sorted(RESULTS.glob("poppk_n*_*.json")):
        res = json.loads(p.read_text())
        if "baseline" in res:
            continue
        newest[int(p.name.split("_")[1][1:])] = (p, res)  # sorted by stamp within an N
    blocks = []
    for n in sorted(newest):
        path, res = newest[n]
        note = f"\n\nNote: {res['note']}" if res.get("note") else ""
        blocks.append(render_table(res) + note
                      + f"\n\nRaw: `benchmarks/results/{path.name}`.")
    body = "\n\n".join(blocks) if blocks else "(no results yet)"
    text = DOC.read_text() if DOC.exists() else f"# Population-PK benchmark\n\n{BEGIN}\n{END}\n"
    if BEGIN not in text:
        text += f"\n{BEGIN}\n{END}\n"
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    DOC.write_text(f"{head}{BEGIN}\n{body}\n{END}{tail}")


def main(argv=None) -> int:
    """Command-line entry point."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, nargs="+", default=[200, 3000], help="subject counts")
    p.add_argument("--quick", action="store_true", help="N = 200 only")
    p.add_argument("--fitters", nargs="+", default=list(FITTERS), choices=FITTERS)
    p.add_argument("--data-seed", type=int, default=20240601)
    p.add_argument("--fit-seed", type=int, default=1)
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--draws", type=int, default=1000)
    p.add_argument("--tune", type=int, default=1000)
    p.add_argument("--chains", type=int, default=2)
    p.add_argument("--timeout", type=float, default=5400.0, help="per run (s)")
    p.add_argument("--workdir", type=Path, default=None,
                   help="where the simulated CSV and per-fit outputs go "
                        "(default: a new temporary directory)")
    p.add_argument("--peer-args", nargs=argparse.REMAINDER, default=[],
                   help="extra arguments for peer_numpyro.py (must come last)")
    p.add_argument("--no-doc", action="store_true", help="do not rewrite the docs table")
    p.add_argument("--doc-only", action="store_true", help="only re-render the docs table")
    # worker mode (internal)
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--sampler", default="default", help=argparse.SUPPRESS)
    p.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--seed", type=int, default=1, help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.worker:
        return run_blinapk_worker(args)
    if args.doc_only:
        update_doc()
        return 0
    ns = [200] if args.quick else args.n
    if args.workdir is None:
        args.workdir = Path(tempfile.mkdtemp(prefix="blinapk-bench-poppk-"))
    args.workdir.mkdir(parents=True, exist_ok=True)
    # both sides start with an empty compilation cache (repeats then show the warm one)
    os.environ["BLINAPK_CACHE_DIR"] = str(args.workdir / "blinapk-cache")
    given = list(argv if argv is not None else sys.argv[1:])
    # the work directory is machine-specific: recorded as <workdir>
    given = ["<workdir>" if a == str(args.workdir) else a for a in given]
    command = "python benchmarks/bench_poppk.py " + " ".join(given)
    for n in ns:
        data, desc = make_dataset(n, args.data_seed, args.workdir)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        result = {"stamp": stamp, "command": command.strip(), "machine": machine_notes(),
                  "dataset": desc, "settings": {"draws": args.draws, "tune": args.tune,
                                                "chains": args.chains, "spec": SPEC},
                  "runs": []}
        path = RESULTS / f"poppk_n{n}_{stamp}.json"
        for rep in range(args.repeats):
            for fitter in args.fitters:
                r = run_one(fitter, data, args.workdir, args, rep)
                result["runs"].append(r)
                write_json(path, result)
                print(f"N={n} {fitter} rep{rep}: {r['status']} "
                      f"wall={r.get('process_wall_s', 0):.1f}s fit={r.get('fit_s', 0):.1f}s "
                      f"minESS={r.get('min_ess_bulk', float('nan')):.0f} "
                      f"ESS/s={r.get('ess_per_s', float('nan')):.2f} "
                      f"rhat={r.get('max_r_hat', float('nan')):.3f}", flush=True)
        print(render_table(result))
    if not args.no_doc:
        update_doc()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Calibration of the population-PK posterior: repeated parameter recovery with ranks.

Simulation-based calibration (SBC; Talts et al. 2018, arXiv:1804.06788) draws
the truth from the prior. blinapk's priors are weakly informative (log CL ~
N(log 2, 1), omega ~ HalfNormal(1), ...), so prior draws give absurd trials
(CL of 0.1 or 40 L/h, CV of 300 %). As is common in pharmacometrics we run
*repeated parameter recovery* instead: for each replicate the population truth
is drawn from a plausible region (:data:`TRUTH_REGION`), a trial is simulated
with :func:`blinapk.simulate.simulate_trial` from a model card carrying that
truth, and the generating model is fitted by NUTS with the default priors:

* 1-cmt, CL ~ BSA power (reference 1.88 m2), log-normal BSV on CL and V,
  M3 for BLQ rows, **combined** residual error. ``simulate_trial`` adds
  ``f * prop * e1 + add * e2`` on the linear scale, which is exactly the
  ``residual="combined"`` likelihood ``N(f, sqrt(add^2 + (prop f)^2))``;
  fitting ``proportional`` (log-normal) would be a misspecified model and its
  coverage meaningless.

Per replicate and population parameter the script records whether the 50 %
and 90 % central credible intervals cover the truth, and the rank of the truth
among ``L`` (default 99) evenly thinned posterior draws (0..L). Under
calibration the ranks are uniform and the coverage nominal. Because the truth
is not drawn from the prior, uniformity holds only approximately (to the
extent the data dominate the prior), which is the usual frequentist reading of
Bayesian intervals.

Outputs (``--out PREFIX``, default ``benchmarks/results/sbc_poppk``):

* ``PREFIX_replicates.jsonl``: one JSON line per finished replicate (truth,
  intervals, ranks, R-hat, divergences, timings). The run is **resumable**:
  replicates already in the file are skipped.
* ``PREFIX_summary.json``: coverage per parameter with exact (Clopper-Pearson)
  95 % binomial CIs, pooled coverage, rank chi-square tests, convergence.
* ``docs/figures/sbc_ranks.png`` (rank histograms with the 99 % band of a
  uniform histogram) and ``docs/figures/sbc_intervals.png`` (90 % intervals around
  the truth in posterior SDs, per replicate).

Examples
--------
Heavy run (documented in docs/validation.md)::

    python benchmarks/sbc_poppk.py --n-datasets 50 --n-subjects 60 \\
        --draws 500 --tune 500

Re-summarise without fitting::

    python benchmarks/sbc_poppk.py --summarize-only
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import sys
import time
import tomllib
import traceback
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEFAULT_OUT = HERE / "results" / "sbc_poppk"
FIGURES = ROOT / "docs" / "figures"

#: Region the population truth of each replicate is drawn from:
#: (distribution, low, high); "logu" = log-uniform, "u" = uniform.
#: TV_CL in L/h at BSA 1.88 m2, TV_V in L, omegas are log-scale SDs,
#: BETA_CL_BSA the power exponent, SIGMA_PROP a fraction, SIGMA_ADD pg/mL.
TRUTH_REGION: Mapping[str, tuple[str, float, float]] = {
    "TV_CL": ("logu", 1.0, 4.0),
    "TV_V": ("logu", 3.0, 10.0),
    "OMEGA_CL": ("u", 0.4, 0.9),
    "OMEGA_V": ("u", 0.2, 0.5),
    "BETA_CL_BSA": ("u", 0.3, 0.9),
    "SIGMA_PROP": ("u", 0.15, 0.3),
    "SIGMA_ADD": ("u", 5.0, 20.0),
}
PARAMS: tuple[str, ...] = tuple(TRUTH_REGION)
#: The fitted (= generating) model.
SPEC_KW: Mapping[str, Any] = {"covariates": ("CL~BSA:power@1.88",), "residual": "combined",
                              "blq": "M3"}
BASE_CARD = ROOT / "models" / "blinatumomab_zhu2020.toml"
LEVELS = (0.5, 0.9)


def draw_truth(rng: np.random.Generator) -> dict[str, float]:
    """Draw one population truth from :data:`TRUTH_REGION`.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random stream.

    Returns
    -------
    dict
        Parameter name -> value (natural scale).
    """
    out = {}
    for name, (dist, lo, hi) in TRUTH_REGION.items():
        if dist == "logu":
            out[name] = float(math.exp(rng.uniform(math.log(lo), math.log(hi))))
        else:
            out[name] = float(rng.uniform(lo, hi))
    return out


def make_card(truth: Mapping[str, float], name: str = "sbc_truth") -> Any:
    """The Zhu 2020 card with its numbers replaced by ``truth``.

    Parameters
    ----------
    truth : Mapping
        Output of :func:`draw_truth`.
    name : str
        Card name.

    Returns
    -------
    blinapk.cards.ModelCard
        Validated card (1-cmt, BSA power on CL, reference 1.88 m2).
    """
    from blinapk.cards import card_from_dict

    raw = tomllib.loads(BASE_CARD.read_text())
    raw["name"] = name
    raw["typical"]["CL"]["value"] = truth["TV_CL"]
    raw["typical"]["V"]["value"] = truth["TV_V"]
    raw["omega"]["CL"]["value"] = truth["OMEGA_CL"]
    raw["omega"]["V"]["value"] = truth["OMEGA_V"]
    raw["residual"]["prop"]["value"] = truth["SIGMA_PROP"]
    raw["residual"]["add"]["value"] = truth["SIGMA_ADD"]
    (cov,) = raw["covariates"]
    assert cov["covariate"] == "BSA" and cov["reference"]["value"] == 1.88
    cov["value"]["value"] = truth["BETA_CL_BSA"]
    return card_from_dict(raw, origin="<sbc>")


def posterior_draws(fit: Any) -> dict[str, np.ndarray]:
    """Flattened (chain-major) posterior draws of every parameter in :data:`PARAMS`."""
    post = fit.idata.posterior
    src = {"TV_CL": post["typical"].sel(param="CL"), "TV_V": post["typical"].sel(param="V"),
           "OMEGA_CL": post["omega_CL"], "OMEGA_V": post["omega_V"],
           "BETA_CL_BSA": post["beta_CL_BSA"], "SIGMA_PROP": post["sigma_prop"],
           "SIGMA_ADD": post["sigma_add"]}
    return {k: np.asarray(v.transpose("chain", "draw").values, float).ravel()
            for k, v in src.items()}


def rank_of_truth(draws: np.ndarray, truth: float, n_ranks: int) -> int:
    """Rank of ``truth`` among ``n_ranks`` evenly thinned draws (0..n_ranks).

    Thinning evenly over the (chain-major) draws reduces autocorrelation, as
    recommended by Talts et al. (2018, section 5.1). Ties (impossible for a
    continuous posterior) count half.

    Parameters
    ----------
    draws : ndarray
        1-D posterior draws.
    truth : float
        True value.
    n_ranks : int
        Number of thinned draws L; the rank lies in 0..L.

    Returns
    -------
    int
        Number of thinned draws below the truth.
    """
    idx = np.round(np.linspace(0, draws.size - 1, n_ranks)).astype(int)
    thin = draws[idx]
    return int(np.sum(thin < truth) + np.sum(thin == truth) // 2)


def replicate_seeds(base_seed: int, k: int) -> tuple[int, int, int]:
    """(truth, simulation, fit) seeds of replicate ``k``, from one SeedSequence."""
    s = np.random.SeedSequence([int(base_seed), int(k)]).generate_state(3)
    return int(s[0]), int(s[1]), int(s[2])


def simulate_replicate(k: int, *, base_seed: int, n_subjects: int) -> dict[str, Any]:
    """Draw replicate ``k``'s truth and simulate its trial (no fitting).

    Parameters
    ----------
    k : int
        Replicate index.
    base_seed : int
        Seed of the whole study (see :func:`replicate_seeds`).
    n_subjects : int
        Subjects per simulated trial.

    Returns
    -------
    dict
        ``seeds`` (truth, simulate, fit), ``truth``, ``trial``
        (:class:`blinapk.simulate.SimulatedTrial`) and ``dataset`` (read back
        with :func:`blinapk.data.read_dataset`).
    """
    from blinapk.data import read_dataset
    from blinapk.simulate import simulate_trial

    s_truth, s_sim, s_fit = replicate_seeds(base_seed, k)
    truth = draw_truth(np.random.default_rng(s_truth))
    trial = simulate_trial(n_subjects, seed=s_sim, card=make_card(truth, f"sbc_rep{k}"),
                           cytokines=False)
    return {"seeds": {"truth": s_truth, "simulate": s_sim, "fit": s_fit}, "truth": truth,
            "trial": trial, "dataset": read_dataset(trial.data)}


def run_replicate(k: int, *, base_seed: int, n_subjects: int, draws: int, tune: int,
                  chains: int, n_ranks: int, method: str = "nuts",
                  precision: str | None = None) -> dict[str, Any]:
    """Simulate and fit replicate ``k``; return its record (JSON-serialisable).

    Parameters
    ----------
    k : int
        Replicate index.
    base_seed : int
        Seed of the whole study; replicate seeds come from ``(base_seed, k)``.
    n_subjects : int
        Subjects per simulated trial.
    draws, tune, chains : int
        NUTS settings passed to :func:`blinapk.poppk.fit`.
    n_ranks : int
        Thinned draws for the rank statistic.
    method : str, default "nuts"
        ``fit`` method (``"laplace"`` for quick checks).
    precision : {None, "float32", "float64"}
        NumPyro sampler precision passed to ``fit`` (None: its automatic choice).

    Returns
    -------
    dict
        ``truth``, per-parameter ``median``/``sd``/intervals/``rank``, ``covered``,
        convergence (``rhat_max``, ``divergences``, ``ess_bulk_min``), timings.
    """
    from blinapk.poppk import PopPKSpec, fit

    t0 = time.perf_counter()
    rep = simulate_replicate(k, base_seed=base_seed, n_subjects=n_subjects)
    truth, trial = rep["truth"], rep["trial"]
    obs = trial.data[trial.data["EVID"] == 0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = fit(rep["dataset"], PopPKSpec(**SPEC_KW), draws=draws, tune=tune, chains=chains,
                  seed=rep["seeds"]["fit"], progressbar=False, log_likelihood=False,
                  method=method, precision=precision)
    wall = time.perf_counter() - t0
    post = posterior_draws(res)
    table = res.summary(ci=0.9).set_index("PARAMETER")
    rec: dict[str, Any] = {
        "replicate": k, "seeds": rep["seeds"],
        "truth": truth, "n_subjects": n_subjects, "n_obs": len(obs),
        "blq_fraction": float(obs["CENS"].mean()), "method": method,
        "parameterisation": dict(res.parameterisation), "params": {},
        "wall_s": wall, "timings": {k2: float(v) for k2, v in res.timings.items()},
    }
    for p in PARAMS:
        x = post[p]
        entry = {"median": float(np.median(x)), "sd": float(np.std(x, ddof=1)),
                 "rank": rank_of_truth(x, truth[p], n_ranks), "n_ranks": n_ranks,
                 "ess_bulk": float(table.loc[p, "ESS_BULK"]),
                 "r_hat": float(table.loc[p, "R_HAT"])}
        for lev in LEVELS:
            lo, hi = np.quantile(x, [(1 - lev) / 2, (1 + lev) / 2])
            entry[f"ci{int(lev * 100)}"] = [float(lo), float(hi)]
            entry[f"covered{int(lev * 100)}"] = bool(lo <= truth[p] <= hi)
        rec["params"][p] = entry
    if res.convergence is not None:
        conv = res.convergence.to_frame().set_index("GATE")
        rec["rhat_max"] = float(conv.loc["rhat", "VALUE"])
        rec["rhat_group_max"] = float(conv.loc["rhat_group", "VALUE"])
        rec["ess_bulk_min"] = float(conv.loc["ess_bulk", "VALUE"])
        rec["divergences"] = int(conv.loc["divergences", "VALUE"])
        rec["converged"] = bool(res.converged)
    return rec


def clopper_pearson(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Exact binomial confidence interval of a proportion ``k / n``."""
    from scipy.stats import beta

    a = (1 - level) / 2
    lo = 0.0 if k == 0 else float(beta.ppf(a, k, n - k + 1))
    hi = 1.0 if k == n else float(beta.ppf(1 - a, k + 1, n - k))
    return lo, hi


def summarize(records: Sequence[Mapping[str, Any]], n_bins: int = 10) -> dict[str, Any]:
    """Coverage (with exact 95 % CIs), rank uniformity tests and convergence.

    Parameters
    ----------
    records : sequence of dict
        Records from :func:`run_replicate` (failed replicates are counted, not used).
    n_bins : int, default 10
        Bins of the rank histogram / chi-square test.

    Returns
    -------
    dict
        ``coverage[param][level]`` = ``{"k", "n", "rate", "ci95"}``, ``pooled``,
        ``rank_chi2[param]`` = ``{"stat", "df", "p"}``, ``ranks[param]``,
        convergence counts.
    """
    from scipy.stats import chi2

    ok = [r for r in records if "params" in r]
    out: dict[str, Any] = {"n_replicates": len(ok), "n_failed": len(records) - len(ok),
                           "coverage": {}, "pooled": {}, "rank_chi2": {}, "ranks": {}}
    if not ok:
        return out
    n_ranks = ok[0]["params"][PARAMS[0]]["n_ranks"]
    for lev in LEVELS:
        key = f"covered{int(lev * 100)}"
        tot_k = tot_n = 0
        for p in PARAMS:
            hits = [r["params"][p][key] for r in ok]
            k, n = int(sum(hits)), len(hits)
            tot_k, tot_n = tot_k + k, tot_n + n
            out["coverage"].setdefault(p, {})[str(lev)] = {
                "k": k, "n": n, "rate": k / n, "ci95": clopper_pearson(k, n)}
        out["pooled"][str(lev)] = {"k": tot_k, "n": tot_n, "rate": tot_k / tot_n,
                                   "ci95_if_independent": clopper_pearson(tot_k, tot_n)}
    edges = np.linspace(0, n_ranks + 1, n_bins + 1)
    for p in PARAMS:
        ranks = np.array([r["params"][p]["rank"] for r in ok])
        counts, _ = np.histogram(ranks, bins=edges)
        expected = len(ranks) * np.diff(edges) / (n_ranks + 1)
        stat = float(np.sum((counts - expected) ** 2 / expected))
        out["ranks"][p] = ranks.tolist()
        out["rank_chi2"][p] = {"stat": stat, "df": n_bins - 1,
                               "p": float(chi2.sf(stat, n_bins - 1)),
                               "counts": counts.tolist()}
        z = [(r["params"][p]["median"] - r["truth"][p]) / r["params"][p]["sd"] for r in ok]
        out.setdefault("z_median", {})[p] = {"mean": float(np.mean(z)),
                                             "sd": float(np.std(z, ddof=1))}
    conv = [r for r in ok if "rhat_max" in r]
    if conv:
        out["convergence"] = {
            "rhat_max_over_replicates": max(r["rhat_max"] for r in conv),
            "n_rhat_above_1.01": sum(r["rhat_max"] > 1.01 for r in conv),
            "n_with_divergences": sum(r["divergences"] > 0 for r in conv),
            "divergences_total": sum(r["divergences"] for r in conv),
            "ess_bulk_min": min(r["ess_bulk_min"] for r in conv),
            "n_all_gates_passed": sum(r["converged"] for r in conv),
        }
    walls = [r["wall_s"] for r in ok]
    out["wall_s"] = {"median": float(np.median(walls)), "total": float(np.sum(walls))}
    return out


def plot_ranks(summary: Mapping[str, Any], path: Path, n_bins: int = 10) -> Path:
    """Rank histograms (one panel per parameter) with the 99 % band of a uniform histogram."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from scipy.stats import binom

    n = summary["n_replicates"]
    fig, axes = plt.subplots(2, 4, figsize=(13, 5.6), sharey=True)
    lo, hi = binom.ppf([0.005, 0.995], n, 1 / n_bins)
    for ax, p in zip(axes.ravel(), PARAMS, strict=False):
        counts = summary["rank_chi2"][p]["counts"]
        ax.axhspan(lo, hi, color="0.85", zorder=0)
        ax.axhline(n / n_bins, color="0.5", lw=0.8)
        ax.bar(np.arange(n_bins), counts, width=0.9, color="tab:blue")
        cov = summary["coverage"][p]["0.9"]
        ax.set_title(f"{p}\n90 % cov {cov['k']}/{cov['n']}, "
                     f"chi2 p={summary['rank_chi2'][p]['p']:.2f}", fontsize=9)
        ax.set_xticks([0, n_bins - 1], ["low", "high"])
    ax = axes.ravel()[-1]
    pooled = summary["pooled"]["0.9"]
    ax.axis("off")
    ax.text(0.0, 0.5, f"{n} replicates\npooled 90 % coverage\n{pooled['k']}/{pooled['n']} = "
            f"{pooled['rate']:.3f}\n\ngrey: 99 % band of a\nuniform histogram", fontsize=10,
            va="center")
    fig.suptitle("Rank of the truth among 99 thinned posterior draws (population PK, NUTS)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_intervals(records: Sequence[Mapping[str, Any]], path: Path) -> Path:
    """90 % intervals relative to the truth, in posterior SDs, per replicate and parameter.

    Each line is ``(interval - truth) / posterior SD``; a calibrated posterior
    puts 0 (the truth) inside about 90 % of them.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = [r for r in records if "params" in r]
    fig, axes = plt.subplots(1, len(PARAMS), figsize=(15, 4.8), sharey=True, sharex=True)
    for ax, p in zip(axes, PARAMS, strict=True):
        for i, r in enumerate(ok):
            e, t = r["params"][p], r["truth"][p]
            c = "tab:blue" if e["covered90"] else "tab:red"
            lo, hi = ((v - t) / e["sd"] for v in e["ci90"])
            ax.plot([lo, hi], [i, i], color=c, lw=1.2)
            ax.plot((e["median"] - t) / e["sd"], i, "o", color=c, ms=2)
        ax.axvline(0.0, color="k", lw=0.8)
        ax.set_title(p, fontsize=9)
        ax.set_xlabel("(value - truth) / SD", fontsize=8)
    axes[0].set_ylabel("replicate")
    fig.suptitle("90 % credible intervals around the truth (red: truth not covered)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def read_records(path: Path) -> list[dict[str, Any]]:
    """Replicate records of a JSONL file (empty list when missing)."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def code_version() -> dict[str, Any]:
    """blinapk version, git commit and whether ``blinapk/`` has uncommitted changes.

    Recorded with every result: the population-PK code evolves, and a rerun is
    comparable only on the same code. Read-only git commands; empty when git or
    the repository is unavailable.
    """
    import subprocess

    from blinapk._version import __version__

    root = Path(__file__).resolve().parent.parent
    out: dict[str, Any] = {"blinapk_version": __version__}
    try:
        out["git_commit"] = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
            check=True, timeout=10).stdout.strip()
        out["blinapk_dirty"] = bool(subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "blinapk"], capture_output=True,
            text=True, check=True, timeout=10).stdout.strip())
    except (OSError, subprocess.SubprocessError):
        pass
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point (see the module docstring)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-datasets", type=int, default=50)
    ap.add_argument("--n-subjects", type=int, default=60)
    ap.add_argument("--draws", type=int, default=500)
    ap.add_argument("--tune", type=int, default=500)
    ap.add_argument("--chains", type=int, default=2)
    ap.add_argument("--n-ranks", type=int, default=99)
    ap.add_argument("--seed", type=int, default=20261122)
    ap.add_argument("--method", default="nuts", choices=("nuts", "laplace"))
    ap.add_argument("--precision", default="auto", choices=("auto", "float32", "float64"),
                    help="NumPyro sampler precision (auto: fit's own choice)")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output prefix")
    ap.add_argument("--figures", type=Path, default=FIGURES)
    ap.add_argument("--summarize-only", action="store_true")
    args = ap.parse_args(argv)

    jsonl = Path(f"{args.out}_replicates.jsonl")
    jsonl.parent.mkdir(parents=True, exist_ok=True)
    records = read_records(jsonl)
    done = {r["replicate"] for r in records if "params" in r}
    if not args.summarize_only:
        code = code_version()
        for k in range(args.n_datasets):
            if k in done:
                continue
            t0 = time.perf_counter()
            try:
                rec = run_replicate(k, base_seed=args.seed, n_subjects=args.n_subjects,
                                    draws=args.draws, tune=args.tune, chains=args.chains,
                                    n_ranks=args.n_ranks, method=args.method,
                                    precision=None if args.precision == "auto" else args.precision)
            except Exception as exc:  # noqa: BLE001 - a failed fit is a result, recorded
                rec = {"replicate": k, "error": f"{type(exc).__name__}: {exc}",
                       "traceback": traceback.format_exc()}
            rec["settings"] = {"draws": args.draws, "tune": args.tune, "chains": args.chains,
                               "seed": args.seed, "precision": args.precision}
            rec["code"] = code
            with jsonl.open("a") as fh:
                fh.write(json.dumps(rec) + "\n")
            records.append(rec)
            cov = "" if "params" not in rec else " ".join(
                f"{p}:{'+' if e['covered90'] else '-'}" for p, e in rec["params"].items())
            print(f"[{time.strftime('%H:%M:%S')}] rep {k}: {time.perf_counter() - t0:.0f} s "
                  f"rhat {rec.get('rhat_max', float('nan')):.3f} "
                  f"div {rec.get('divergences', '?')} {cov} {rec.get('error', '')}",
                  flush=True)
            gc.collect()
    summary = summarize(records)
    summary_path = Path(f"{args.out}_summary.json")
    command = " ".join([Path(sys.executable).name, *sys.argv])
    if args.summarize_only and summary_path.exists():   # keep the command that ran the fits
        summary["summarized_by"] = command
        command = json.loads(summary_path.read_text()).get("command", command)
    summary["command"] = command
    summary["code_versions"] = sorted({json.dumps(r.get("code"), sort_keys=True)
                                       for r in records})
    summary["machine"] = {"platform": platform.platform(), "cpu_count": os.cpu_count(),
                          "loadavg_1m": os.getloadavg()[0]}
    summary["truth_region"] = {k: list(v) for k, v in TRUTH_REGION.items()}
    summary["spec"] = {k: list(v) if isinstance(v, tuple) else v for k, v in SPEC_KW.items()}
    summary_path.write_text(json.dumps(summary, indent=1) + "\n")
    if summary["n_replicates"]:
        plot_ranks(summary, args.figures / "sbc_ranks.png")
        plot_intervals(records, args.figures / "sbc_intervals.png")
        for p in PARAMS:
            c = summary["coverage"][p]
            print(f"{p:12s} 50%: {c['0.5']['k']}/{c['0.5']['n']}  90%: {c['0.9']['k']}/"
                  f"{c['0.9']['n']} CI {c['0.9']['ci95'][0]:.2f}-{c['0.9']['ci95'][1]:.2f}  "
                  f"rank chi2 p {summary['rank_chi2'][p]['p']:.3f}")
        print("pooled 90 %:", summary["pooled"]["0.9"])
        print("convergence:", summary.get("convergence"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Exposure-response recovery, exposure-uncertainty modes and fit timings on simulated studies.

Three parts (``--part``), each writing one JSON line per finished replicate
to ``benchmarks/results/er_<part>.jsonl`` (resumable: finished replicates are
skipped) and a summary ``benchmarks/results/er_<part>_summary.json``:

``recovery``
    Studies from :func:`er_truth.er_study` with a known truth, fitted with the
    *true* exposure plugged in (so that only the E-R model is tested):
    ``crcrh`` (logistic, slope 1.5 per log Css, 150 subjects), ``crcrh0``
    (slope 0), ``os`` (Weibull, log hazard ratio -1 per log Css, 150 subjects),
    ``il6`` (cytokine Emax: EMAX 1500 pg/mL, EC50 200 pg/mL, step-up ratio 0.1,
    100 subjects, 2 events each). Coverage of the 90 % credible intervals.
``uncertainty``
    Studies with sparse, noisy PK (2 samples per subject: one 1-8 h after the
    start, one at steady state; 35 % residual error), 120 subjects, CR/CRh*
    with slope 1.5. Per replicate: a population-PK fit (NUTS), then the E-R
    fit with the posterior-mean exposure plugged in (``plugin``), the latent
    exposure with the PK posterior as prior (``propagated``) and the joint
    PK + E-R model (``joint``, ``--joint-draws``, default 1000 as fit_er).
    Also selectable (``--modes``): the observed NCA Css plugged in (``nca``),
    naive multiple imputation of 20 PK draws (``imputation``) and the joint
    model at 500 draws (``joint_500``). Coverage, interval width, runtime.
``figure``
    ``docs/figures/er_zero_slope.png``: replicates 0 and 1 of ``crcrh0`` as
    :func:`blinapk.plotting.plot_er` draws them.
``timing``
    One fit of each model (logistic, Weibull, cytokine Emax; plug-in,
    propagated and imputation) at 200 subjects, 2 chains x 1000 + 1000: wall time, minimum
    bulk ESS, ESS per second of sampling.

Examples
--------
::

    python benchmarks/er_uncertainty.py --part recovery --replicates 50
    python benchmarks/er_uncertainty.py --part uncertainty --replicates 50 --first 0 --step 2
    python benchmarks/er_uncertainty.py --part uncertainty --replicates 50 --first 1 --step 2
    python benchmarks/er_uncertainty.py --part recovery --scenarios il6 --draws 1000
    python benchmarks/er_uncertainty.py --part timing
    python benchmarks/er_uncertainty.py --part figure
    python benchmarks/er_uncertainty.py --summarize-only   # tables and figures again
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from scipy import stats

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from er_truth import er_study  # noqa: E402

RESULTS = HERE / "results"
FIGURES = ROOT / "docs" / "figures"
#: Recovery scenarios: study arguments and the parameters checked against the truth.
RECOVERY = {
    "crcrh": ({"endpoint": "crcrh", "n": 150, "slope": 1.5},
              {"BETA_LOGCSS": 1.5, "OR_DOUBLING": 2.0 ** 1.5}),
    "crcrh0": ({"endpoint": "crcrh", "n": 150, "slope": 0.0},
               {"BETA_LOGCSS": 0.0, "OR_DOUBLING": 1.0}),
    "os": ({"endpoint": "os", "n": 150, "slope": -1.0},
           {"BETA_LOGCSS": -1.0, "HR_DOUBLING": 0.5, "WEIBULL_SHAPE": 1.2}),
    "il6": ({"endpoint": "il6", "n": 100},
            {"EMAX": 1500.0, "EC50": 200.0, "EPISODE_RATIO": 0.1, "OMEGA": 0.8, "SIGMA": 0.5}),
}
MODES = ("oracle", "nca", "plugin", "propagated", "joint", "imputation", "joint_500")
#: Modes fitted by default (``imputation`` and ``joint_500``: see the module docstring).
RUN_MODES = ("plugin", "propagated", "joint")
SLOPE = 1.5


def _quiet():
    warnings.simplefilter("ignore")


def _done(path: Path) -> set:
    if not path.exists():
        return set()
    return {json.loads(line)["key"] for line in path.read_text().splitlines() if line.strip()}


def _append(path: Path, record: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as fh:
        fh.write(json.dumps(record, default=float) + "\n")


def _record(fit, truth: dict) -> dict:
    s = fit.summary().set_index("PARAMETER")
    out = {"converged": bool(fit.converged), "total_s": fit.timings.get("total_s"),
           "sample_s": fit.timings.get("sample_s"), "compile_s": fit.timings.get("compile_s"),
           "min_ess_bulk": float(s["ESS_BULK"].min()), "max_r_hat": float(s["R_HAT"].max()),
           "params": {}}
    for name, value in truth.items():
        r = s.loc[name]
        out["params"][name] = {"truth": value, "median": r["MEDIAN"], "lower": r["LOWER"],
                               "upper": r["UPPER"], "covered": bool(r["LOWER"] <= value
                                                                    <= r["UPPER"])}
    return out


def _truth_exposure(study, level: str, metric: str):
    from blinapk.er import exposure_from_params

    p = {"CL": study.params["CL"].to_numpy(), "V": study.params["V"].to_numpy()}
    return exposure_from_params(study.dataset, p, metric, level=level)


def _recovery_fit(name: str, rep: int, draws: int):
    """Fit replicate ``rep`` of scenario ``name`` with the true exposure plugged in."""
    from blinapk.er import fit_er

    kw = dict(RECOVERY[name][0])
    n = kw.pop("n")
    study = er_study(n, 1000 * (rep + 1) + list(RECOVERY).index(name), **kw)
    peak = kw["endpoint"] == "il6"
    expo = _truth_exposure(study, "event" if peak else "subject",
                           "delta_css" if peak else "css")
    return fit_er(None if peak else study.clinical, expo, endpoint=kw["endpoint"],
                  uncertainty="plugin", dataset=study.dataset, draws=draws, tune=draws,
                  seed=rep + 1, regimens=False)


def run_recovery(replicates: int, draws: int, out: Path,
                 scenarios: tuple[str, ...] = tuple(RECOVERY)) -> None:
    done = _done(out)
    for rep in range(replicates):
        for name in scenarios:
            truth = RECOVERY[name][1]
            key = f"{name}-{rep}" if draws == 500 else f"{name}-{rep}-d{draws}"
            if key in done:
                continue
            t0 = time.perf_counter()
            fit = _recovery_fit(name, rep, draws)
            rec = {"key": key, "scenario": name, "replicate": rep, "draws": draws,
                   "wall_s": time.perf_counter() - t0, **_record(fit, truth)}
            _append(out, rec)
            print(f"{key}: " + ", ".join(f"{k} {v['covered']}" for k, v in
                                         rec["params"].items()), flush=True)


def zero_slope_figure(draws: int) -> None:
    """Replicates 0 and 1 of ``crcrh0`` (true slope 0) side by side, as ``plot_er`` draws them."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from blinapk.plotting import plot_er

    fig, axes = plt.subplots(1, 2, figsize=(15, 5.6))
    for ax, rep in zip(axes, (0, 1), strict=True):
        plot_er(_recovery_fit("crcrh0", rep, draws), ax=ax)
        ax.set_title(f"true slope 0, replicate {rep}\n" + ax.get_title(), fontsize=9)
    FIGURES.mkdir(parents=True, exist_ok=True)
    fig.savefig(FIGURES / "er_zero_slope.png", dpi=100, bbox_inches="tight")
    plt.close(fig)


def _mode_draws(mode: str, draws: int, joint_draws: int) -> tuple[str, int]:
    """The ``uncertainty`` argument and draws of a benchmark mode."""
    if mode in ("nca", "oracle"):
        return "plugin", draws
    if mode == "joint_500":
        return "joint", 500
    return mode, joint_draws if mode == "joint" else draws


def run_uncertainty(replicates: int, draws: int, out: Path, n: int,
                    modes: tuple[str, ...] = RUN_MODES, joint_draws: int = 1000,
                    first: int = 0, step: int = 1) -> None:
    from blinapk.er import fit_er, observed_exposure
    from blinapk.poppk import PopPKSpec, fit

    done = _done(out)
    spec = PopPKSpec(covariates=("CL~BSA:power",), bsv=("CL",))
    for rep in range(first, replicates, step):
        keys = {m: f"{m}-{rep}" for m in modes}
        if all(k in done for k in keys.values()):
            continue
        study = er_study(n, 50_000 + rep, endpoint="crcrh", slope=SLOPE, pk_samples=2,
                         pk_prop=0.35)
        t0 = time.perf_counter()
        pk = fit(study.dataset, spec, draws=draws, tune=draws, seed=rep + 1, progressbar=False)
        pk_s = time.perf_counter() - t0
        truth = {"BETA_LOGCSS": SLOPE, "OR_DOUBLING": 2.0 ** SLOPE}
        for mode in modes:
            if keys[mode] in done:
                continue
            # oracle: the true exposure plugged in, the best any mode can do on this study
            source = (observed_exposure(study.dataset) if mode == "nca" else
                      _truth_exposure(study, "subject", "css") if mode == "oracle" else pk)
            unc, d = _mode_draws(mode, draws, joint_draws)
            t0 = time.perf_counter()
            er = fit_er(study.clinical, source, dataset=study.dataset, endpoint="crcrh",
                        uncertainty=unc, draws=d, tune=d, seed=rep + 1, regimens=False)
            rec = {"key": keys[mode], "mode": mode, "replicate": rep,
                   "wall_s": time.perf_counter() - t0, "pk_fit_s": pk_s,
                   "pk_converged": bool(pk.converged), "n_analysed": len(er.units),
                   **_record(er, truth)}
            _append(out, rec)
            p = rec["params"]["BETA_LOGCSS"]
            print(f"{keys[mode]}: slope {p['median']:.2f} [{p['lower']:.2f}, {p['upper']:.2f}] "
                  f"covered {p['covered']} ({rec['wall_s']:.1f} s)", flush=True)


def run_timing(out: Path) -> None:
    from blinapk.er import fit_er

    done = _done(out)
    cases = [("logistic", "crcrh", "plugin"), ("logistic", "crcrh", "propagated"),
             ("logistic", "crcrh", "imputation"), ("weibull", "os", "plugin"),
             ("emax", "il6", "plugin"), ("emax", "il6", "propagated"),
             ("emax", "il6", "imputation")]
    for model, endpoint, mode in cases:
        key = f"{model}-{endpoint}-{mode}"
        if key in done:
            continue
        peak = endpoint == "il6"
        study = er_study(200, 7, endpoint=endpoint, slope=-1.0 if endpoint == "os" else 1.5)
        p = {"CL": study.params["CL"].to_numpy(), "V": study.params["V"].to_numpy()}
        if mode != "plugin":  # 100 exposure draws around the truth (30 % CV)
            rng = np.random.default_rng(1)
            p = {"CL": p["CL"] * np.exp(0.3 * rng.standard_normal((100, len(p["CL"])))),
                 "V": np.broadcast_to(p["V"], (100, len(p["V"])))}
        from blinapk.er import exposure_from_params

        expo = exposure_from_params(study.dataset, p, "delta_css" if peak else "css",
                                    level="event" if peak else "subject")
        t0 = time.perf_counter()
        fit = fit_er(None if peak else study.clinical, expo, endpoint=endpoint,
                     uncertainty=mode, dataset=study.dataset, draws=1000, tune=1000, seed=1,
                     regimens=False)
        wall = time.perf_counter() - t0
        s = fit.summary()
        ess = float(s["ESS_BULK"].min()) / fit.n_imputations
        rec = {"key": key, "model": model, "endpoint": endpoint, "mode": mode,
               "n_units": len(fit.units), "wall_s": wall, **{k: fit.timings.get(k) for k in
                                                             ("compile_s", "sample_s")},
               "min_ess_bulk_per_copy": ess, "ess_per_s": ess / fit.timings["sample_s"],
               "converged": bool(fit.converged)}
        _append(out, rec)
        print(rec, flush=True)


def _cp(k: int, n: int) -> list[float]:
    ci = stats.binomtest(k, n).proportion_ci(0.95, method="exact") if n else None
    return [float(ci.low), float(ci.high)] if ci else [float("nan")] * 2


def _load(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()] \
        if path.exists() else []


def summarize() -> dict:
    """Coverage tables of the recovery and uncertainty parts, timing table, figure."""
    summary: dict = {"machine": platform.platform(), "recovery": {}, "uncertainty": {},
                     "timing": _load(RESULTS / "er_timing.jsonl")}
    for rec in _load(RESULTS / "er_recovery.jsonl"):
        name = rec["scenario"] + (f" ({rec['draws']} draws)" if rec.get("draws", 500) != 500
                                  else "")
        sc = summary["recovery"].setdefault(name, {"n": 0, "converged": 0,
                                                              "params": {}})
        sc["n"] += 1
        sc["converged"] += rec["converged"]
        for pname, p in rec["params"].items():
            d = sc["params"].setdefault(pname, {"covered": 0, "draws": []})
            d["covered"] += p["covered"]
            d["draws"].append((p["median"], p["lower"], p["upper"]))
    for sc in summary["recovery"].values():
        for d in sc["params"].values():
            d["coverage"] = d["covered"] / sc["n"]
            d["ci95"] = _cp(d["covered"], sc["n"])
            # spread of the estimates across studies vs the posterior SD (width / 3.29):
            # equal when intervals are as wide as the estimates vary; log scale if positive
            est = np.array(d.pop("draws"))
            est = np.log(est) if (est > 0).all() else est
            d["sd_of_medians"] = float(est[:, 0].std(ddof=1)) if len(est) > 1 else np.nan
            d["mean_posterior_sd"] = float(np.mean(est[:, 2] - est[:, 1]) / 3.29)
    unc = _load(RESULTS / "er_uncertainty.jsonl")
    # every mode on the same studies: those that the default modes all finished
    sets = [{r["replicate"] for r in unc if r["mode"] == m} for m in RUN_MODES]
    same = set.intersection(*sets) if all(sets) else set()
    unc = [r for r in unc if r["replicate"] in same]
    summary["uncertainty_replicates"] = len(same)
    for mode in MODES:
        rows = [r for r in unc if r["mode"] == mode]
        if not rows:
            continue
        p = [r["params"]["BETA_LOGCSS"] for r in rows]
        k = sum(x["covered"] for x in p)
        summary["uncertainty"][mode] = {
            "n": len(rows), "covered": k, "coverage": k / len(rows), "ci95": _cp(k, len(rows)),
            "mean_width": float(np.mean([x["upper"] - x["lower"] for x in p])),
            "mean_median": float(np.mean([x["median"] for x in p])),
            "mean_wall_s": float(np.mean([r["wall_s"] for r in rows])),
            "mean_pk_fit_s": float(np.mean([r["pk_fit_s"] for r in rows])),
            "converged": sum(r["converged"] for r in rows),
            "pk_converged": sum(r["pk_converged"] for r in rows)}
    (RESULTS / "er_summary.json").write_text(json.dumps(summary, indent=2, default=float))
    if unc:
        _uncertainty_figure(unc)
    return summary


def _uncertainty_figure(unc: list[dict]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = ("nca", "plugin", "imputation", "propagated", "joint")
    fig, axes = plt.subplots(1, len(shown), figsize=(15, 4.5), sharex=True, sharey=True)
    for ax, mode in zip(axes, shown, strict=True):
        rows = sorted((r for r in unc if r["mode"] == mode), key=lambda r: r["replicate"])
        for i, r in enumerate(rows):
            p = r["params"]["BETA_LOGCSS"]
            colour = "tab:blue" if p["covered"] else "tab:red"
            ax.plot([p["lower"], p["upper"]], [i, i], color=colour, lw=1.5)
            ax.plot(p["median"], i, "o", color=colour, ms=3)
        ax.axvline(SLOPE, color="black", lw=1, ls="--")
        ax.axvline(0.0, color="grey", lw=0.8)
        k = sum(r["params"]["BETA_LOGCSS"]["covered"] for r in rows)
        ax.set_title(f"{mode}: {k}/{len(rows)} cover", fontsize=10)
        ax.set_xlabel("BETA_LOGCSS (90 % CrI)")
    axes[0].set_ylabel("replicate")
    axes[0].set_xlim(-1.5, 6.0)  # a few joint intervals reach further right
    fig.suptitle(f"CR/CRh* slope per log Css, truth {SLOPE} (dashed): sparse PK, 120 subjects"
                 f" ({len(rows)} studies, the same in every panel)",
                 fontsize=10)
    FIGURES.mkdir(parents=True, exist_ok=True)
    fig.savefig(FIGURES / "er_uncertainty.png", dpi=110, bbox_inches="tight")
    plt.close(fig)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("recovery", "uncertainty", "timing", "figure"))
    parser.add_argument("--replicates", type=int, default=50)
    parser.add_argument("--draws", type=int, default=500, help="draws = warm-up per chain")
    parser.add_argument("--n", type=int, default=120, help="subjects (uncertainty part)")
    parser.add_argument("--modes", default=",".join(RUN_MODES),
                        help="uncertainty part: comma-separated modes of MODES")
    parser.add_argument("--joint-draws", type=int, default=1000,
                        help="draws = warm-up per chain of the joint mode (fit_er default)")
    parser.add_argument("--scenarios", default=",".join(RECOVERY),
                        help="recovery part: comma-separated scenarios of RECOVERY")
    parser.add_argument("--first", type=int, default=0, help="first replicate")
    parser.add_argument("--step", type=int, default=1,
                        help="replicate stride (run --first 0/1 --step 2 in two processes)")
    parser.add_argument("--summarize-only", action="store_true")
    args = parser.parse_args(argv)
    _quiet()
    if not args.summarize_only:
        out = RESULTS / f"er_{args.part}.jsonl"
        if args.part == "recovery":
            run_recovery(args.replicates, args.draws, out, tuple(args.scenarios.split(",")))
        elif args.part == "uncertainty":
            run_uncertainty(args.replicates, args.draws, out, args.n,
                            tuple(args.modes.split(",")), args.joint_draws, args.first,
                            args.step)
        elif args.part == "figure":
            zero_slope_figure(args.draws)
        else:
            run_timing(out)
    print(json.dumps(summarize(), indent=1, default=float)[:4000])
    return 0


if __name__ == "__main__":
    sys.exit(main())

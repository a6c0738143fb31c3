"""Helpers shared by the population-PK benchmark scripts.

Nothing in here imports blinapk: the peer (``peer_numpyro.py``) must stay
independent of blinapk internals, and the benchmark driver imports blinapk
only inside the worker that runs a blinapk fit.

Contents
--------
* ``POP_PARAMS``: the canonical names of the population parameters whose
  minimum bulk-ESS is the benchmark metric.
* ``summarize_posterior``: min bulk-ESS, max R-hat, divergences of an
  InferenceData over a name mapping.
* ``toy_trial``: a small self-contained simulator of a blinatumomab-like
  trial, used only to develop and validate the peer before
  ``blinapk.simulate.simulate_trial`` existed, and as a fallback.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd

# Canonical population parameters (the benchmark metric is the minimum
# bulk-ESS over these).  Each fitter maps its own variable names onto them.
POP_PARAMS = ("cl_pop", "v_pop", "omega_cl", "omega_v", "sigma", "theta_bsa")

BSA_REF = 1.88  # m2, median BSA of Zhu et al., Clin Pharmacokinet 2020


def summarize_posterior(idata, name_map: dict[str, str]) -> dict:
    """Convergence/efficiency summary of the population parameters.

    Parameters
    ----------
    idata : arviz.InferenceData
        Posterior with a ``posterior`` group (and ``sample_stats`` when
        available, for divergences).
    name_map : dict
        Canonical name (from ``POP_PARAMS``) -> variable name in ``idata``.
        The variables must be scalars per draw.

    Returns
    -------
    dict
        ``ess_bulk`` and ``r_hat`` per canonical parameter, posterior
        ``mean``/``sd``, ``min_ess_bulk``, ``max_r_hat``, ``divergences``,
        ``n_draws``, ``n_chains``.
    """
    import arviz as az

    post = idata.posterior
    out: dict = {"ess_bulk": {}, "ess_tail": {}, "r_hat": {}, "mean": {}, "sd": {}}
    for canon, var in name_map.items():
        x = post[var]
        sub = post[[var]]
        out["ess_bulk"][canon] = float(az.ess(sub, method="bulk")[var])
        out["ess_tail"][canon] = float(az.ess(sub, method="tail")[var])
        out["r_hat"][canon] = float(az.rhat(sub)[var])
        out["mean"][canon] = float(x.mean().values)
        out["sd"][canon] = float(x.std().values)
    out["min_ess_bulk"] = min(out["ess_bulk"].values())
    out["min_ess_param"] = min(out["ess_bulk"], key=out["ess_bulk"].get)
    out["max_r_hat"] = max(out["r_hat"].values())
    div = np.nan
    if "sample_stats" in idata.groups():
        ss = idata.sample_stats
        for key in ("diverging", "divergences"):
            if key in ss:
                div = int(np.asarray(ss[key]).sum())
                break
    out["divergences"] = div
    out["n_chains"] = int(post.sizes["chain"])
    out["n_draws"] = int(post.sizes["draw"])
    return out


def machine_notes() -> dict:
    """Describe the machine (cores, load, versions) for the results file."""
    notes = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "loadavg_1m": os.getloadavg()[0],
    }
    try:
        model = subprocess.run(
            ["sh", "-c", "grep -m1 'model name' /proc/cpuinfo"],
            capture_output=True, text=True, check=False,
        ).stdout.split(":")[-1].strip()
        notes["cpu"] = model
    except OSError:  # pragma: no cover - informational only
        pass
    return notes


def write_json(path: Path, obj) -> None:
    """Write ``obj`` as indented JSON (NaN allowed), creating parents."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, default=float))


# --------------------------------------------------------------------------
# Toy simulator (development fallback; the benchmark uses simulate_trial)
# --------------------------------------------------------------------------

TOY_TRUTH = {
    "cl_pop": 2.22,  # L/h, Zhu 2020
    "v_pop": 5.98,  # L, Zhu 2020
    "omega_cl": 0.6,
    "omega_v": 0.35,
    "sigma": 0.25,
    "theta_bsa": 0.61,
}


def _conc_1cmt(t, starts, rates, ends, cl, v):
    """Concentration (pg/mL) of a 1-cmt model under infusion segments."""
    k = cl / v
    c = np.zeros_like(t, dtype=float)
    for s, r, e in zip(starts, rates, ends, strict=True):
        dt = t - s
        on = np.clip(dt, 0.0, e - s)
        off = np.clip(dt - (e - s), 0.0, None)
        c += np.where(dt > 0, 1000.0 * r / cl * (1 - np.exp(-k * on)) * np.exp(-k * off), 0.0)
    return c


def toy_trial(n: int, seed: int, *, bag_h: float = 48.0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Simulate a cycle-1 adult R/R blinatumomab trial (contract DataFrame).

    9 ug/day days 1-7, 28 ug/day days 8-28, delivered in ``bag_h`` bags (one
    dose record per bag), 13 BLIN samples per subject (during the first day,
    at steady state, around the step-up and after the end of infusion),
    LLOQ 50 pg/mL with M3-style censoring (``DV`` = LLOQ, ``CENS`` = 1).

    Returns
    -------
    (data, truth)
        Contract DataFrame and per-subject truth (``ID, CL, V, BSA``).
    """
    rng = np.random.default_rng(seed)
    tr = TOY_TRUTH
    bsa = np.clip(rng.lognormal(np.log(1.85), 0.15, n), 0.8, 2.8)
    cl = tr["cl_pop"] * (bsa / BSA_REF) ** tr["theta_bsa"] * np.exp(
        rng.normal(0, tr["omega_cl"], n))
    v = tr["v_pop"] * np.exp(rng.normal(0, tr["omega_v"], n))
    sample_t = np.array([2, 6, 24, 96, 167, 170, 176, 192, 336, 504, 671.5, 674, 678.0])
    rows = []
    for i in range(n):
        sid = i + 1
        starts, rates, ends = [], [], []
        for dose_day, t0, t1 in ((9.0, 0.0, 168.0), (28.0, 168.0, 672.0)):
            t = t0
            while t < t1 - 1e-9:
                te = min(t + bag_h, t1)
                r = dose_day / 24.0
                starts.append(t)
                rates.append(r)
                ends.append(te)
                rows.append((sid, t, 1, r * (te - t), r, 0.0, 1, 0, bsa[i]))
                t = te
        tt = sample_t + rng.uniform(-0.25, 0.25, sample_t.size)
        tt = np.sort(np.clip(tt, 0.1, None))
        c = _conc_1cmt(tt, starts, rates, ends, cl[i], v[i])
        y = c * np.exp(rng.normal(0, tr["sigma"], tt.size))
        for tj, yj in zip(tt, y, strict=True):
            cens = int(yj < 50.0)
            rows.append((sid, tj, 0, 0.0, 0.0, 50.0 if cens else yj, 0, cens, bsa[i]))
    df = pd.DataFrame(rows, columns=["ID", "TIME", "EVID", "AMT", "RATE", "DV", "MDV",
                                     "CENS", "BSA"])
    df["DVID"] = "BLIN"
    df["LLOQ"] = 50.0
    df = df.sort_values(["ID", "TIME", "EVID"], ascending=[True, True, False],
                        kind="stable").reset_index(drop=True)
    truth = pd.DataFrame({"ID": np.arange(1, n + 1), "CL": cl, "V": v, "BSA": bsa})
    return df, truth

"""Hand-tuned NumPyro population-PK model: the peer blinapk is measured against.

This is the model a skilled NumPyro user would write for blinatumomab serum
concentrations, without any blinapk code:

* one compartment, linear elimination, closed-form superposition of the
  infusion segments (and boluses) of each subject, in JAX;
* contiguous dose records at the same rate (bag changes) are merged into one
  segment first (exact: a 1-cmt model cannot tell a bag change from a
  continuous infusion);
* **padded subject x observation x segment arrays**: per-subject parameters
  broadcast over the observation and segment axes, so the log density has no
  gather (and its gradient no scatter-add) on the hot path; segments that
  start after an observation carry zero times and add exactly 0, so no mask
  is needed there. Each element costs one ``exp`` and one ``expm1``:
  ``A exp(-k t_end) (1 - exp(-k L))`` with ``L`` the part of the segment
  already infused (better conditioned than the difference of two ``exp``);
* log-normal between-subject variability: **centred** on CL (each subject has
  several steady-state samples, Css = R0/CL pins individual CL); on V
  **centred only for the subjects whose samples inform V** (a quantified
  sample within 12 h of the end of an infusion or of the start of a new one,
  i.e. while the concentration still moves), **non-centred** for the others,
  whose V_i sit at their prior (subjects are reordered so that the two groups
  are contiguous blocks: no scatter);
* power covariate BSA on CL, normalised to 1.88 m2;
* proportional residual error on the log scale with a 1e-9 pg/mL floor on the
  prediction (as blinapk: keeps log C finite in long wash-outs, also in
  float32), censored rows (``CENS = 1``) through the normal log-CDF at
  log(LLOQ) (Beal 2001, M3), evaluated only on the censored rows;
* starting values scaled to the data: individual CL from steady-state
  samples (Css = 1000 R / CL), typical CL, BSA exponent and omega_CL by least
  squares on them, V from the decay of wash-out samples where available;
* the whole log density is one JIT-compiled XLA program (NumPyro's NUTS
  compiles the full warm-up and sampling loops); ``float32`` by default (no
  loss of accuracy for this model, checked against float64: see
  docs/benchmarks-poppk.md), 2 chains ``parallel`` on two XLA host devices.

Run as a script on a contract CSV to get a JSON with the posterior summary
and the wall time (including JIT compilation)::

    python benchmarks/peer_numpyro.py --data trial.csv --out peer.json
"""

from __future__ import annotations

import os

# Must happen before jax is imported anywhere: one XLA host device per chain.
os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=2")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

BSA_REF = 1.88  # m2
PRED_FLOOR = 1e-9  # pg/mL, added to predictions before the log (same as blinapk)
#: A quantified sample this soon (h) after an infusion ends or starts informs V.
V_WINDOW_H = 12.0

# Priors: identical to blinapk.poppk's defaults (blinapk/poppk/priors.py) so
# both sides fit the same posterior: log CL ~ N(log 2, 1), log V ~ N(log 5, 1)
# (pooled NCA, Zhu ASCO 2013), omegas ~ HalfNormal(1), proportional residual
# SD ~ HalfNormal(0.5), BSA exponent ~ N(0, 1).
PRIORS = {
    "log_cl_pop": (float(np.log(2.0)), 1.0),
    "log_v_pop": (float(np.log(5.0)), 1.0),
    "theta_bsa": (0.0, 1.0),
    "omega_cl": 1.0,
    "omega_v": 1.0,
    "sigma": 0.5,
}

# canonical benchmark name -> variable in the posterior
NAME_MAP = {
    "cl_pop": "cl_pop",
    "v_pop": "v_pop",
    "omega_cl": "omega_cl",
    "omega_v": "omega_v",
    "sigma": "sigma",
    "theta_bsa": "theta_bsa",
}


@dataclass(frozen=True)
class PeerData:
    """Padded arrays the NumPyro model consumes (numpy, built once).

    Subjects are ordered with the ``n_v_centred`` V-informed subjects first.
    Shapes: ``S`` subjects, ``J`` observations per subject (padded), ``K``
    infusion segments, ``B`` boluses.
    """

    ids: np.ndarray  # (S,) subject IDs in model order
    log_bsa_rel: np.ndarray  # (S,)
    amp: np.ndarray  # (S, J, K) 1000 * rate, 0 for segments not started / padding
    since_end: np.ndarray  # (S, J, K) max(t - end, 0)
    infused: np.ndarray  # (S, J, K) time of the segment already infused by t
    bol_amt: np.ndarray  # (S, J, B) 1000 * amount (B may be 0)
    bol_since: np.ndarray  # (S, J, B)
    log_dv: np.ndarray  # (S, J) log DV (0 on padding)
    quant: np.ndarray  # (S, J) 1.0 on quantified rows, 0 on censored and padding
    cens_s: np.ndarray  # (n_cens,) subject of each censored row
    cens_j: np.ndarray  # (n_cens,) position of each censored row
    cens_log_lloq: np.ndarray  # (n_cens,)
    n_v_centred: int
    init_log_cl: np.ndarray  # (S,) data-driven start of the individual log CL
    init_log_v_pop: float
    n_obs: int
    n_dose_records: int
    n_segments: int
    n_predose_dropped: int

    @property
    def n_subjects(self) -> int:
        """Number of subjects."""
        return int(self.ids.size)


def _upper(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    out.columns = [str(c).upper() for c in out.columns]
    return out


def merge_segments(start, rate, end, tol=1e-9):
    """Merge contiguous infusion records at the same rate (exact for linear PK)."""
    order = np.argsort(start, kind="stable")
    s_out, r_out, e_out = [], [], []
    for s, r, e in zip(start[order], rate[order], end[order], strict=True):
        if s_out and abs(s - e_out[-1]) <= tol and abs(r - r_out[-1]) <= tol * max(1.0, r):
            e_out[-1] = e
        else:
            s_out.append(s)
            r_out.append(r)
            e_out.append(e)
    return np.array(s_out), np.array(r_out), np.array(e_out)


def _subject_rows(st, rt, en, bt, ba, t_obs, dv, cens):
    """Per-observation segment terms of one subject, its V flag and CL estimates."""
    rows_inf, rows_bol, keep = [], [], []
    informs_v = False
    css_cl = []
    for j, t in enumerate(t_obs):
        started = st < t
        if not started.any() and not (bt <= t).any():
            keep.append(False)
            continue
        keep.append(True)
        rows_inf.append([(1000.0 * r, max(t - e, 0.0), min(t, e) - s)
                         for s, r, e in zip(st[started], rt[started], en[started], strict=True)])
        rows_bol.append([(1000.0 * m, t - a) for a, m in zip(bt[bt <= t], ba[bt <= t],
                                                              strict=True)])
        if cens[j]:
            continue
        since_edge = np.concatenate([t - en[en <= t], t - st[started]])
        if since_edge.size and since_edge.min() <= V_WINDOW_H:
            informs_v = True
        running = started & (en > t)
        if running.any() and (t - st[running].max()) > 24.0:
            css_cl.append(np.log(1000.0 * rt[running].sum() / dv[j]))
    return rows_inf, rows_bol, np.array(keep), informs_v, css_cl


def prepare(df: pd.DataFrame, *, merge: bool = True, dvid: str = "BLIN") -> PeerData:
    """Turn a contract DataFrame into the padded arrays the model needs.

    Parameters
    ----------
    df : DataFrame
        Event table in the blinapk data format (docs/data_format.md). Not mutated.
    merge : bool
        Merge contiguous same-rate infusion records before superposition.
    dvid : str
        Analyte modelled.
    """
    d = _upper(df)
    if "DVID" not in d:
        d["DVID"] = dvid
    if "MDV" not in d:
        d["MDV"] = (d["EVID"] != 0).astype(int)
    if "LLOQ" not in d:
        d["LLOQ"] = 50.0
    doses = d[d["EVID"] == 1]
    obs = d[(d["EVID"] == 0) & (d["MDV"] == 0) & (d["DVID"].astype(str) == dvid)]
    dose_by = {k: g for k, g in doses.groupby("ID", sort=False)}
    bsa_by = d.groupby("ID", sort=False)["BSA"].first()
    per = []
    n_seg = n_drop = 0
    for sid, go in obs.groupby("ID", sort=False):
        g = dose_by.get(sid, doses.iloc[:0])
        rate, amt, t0 = (g[c].to_numpy(float) for c in ("RATE", "AMT", "TIME"))
        inf = rate > 0
        st, rt, en = t0[inf], rate[inf], t0[inf] + amt[inf] / rate[inf]
        if merge:
            st, rt, en = merge_segments(st, rt, en)
        n_seg += st.size
        t_obs = go["TIME"].to_numpy(float)
        cens = (go["CENS"].astype(int) == 1).to_numpy() if "CENS" in go else (
            go["DV"].to_numpy(float) < go["LLOQ"].to_numpy(float))
        dv_all = go["DV"].to_numpy(float)
        ri, rb, keep, informs_v, css_cl = _subject_rows(st, rt, en, t0[~inf], amt[~inf],
                                                        t_obs, dv_all, cens)
        if np.any(~keep & ~cens):
            raise ValueError(f"ID {sid}: quantified DV before any dose")
        n_drop += int((~keep).sum())
        if not keep.any():
            continue
        dv = dv_all[keep]
        lloq = go["LLOQ"].to_numpy(float)[keep]
        c = cens[keep]
        per.append((sid, ri, rb, dv, lloq, c, informs_v, css_cl, float(bsa_by[sid])))
    per.sort(key=lambda p: not p[6])  # V-informed subjects first (stable)
    s_n = len(per)
    j_max = max(len(p[1]) for p in per)
    k_max = max(1, max(len(r) for p in per for r in p[1]))
    b_max = max((len(r) for p in per for r in p[2]), default=0)
    amp = np.zeros((s_n, j_max, k_max))
    since_end = np.zeros_like(amp)
    infused = np.zeros_like(amp)
    bol_amt = np.zeros((s_n, j_max, b_max))
    bol_since = np.zeros_like(bol_amt)
    log_dv = np.zeros((s_n, j_max))
    quant = np.zeros((s_n, j_max))
    cs, cj, cl_lloq = [], [], []
    init_log_cl = np.full(s_n, np.nan)
    for i, (_, ri, rb, dv, lloq, c, _, _, _) in enumerate(per):
        for j, row in enumerate(ri):
            for k, (a, e, inf_t) in enumerate(row):
                amp[i, j, k], since_end[i, j, k], infused[i, j, k] = a, e, inf_t
        for j, row in enumerate(rb):
            for k, (a, s) in enumerate(row):
                bol_amt[i, j, k], bol_since[i, j, k] = a, s
        n = dv.size
        log_dv[i, :n] = np.log(dv)
        quant[i, :n] = ~c
        for j in np.flatnonzero(c):
            cs.append(i)
            cj.append(j)
            cl_lloq.append(np.log(lloq[j]))
    # data-driven starts: Css = 1000 R / CL on samples > 24 h into a running infusion
    for i, p in enumerate(per):
        if p[7]:
            init_log_cl[i] = np.median(p[7])
    log_bsa = np.log(np.array([p[8] for p in per]) / BSA_REF)
    return PeerData(
        ids=np.array([p[0] for p in per]),
        log_bsa_rel=log_bsa,
        amp=amp, since_end=since_end, infused=infused,
        bol_amt=bol_amt, bol_since=bol_since,
        log_dv=log_dv, quant=quant,
        cens_s=np.asarray(cs, dtype=np.int32), cens_j=np.asarray(cj, dtype=np.int32),
        cens_log_lloq=np.asarray(cl_lloq),
        n_v_centred=int(sum(p[6] for p in per)),
        init_log_cl=init_log_cl,
        init_log_v_pop=PRIORS["log_v_pop"][0],
        n_obs=int(sum(p[3].size for p in per)),
        n_dose_records=int(len(doses)),
        n_segments=int(n_seg),
        n_predose_dropped=n_drop,
    )


def make_model(pd_: PeerData, *, dtype: str = "float32", v_param: str = "auto"):
    """Build the NumPyro model function closed over device arrays.

    ``v_param``: ``auto`` (centred for the V-informed subjects, non-centred
    for the others), ``centered`` or ``noncentered`` for every subject.
    """
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist
    from jax.scipy.special import log_ndtr

    def arr(x):
        return jnp.asarray(x, dtype)

    amp, since_end, infused = arr(pd_.amp), arr(pd_.since_end), arr(pd_.infused)
    has_bolus = pd_.bol_amt.shape[2] > 0
    b_amt, b_since = arr(pd_.bol_amt), arr(pd_.bol_since)
    lbsa = arr(pd_.log_bsa_rel)
    y, quant = arr(pd_.log_dv), arr(pd_.quant)
    n_quant = float(pd_.quant.sum())
    cs, cj = jnp.asarray(pd_.cens_s), jnp.asarray(pd_.cens_j)
    c_lloq = arr(pd_.cens_log_lloq)
    n = pd_.n_subjects
    n_c = {"auto": pd_.n_v_centred, "centered": n, "noncentered": 0}[v_param]
    pr = PRIORS
    half_log_2pi = float(0.5 * np.log(2.0 * np.pi))

    def model():
        log_cl_pop = numpyro.sample("log_cl_pop", dist.Normal(*pr["log_cl_pop"]))
        log_v_pop = numpyro.sample("log_v_pop", dist.Normal(*pr["log_v_pop"]))
        theta = numpyro.sample("theta_bsa", dist.Normal(*pr["theta_bsa"]))
        omega_cl = numpyro.sample("omega_cl", dist.HalfNormal(pr["omega_cl"]))
        omega_v = numpyro.sample("omega_v", dist.HalfNormal(pr["omega_v"]))
        sigma = numpyro.sample("sigma", dist.HalfNormal(pr["sigma"]))
        numpyro.deterministic("cl_pop", jnp.exp(log_cl_pop))
        numpyro.deterministic("v_pop", jnp.exp(log_v_pop))
        with numpyro.plate("subject", n):
            log_cl = numpyro.sample("log_cl", dist.Normal(log_cl_pop + theta * lbsa, omega_cl))
        parts = []
        if n_c:
            with numpyro.plate("subject_v_centred", n_c):
                parts.append(numpyro.sample("log_v_c", dist.Normal(log_v_pop, omega_v)))
        if n - n_c:
            with numpyro.plate("subject_v_noncentred", n - n_c):
                z = numpyro.sample("eta_v_z", dist.Normal(0.0, 1.0))
            parts.append(log_v_pop + omega_v * z)
        log_v = jnp.concatenate(parts) if len(parts) > 1 else parts[0]
        k = jnp.exp(log_cl - log_v)[:, None, None]
        # A exp(-k t_end) (1 - exp(-k L)): one exp and one expm1 per element
        terms = amp * jnp.exp(-k * since_end) * -jnp.expm1(-k * infused)
        conc = jnp.sum(terms, axis=2) * jnp.exp(-log_cl)[:, None]
        if has_bolus:
            conc = conc + jnp.sum(b_amt * jnp.exp(-k * b_since), axis=2) * jnp.exp(
                -log_v)[:, None]
        mu = jnp.log(conc + PRED_FLOOR)
        z_q = (y - mu) / sigma
        ll_q = -0.5 * jnp.sum(quant * z_q * z_q) - n_quant * (jnp.log(sigma) + half_log_2pi)
        ll_c = jnp.sum(log_ndtr((c_lloq - mu[cs, cj]) / sigma))
        numpyro.factor("obs", ll_q + ll_c)

    return model


def init_values(pd_: PeerData) -> dict:
    """Starting values scaled to the data (individual CL from steady-state samples)."""
    lcl_i = pd_.init_log_cl
    ok = np.isfinite(lcl_i)
    x = pd_.log_bsa_rel[ok]
    design = np.column_stack([np.ones(x.size), x])
    (lcl, theta), *_ = np.linalg.lstsq(design, lcl_i[ok], rcond=None)
    resid = lcl_i[ok] - design @ np.array([lcl, theta])
    omega_cl = float(np.clip(np.std(resid), 0.1, 1.5))
    mu_cl = lcl + theta * pd_.log_bsa_rel
    lv = pd_.init_log_v_pop
    n, n_c = pd_.n_subjects, pd_.n_v_centred
    return {
        "log_cl_pop": float(lcl),
        "log_v_pop": lv,
        "theta_bsa": float(theta),
        "omega_cl": omega_cl,
        "omega_v": 0.3,
        "sigma": 0.3,
        "log_cl": np.where(ok, lcl_i, mu_cl),
        "log_v_c": np.full(n_c, lv),
        "eta_v_z": np.zeros(n - n_c),
    }


def fit_peer(df: pd.DataFrame, *, draws: int = 1000, tune: int = 1000, chains: int = 2,
             seed: int = 1, dtype: str = "float32", merge: bool = True,
             chain_method: str = "parallel", v_param: str = "auto",
             progress_bar: bool = False, jax_cache: Path | None = None):
    """Fit the peer model; return ``(idata, info)`` with wall-time breakdown.

    The reported ``fit_s`` covers data preparation, JIT compilation, warm-up,
    sampling and conversion to InferenceData (everything after the imports).
    ``jax_cache``: directory of JAX's persistent compilation cache (what a
    user re-running the same fit would switch on); None = compile every time.
    """
    import numpyro

    if dtype == "float64":
        numpyro.enable_x64()
    numpyro.set_host_device_count(chains)
    import arviz as az
    import jax
    from numpyro.infer import MCMC, NUTS, init_to_value

    if jax_cache is not None:
        jax.config.update("jax_compilation_cache_dir", str(jax_cache))
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)
    t0 = time.perf_counter()
    pdat = prepare(df, merge=merge)
    t1 = time.perf_counter()
    model = make_model(pdat, dtype=dtype, v_param=v_param)
    iv = init_values(pdat)
    if v_param == "centered":
        iv["log_v_c"] = np.full(pdat.n_subjects, iv["log_v_pop"])
    elif v_param == "noncentered":
        iv["eta_v_z"] = np.zeros(pdat.n_subjects)
    kernel = NUTS(model, init_strategy=init_to_value(values=iv), target_accept_prob=0.8)
    if chain_method == "parallel" and jax.local_device_count() < chains:
        chain_method = "sequential"
    mcmc = MCMC(kernel, num_warmup=tune, num_samples=draws, num_chains=chains,
                chain_method=chain_method, progress_bar=progress_bar)
    mcmc.run(jax.random.PRNGKey(seed), extra_fields=("diverging", "num_steps"))
    samples = mcmc.get_samples(group_by_chain=True)
    jax.block_until_ready(samples)
    t2 = time.perf_counter()
    # az.from_numpyro re-traces the model eagerly; the samples are all we need
    extra = mcmc.get_extra_fields(group_by_chain=True)
    steps = np.asarray(extra["num_steps"])
    keep = ("log_cl_pop", "log_v_pop", "theta_bsa", "omega_cl", "omega_v", "sigma",
            "cl_pop", "v_pop")
    idata = az.from_dict(
        posterior={k: np.asarray(samples[k], dtype=float) for k in keep},
        sample_stats={"diverging": np.asarray(extra["diverging"]), "n_steps": steps},
    )
    t3 = time.perf_counter()
    info = {
        "prep_s": t1 - t0,
        "mcmc_s": t2 - t1,
        "convert_s": t3 - t2,
        "fit_s": t3 - t0,
        "chain_method": chain_method,
        "dtype": dtype,
        "merge": merge,
        "v_param": v_param,
        "n_v_centred": pdat.n_v_centred if v_param == "auto" else None,
        "n_obs": pdat.n_obs,
        "n_cens": int(pdat.cens_s.size),
        "n_subjects": pdat.n_subjects,
        "n_dose_records": pdat.n_dose_records,
        "n_segments": pdat.n_segments,
        "n_predose_dropped": pdat.n_predose_dropped,
        "padded_shape": list(pdat.amp.shape),
        "mean_leapfrog": float(steps.mean()),
        "grad_evals": int(steps.sum()),
    }
    return idata, info


def main(argv=None) -> int:
    """Command-line entry point (one fit, JSON summary)."""
    t_start = time.perf_counter()
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True, type=Path, help="contract CSV")
    p.add_argument("--out", required=True, type=Path, help="JSON result")
    p.add_argument("--draws", type=int, default=1000)
    p.add_argument("--tune", type=int, default=1000)
    p.add_argument("--chains", type=int, default=2)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--float64", action="store_true", help="run in float64 (default float32)")
    p.add_argument("--chain-method", default="parallel", choices=("parallel", "sequential"))
    p.add_argument("--v-param", default="auto", choices=("auto", "centered", "noncentered"))
    p.add_argument("--no-merge", action="store_true", help="keep every bag record")
    p.add_argument("--idata", type=Path, default=None, help="save posterior (netCDF)")
    p.add_argument("--jax-cache", type=Path, default=None,
                   help="JAX persistent compilation cache directory")
    a = p.parse_args(argv)

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _bench_common import summarize_posterior, write_json

    df = pd.read_csv(a.data)
    t_read = time.perf_counter()
    idata, info = fit_peer(df, draws=a.draws, tune=a.tune, chains=a.chains, seed=a.seed,
                           dtype="float64" if a.float64 else "float32", merge=not a.no_merge,
                           chain_method=a.chain_method, v_param=a.v_param,
                           jax_cache=a.jax_cache)
    summ = summarize_posterior(idata, NAME_MAP)
    if a.idata is not None:
        idata.posterior[list(NAME_MAP.values())].to_netcdf(a.idata)
    info["startup_s"] = t_read - t_start
    info["process_s"] = time.perf_counter() - t_start
    write_json(a.out, {"fitter": "peer_numpyro", **info, **summ})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

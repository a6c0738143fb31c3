"""Hand-tuned NumPyro population-PK model: the peer blinapk is measured against.

This is the model a skilled NumPyro user would write for blinatumomab serum
concentrations, without any blinapk code:

* one compartment, linear elimination, closed-form superposition of the
  infusion segments (and boluses) of each subject, vectorised in JAX;
* contiguous dose records at the same rate (bag changes) are merged into one
  segment before superposition (exact: a 1-cmt model cannot tell a bag change
  from a continuous infusion);
* for every observation only the segments that started before it are kept,
  compacted to the left, so the padded array is as narrow as the data allow;
  the times that enter the exponentials are precomputed constants, so each
  element costs two ``exp`` per evaluation;
* log-normal between-subject variability: **centred** on CL (each subject has
  several steady-state samples, Css = R0/CL pins individual CL, so the
  centred geometry is the better one), **non-centred** on V (V is informed
  only by the few samples taken while the concentration is still moving, so
  the individual V are close to their prior and the funnel of a centred
  parameterisation would hurt);
* power covariate BSA on CL, normalised to 1.88 m2;
* proportional residual error on the log scale, censored rows (``CENS = 1``)
  enter through the normal log-CDF at log(LLOQ) (Beal 2001, M3);
* initialised at typical values (``init_to_value``), two chains run in
  parallel on two XLA host devices.

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
    """Arrays the NumPyro model consumes (all numpy, built once)."""

    n_subjects: int
    log_bsa_rel: np.ndarray  # (n_subj,) log(BSA / 1.88)
    obs_subject: np.ndarray  # (n_obs,) int subject index
    inf_amp: np.ndarray  # (n_obs, k_inf) 1000 * rate, 0 in padding
    inf_since_end: np.ndarray  # (n_obs, k_inf) max(t - end, 0)
    inf_since_start: np.ndarray  # (n_obs, k_inf) t - start
    bol_amt: np.ndarray  # (n_obs, k_bol) 1000 * amt, 0 in padding (k_bol may be 0)
    bol_since: np.ndarray  # (n_obs, k_bol)
    log_dv: np.ndarray  # (n_obs,) log DV (LLOQ on censored rows)
    log_lloq: np.ndarray  # (n_obs,)
    cens: np.ndarray  # (n_obs,) bool
    n_dose_records: int
    n_segments: int
    n_predose_dropped: int


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


def _compact(rows: list[list[tuple]], width_fields: int):
    """Left-compact per-observation lists of tuples into padded arrays."""
    k = max((len(r) for r in rows), default=0)
    arrs = [np.zeros((len(rows), k)) for _ in range(width_fields)]
    for j, r in enumerate(rows):
        for c, tup in enumerate(r):
            for f in range(width_fields):
                arrs[f][j, c] = tup[f]
    return arrs


def prepare(df: pd.DataFrame, *, merge: bool = True, dvid: str = "BLIN") -> PeerData:
    """Turn a contract DataFrame into the arrays the model needs.

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
    subjects = list(dict.fromkeys(d["ID"].tolist()))
    sidx = {s: i for i, s in enumerate(subjects)}
    bsa = d.groupby("ID", sort=False)["BSA"].first().reindex(subjects).to_numpy(float)

    doses = d[d["EVID"] == 1]
    obs = d[(d["EVID"] == 0) & (d["MDV"] == 0) & (d["DVID"].astype(str) == dvid)]
    if "CENS" in obs:
        cens = obs["CENS"].astype(int) == 1
    else:
        cens = obs["DV"].astype(float) < obs["LLOQ"].astype(float)

    inf_rows: list[list[tuple]] = []
    bol_rows: list[list[tuple]] = []
    n_seg = 0
    dose_by_subj = {k: g for k, g in doses.groupby("ID", sort=False)}
    obs_by_subj = {k: g for k, g in obs.groupby("ID", sort=False)}
    obs_subject, obs_order, n_dropped = [], [], 0
    for s in subjects:
        if s not in obs_by_subj:
            continue
        g = dose_by_subj.get(s, doses.iloc[:0])
        rate = g["RATE"].to_numpy(float)
        amt = g["AMT"].to_numpy(float)
        t0 = g["TIME"].to_numpy(float)
        inf = rate > 0
        st, rt, en = t0[inf], rate[inf], t0[inf] + amt[inf] / rate[inf]
        if merge:
            st, rt, en = merge_segments(st, rt, en)
        n_seg += st.size
        bt, ba = t0[~inf], amt[~inf]
        go = obs_by_subj[s]
        for idx, t in zip(go.index, go["TIME"].to_numpy(float), strict=True):
            keep = st < t
            if not keep.any() and not (bt <= t).any():
                # before any dose the prediction is exactly 0: a censored row
                # contributes log P(Y < LLOQ) = 0, a quantified one is impossible
                if not cens.loc[idx]:
                    raise ValueError(f"ID {s}: quantified DV at TIME {t} before any dose")
                n_dropped += 1
                continue
            inf_rows.append([(1000.0 * r, max(t - e, 0.0), t - a)
                             for a, r, e in zip(st[keep], rt[keep], en[keep], strict=True)])
            keepb = bt <= t
            bol_rows.append([(1000.0 * m, t - a)
                             for a, m in zip(bt[keepb], ba[keepb], strict=True)])
            obs_subject.append(sidx[s])
            obs_order.append(idx)
    inf_amp, inf_end, inf_start = _compact(inf_rows, 3)
    bol_amt, bol_since = _compact(bol_rows, 2)
    o = obs.loc[obs_order]
    return PeerData(
        n_subjects=len(subjects),
        log_bsa_rel=np.log(bsa / BSA_REF),
        obs_subject=np.asarray(obs_subject, dtype=np.int32),
        inf_amp=inf_amp,
        inf_since_end=inf_end,
        inf_since_start=inf_start,
        bol_amt=bol_amt,
        bol_since=bol_since,
        log_dv=np.log(o["DV"].to_numpy(float)),
        log_lloq=np.log(o["LLOQ"].to_numpy(float)),
        cens=cens.loc[obs_order].to_numpy(bool),
        n_dose_records=int(len(doses)),
        n_segments=int(n_seg),
        n_predose_dropped=n_dropped,
    )


def make_model(pd_: PeerData, *, v_centered: bool = False, cl_centered: bool = True):
    """Build the NumPyro model function closed over device arrays.

    ``cl_centered`` / ``v_centered`` choose the parameterisation of each
    random effect (defaults: centred CL, non-centred V; see the module doc).
    """
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist

    fdt = jnp.result_type(float)
    a = jnp.asarray(pd_.inf_amp, fdt)
    r_end = jnp.asarray(pd_.inf_since_end, fdt)
    r_start = jnp.asarray(pd_.inf_since_start, fdt)
    has_bolus = pd_.bol_amt.shape[1] > 0
    b_amt = jnp.asarray(pd_.bol_amt, fdt)
    b_since = jnp.asarray(pd_.bol_since, fdt)
    subj = jnp.asarray(pd_.obs_subject)
    lbsa = jnp.asarray(pd_.log_bsa_rel, fdt)
    q = ~pd_.cens
    iq, ic = np.flatnonzero(q), np.flatnonzero(pd_.cens)
    y_q = jnp.asarray(pd_.log_dv[iq], fdt)
    lloq_c = jnp.asarray(pd_.log_lloq[ic], fdt)
    iq, ic = jnp.asarray(iq), jnp.asarray(ic)
    n = pd_.n_subjects
    pr = PRIORS

    def model():
        log_cl_pop = numpyro.sample("log_cl_pop", dist.Normal(*pr["log_cl_pop"]))
        log_v_pop = numpyro.sample("log_v_pop", dist.Normal(*pr["log_v_pop"]))
        theta = numpyro.sample("theta_bsa", dist.Normal(*pr["theta_bsa"]))
        omega_cl = numpyro.sample("omega_cl", dist.HalfNormal(pr["omega_cl"]))
        omega_v = numpyro.sample("omega_v", dist.HalfNormal(pr["omega_v"]))
        sigma = numpyro.sample("sigma", dist.HalfNormal(pr["sigma"]))
        numpyro.deterministic("cl_pop", jnp.exp(log_cl_pop))
        numpyro.deterministic("v_pop", jnp.exp(log_v_pop))
        mu_cl = log_cl_pop + theta * lbsa
        with numpyro.plate("subject", n):
            if cl_centered:
                log_cl = numpyro.sample("log_cl", dist.Normal(mu_cl, omega_cl))
            else:
                log_cl = mu_cl + omega_cl * numpyro.sample("eta_cl", dist.Normal(0.0, 1.0))
            if v_centered:
                log_v = numpyro.sample("log_v", dist.Normal(log_v_pop, omega_v))
            else:
                log_v = log_v_pop + omega_v * numpyro.sample("eta_v", dist.Normal(0.0, 1.0))
        cl = jnp.exp(log_cl)[subj]
        k = jnp.exp(log_cl - log_v)[subj][:, None]
        conc = jnp.sum(a * (jnp.exp(-k * r_end) - jnp.exp(-k * r_start)), axis=1) / cl
        if has_bolus:
            v = jnp.exp(log_v)[subj]
            conc = conc + jnp.sum(b_amt * jnp.exp(-k * b_since), axis=1) / v
        mu = jnp.log(conc)
        numpyro.factor("obs", jnp.sum(dist.Normal(mu[iq], sigma).log_prob(y_q)))
        numpyro.factor("cens", jnp.sum(dist.Normal(mu[ic], sigma).log_cdf(lloq_c)))

    return model


def init_values(pd_: PeerData) -> dict:
    """Typical-value initialisation (prior centres, individual = typical)."""
    lcl = PRIORS["log_cl_pop"][0]
    lv = PRIORS["log_v_pop"][0]
    n = pd_.n_subjects
    return {
        "log_cl_pop": lcl,
        "log_v_pop": lv,
        "theta_bsa": 0.5,
        "omega_cl": 0.5,
        "omega_v": 0.3,
        "sigma": 0.3,
        "log_cl": lcl + 0.5 * pd_.log_bsa_rel,
        "eta_cl": np.zeros(n),
        "log_v": np.full(n, lv),
        "eta_v": np.zeros(n),
    }


def fit_peer(df: pd.DataFrame, *, draws: int = 1000, tune: int = 1000, chains: int = 2,
             seed: int = 1, x64: bool = True, merge: bool = True,
             dense_mass: bool = False, v_centered: bool = False, cl_centered: bool = True,
             progress_bar: bool = False):
    """Fit the peer model; return ``(idata, info)`` with wall-time breakdown.

    The reported ``fit_s`` covers data preparation, JIT compilation, warm-up,
    sampling and conversion to InferenceData (everything after the imports).
    """
    import numpyro

    if x64:
        numpyro.enable_x64()
    numpyro.set_host_device_count(chains)
    import arviz as az
    import jax
    from numpyro.infer import MCMC, NUTS, init_to_value

    t0 = time.perf_counter()
    pdat = prepare(df, merge=merge)
    t1 = time.perf_counter()
    model = make_model(pdat, v_centered=v_centered, cl_centered=cl_centered)
    kernel = NUTS(model, init_strategy=init_to_value(values=init_values(pdat)),
                  dense_mass=dense_mass, target_accept_prob=0.8)
    method = "parallel" if jax.local_device_count() >= chains else "sequential"
    mcmc = MCMC(kernel, num_warmup=tune, num_samples=draws, num_chains=chains,
                chain_method=method, progress_bar=progress_bar)
    mcmc.run(jax.random.PRNGKey(seed), extra_fields=("diverging", "num_steps"))
    samples = mcmc.get_samples(group_by_chain=True)
    jax.block_until_ready(samples)
    t2 = time.perf_counter()
    # az.from_numpyro re-traces the model eagerly (seconds at N = 200, and it
    # trips over prior draws in float32); the samples are all we need.
    extra = mcmc.get_extra_fields(group_by_chain=True)
    steps = np.asarray(extra["num_steps"])
    idata = az.from_dict(
        posterior={k: np.asarray(v) for k, v in samples.items()},
        sample_stats={"diverging": np.asarray(extra["diverging"]), "n_steps": steps},
    )
    t3 = time.perf_counter()
    info = {
        "prep_s": t1 - t0,
        "mcmc_s": t2 - t1,
        "convert_s": t3 - t2,
        "fit_s": t3 - t0,
        "chain_method": method,
        "x64": x64,
        "merge": merge,
        "cl_centered": cl_centered,
        "v_centered": v_centered,
        "dense_mass": dense_mass,
        "n_obs": int(pdat.log_dv.size),
        "n_cens": int(pdat.cens.sum()),
        "n_subjects": pdat.n_subjects,
        "n_dose_records": pdat.n_dose_records,
        "n_segments": pdat.n_segments,
        "n_predose_dropped": pdat.n_predose_dropped,
        "width_inf": int(pdat.inf_amp.shape[1]),
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
    p.add_argument("--float32", action="store_true", help="run in float32")
    p.add_argument("--no-merge", action="store_true", help="keep every bag record")
    p.add_argument("--dense-mass", action="store_true")
    p.add_argument("--v-centered", action="store_true", help="centred BSV on V")
    p.add_argument("--cl-noncentered", action="store_true", help="non-centred BSV on CL")
    p.add_argument("--idata", type=Path, default=None, help="save posterior (netCDF)")
    a = p.parse_args(argv)

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _bench_common import summarize_posterior, write_json

    df = pd.read_csv(a.data)
    t_read = time.perf_counter()
    idata, info = fit_peer(df, draws=a.draws, tune=a.tune, chains=a.chains, seed=a.seed,
                           x64=not a.float32, merge=not a.no_merge,
                           dense_mass=a.dense_mass, v_centered=a.v_centered,
                           cl_centered=not a.cl_noncentered)
    summ = summarize_posterior(idata, NAME_MAP)
    if a.idata is not None:
        idata.posterior[list(NAME_MAP.values())].to_netcdf(a.idata)
    info["startup_s"] = t_read - t_start
    info["process_s"] = time.perf_counter() - t_start
    write_json(a.out, {"fitter": "peer_numpyro", **info, **summ})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

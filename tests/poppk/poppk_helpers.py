"""Hand-made datasets shared by the population-PK tests (imported by name)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def infusion_frame(n_subjects: int = 4, *, rate: float = 28 / 24, hours: float = 96.0,
                   obs_times=(2.0, 24.0, 48.0, 72.0), cl=None, v: float = 6.0,
                   sigma: float = 0.0, lloq: float = 50.0, seed: int = 1,
                   bsa=None) -> pd.DataFrame:
    """One constant-rate infusion per subject, 1-cmt data (optionally noise-free)."""
    rng = np.random.default_rng(seed)
    cl = np.full(n_subjects, 2.0) if cl is None else np.asarray(cl, dtype=float)
    bsa = np.linspace(1.4, 2.2, n_subjects) if bsa is None else np.asarray(bsa, dtype=float)
    rows = []
    for i in range(n_subjects):
        sid = i + 1
        rows.append({"ID": sid, "TIME": 0.0, "EVID": 1, "AMT": rate * hours, "RATE": rate,
                     "DV": 0.0, "MDV": 1, "DVID": "BLIN", "BSA": bsa[i]})
        k = cl[i] / v
        for t in obs_times:
            css = 1000.0 * rate / cl[i]
            t_on = min(t, hours)
            c = css * (1 - np.exp(-k * t_on)) * np.exp(-k * max(t - hours, 0.0))
            dv = c * np.exp(sigma * rng.standard_normal())
            cens = int(dv < lloq)
            rows.append({"ID": sid, "TIME": t, "EVID": 0, "AMT": 0.0, "RATE": 0.0,
                         "DV": lloq if cens else round(dv, 6), "MDV": 0, "DVID": "BLIN",
                         "LLOQ": lloq, "CENS": cens, "BSA": bsa[i]})
    frame = pd.DataFrame(rows)
    frame["LLOQ"] = frame["LLOQ"].fillna(lloq)
    frame["CENS"] = frame["CENS"].fillna(0).astype(int)
    return frame


#: Rich design of the sampling tests (h): a 24-h infusion, 6 samples during it and
#: 5 in the 6 h after it stops (both the rise and the decline inform V).
RICH_TIMES = (0.5, 1.0, 2.0, 4.0, 8.0, 23.5, 24.5, 25.0, 26.0, 28.0, 30.0)


def simulated_population(n: int, seed: int, *, structure: str = "1cmt", typical=None,
                         omega=(0.4, 0.3), corr: float = 0.0, sigma: float = 0.15,
                         female_cl_ratio: float = 1.0, rate: float = 28 / 24,
                         hours: float = 24.0, times=RICH_TIMES, lloq: float = 50.0):
    """Simulate a population from known truth with :func:`blinapk.pk.predict_conc`.

    ``CL_i = TV_CL * female_cl_ratio**[SEX_i == F] * exp(eta_CL,i)``,
    ``V_i = TV_V * exp(eta_V,i)``, ``(eta_CL, eta_V) ~ MvN(0, Omega)`` with SDs
    ``omega`` and correlation ``corr``; Q and V2 (2-cmt) without BSV. Log-normal
    residual error ``sigma``; values below ``lloq`` are reported censored (CENS 1,
    DV = LLOQ). SEX alternates F/M (half the subjects each).

    Returns
    -------
    (DataFrame, dict)
        The dataset and the truth (``typical``, ``omega``, ``corr``, ``sigma``,
        ``female_cl_ratio``, per-subject ``CL``/``V``, and under ``realised`` the
        sample's own values named like the summary rows: ``TV_CL`` and ``TV_V``
        at the geometric mean of the simulated etas (of the males for ``TV_CL``
        when ``female_cl_ratio != 1``), ``OMEGA_*`` and
        ``CORR_CL_V`` their SD and correlation, ``RATIO_CL_SEX[F]`` the ratio
        of the female and male geometric means at eta = 0 offsets).
    """
    from blinapk.pk import dose_matrix, predict_conc

    typical = dict(typical or {"CL": 2.2, "V": 6.0})
    rng = np.random.default_rng(seed)
    ids = np.arange(1, n + 1)
    sex = np.where(ids % 2 == 0, "M", "F")
    sd = np.asarray(omega, dtype=float)
    cov = np.outer(sd, sd) * np.array([[1.0, corr], [corr, 1.0]])
    eta = rng.multivariate_normal(np.zeros(2), cov, size=n)
    params = {"CL": typical["CL"] * np.where(sex == "F", female_cl_ratio, 1.0)
              * np.exp(eta[:, 0]), "V": typical["V"] * np.exp(eta[:, 1])}
    for p in ("Q", "V2"):
        if p in typical:
            params[p] = np.full(n, float(typical[p]))
    doses = pd.DataFrame({"ID": ids, "TIME": 0.0, "EVID": 1, "AMT": rate * hours,
                          "RATE": rate})
    t = np.tile(np.asarray(times, dtype=float), n)
    s = np.repeat(np.arange(n), len(times))
    conc = np.asarray(predict_conc(t, s, dose_matrix(doses, ids), params, model=structure))
    dv = conc * np.exp(sigma * rng.standard_normal(conc.size))
    cens = dv < lloq
    obs = pd.DataFrame({"ID": ids[s], "TIME": t, "EVID": 0, "AMT": 0.0, "RATE": 0.0,
                        "DV": np.where(cens, lloq, np.round(dv, 6)), "CENS": cens.astype(int)})
    frame = pd.concat([doses.assign(DV=0.0, CENS=0), obs], ignore_index=True)
    frame = frame.assign(MDV=(frame["EVID"] == 1).astype(int), DVID="BLIN", LLOQ=lloq,
                         SEX=sex[frame["ID"].to_numpy() - 1])
    frame = frame.sort_values(["ID", "TIME", "EVID"], ascending=[True, True, False],
                              kind="stable", ignore_index=True)
    female = sex == "F"
    realised = {  # what this finite sample identifies (not the population values)
        # with a SEX effect, TV_CL is the male (reference) clearance
        "TV_CL": typical["CL"] * float(np.exp(eta[~female if female_cl_ratio != 1.0 else
                                                  slice(None), 0].mean())),
        "TV_V": typical["V"] * float(np.exp(eta[:, 1].mean())),
        "OMEGA_CL": float(eta[:, 0].std(ddof=1)), "OMEGA_V": float(eta[:, 1].std(ddof=1)),
        "CORR_CL_V": float(np.corrcoef(eta[:, 0], eta[:, 1])[0, 1]),
        "RATIO_CL_SEX[F]": female_cl_ratio * float(
            np.exp(eta[female, 0].mean() - eta[~female, 0].mean())),
    }
    truth = {"typical": typical, "omega": tuple(sd), "corr": corr, "sigma": sigma,
             "female_cl_ratio": female_cl_ratio, "CL": params["CL"], "V": params["V"],
             "realised": realised}
    return frame, truth

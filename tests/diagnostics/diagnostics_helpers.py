"""Populations simulated from known truth for the diagnostics evidence (imported by name)."""

from __future__ import annotations

import numpy as np
import pandas as pd

#: A 24-h infusion sampled during it and in the 12 h after it stops (h).
TIMES = (0.5, 1.0, 2.0, 4.0, 8.0, 23.5, 24.5, 25.0, 26.0, 28.0, 30.0, 36.0)


def simulate(n: int, seed: int, *, structure: str = "1cmt", bsa_exponent: float = 0.0,
             omega=(0.3, 0.2), sigma: float = 0.12, lloq: float = 50.0,
             rate: float = 28 / 24, times=TIMES) -> pd.DataFrame:
    """A dataset (contract columns plus BSA) simulated with :func:`blinapk.pk.predict_conc`.

    ``CL_i = 2.2 (BSA_i / 1.88)**bsa_exponent exp(eta_CL)``, ``V_i = 3 exp(eta_V)``
    (2-cmt: Q = 3 L/h, V2 = 10 L, no BSV); BSA uniform in 0.5-2.3 m2 and a
    flat dose, so a BSA effect shows in the concentrations; log-normal
    residual ``sigma``; values below ``lloq`` are censored (DV = LLOQ, CENS = 1).
    """
    from blinapk.pk import dose_matrix, predict_conc

    rng = np.random.default_rng(seed)
    ids = np.arange(1, n + 1)
    bsa = np.round(rng.uniform(0.5, 2.3, n), 2)
    eta = rng.standard_normal((n, 2)) * np.asarray(omega)
    params = {"CL": 2.2 * (bsa / 1.88) ** bsa_exponent * np.exp(eta[:, 0]),
              "V": 3.0 * np.exp(eta[:, 1])}
    if structure == "2cmt":
        params |= {"Q": np.full(n, 3.0), "V2": np.full(n, 10.0)}
    doses = pd.DataFrame({"ID": ids, "TIME": 0.0, "EVID": 1, "AMT": rate * 24.0, "RATE": rate})
    t = np.tile(np.asarray(times, dtype=float), n)
    s = np.repeat(np.arange(n), len(times))
    conc = np.asarray(predict_conc(t, s, dose_matrix(doses, ids), params, model=structure))
    dv = conc * np.exp(sigma * rng.standard_normal(conc.size))
    cens = dv < lloq
    obs = pd.DataFrame({"ID": ids[s], "TIME": t, "EVID": 0, "AMT": 0.0, "RATE": 0.0,
                        "DV": np.where(cens, lloq, np.round(dv, 4)), "CENS": cens.astype(int)})
    frame = pd.concat([doses.assign(DV=0.0, CENS=0), obs], ignore_index=True)
    frame = frame.assign(MDV=(frame["EVID"] == 1).astype(int), DVID="BLIN", LLOQ=lloq,
                         BSA=bsa[frame["ID"].to_numpy() - 1])
    return frame.sort_values(["ID", "TIME", "EVID"], ascending=[True, True, False],
                             kind="stable", ignore_index=True)

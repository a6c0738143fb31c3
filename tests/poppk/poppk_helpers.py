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

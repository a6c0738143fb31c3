"""Hand-built clinical tables for the endpoint tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

#: An assessment meeting every CR criterion with room to spare.
CR_VALUES = {"MARROW_BLAST": 3.0, "CIRC_BLAST": 0, "EXTRAMED": 0, "PLT": 150_000.0,
             "HGB": 12.0, "ANC": 2_000.0, "MRD": np.nan}


def assessment(id_=1, cycle=1, day=29, **values) -> dict:
    """One assessment row: CR values, overridden by ``values``."""
    return {"ID": id_, "CYCLE": cycle, "DAY": day, **CR_VALUES, **values}


def assessments(*rows: dict) -> pd.DataFrame:
    return pd.DataFrame(list(rows))


def subjects(*rows: dict) -> pd.DataFrame:
    """Subjects table; absent day columns are empty."""
    cols = ["ID", "ARM", "LAST_DOSE_DAY", "LAST_CONTACT_DAY", "DEATH_DAY", "DEATH_CAUSE",
            "RELAPSE_DAY", "HSCT_DAY"]
    frame = pd.DataFrame([{c: r.get(c, np.nan) for c in cols} for r in rows])
    for c in cols[2:]:
        if c != "DEATH_CAUSE":
            frame[c] = frame[c].astype(float)
    return frame


# Freireich et al. (Blood 1963) as analysed by Gehan (Biometrika 1965); weeks of remission.
# "+" = censored. Kleinbaum & Klein, Survival Analysis, ch. 2; R survival's leukemia data.
MP6 = "6 6 6 6+ 7 9+ 10 10+ 11+ 13 16 17+ 19+ 20+ 22 23 25+ 32+ 32+ 34+ 35+".split()
PLACEBO = "1 1 2 2 3 4 4 5 5 8 8 8 8 11 11 12 12 15 17 22 23".split()


def freireich() -> pd.DataFrame:
    rows = [(float(x.rstrip("+")), 0 if x.endswith("+") else 1, "6-MP") for x in MP6]
    rows += [(float(x), 1, "placebo") for x in PLACEBO]
    return pd.DataFrame(rows, columns=["TIME", "EVENT", "GROUP"])

"""A hand-built two-arm study for the endpoint-layer interface tests (not a test module).

:func:`make_study` draws 40 subjects (20 per arm, ``blinatumomab`` vs
``chemotherapy``) with a fixed random generator, loosely after TOWER
(Kantarjian et al., NEJM 2017): remission more frequent and survival longer
on blinatumomab. The tables obey every rule of the clinical-table contract:
relapses follow a CR/CRh* assessment, nothing happens after death, the last
contact is on or after every assessment and the last dose. ``EXPOSURE`` is
a user-added grouping column (``low``/``high``, ``none`` on chemotherapy).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

NA = np.nan
DAYS_PER_MONTH = 30.4375
#: Assessment values of each response category (MT103-211 criteria).
VALUES = {
    "CR": dict(MARROW_BLAST=2.0, CIRC_BLAST=0, EXTRAMED=0, PLT=160e3, HGB=12.1, ANC=2100.0),
    "CRh*": dict(MARROW_BLAST=3.5, CIRC_BLAST=0, EXTRAMED=0, PLT=72e3, HGB=9.2, ANC=800.0),
    "PR": dict(MARROW_BLAST=14.0, CIRC_BLAST=0, EXTRAMED=0, PLT=40e3, HGB=8.5, ANC=400.0),
    "NR": dict(MARROW_BLAST=55.0, CIRC_BLAST=1, EXTRAMED=0, PLT=20e3, HGB=7.8, ANC=300.0),
}
#: Assessment days: end of treatment cycles 1-5 (4 weeks on, 2 off), then every 13 weeks.
TREATMENT_DAYS = (29, 71, 113, 155, 197)
AE_TERMS = {
    "CRS": "Cytokine release syndrome", "NEUROLOGIC": "Encephalopathy",
    "INFECTION": "Pneumonia", "NEUTROPENIA": "Febrile neutropenia",
}
#: Per arm: probabilities of CR, CRh*, PR (NR otherwise); median OS of responders and
#: non-responders and median time to relapse (months).
ARMS = {"blinatumomab": dict(p=(0.30, 0.15, 0.15), os=(20.0, 4.0), ttr=(9.0,)),
        "chemotherapy": dict(p=(0.17, 0.08, 0.15), os=(14.0, 3.5), ttr=(5.0,))}


def _months(rng, median: float) -> int:
    """Days drawn from an exponential distribution with the given median (months)."""
    return int(np.ceil(rng.exponential(median * DAYS_PER_MONTH / np.log(2))))


def _subject(rng, sid: int, arm: str) -> tuple[dict, list[dict], list[dict]]:
    blin, spec = arm == "blinatumomab", ARMS[arm]
    u = rng.uniform()
    cuts = np.cumsum(spec["p"])
    best = "CR" if u < cuts[0] else "CRh*" if u < cuts[1] else "PR" if u < cuts[2] else "NR"
    remission = best in ("CR", "CRh*")
    follow_up = int(rng.uniform(120, 900))  # staggered entry: administrative censoring
    death = 20 + _months(rng, spec["os"][0 if remission else 1])
    first = 29 if rng.uniform() < 0.75 else 71  # first CR/CRh* assessment
    relapse, hsct = NA, NA
    if remission and death > first:
        r = first + 1 + _months(rng, spec["ttr"][0])
        if r < min(death, follow_up):
            relapse = float(r)
            death = min(death, r + 20 + _months(rng, 3.0))  # poor survival after relapse
        h = first + int(rng.uniform(40, 120))
        if rng.uniform() < 0.5 and h < min(death, follow_up, r):
            hsct = float(h)
    died = death <= follow_up
    end = death if died else follow_up
    stop = min(relapse, end) if np.isfinite(relapse) else end  # no assessment from relapse on
    later = range(TREATMENT_DAYS[-1] + 91, 2000, 91) if remission else ()
    days = [d for d in (*TREATMENT_DAYS[: 5 if remission else 2], *later) if d < stop]
    rows = []
    for k, day in enumerate(days):
        cat = best if remission and day >= first else "PR" if best == "PR" else "NR"
        if cat == "CR" and k % 3 == 2:
            cat = "CRh*"  # counts dip now and then
        mrd = (rng.choice([5e-5, 2e-5, 3e-4]) if cat in ("CR", "CRh*") and rng.uniform() < 0.9
               else NA)
        row = {"ID": sid, "CYCLE": min(k + 1, 5), "DAY": float(day), **VALUES[cat], "MRD": mrd}
        if rng.uniform() < 0.05 and day != first:
            row["ANC"] = NA  # not done: the assessment may be NE
        rows.append(row)
    cycles = min(5, len(rows)) if blin else 1
    last_dose = float(min(28 + 42 * (max(cycles, 1) - 1), end))
    subject = {"ID": sid, "ARM": arm,
               "EXPOSURE": ("high" if sid % 2 else "low") if blin else "none",
               "AGE": float(rng.integers(18, 80)), "LAST_DOSE_DAY": last_dose,
               "LAST_CONTACT_DAY": float(end), "DEATH_DAY": float(death) if died else NA,
               "DEATH_CAUSE": (("progression" if rng.uniform() < 0.8 else "other") if died
                               else None),
               "RELAPSE_DAY": relapse, "HSCT_DAY": hsct}
    events = []
    for cat, term in AE_TERMS.items():
        risk = {"CRS": 0.35 if blin else 0.0, "NEUROLOGIC": 0.4 if blin else 0.15,
                "INFECTION": 0.35, "NEUTROPENIA": 0.2 if blin else 0.45}[cat]
        if rng.uniform() < risk:
            start = 2 if cat == "CRS" else int(rng.integers(1, int(last_dose) + 45))
            if start <= end:
                grade = int(rng.choice([1, 2, 3, 4], p=[0.35, 0.35, 0.2, 0.1]))
                events.append({"ID": sid, "TERM": term, "CATEGORY": cat, "GRADE": grade,
                               "START_DAY": float(start), "END_DAY": float(min(start + 5, end)),
                               "RELATED": int(blin and cat in ("CRS", "NEUROLOGIC")),
                               "SERIOUS": int(grade >= 3)})
    return subject, rows, events


def make_study(n: int = 40, seed: int = 3) -> dict[str, pd.DataFrame]:
    """Return ``{"subjects", "assessments", "adverse_events"}`` of an ``n``-subject study."""
    rng = np.random.default_rng(seed)
    subjects, assessments, events = [], [], []
    for i in range(n):
        s, a, e = _subject(rng, 101 + i, "blinatumomab" if i < n // 2 else "chemotherapy")
        subjects.append(s)
        assessments += a
        events += e
    return {"subjects": pd.DataFrame(subjects), "assessments": pd.DataFrame(assessments),
            "adverse_events": pd.DataFrame(events)}


def make_event_table(subjects: pd.DataFrame) -> pd.DataFrame:
    """Dose records of the blinatumomab arm: the adult label regimen, 2 cycles.

    Every third subject's cycle-1 step-up is interrupted for two days, so the
    timeline has starts, step-ups and restarts; the chemotherapy arm has no
    blinatumomab dose (its adverse events have no dosing episode).
    """
    from blinapk.dosing import Interruption, dose_records, get_preset

    blin = subjects.loc[subjects["ARM"] == "blinatumomab", ["ID"]].reset_index(drop=True)
    pauses = {sid: Interruption(start=200.0, duration=48.0)
              for sid in blin["ID"].iloc[::3]}
    return dose_records(get_preset("adult_rr"), blin, interruptions=pauses)


def write_study(directory: Path, **kwargs) -> dict[str, Path]:
    """Write :func:`make_study`'s tables as ``<table>.csv`` and the event table as ``data.csv``."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = {}
    study = make_study(**kwargs)
    for name, frame in study.items():
        paths[name] = directory / f"{name}.csv"
        frame.to_csv(paths[name], index=False)
    paths["data"] = directory / "data.csv"
    make_event_table(study["subjects"]).to_csv(paths["data"], index=False)
    return paths

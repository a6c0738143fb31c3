"""Small virtual studies with a known exposure-response truth (tests and benchmarks).

:func:`er_study` draws ``n`` subjects (adults >= 45 kg and children, label
regimen ``weight_based_rr``, cycle 1), individual CL and V from log-normal
distributions, and optionally sparse PK samples with proportional error.
Outcomes are drawn from a known model on the *true* exposure:

* ``crcrh`` (binary): ``logit p = a + b (log Css - log REF)``; the response is
  written as one cycle-1 bone-marrow assessment (CR or NR values);
* ``os`` (time to event): Weibull with ``h(t) = k t^(k-1) / s^k *
  exp(b (log Css - log REF))``, administrative censoring at ``follow_up``
  months (OS counts from day 1; no response assessment is written);
* ``il6`` (cytokine peaks): after the first start and the step-up, a BLQ
  baseline sample at the event and one sample 6 h later at
  ``EMAX * f(dCss; EC50) * RATIO^step * exp(eta_i + eps)`` above baseline
  (:func:`blinapk.pk.emax.emax_fraction`), censored below the LLOQ.

The truth is returned with the data, so that a fit's intervals can be
checked against it (docs/er.md, benchmarks/er_uncertainty.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from blinapk.data import ClinicalData, Dataset, read_clinical, read_dataset
from blinapk.dosing import dose_records, get_preset
from blinapk.er import exposure_from_params
from blinapk.pk import predict_conc
from blinapk.pk.doses import dose_matrix
from blinapk.pk.emax import emax_fraction

#: Reference Css of the truth's centring (pg/mL): an adult at 28 ug/day, CL 2.2 L/h.
REF_CSS = 1000.0 * 28.0 / 24.0 / 2.2
#: Assessment values of CR and NR (MT103-211 criteria).
VALUES = {"CR": dict(MARROW_BLAST=2.0, CIRC_BLAST=0, EXTRAMED=0, PLT=160e3, HGB=12.1,
                     ANC=2100.0),
          "NR": dict(MARROW_BLAST=55.0, CIRC_BLAST=1, EXTRAMED=0, PLT=20e3, HGB=7.8, ANC=300.0)}


@dataclass(frozen=True)
class ERStudy:
    """A simulated study: event table, clinical tables, true parameters and exposures."""

    dataset: Dataset
    clinical: ClinicalData
    params: pd.DataFrame
    truth: dict = field(default_factory=dict)


def _population(n: int, rng: np.random.Generator, child_fraction: float) -> pd.DataFrame:
    child = rng.random(n) < child_fraction
    wt = np.where(child, rng.uniform(12.0, 40.0, n), rng.uniform(50.0, 100.0, n))
    bsa = np.round(0.1 * wt**0.67 * 1.0, 2)  # rough BSA from weight (m2)
    age = np.where(child, rng.integers(2, 17, n), rng.integers(18, 80, n))
    return pd.DataFrame({"ID": np.arange(1, n + 1), "WT": np.round(wt, 1), "BSA": bsa,
                         "AGE": age.astype(float),
                         "BLAST": np.round(rng.uniform(5.0, 95.0, n), 1)})


def _pk_rows(doses: pd.DataFrame, pop: pd.DataFrame, cl: np.ndarray, v: np.ndarray,
             rng: np.random.Generator, n_samples: int, prop: float) -> pd.DataFrame:
    """``n_samples`` BLIN samples per subject: 1-8 h after the start, then days 10-27."""
    if n_samples == 0:
        return pd.DataFrame()
    n = len(pop)
    hours = np.column_stack([rng.uniform(1.0, 8.0, n), *(24.0 * rng.uniform(10, 27.5, n)
                                                         for _ in range(n_samples - 1))])
    t = np.round(np.sort(hours, axis=1), 1)
    ids = np.repeat(pop["ID"].to_numpy(), n_samples)
    subj = np.repeat(np.arange(n), n_samples)
    dm = dose_matrix(doses, tuple(pop["ID"]))
    c = predict_conc(t.ravel(), subj, dm, {"CL": cl, "V": v})
    dv = np.round(c * np.exp(prop * rng.standard_normal(c.size)), 2)
    return pd.DataFrame({"ID": ids, "TIME": t.ravel(), "EVID": 0, "AMT": 0.0, "RATE": 0.0,
                         "DV": dv, "MDV": 0, "DVID": "BLIN", "LLOQ": 50.0,
                         "CENS": (dv < 50.0).astype(int)})


def _cytokine_rows(ids, events, rng, emax, ec50, ratio, omega, sigma, lloq) -> pd.DataFrame:
    eta = dict(zip(ids, rng.normal(0.0, omega, len(ids)), strict=True))
    rows = []
    for e in events.itertuples(index=False):
        step = int(e.KIND == "step-up")
        amp = (emax * emax_fraction(e.DELTA, ec50) * ratio**step
               * np.exp(eta[e.ID] + sigma * rng.standard_normal()))
        peak = 5.0 + amp
        for t, value in ((e.START, 5.0), (e.START + 6.0, peak)):
            cens = int(value < lloq)
            rows.append({"ID": e.ID, "TIME": t, "EVID": 0, "AMT": 0.0, "RATE": 0.0,
                         "DV": lloq if cens else round(float(value), 2), "MDV": 0,
                         "DVID": "IL6", "LLOQ": lloq, "CENS": cens})
    return pd.DataFrame(rows)


def er_study(n: int, seed: int, *, endpoint: str = "crcrh", slope: float = 1.5,
             intercept: float = -0.5, shape: float = 1.2, median_months: float = 12.0,
             follow_up: float = 36.0, emax: float = 1500.0, ec50: float = 200.0,
             ratio: float = 0.1, omega: float = 0.8, sigma: float = 0.5,
             omega_cl: float = 0.4, pk_samples: int = 0, pk_prop: float = 0.2,
             child_fraction: float = 0.2, cytokine_lloq: float = 125.0) -> ERStudy:
    """Simulate a study whose outcome follows a known exposure-response model.

    Parameters
    ----------
    n, seed : int
        Subjects and random seed.
    endpoint : {"crcrh", "os", "il6"}
        Outcome simulated.
    slope, intercept : float
        ``crcrh``: log-odds slope per log Css and log-odds at ``REF_CSS``;
        ``os``: log hazard ratio per log Css (intercept unused).
    shape, median_months, follow_up : float
        ``os``: Weibull shape, median survival at ``REF_CSS``, censoring time.
    emax, ec50, ratio, omega, sigma : float
        ``il6``: maximal peak above baseline (pg/mL), EC50 of the Css increase
        (pg/mL), step-up/first ratio, subject and residual log-scale SDs.
    omega_cl : float
        Log-SD of CL between subjects (V: 0.2).
    pk_samples : int
        BLIN samples per subject: one 1-8 h after the start, the others at steady
        state on days 10-27 (0: none).
    pk_prop : float
        Proportional (log-scale) residual SD of the PK samples.
    child_fraction : float
        Probability that a subject is a child (< 45 kg).
    cytokine_lloq : float
        LLOQ of the IL-6 assay (pg/mL).

    Returns
    -------
    ERStudy
    """
    rng = np.random.default_rng(seed)
    pop = _population(n, rng, child_fraction)
    cl = 2.2 * (pop["BSA"].to_numpy() / 1.88) ** 0.6 * np.exp(omega_cl * rng.standard_normal(n))
    v = 5.0 * np.exp(0.2 * rng.standard_normal(n))
    doses = dose_records(get_preset("weight_based_rr", n_cycles=1), pop[["ID", "BSA", "WT"]])
    rows = [doses.drop(columns=["DOSE_LEVEL"])]
    rows.append(_pk_rows(doses, pop, cl, v, rng, pk_samples, pk_prop))
    params = pop[["ID"]].assign(CL=cl, V=v)
    truth: dict = {"endpoint": endpoint, "ref_css": REF_CSS}
    frame = (pd.concat(rows, ignore_index=True)
             .sort_values(["ID", "TIME", "EVID"], ascending=[True, True, False], kind="stable")
             .merge(pop[["ID", "WT", "BSA", "AGE"]], on="ID"))
    dataset_doses = read_dataset(frame)
    if endpoint == "il6":
        ex = exposure_from_params(dataset_doses, {"CL": cl, "V": v}, "delta_css",
                                  level="event")
        ev = ex.units.assign(DELTA=ex.point)
        ev = ev.loc[(ev["KIND"] == "step-up") | (ev["START"] == 0.0)]
        rows.append(_cytokine_rows(pop["ID"].tolist(), ev, rng, emax, ec50, ratio, omega,
                                   sigma, cytokine_lloq))
        truth.update(EMAX=emax, EC50=ec50, EPISODE_RATIO=ratio, OMEGA=omega, SIGMA=sigma)
        frame = (pd.concat(rows, ignore_index=True)
                 .sort_values(["ID", "TIME", "EVID"], ascending=[True, True, False],
                              kind="stable")
                 .merge(pop[["ID", "WT", "BSA", "AGE"]], on="ID"))
    dataset = read_dataset(frame)
    css = exposure_from_params(dataset, {"CL": cl, "V": v}, "css").point
    lx = np.log(css) - np.log(REF_CSS)
    subjects = pop[["ID", "AGE", "BSA", "WT", "BLAST"]].assign(
        LAST_DOSE_DAY=28.0, LAST_CONTACT_DAY=np.nan, DEATH_DAY=np.nan, DEATH_CAUSE=None,
        RELAPSE_DAY=np.nan, HSCT_DAY=np.nan)
    y = rng.random(n) < 1.0 / (1.0 + np.exp(-(intercept + slope * lx)))
    if endpoint == "os":
        scale = median_months / np.log(2.0) ** (1.0 / shape)
        t = scale * rng.exponential(size=n) ** (1.0 / shape) * np.exp(-slope * lx / shape)
        dead = t <= follow_up
        days = np.ceil(np.minimum(t, follow_up) * 30.4375)
        subjects["DEATH_DAY"] = np.where(dead, days, np.nan)
        subjects["LAST_CONTACT_DAY"] = np.where(dead, np.nan, days)
        subjects["DEATH_CAUSE"] = np.where(dead, "progression", None)
        subjects["LAST_DOSE_DAY"] = np.minimum(28.0, days)
    else:
        subjects["LAST_CONTACT_DAY"] = 60.0
    truth.update(BETA=slope, INTERCEPT=intercept, SHAPE=shape)
    if endpoint == "os":  # no assessment needed (and none after an early death)
        clinical = read_clinical(subjects=subjects)
        return ERStudy(dataset, clinical, params.assign(CSS=css), truth)
    assessments = pd.DataFrame([{"ID": i, "CYCLE": 1, "DAY": 29.0, "MRD": np.nan,
                                 **VALUES["CR" if r else "NR"]}
                                for i, r in zip(pop["ID"], y, strict=True)])
    clinical = read_clinical(subjects=subjects, assessments=assessments)
    return ERStudy(dataset, clinical, params.assign(CSS=css), truth)

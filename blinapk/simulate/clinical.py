"""Clinical tables of a simulated trial (subjects, assessments, adverse events) with their truth.

The truths (``clinical_model.toml``, read by
:func:`~blinapk.simulate.clinical_model.load_clinical_model`) depend on
exposure and cytokines:

1. **Remission** (CR/CRh* within two cycles): logistic in the log of the
   subject's true full-dose steady state ``CSS_FULL = 1000 R_full / CL`` and
   in baseline blasts; CR or CRh*; first remission at the cycle-1 or cycle-2
   assessment; MRD response among responders, logistic in log Css.
2. **Assessments** at the end of every cycle (day 29 of the cycle +/- the
   visit window) with laboratory values drawn consistently with the true
   category under the MT103-211 criteria
   (:mod:`~blinapk.simulate.clinical_labs`); a few counts are missing.
3. **Survival**: exponential hazards. Responders relapse (slower when MRD
   negative or after alloHSCT) and may die in remission; deaths after a
   relapse and most deaths of non-responders are from progression. Deaths and
   losses to follow-up fall after the treatment phase (the later of the last
   infusion and the last assessment), because every subject receives all the
   cycles of its dose records. Administrative censoring at a staggered
   data cut-off.
4. **Adverse events** (:mod:`~blinapk.simulate.clinical_ae`): CRS from the
   true IL-6 peak of each infusion start, restart and step, consistent with
   the simulated CRS interruptions; neurologic events, infections, others.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import expit

from blinapk.data import ClinicalData, write_clinical
from blinapk.pk import css_from_rate
from blinapk.simulate.clinical_ae import simulate_adverse_events
from blinapk.simulate.clinical_labs import LAB_COLUMNS, draw_labs
from blinapk.simulate.clinical_model import ClinicalModel

__all__ = ["SUBJECT_COLUMNS", "ClinicalTables", "simulate_clinical", "write_clinical_tables"]

#: Columns of the simulated subjects table, in order.
SUBJECT_COLUMNS = ("ID", "ARM", "STUDY", "BLAST", "AGE", "SEX", "BSA", "WT", "LAST_DOSE_DAY",
                   "LAST_CONTACT_DAY", "DEATH_DAY", "DEATH_CAUSE", "RELAPSE_DAY", "HSCT_DAY")
_DAYS_PER_YEAR = 365.25


@dataclass(frozen=True)
class ClinicalTables:
    """The three clinical tables of a simulated trial and the truth behind them.

    Attributes
    ----------
    subjects, assessments, adverse_events : pandas.DataFrame
        The tables in the clinical-table contract (docs/clinical_data.md).
    truth : pandas.DataFrame
        One row per subject (see docs/simulate.md, "Clinical tables").
    assessment_truth : pandas.DataFrame
        One row per row of ``assessments`` (same order): ``ID, CYCLE, DAY,
        RESPONSE`` (true category), ``MRD_NEGATIVE``, ``MISSING`` (the count
        left empty, ``""`` when none).
    """

    subjects: pd.DataFrame = field(repr=False)
    assessments: pd.DataFrame = field(repr=False)
    adverse_events: pd.DataFrame = field(repr=False)
    truth: pd.DataFrame = field(repr=False)
    assessment_truth: pd.DataFrame = field(repr=False)


def _exposure(truth: pd.DataFrame, rates: pd.DataFrame,
              cycle_starts: list[np.ndarray]) -> pd.DataFrame:
    """Full-dose Css, last dose day and end of the cycle-1 infusion of every subject."""
    ids = truth["ID"].to_numpy()
    seg = rates[rates["RATE"] > 0]
    c2 = pd.Series([s[1] if len(s) > 1 else np.inf for s in cycle_starts], index=ids)
    in_c1 = seg["START"].to_numpy(float) < c2.reindex(seg["ID"]).to_numpy()
    c1 = seg[in_c1].groupby("ID", sort=False)
    rate_full = c1["RATE"].max().reindex(ids).to_numpy(float)
    return pd.DataFrame({
        "ID": ids,
        "RATE_FULL": rate_full,
        "CSS_FULL": css_from_rate(rate_full, truth["CL"].to_numpy(float)),
        "LAST_DOSE_DAY": np.ceil(seg.groupby("ID", sort=False)["END"].max()
                                 .reindex(ids).to_numpy(float) / 24.0 - 1e-9),
        "C1_END_DAY": np.ceil(c1["END"].max().reindex(ids).to_numpy(float) / 24.0 - 1e-9),
    })


def _response(model: ClinicalModel, rng: np.random.Generator, truth: pd.DataFrame,
              x: np.ndarray, n_cycles: np.ndarray) -> dict[str, np.ndarray]:
    """Remission, its category and cycle, MRD response and the non-remission category."""
    u = rng.random((len(x), 6))
    lp = (model["remission.intercept"] + model["remission.slope_log_css"] * x
          + model["remission.slope_blast"]
          * (truth["BLAST"].to_numpy(float) - model["remission.blast_ref"])
          + model["remission.child_offset"] * (truth["GROUP"].to_numpy() == "child"))
    p_rem = expit(lp)
    responder = u[:, 0] < p_rem
    p_mrd = expit(model["mrd.intercept"] + model["mrd.slope_log_css"] * x)
    first = np.where(u[:, 2] < model["remission.first_cycle_fraction"], 1, 2)
    return {
        "P_REMISSION": p_rem, "RESPONDER": responder,
        "REMISSION": np.where(u[:, 1] < model["remission.cr_fraction"], "CR", "CRh*"),
        "FIRST_CYCLE": np.where(responder, np.minimum(first, n_cycles), 0),
        "PRE": np.where(u[:, 3] < model["remission.late_responder_pr"], "PR", "NR"),
        "OTHER": np.where(u[:, 4] < model["remission.nonresponder_pr"], "PR", "NR"),
        "P_MRD": p_mrd, "MRD_NEGATIVE": responder & (u[:, 5] < p_mrd),
    }


def _visits(model: ClinicalModel, rng: np.random.Generator, ids: np.ndarray,
            cycle_starts: list[np.ndarray]) -> pd.DataFrame:
    """One assessment per subject and cycle, at the end of the cycle's infusion."""
    k = np.array([len(s) for s in cycle_starts])
    sid = np.repeat(ids, k)
    cycle = np.concatenate([np.arange(1, n + 1) for n in k])
    start_day = np.round(np.concatenate(cycle_starts) / 24.0) + 1.0
    j = model["assessment.jitter_days"]
    jitter = np.floor(rng.random(len(sid)) * (2 * j + 1)) - j
    day = start_day + model["assessment.day_in_cycle"] - 1 + jitter
    return pd.DataFrame({"ID": sid, "CYCLE": cycle, "DAY": day.astype(np.int64)})


def _survival(model: ClinicalModel, rng: np.random.Generator, resp: dict, rem_day: np.ndarray,
              t0: np.ndarray) -> dict[str, np.ndarray]:
    """Draw the true relapse, alloHSCT, death and censoring times (days; day d is [d - 1, d))."""
    n = len(t0)
    u = rng.random((n, 8))
    e_rel, e_nrm = -np.log1p(-u[:, 0]), -np.log1p(-u[:, 1])
    lam = (np.log(2) / model["survival.relapse_median"]
           * np.where(resp["MRD_NEGATIVE"], model["survival.hr_mrd_negative"], 1.0))
    lo, hi = model["survival.hsct_delay"]
    h = t0 + lo + (hi - lo) * u[:, 2]
    planned = resp["RESPONDER"] & (u[:, 3] < model["survival.hsct_fraction"])
    nu = model["survival.nrm_per_year"] / _DAYS_PER_YEAR
    tau = model["survival.trm_per_year"] / _DAYS_PER_YEAR
    with np.errstate(divide="ignore", invalid="ignore"):
        rel_plain = rem_day + e_rel / lam
        nrm_plain = t0 + e_nrm / nu
        # piecewise-constant hazards: the hazard changes at the transplant day h
        h_rel = lam * (h - rem_day)
        rel_hsct = np.where(e_rel < h_rel, rel_plain,
                            h + (e_rel - h_rel) / (lam * model["survival.hr_hsct_relapse"]))
        h_nrm = nu * (h - t0)
        nrm_hsct = np.where(e_nrm < h_nrm, nrm_plain, h + (e_nrm - h_nrm) / tau)
    hsct = planned & (h < rel_plain) & (h < nrm_plain)
    rel = np.where(hsct, rel_hsct, rel_plain)
    nrm = np.where(hsct, nrm_hsct, nrm_plain)
    relapsed = resp["RESPONDER"] & (rel < nrm)
    post = -np.log1p(-u[:, 4]) * model["survival.post_relapse_median"] / np.log(2)
    nr_death = t0 - np.log1p(-u[:, 4]) * model["survival.nonresponder_median"] / np.log(2)
    death = np.select([relapsed, resp["RESPONDER"]], [np.maximum(rel, t0) + post, nrm], nr_death)
    progression = relapsed | (~resp["RESPONDER"]
                              & (u[:, 5] < model["survival.nonresponder_progression"]))
    lo, hi = model["survival.followup"]
    drop = t0 - np.log1p(-u[:, 7]) / (model["survival.dropout_per_year"] / _DAYS_PER_YEAR)
    censor = np.maximum(t0, np.minimum(lo + (hi - lo) * u[:, 6], drop))
    return {"RELAPSE": np.where(relapsed, rel, np.nan), "HSCT_PLANNED": planned,
            "HSCT": np.where(hsct, h, np.nan), "DEATH": death,
            "CAUSE": np.where(progression, "progression", "other"), "CENSOR": censor}


def _day(t: np.ndarray) -> np.ndarray:
    return np.floor(t) + 1.0


def _subjects(truth: pd.DataFrame, expo: pd.DataFrame, surv: dict, study: str) -> pd.DataFrame:
    dead = surv["DEATH"] <= surv["CENSOR"]
    end = np.where(dead, surv["DEATH"], surv["CENSOR"])
    seen = lambda t: np.where(t <= end, _day(t), np.nan)  # noqa: E731
    return pd.DataFrame({
        "ID": truth["ID"].to_numpy(), "ARM": truth["ARM"].to_numpy(), "STUDY": study,
        **{c: truth[c].to_numpy() for c in ("BLAST", "AGE", "SEX", "BSA", "WT")},
        "LAST_DOSE_DAY": expo["LAST_DOSE_DAY"].to_numpy().astype(np.int64),
        "LAST_CONTACT_DAY": _day(end).astype(np.int64),
        "DEATH_DAY": np.where(dead, _day(surv["DEATH"]), np.nan),
        "DEATH_CAUSE": np.where(dead, surv["CAUSE"], None),
        "RELAPSE_DAY": seen(surv["RELAPSE"]), "HSCT_DAY": seen(surv["HSCT"]),
    })[list(SUBJECT_COLUMNS)]


def _categories(model: ClinicalModel, rng: np.random.Generator, visits: pd.DataFrame,
                resp: dict, relapse_day: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """Give the true category of every assessment (PR split into blast-free and with blasts)."""
    u = rng.random((len(visits), 2))
    cycle, day = visits["CYCLE"].to_numpy(), visits["DAY"].to_numpy(float)
    first = resp["FIRST_CYCLE"][pos]
    responder = resp["RESPONDER"][pos]
    relapsed = responder & (relapse_day[pos] <= day)
    rel_cat = np.where(u[:, 0] < model["remission.relapse_nr"], "NR", "PR-blasts")
    cat = np.select(
        [~responder, cycle < first, relapsed],
        [resp["OTHER"][pos], resp["PRE"][pos], rel_cat], resp["REMISSION"][pos]).astype(object)
    free = np.where(u[:, 1] < model["remission.pr_blast_free"], "PR-blast-free", "PR-blasts")
    return np.where(cat == "PR", free, cat)


def simulate_clinical(model: ClinicalModel, rng: np.random.Generator, truth: pd.DataFrame,
                      rates: pd.DataFrame, events: pd.DataFrame,
                      cycle_starts: list[np.ndarray], *, study: str,
                      il6_baseline: float) -> ClinicalTables:
    """Simulate the clinical tables of a trial from its subjects, doses and cytokine truth.

    Parameters
    ----------
    model : ClinicalModel
        The truth model (:func:`~blinapk.simulate.clinical_model.load_clinical_model`).
    rng : numpy.random.Generator
        The trial's clinical stream; split into independent streams for
        response, visits, survival, assessments and adverse events.
    truth : DataFrame
        ``SimulatedTrial.truth`` (``ID, GROUP, ARM, AGE, SEX, BSA, WT, BLAST,
        CL, INT_START, INT_HOURS``).
    rates : DataFrame
        The trial's rate table (:func:`blinapk.dosing.rate_table`).
    events : DataFrame
        Cytokine release events (``ID, TIME, AMP_IL6``).
    cycle_starts : list of numpy.ndarray
        Cycle start times (h) of each subject, in ``truth`` order.
    study : str
        ``STUDY`` column value.
    il6_baseline : float
        IL-6 baseline of the cytokine model (pg/mL).

    Returns
    -------
    ClinicalTables
    """
    resp_rng, visit_rng, surv_rng, lab_rng, ae_rng = rng.spawn(5)
    ids = truth["ID"].to_numpy()
    expo = _exposure(truth, rates, cycle_starts)
    x = np.log(expo["CSS_FULL"].to_numpy() / model["remission.css_ref"])
    resp = _response(model, resp_rng, truth, x, np.array([len(s) for s in cycle_starts]))
    visits = _visits(model, visit_rng, ids, cycle_starts)
    pos = pd.Index(ids).get_indexer(visits["ID"])
    at_first = visits["CYCLE"].to_numpy() == resp["FIRST_CYCLE"][pos]
    rem_day = pd.Series(visits["DAY"].to_numpy(float)[at_first], index=visits["ID"][at_first])
    rem_day = rem_day.reindex(ids).to_numpy(float)
    t0 = np.maximum(expo["LAST_DOSE_DAY"].to_numpy(float),
                    visits.groupby("ID", sort=False)["DAY"].max().reindex(ids).to_numpy(float))
    surv = _survival(model, surv_rng, resp, np.nan_to_num(rem_day, nan=0.0), t0)
    subjects = _subjects(truth, expo, surv, study)

    cat_rng, draw_rng = lab_rng.spawn(2)
    cat = _categories(model, cat_rng, visits, resp, _day(surv["RELAPSE"]), pos)
    labs, missing = draw_labs(model, draw_rng, cat, resp["MRD_NEGATIVE"][pos], ~at_first)
    assessments = pd.concat([visits, labs], axis=1)[["ID", "CYCLE", "DAY", *LAB_COLUMNS]]
    remission = np.isin(cat, ["CR", "CRh*"])
    a_truth = visits.assign(
        RESPONSE=np.where(np.char.startswith(cat.astype(str), "PR"), "PR", cat),
        MRD_NEGATIVE=np.where(remission, resp["MRD_NEGATIVE"][pos], np.nan), MISSING=missing)

    ae_in = expo.assign(X=x, INT_START=truth["INT_START"].to_numpy(float),
                        INT_HOURS=truth["INT_HOURS"].to_numpy(float),
                        DEATH_DAY=subjects["DEATH_DAY"].to_numpy(float),
                        LAST_CONTACT_DAY=subjects["LAST_CONTACT_DAY"].to_numpy(float))
    ae, ae_truth = simulate_adverse_events(model, ae_rng, ae_in, events, il6_baseline)
    best = np.where(resp["RESPONDER"], resp["REMISSION"], resp["OTHER"])
    clin_truth = pd.DataFrame({
        "ID": ids, "GROUP": truth["GROUP"].to_numpy(), "ARM": truth["ARM"].to_numpy(),
        "RATE_FULL": expo["RATE_FULL"].to_numpy(), "CSS_FULL": expo["CSS_FULL"].to_numpy(),
        "LOG_CSS_REL": x, "P_REMISSION": resp["P_REMISSION"],
        "RESPONDER": resp["RESPONDER"].astype(int), "BEST_RESPONSE": best,
        "FIRST_REMISSION_CYCLE": np.where(resp["RESPONDER"], resp["FIRST_CYCLE"], np.nan),
        "FIRST_REMISSION_DAY": rem_day, "P_MRD": np.where(resp["RESPONDER"], resp["P_MRD"],
                                                          np.nan),
        "MRD_NEGATIVE": resp["MRD_NEGATIVE"].astype(int), "TREATMENT_END_DAY": t0,
        "HSCT_PLANNED": surv["HSCT_PLANNED"].astype(int),
        "RELAPSE_TRUE_DAY": _day(surv["RELAPSE"]), "HSCT_TRUE_DAY": _day(surv["HSCT"]),
        "DEATH_TRUE_DAY": _day(surv["DEATH"]), "DEATH_TRUE_CAUSE": surv["CAUSE"],
        "CENSOR_DAY": _day(surv["CENSOR"]),
    }).merge(ae_truth, on="ID", how="left", sort=False)
    return ClinicalTables(subjects, assessments, ae, clin_truth, a_truth)


def write_clinical_tables(data: ClinicalData, stem: str | Path) -> dict[str, Path]:
    """Write the clinical tables as ``<stem>_subjects.csv``, ``<stem>_assessments.csv``, ...

    The files are written by :func:`blinapk.data.write_clinical` (lossless:
    ``read_clinical`` reads the same tables back), then named after ``stem``.

    Parameters
    ----------
    data : ClinicalData
        The tables (e.g. ``SimulatedTrial.clinical``).
    stem : str or Path
        Path prefix, e.g. ``out/trial`` gives ``out/trial_subjects.csv``.

    Returns
    -------
    dict of str to Path
        File per table name (``subjects``, ``assessments``, ``adverse_events``).
    """
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, path in write_clinical(data, tmp).items():
            out[name] = stem.with_name(f"{stem.name}_{name}.csv")
            shutil.move(path, out[name])
    return out

"""Adverse events of a simulated trial: CRS from the IL-6 peaks, neurologic events, infections.

* **CRS** per release episode (infusion start, restart after an interruption,
  dose step; the ``events`` table of :func:`~blinapk.simulate.simulate_trial`):
  grade >= 1 and >= 2 with probabilities logistic in the log of the episode's
  true IL-6 peak; onset within 2 days of the episode start. The episode holding
  a simulated CRS interruption has a CRS of grade 2 or 3 from the interruption
  start to the restart day (the label withholds the infusion for grade 3);
  grade >= 3 CRS occurs only there.
* **Neurologic events** per subject, logistic in log Css (a mild slope);
  onset in the first cycle.
* **Infections** treatment-emergent and some after the treatment-emergent
  window (onset > ``LAST_DOSE_DAY + 30``); **other events** from the
  ``[[other_events]]`` catalogue.

Every number is in ``clinical_model.toml``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import expit

from blinapk.simulate.clinical_model import ClinicalModel

__all__ = ["AE_COLUMNS", "CRS_TERM", "simulate_adverse_events"]

#: Columns of the adverse-events table, in order.
AE_COLUMNS = ("ID", "TERM", "CATEGORY", "GRADE", "START_DAY", "END_DAY", "RELATED", "SERIOUS")
CRS_TERM = "Cytokine release syndrome"


def _day(hours: np.ndarray) -> np.ndarray:
    """Study day of a time in hours (day 1 = hours [0, 24))."""
    return np.floor(np.asarray(hours, float) / 24.0) + 1.0


def _integers(u: np.ndarray, low: float, high: float) -> np.ndarray:
    """Integers uniform on [low, high] from uniforms ``u`` (``high < low`` gives ``low``)."""
    span = np.maximum(np.asarray(high, float) - low + 1.0, 1.0)
    return low + np.minimum(np.floor(u * span), span - 1.0)


class _Reporter:
    """Collects event rows and closes them against each subject's follow-up."""

    def __init__(self, model: ClinicalModel, subjects: pd.DataFrame) -> None:
        self.model = model
        self.pos = {sid: i for i, sid in enumerate(subjects["ID"].to_numpy())}
        death = subjects["DEATH_DAY"].to_numpy(float)
        self.dead = ~np.isnan(death)
        self.upper = np.where(self.dead, death, subjects["LAST_CONTACT_DAY"].to_numpy(float))
        self.parts: list[pd.DataFrame] = []

    def grade(self, u_severe: np.ndarray, u_detail: np.ndarray, p_severe) -> np.ndarray:
        severe = u_severe < p_severe
        return np.where(severe, 3 + (u_detail < self.model["reporting.grade4"]),
                        1 + (u_detail < self.model["reporting.grade2"])).astype(int)

    def add(self, ids, term, category, grade, start, end, related, u_serious) -> None:
        """Add events (arrays aligned on ``ids``); an end after follow-up is clipped or unknown."""
        idx = np.array([self.pos[i] for i in ids], dtype=int)
        start, end = np.asarray(start, float), np.asarray(end, float)
        upper = self.upper[idx]
        end = np.where(end <= upper, end, np.where(self.dead[idx], upper, np.nan))
        p = np.where(np.asarray(grade) >= 3, self.model["reporting.serious_grade3"],
                     self.model["reporting.serious_low"])
        self.parts.append(pd.DataFrame({
            "ID": np.asarray(ids), "TERM": term, "CATEGORY": category,
            "GRADE": np.asarray(grade, dtype=np.int64), "START_DAY": start, "END_DAY": end,
            "RELATED": np.asarray(related, dtype=float), "SERIOUS": (u_serious < p).astype(float),
        }))

    def table(self, order: list) -> pd.DataFrame:
        frame = pd.concat(self.parts, ignore_index=True) if self.parts else pd.DataFrame(
            columns=list(AE_COLUMNS))
        frame["_S"] = frame["ID"].map({sid: i for i, sid in enumerate(order)})
        frame = frame.sort_values(["_S", "START_DAY", "CATEGORY", "TERM"], kind="stable")
        frame = frame.drop(columns="_S").drop_duplicates().reset_index(drop=True)
        for col in ("START_DAY", "GRADE"):
            frame[col] = frame[col].astype(np.int64)
        return frame[list(AE_COLUMNS)]


def _crs(model: ClinicalModel, rng: np.random.Generator, rep: _Reporter,
         subjects: pd.DataFrame, events: pd.DataFrame, il6_baseline: float) -> pd.DataFrame:
    """CRS events per release episode; returns the per-subject CRS truth."""
    ev = events[["ID", "TIME", "AMP_IL6"]].reset_index(drop=True)
    u = rng.random((len(ev), 4))
    z = np.log((il6_baseline + ev["AMP_IL6"].to_numpy(float)) / model["crs.il6_ref"])
    b = model["crs.slope"]
    p1 = expit(model["crs.any_intercept"] + b * z)
    p2 = np.minimum(expit(model["crs.grade2_intercept"] + b * z), p1)
    p3 = expit(model["crs.grade3_intercept"] + b * z)
    info = subjects.set_index("ID")
    int_start = info["INT_START"].reindex(ev["ID"]).to_numpy(float)
    int_hours = info["INT_HOURS"].reindex(ev["ID"]).to_numpy(float)
    times = ev["TIME"].to_numpy(float)
    # the episode holding the interruption: the last one starting at or before it
    nxt = np.r_[times[1:], np.inf]
    same = np.r_[ev["ID"].to_numpy()[1:] == ev["ID"].to_numpy()[:-1], False]
    nxt = np.where(same, nxt, np.inf)
    holds = (times <= int_start) & (int_start < nxt)
    grade = np.where(holds, np.where(u[:, 0] < p3, 3, 2),
                     np.where(u[:, 0] < p2, 2, np.where(u[:, 0] < p1, 1, 0)))
    onset = np.where(holds, _day(int_start),
                     _day(times + _between(model["crs.onset_hours"], u[:, 1])))
    lo, hi = model["crs.duration_days"]
    end = np.where(holds, _day(int_start + int_hours), onset + _integers(u[:, 2], lo, hi))
    has = grade > 0
    rep.add(ev["ID"].to_numpy()[has], CRS_TERM, "CRS", grade[has], onset[has], end[has],
            np.ones(has.sum()), u[has, 3])
    first = ~np.r_[False, same[:-1]]
    # P(any CRS) = 1 - prod(1 - p_e); an interrupted subject has one for sure
    by_id = pd.DataFrame({"ID": ev["ID"], "L": np.log1p(-p1), "H": holds, "G": grade})
    per = by_id.groupby("ID", sort=False).agg(L=("L", "sum"), H=("H", "any"),
                                              CRS_GRADE=("G", "max"))
    per["P_CRS"] = np.where(per.pop("H"), 1.0, -np.expm1(per.pop("L")))
    per["IL6_PEAK_FIRST"] = pd.Series(il6_baseline + ev["AMP_IL6"].to_numpy()[first],
                                      index=ev["ID"].to_numpy()[first])
    per["P_CRS_FIRST"] = pd.Series(p1[first], index=ev["ID"].to_numpy()[first])
    return per


def _between(lo_hi, u: np.ndarray) -> np.ndarray:
    lo, hi = lo_hi
    return lo + (hi - lo) * u


def _neurologic(model: ClinicalModel, rng: np.random.Generator, rep: _Reporter,
                subjects: pd.DataFrame) -> pd.DataFrame:
    """At most two neurologic events per subject; returns the per-subject truth."""
    n = len(subjects)
    u = rng.random((n, 15))
    ids = subjects["ID"].to_numpy()
    p = expit(model["neurologic.intercept"]
              + model["neurologic.slope_log_css"] * subjects["X"].to_numpy(float))
    has = u[:, 0] < p
    grade = rep.grade(u[:, 1], u[:, 2], model["neurologic.grade3"])
    terms = np.asarray(model["neurologic.terms"], dtype=object)
    weights = np.asarray(model["neurologic.weights"], float) / sum(model["neurologic.weights"])
    severe = np.asarray(model["neurologic.severe_terms"], dtype=object)
    mild = np.minimum(np.searchsorted(np.cumsum(weights), u[:, 3]), len(terms) - 1)
    term = np.where(grade >= 3, severe[np.minimum((u[:, 4] * len(severe)).astype(int),
                                                  len(severe) - 1)], terms[mild])
    cap = subjects["C1_END_DAY"].to_numpy(float)
    mean = model["neurologic.onset_mean_days"]
    lo, hi = model["reporting.duration_days"]
    related = model["reporting.related"]
    # first event: columns 5-8; second event: columns 10-14
    start = np.minimum(1.0 + np.floor(-mean * np.log1p(-u[:, 5])), cap)
    rep.add(ids[has], term[has], "NEUROLOGIC", grade[has], start[has],
            start[has] + _integers(u[has, 6], lo, hi), u[has, 7] < related, u[has, 8])
    # a second, grade 1-2 event with another term (the next one in the list)
    second = has & (u[:, 9] < model["neurologic.second_event"])
    k = np.array([np.flatnonzero(terms == t)[0] if t in terms else 0 for t in term], dtype=int)
    term2 = terms[(k + 1) % len(terms)]
    start2 = np.minimum(1.0 + np.floor(-mean * np.log1p(-u[:, 10])), cap)
    grade2 = 1 + (u[:, 11] < model["reporting.grade2"])
    rep.add(ids[second], term2[second], "NEUROLOGIC", grade2[second], start2[second],
            start2[second] + _integers(u[second, 12], lo, hi), u[second, 13] < related,
            u[second, 14])
    return pd.DataFrame({"P_NEURO": p, "NEURO_GRADE": np.where(has, grade, 0)}, index=ids)


def _infections(model: ClinicalModel, rng: np.random.Generator, rep: _Reporter,
                subjects: pd.DataFrame) -> None:
    """Draw a treatment-emergent infection and a later one, each with its probability."""
    n = len(subjects)
    u = rng.random((n, 2, 8))
    ids = subjects["ID"].to_numpy()
    window = subjects["LAST_DOSE_DAY"].to_numpy(float) + 30.0
    upper = rep.upper
    terms = np.asarray(model["infection.terms"], dtype=object)
    lo, hi = model["reporting.duration_days"]
    late_ok = upper > window
    for j, (p, first, last) in enumerate((
            (model["infection.any"], np.ones(n), np.minimum(window, upper)),
            (np.where(late_ok, model["infection.late"], 0.0), window + 1.0, upper))):
        uu = u[:, j, :]
        has = uu[:, 0] < p
        start = _integers(uu[:, 1], first, last)
        grade = rep.grade(uu[:, 2], uu[:, 3], model["infection.grade3"])
        term = terms[np.minimum((uu[:, 4] * len(terms)).astype(int), len(terms) - 1)]
        rep.add(ids[has], term[has], "INFECTION", grade[has], start[has],
                start[has] + _integers(uu[has, 5], lo, hi),
                uu[has, 6] < model["reporting.related"], uu[has, 7])


def _others(model: ClinicalModel, rng: np.random.Generator, rep: _Reporter,
            subjects: pd.DataFrame) -> None:
    """Draw the ``[[other_events]]`` catalogue: at most one event per subject and term."""
    n = len(subjects)
    u = rng.random((n, len(model.other_events), 7))
    ids = subjects["ID"].to_numpy()
    last = np.minimum(subjects["LAST_DOSE_DAY"].to_numpy(float), rep.upper)
    lo, hi = model["reporting.duration_days"]
    for j, e in enumerate(model.other_events):
        uu = u[:, j, :]
        has = uu[:, 0] < e["any"]
        start = np.where(e["onset"] == "start", 1.0 + (uu[:, 1] < 0.5),
                         _integers(uu[:, 1], 1.0, last))
        grade = rep.grade(uu[:, 2], uu[:, 3], e["grade3"])
        rep.add(ids[has], e["term"], e["category"], grade[has], start[has],
                start[has] + _integers(uu[has, 4], lo, hi), uu[has, 5] < e["related"],
                uu[has, 6])


def simulate_adverse_events(model: ClinicalModel, rng: np.random.Generator,
                            subjects: pd.DataFrame, events: pd.DataFrame,
                            il6_baseline: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Adverse events of every subject and their per-subject truth.

    Parameters
    ----------
    model : ClinicalModel
        The ``crs``, ``neurologic``, ``infection``, ``reporting`` parameters
        and the ``other_events`` catalogue.
    rng : numpy.random.Generator
        The adverse-event stream (split into one stream per kind of event).
    subjects : DataFrame
        One row per subject: ``ID, X`` (log of full-dose Css over the
        reference), ``INT_START, INT_HOURS`` (h; NaN when not interrupted),
        ``LAST_DOSE_DAY, C1_END_DAY, DEATH_DAY, LAST_CONTACT_DAY``.
    events : DataFrame
        Release events ``ID, TIME`` (h, sorted within subject), ``AMP_IL6``.
    il6_baseline : float
        IL-6 baseline (pg/mL) added to the pulse amplitude to give the true peak.

    Returns
    -------
    adverse_events : DataFrame
        Columns :data:`AE_COLUMNS`, by subject (``subjects`` order) and onset.
    truth : DataFrame
        Per subject (``subjects`` order): ``IL6_PEAK_FIRST, P_CRS_FIRST, P_CRS,
        CRS_GRADE, P_NEURO, NEURO_GRADE``.
    """
    crs_rng, neuro_rng, inf_rng, other_rng = rng.spawn(4)
    rep = _Reporter(model, subjects)
    crs = _crs(model, crs_rng, rep, subjects, events, il6_baseline)
    neuro = _neurologic(model, neuro_rng, rep, subjects)
    _infections(model, inf_rng, rep, subjects)
    _others(model, other_rng, rep, subjects)
    ids = subjects["ID"].to_numpy()
    truth = crs.reindex(ids)[["IL6_PEAK_FIRST", "P_CRS_FIRST", "P_CRS", "CRS_GRADE"]]
    truth = truth.join(neuro).reset_index(names="ID")
    truth["CRS_GRADE"] = truth["CRS_GRADE"].fillna(0).astype(int)
    return rep.table(list(ids)), truth

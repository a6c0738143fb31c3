"""One dose-finding trial on a timeline: patients arrive, are treated, DLTs are seen, levels move.

The engine runs any :class:`~blinapk.simulate.dose_designs.EscalationDesign`
(3+3, rolling six) as a discrete-event simulation:

* the trial opens at day 0 at the lowest level; while it is open the next
  patient arrives a gap after the previous enrolment (or after the trial
  re-opens, whichever is later); patients arriving while accrual is
  suspended go elsewhere (with exponential gaps this is the same as a
  Poisson stream of candidates);
* a patient treated at a level has a DLT or not (given outcomes, or
  ``uniform < P(DLT at the level)``); a DLT is seen ``onset x window``
  days after enrolment, a patient without DLT is evaluable at the end of the
  evaluation window;
* after every event the design's table is applied at the current level
  until the decision is to enrol (``stay``) or to wait (``suspend``), or
  the trial ends; outcomes seen at the same time as an arrival are known to
  it.

The trial ends when a dose is selected (the MTD) or every level is too
toxic; its duration is the day of that decision. :func:`run_dose_finding`
takes the outcomes (for hand-traced trials), :func:`simulate_dose_finding`
draws them; :mod:`~blinapk.simulate.dose_oc` repeats it many times.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from blinapk.simulate.dose_designs import EscalationDesign

__all__ = ["Accrual", "DoseFindingTrial", "resolve_p_dlt", "run_dose_finding",
           "simulate_dose_finding"]

#: What the engine did after each decision (``ACTION`` of the decision log).
ACTIONS = ("enrol", "up", "down", "wait", "expand", "select", "stop")
_PATIENT_COLUMNS = ["PATIENT", "LEVEL", "DOSE", "ENROL_DAY", "DLT", "KNOWN_DAY"]
_LOG_COLUMNS = ["DAY", "EVENT", "LEVEL", "ENROLLED", "DLT", "PENDING", "DECISION", "ACTION"]


@dataclass(frozen=True)
class Accrual:
    """Patient flow and DLT evaluation of a simulated trial.

    Parameters
    ----------
    interarrival_days : float, default 10.0
        Mean days between eligible patients (exponential gaps); 10 days is the
        average accrual time of Skolnik et al. (2008)'s simulations.
    window_days : float, default 28.0
        DLT evaluation window (cycle 1 of blinatumomab: 28 days of infusion).
    dlt_onset : {"uniform", "end"}
        When a DLT is seen: at a uniform time within the window (default) or
        at its end.
    """

    interarrival_days: float = 10.0
    window_days: float = 28.0
    dlt_onset: str = "uniform"

    def __post_init__(self):
        if not (self.interarrival_days > 0 and self.window_days > 0):
            raise ValueError("Accrual: interarrival_days and window_days must be > 0")
        if self.dlt_onset not in ("uniform", "end"):
            raise ValueError(f"Accrual: dlt_onset must be 'uniform' or 'end', "
                             f"not {self.dlt_onset!r}")


@dataclass(frozen=True, eq=False)
class DoseFindingTrial:
    """One trial: who was treated where, every decision, and the dose selected.

    Attributes
    ----------
    design : str
        The design's name.
    doses : tuple
        Dose label per level (lowest first).
    selected : int or None
        Index of the selected level (the MTD); None when every level was too toxic.
    duration_days : float
        Day of the final decision.
    patients : pandas.DataFrame
        ``PATIENT, LEVEL, DOSE, ENROL_DAY, DLT, KNOWN_DAY`` (day the DLT
        was seen or the window ended), in order of enrolment.
    decisions : pandas.DataFrame
        ``DAY, EVENT`` (start / enrol / data), ``LEVEL, ENROLLED, DLT,
        PENDING`` (counts at the level the table was read for), ``DECISION``
        (the table's entry) and ``ACTION`` (:data:`ACTIONS`).
    """

    design: str
    doses: tuple
    selected: int | None
    duration_days: float
    patients: pd.DataFrame
    decisions: pd.DataFrame

    @property
    def selected_dose(self) -> Any:
        """Dose label of the selected level (None when no dose was selected)."""
        return None if self.selected is None else self.doses[self.selected]

    def patients_per_level(self) -> np.ndarray:
        """Patients treated at each level."""
        return np.bincount(self.patients["LEVEL"], minlength=len(self.doses))

    def dlts_per_level(self) -> np.ndarray:
        """Patients with DLT at each level (including outcomes still pending at the end)."""
        levels = self.patients.loc[self.patients["DLT"], "LEVEL"]
        return np.bincount(levels, minlength=len(self.doses))


def _run(design: EscalationDesign, dlt: Sequence[Sequence[bool]],
         onset: Sequence[Sequence[float]], gaps: Sequence[float], window: float,
         record: bool) -> tuple:
    """Run one trial; return (selected, duration, n per level, true DLTs per level, log, patients).

    Plain Python on lists: a trial has a few dozen events, so this is faster
    than any array bookkeeping.
    """
    n_levels, cap, lookup = len(dlt), design.max_per_level, design._lookup
    n, d, w, tox = [0] * n_levels, [0] * n_levels, [0] * n_levels, [0] * n_levels
    cur, ceiling = 0, n_levels  # levels >= ceiling are too toxic
    heap: list = []
    log: list = []
    patients: list = []

    def resolve(t: float, event: str) -> tuple[str, int | None]:
        nonlocal cur, ceiling
        while True:
            c = cur
            dec = lookup[(n[c], d[c], w[c])]
            if dec == "escalate":
                if c + 1 < ceiling:
                    action = "up"
                elif design.confirm and n[c] < cap:
                    action = "expand"
                else:
                    action = "select"
            elif dec == "de-escalate":
                action = "down" if c > 0 else "stop"
            else:
                action = "enrol" if dec == "stay" else "wait"
            if record:
                log.append((t, event, c, n[c], d[c], w[c], dec, action))
            if action == "up":
                cur += 1
            elif action == "down":
                ceiling, cur = c, c - 1
            elif action == "stop":
                ceiling = 0
                return "end", None
            elif action == "select":
                return "end", c
            else:
                return ("open" if action in ("enrol", "expand") else "closed"), None

    state, selected = resolve(0.0, "start")
    t, k = 0.0, 0
    arrival = gaps[0] if state == "open" else None
    while state != "end":
        t_data = heap[0][0] if heap else math.inf
        if arrival is not None and arrival < t_data:
            t, c = arrival, cur
            j = n[c]
            if j >= len(dlt[c]):
                raise ValueError(f"level {c} needs the outcome of patient {j + 1} there; "
                                 f"only {len(dlt[c])} given")
            has_dlt = bool(dlt[c][j])
            known = t + (onset[c][j] * window if has_dlt else window)
            n[c] += 1
            w[c] += 1
            tox[c] += has_dlt
            k += 1
            heapq.heappush(heap, (known, k, c, has_dlt))
            if record:
                patients.append((k, c, t, has_dlt, known))
            state, selected = resolve(t, "enrol")
            arrival = t + gaps[k] if state == "open" else None
        elif heap:
            t = t_data
            while heap and heap[0][0] == t:  # outcomes known at the same time count together
                _, _, c, has_dlt = heapq.heappop(heap)
                w[c] -= 1
                d[c] += has_dlt
            state, selected = resolve(t, "data")
            if state != "open":
                arrival = None
            elif arrival is None:
                arrival = t + gaps[k]
        else:  # unreachable with a validated table: 'suspend' needs a pending patient
            raise RuntimeError("dose-finding trial stalled with nothing pending")
    return selected, t, n, tox, log, patients


def _labels(doses: Sequence | None, n_levels: int) -> tuple:
    if doses is None:
        return tuple(range(1, n_levels + 1))
    if len(doses) != n_levels:
        raise ValueError(f"{len(doses)} doses for {n_levels} levels")
    return tuple(doses)


def _trial(design: EscalationDesign, doses: tuple, result: tuple) -> DoseFindingTrial:
    selected, duration, _, _, log, patients = result
    pts = pd.DataFrame(patients, columns=["PATIENT", "LEVEL", "ENROL_DAY", "DLT", "KNOWN_DAY"])
    pts.insert(2, "DOSE", [doses[c] for c in pts["LEVEL"]])
    pts["DLT"] = pts["DLT"].astype(bool)
    return DoseFindingTrial(design=design.name, doses=doses, selected=selected,
                            duration_days=float(duration), patients=pts[_PATIENT_COLUMNS],
                            decisions=pd.DataFrame(log, columns=_LOG_COLUMNS))


def run_dose_finding(design: EscalationDesign, dlt: Sequence[Sequence[bool]], *,
                     gaps: float | Sequence[float] = 10.0, window_days: float = 28.0,
                     onsets: float | Sequence[Sequence[float]] = 1.0,
                     doses: Sequence | None = None) -> DoseFindingTrial:
    """Run one trial with given outcomes: a hand-traceable trial.

    Parameters
    ----------
    design : EscalationDesign
        The design.
    dlt : sequence of sequences of bool
        Per level (lowest first), the outcome of the 1st, 2nd, ... patient
        treated there (True = DLT). A level needs as many outcomes as patients
        it will treat.
    gaps : float or sequence of float, default 10.0
        Days from an enrolment (or from the trial re-opening) to the next
        patient; a scalar is used for every patient.
    window_days : float, default 28.0
        DLT evaluation window.
    onsets : float or sequence of sequences of float, default 1.0
        When each DLT is seen, as a fraction of the window (1 = at its end).
    doses : sequence, optional
        Dose label per level (default 1, 2, ...).

    Returns
    -------
    DoseFindingTrial

    Examples
    --------
    >>> from blinapk.simulate.dose_designs import THREE_PLUS_THREE
    >>> trial = run_dose_finding(THREE_PLUS_THREE, [[0, 0, 0], [1, 0, 0, 0, 0, 0], [1, 1, 0]],
    ...                          doses=[5, 15, 30])
    >>> trial.selected_dose, trial.patients_per_level().tolist()
    (15, [3, 6, 3])
    """
    n_levels = len(dlt)
    n_gaps = n_levels * design.max_per_level + 1
    gap_list = [float(gaps)] * n_gaps if np.isscalar(gaps) else [float(g) for g in gaps]
    if len(gap_list) < n_gaps:
        gap_list += [gap_list[-1]] * (n_gaps - len(gap_list))
    onset = ([[float(onsets)] * len(level) for level in dlt] if np.isscalar(onsets)
             else [[float(x) for x in level] for level in onsets])
    if not all(0 < x <= 1 for level in onset for x in level):
        raise ValueError("onsets are fractions of the window in (0, 1]")
    result = _run(design, [[bool(x) for x in level] for level in dlt], onset, gap_list,
                  float(window_days), record=True)
    return _trial(design, _labels(doses, n_levels), result)


def resolve_p_dlt(p_dlt: Sequence[float] | Callable[[np.ndarray], Any],
                  doses: Sequence | None) -> np.ndarray:
    """Return the true DLT probability per level: given, or from the doses by a callable.

    Parameters
    ----------
    p_dlt : sequence of float or callable
        Probabilities (lowest level first) or ``f(doses) -> probabilities``
        (e.g. a :func:`functools.partial` of
        :func:`~blinapk.simulate.dose_toxicity.dlt_probabilities_from_exposure`).
    doses : sequence, optional
        Numeric doses; required with a callable.

    Returns
    -------
    numpy.ndarray
        Probabilities in [0, 1].
    """
    if callable(p_dlt):
        if doses is None:
            raise ValueError("a DLT model needs the doses")
        p = np.asarray(p_dlt(np.asarray(doses, dtype=float)), dtype=float)
    else:
        p = np.asarray(p_dlt, dtype=float)
    if p.ndim != 1 or not len(p) or not np.all((p >= 0) & (p <= 1)):
        raise ValueError(f"DLT probabilities must be a non-empty 1-D array in [0, 1], got {p}")
    return p


def _draws(rng: np.random.Generator, n_trials: int, n_levels: int, cap: int,
           accrual: Accrual) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tolerances, DLT onset fractions and arrival gaps for ``n_trials`` trials.

    A patient has a DLT when their uniform tolerance is below the level's
    probability, so every design sees the same patients (common random numbers).
    """
    tolerance = rng.random((n_trials, n_levels, cap))
    onset = 1.0 - rng.random((n_trials, n_levels, cap))  # in (0, 1]
    if accrual.dlt_onset == "end":  # drawn all the same: the patients and arrivals stay paired
        onset = np.ones_like(onset)
    gaps = rng.exponential(accrual.interarrival_days, (n_trials, n_levels * cap + 1))
    return tolerance, onset, gaps


def simulate_dose_finding(design: EscalationDesign, p_dlt: Sequence[float] | Callable, *,
                          accrual: Accrual | None = None,
                          seed: int | np.random.Generator | None = None,
                          doses: Sequence | None = None) -> DoseFindingTrial:
    """Simulate one trial with random patients, DLTs and arrivals.

    Parameters
    ----------
    design : EscalationDesign
        The design.
    p_dlt : sequence of float or callable
        True DLT probability per level, or a model of the doses
        (:func:`resolve_p_dlt`).
    accrual : Accrual, optional
        Arrival rate, evaluation window, DLT onset (default ``Accrual()``).
    seed : int or numpy.random.Generator, optional
        Randomness; the same seed gives the same trial.
    doses : sequence, optional
        Dose per level (labels; numeric for a DLT model).

    Returns
    -------
    DoseFindingTrial

    Examples
    --------
    >>> from blinapk.simulate.dose_designs import ROLLING_SIX
    >>> trial = simulate_dose_finding(ROLLING_SIX, [0.0, 0.0, 1.0], seed=1)
    >>> trial.selected, trial.patients_per_level().tolist()  # level 3 always has a DLT
    (1, [5, 6, 4])
    """
    p = resolve_p_dlt(p_dlt, doses)
    accrual = Accrual() if accrual is None else accrual
    rng = np.random.default_rng(seed)
    cap = design.max_per_level
    tolerance, onset, gaps = (a[0] for a in _draws(rng, 1, len(p), cap, accrual))
    result = _run(design, (tolerance < p[:, None]).tolist(), onset.tolist(), gaps.tolist(),
                  accrual.window_days, record=True)
    return _trial(design, _labels(doses, len(p)), result)

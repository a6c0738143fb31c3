"""Operating characteristics of dose-finding designs over many simulated trials.

:func:`operating_characteristics` runs every design on the same simulated
patients (the same tolerances, DLT onsets and arrival gaps: common random
numbers, so differences between designs are not Monte Carlo noise) and
returns a :class:`DoseFindingOC`: per trial the selected level, patients and
DLTs per level and the duration, with tidy summaries.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from blinapk._html import html_repr
from blinapk.simulate.dose_designs import EscalationDesign
from blinapk.simulate.dose_finding import Accrual, _draws, _labels, _run, resolve_p_dlt

__all__ = ["DoseFindingOC", "operating_characteristics"]

#: Label of "no dose selected" in tables and figures.
NO_DOSE = "none"


@dataclass(frozen=True, eq=False)
class DoseFindingOC:
    """Operating characteristics: every simulated trial of every design.

    Attributes
    ----------
    designs : tuple of str
        Design names (first axis of the arrays).
    doses : tuple
        Dose label per level, lowest first.
    p_dlt : numpy.ndarray
        True DLT probability per level.
    selected : numpy.ndarray
        ``(design, trial)`` selected level, -1 when no dose was selected.
    patients, dlts : numpy.ndarray
        ``(design, trial, level)`` patients treated and patients with DLT.
    duration_days : numpy.ndarray
        ``(design, trial)`` day of the final decision.
    accrual : Accrual
        The accrual and evaluation settings.
    seed : int or None
        The seed.
    dose_unit : str
        Unit of the doses (for labels), e.g. ``"ug/m2/day"``.
    """

    designs: tuple[str, ...]
    doses: tuple
    p_dlt: np.ndarray
    selected: np.ndarray
    patients: np.ndarray
    dlts: np.ndarray
    duration_days: np.ndarray
    accrual: Accrual
    seed: int | None = None
    dose_unit: str = ""

    def _repr_html_(self) -> str:
        return html_repr(f"DoseFindingOC: {', '.join(self.designs)}, {self.n_trials} trials "
                         "each", ("Operating characteristics", self.summary()),
                         ("Probability of selecting each dose", self.selection()),
                         max_rows=20)

    @property
    def n_trials(self) -> int:
        """Simulated trials per design."""
        return int(self.selected.shape[1])

    def selection_probabilities(self) -> np.ndarray:
        """Return the ``(design, level + 1)`` probabilities of selection; last column: no dose."""
        n_levels = len(self.doses)
        idx = np.where(self.selected < 0, n_levels, self.selected)
        counts = np.stack([np.bincount(row, minlength=n_levels + 1) for row in idx])
        return counts / self.n_trials

    def selection(self) -> pd.DataFrame:
        """Per design and dose (then no dose): selection probability, patients and DLTs.

        Returns
        -------
        pandas.DataFrame
            ``DESIGN, DOSE, DOSE_UNIT, P_DLT`` (true), ``P_SELECT`` and its Monte Carlo
            standard error ``SE_SELECT``, ``MEAN_PATIENTS`` and ``MEAN_DLT``
            (per trial at the dose; NaN for no dose).
        """
        probs = self.selection_probabilities()
        se = np.sqrt(probs * (1 - probs) / self.n_trials)
        rows = []
        for i, design in enumerate(self.designs):
            mean_n, mean_dlt = self.patients[i].mean(axis=0), self.dlts[i].mean(axis=0)
            for j, dose in enumerate(self.doses):
                rows.append((design, dose, self.dose_unit, self.p_dlt[j], probs[i, j], se[i, j],
                             mean_n[j], mean_dlt[j]))
            rows.append((design, NO_DOSE, "", np.nan, probs[i, -1], se[i, -1], np.nan, np.nan))
        return pd.DataFrame(rows, columns=["DESIGN", "DOSE", "DOSE_UNIT", "P_DLT", "P_SELECT",
                                           "SE_SELECT", "MEAN_PATIENTS", "MEAN_DLT"])

    def summary(self) -> pd.DataFrame:
        """Per design: probability of no MTD, sample size, DLTs and duration.

        Returns
        -------
        pandas.DataFrame
            ``DESIGN, N_TRIALS, P_NO_DOSE, MEAN_N, SD_N, MEAN_DLT, SD_DLT,
            DLT_RATE`` (DLTs / patients over all trials), ``MEAN_DAYS, SD_DAYS,
            MEDIAN_DAYS``.
        """
        n, dlt = self.patients.sum(axis=2), self.dlts.sum(axis=2)
        days = self.duration_days
        return pd.DataFrame({
            "DESIGN": list(self.designs),
            "N_TRIALS": self.n_trials,
            "P_NO_DOSE": (self.selected < 0).mean(axis=1),
            "MEAN_N": n.mean(axis=1), "SD_N": n.std(axis=1, ddof=1),
            "MEAN_DLT": dlt.mean(axis=1), "SD_DLT": dlt.std(axis=1, ddof=1),
            "DLT_RATE": dlt.sum(axis=1) / n.sum(axis=1),
            "MEAN_DAYS": days.mean(axis=1), "SD_DAYS": days.std(axis=1, ddof=1),
            "MEDIAN_DAYS": np.median(days, axis=1),
        })

    def to_frame(self) -> pd.DataFrame:
        """Return one row per design and trial.

        Returns
        -------
        pandas.DataFrame
            ``DESIGN, TRIAL, SELECTED`` (level, -1 for none), ``DOSE`` (label,
            ``"none"``), ``N, DLT, DAYS``.
        """
        n_designs, n_trials = self.selected.shape
        labels = np.array([*map(str, self.doses), NO_DOSE], dtype=object)
        return pd.DataFrame({
            "DESIGN": np.repeat(self.designs, n_trials),
            "TRIAL": np.tile(np.arange(n_trials), n_designs),
            "SELECTED": self.selected.ravel(),
            "DOSE": labels[self.selected.ravel()],  # -1 picks the last label
            "N": self.patients.sum(axis=2).ravel(),
            "DLT": self.dlts.sum(axis=2).ravel(),
            "DAYS": self.duration_days.ravel(),
        })

    def to_dataset(self):
        """Return the arrays as an :class:`xarray.Dataset` (dimensions ``design, trial, dose``)."""
        import xarray as xr

        coords = {"design": list(self.designs), "trial": np.arange(self.n_trials),
                  "dose": [str(d) for d in self.doses]}
        return xr.Dataset(
            {"selected": (("design", "trial"), self.selected),
             "patients": (("design", "trial", "dose"), self.patients),
             "dlts": (("design", "trial", "dose"), self.dlts),
             "duration_days": (("design", "trial"), self.duration_days),
             "p_dlt": (("dose",), self.p_dlt)},
            coords=coords,
            attrs={"dose_unit": self.dose_unit, "seed": -1 if self.seed is None else self.seed,
                   "interarrival_days": self.accrual.interarrival_days,
                   "window_days": self.accrual.window_days, "dlt_onset": self.accrual.dlt_onset})


def operating_characteristics(designs: EscalationDesign | Sequence[EscalationDesign],
                              p_dlt: Sequence[float] | Callable, *, n_trials: int = 10_000,
                              accrual: Accrual | None = None, seed: int | None = 0,
                              doses: Sequence | None = None, dose_unit: str = ""
                              ) -> DoseFindingOC:
    """Simulate many trials of each design under one DLT scenario.

    Parameters
    ----------
    designs : EscalationDesign or sequence of them
        Designs to compare (names must differ).
    p_dlt : sequence of float or callable
        True DLT probability per level, or a model of the doses
        (:func:`~blinapk.simulate.dose_finding.resolve_p_dlt`).
    n_trials : int, default 10000
        Trials per design.
    accrual : Accrual, optional
        Arrival rate, DLT evaluation window and onset (default ``Accrual()``).
    seed : int, optional
        Seed; every design sees the same patients, and the same seed gives
        the same result.
    doses : sequence, optional
        Dose per level (labels; numeric for a DLT model).
    dose_unit : str
        Unit of the doses, for tables and figures.

    Returns
    -------
    DoseFindingOC

    Examples
    --------
    >>> from blinapk.simulate.dose_designs import ROLLING_SIX, THREE_PLUS_THREE
    >>> oc = operating_characteristics([THREE_PLUS_THREE, ROLLING_SIX], [0.05, 0.15, 0.45],
    ...                                n_trials=2000, seed=3, doses=[5, 15, 30])
    >>> oc.summary()[["DESIGN", "N_TRIALS"]].to_dict("list")
    {'DESIGN': ['3+3', 'rolling six'], 'N_TRIALS': [2000, 2000]}
    """
    designs = [designs] if isinstance(designs, EscalationDesign) else list(designs)
    names = tuple(d.name for d in designs)
    if not designs or len(set(names)) != len(names):
        raise ValueError(f"need one or more designs with distinct names, got {names}")
    if n_trials < 1:
        raise ValueError("n_trials must be >= 1")
    p = resolve_p_dlt(p_dlt, doses)
    accrual = Accrual() if accrual is None else accrual
    labels = _labels(doses, len(p))
    cap = max(d.max_per_level for d in designs)
    tolerance, onset, gaps = _draws(np.random.default_rng(seed), n_trials, len(p), cap, accrual)
    n_designs, n_levels = len(designs), len(p)
    selected = np.empty((n_designs, n_trials), dtype=np.int64)
    patients = np.empty((n_designs, n_trials, n_levels), dtype=np.int64)
    dlts = np.empty((n_designs, n_trials, n_levels), dtype=np.int64)
    duration = np.empty((n_designs, n_trials))
    window = accrual.window_days
    for t in range(n_trials):
        dlt, on, gap = (tolerance[t] < p[:, None]).tolist(), onset[t].tolist(), gaps[t].tolist()
        for i, design in enumerate(designs):
            sel, days, n, tox, _, _ = _run(design, dlt, on, gap, window, record=False)
            selected[i, t] = -1 if sel is None else sel
            patients[i, t], dlts[i, t], duration[i, t] = n, tox, days
    for arr in (p, selected, patients, dlts, duration):
        arr.setflags(write=False)
    return DoseFindingOC(designs=names, doses=labels, p_dlt=p, selected=selected,
                         patients=patients, dlts=dlts, duration_days=duration, accrual=accrual,
                         seed=seed, dose_unit=dose_unit)

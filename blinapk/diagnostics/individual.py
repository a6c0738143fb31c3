"""Individual fits: each subject's predicted profile on a fine time grid, with its data.

:func:`compute_individual_fits` evaluates, for every subject, the posterior
median and central credible band of the individual prediction, and the
population prediction, on a grid that is dense right after each change of
the infusion rate (where the concentration moves within hours) and regular
elsewhere. The grid covers each treatment period up to the subject's last
sample before the next one (at least one day after the infusion stops);
between periods the curves are interrupted (a NaN row), so no line is drawn
across a treatment gap. Covariates are taken at their baseline values on
the grid.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from blinapk.data import Dataset
from blinapk.diagnostics.posterior import (
    fit_data,
    posterior_sample,
    predict,
    select_draws,
)
from blinapk.dosing import rate_table

__all__ = ["IndividualFits", "compute_individual_fits"]

#: Hours after each rate change at which the grid is refined.
_AFTER_CHANGE = np.array([0.0, 0.1, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 18.0,
                          24.0, 36.0, 48.0])
#: Regular grid step within a treatment period (h).
_STEP = 6.0
#: The grid runs at least this long after an infusion stops (h).
_WASHOUT = 24.0


@dataclass(frozen=True, eq=False)
class IndividualFits:
    """Predicted profiles of every subject (:func:`compute_individual_fits`).

    Attributes
    ----------
    curves : DataFrame
        ``ID, TIME`` (h), ``IPRED, LOWER, UPPER, PRED`` (pg/mL); NaN rows
        separate treatment periods.
    observations : DataFrame
        ``ID, TIME, DV, CENS, LLOQ`` of the observations fitted.
    rates : DataFrame
        Infusion rate profile (``ID, START, END, RATE`` in ug/h) from
        :func:`blinapk.dosing.rate_table`.
    subjects : tuple
        Subject IDs in order.
    ci : float
        Mass of the credible band.
    dvid : str
        Analyte.
    """

    curves: pd.DataFrame = field(repr=False)
    observations: pd.DataFrame = field(repr=False)
    rates: pd.DataFrame = field(repr=False)
    subjects: tuple
    ci: float
    dvid: str


def _periods(rt: pd.DataFrame) -> list[tuple[float, float]]:
    """(start, end) of the runs of positive rate (gaps at rate 0 split them)."""
    on = rt[rt["RATE"] > 0].sort_values("START")
    out: list[list[float]] = []
    for s, e in zip(on["START"].to_numpy(float), on["END"].to_numpy(float), strict=True):
        if out and s <= out[-1][1] + 1e-9:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return [(a, b) for a, b in out]


def _grid(rt: pd.DataFrame, obs_t: np.ndarray) -> list[np.ndarray]:
    """Grid pieces of one subject, one per treatment window (gap-free inside)."""
    periods = _periods(rt)
    if not periods:
        return [np.sort(obs_t)] if obs_t.size else []
    changes = np.unique(np.r_[rt["START"].to_numpy(float), rt["END"].to_numpy(float)])
    windows = []
    for k, (s, e) in enumerate(periods):
        nxt = periods[k + 1][0] if k + 1 < len(periods) else np.inf
        last = obs_t[(obs_t > e) & (obs_t < nxt)]
        end = min(nxt, max(e + _WASHOUT, float(last.max()) + 1.0 if last.size else 0.0))
        windows.append((s, end))
    # merge windows that touch (a short interruption is part of the period)
    merged: list[list[float]] = []
    for s, e in windows:
        if merged and s <= merged[-1][1] + 1e-9:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    pieces = []
    for s, e in merged:
        t = np.r_[np.arange(s, e, _STEP), e,
                  (changes[(changes >= s) & (changes <= e)][:, None] + _AFTER_CHANGE).ravel(),
                  obs_t[(obs_t >= s) & (obs_t <= e)]]
        pieces.append(np.unique(t[(t >= s) & (t <= e)]))
    return pieces


def compute_individual_fits(fit: Any, dataset: Dataset, *, ci: float = 0.9,
                            max_draws: int = 200) -> IndividualFits:
    """Posterior median and band of every subject's profile on a fine grid.

    Parameters
    ----------
    fit : PopPKFit
        The fit.
    dataset : Dataset
        The dataset it was fitted to (checked by hash).
    ci : float, default 0.9
        Mass of the credible band.
    max_draws : int, default 200
        Posterior draws used (evenly spaced).

    Returns
    -------
    IndividualFits
    """
    data = fit_data(fit, dataset)
    sample = posterior_sample(fit, data, select_draws(fit, max_draws))
    frame = dataset.frame
    rates = rate_table(frame[(frame["EVID"] == 1) & frame["ID"].isin(data.subjects)])
    times, subj = [], []
    for i, sid in enumerate(data.subjects):
        obs_t = data.time[data.subject_index == i]
        for piece in _grid(rates[rates["ID"] == sid], obs_t):
            # a NaN point after each window, so that lines stop at treatment gaps
            times.append(np.r_[piece, np.nan])
            subj.append(np.full(piece.size + 1, i))
    t = np.concatenate(times)
    s = np.concatenate(subj)
    ok = np.isfinite(t)
    ind = predict(sample.indiv, data, fit.spec.structure, times=t[ok], subject_index=s[ok])
    pop = predict(sample.pop, data, fit.spec.structure, times=t[ok], subject_index=s[ok])
    lo, hi = (1.0 - ci) / 2.0, 1.0 - (1.0 - ci) / 2.0
    ids = np.asarray(data.subjects, dtype=object)
    cols = {"IPRED": np.median(ind, axis=0), "LOWER": np.quantile(ind, lo, axis=0),
            "UPPER": np.quantile(ind, hi, axis=0), "PRED": np.median(pop, axis=0)}
    curves = pd.DataFrame({"ID": ids[s], "TIME": t})
    for name, values in cols.items():
        curves[name] = np.nan
        curves.loc[ok, name] = values
    obs = pd.DataFrame({"ID": ids[data.subject_index], "TIME": data.time,
                        "DV": np.where(data.cens, np.nan, data.dv), "CENS": data.cens.astype(int),
                        "LLOQ": data.lloq})
    return IndividualFits(curves=curves, observations=obs,
                          rates=rates[["ID", "START", "END", "RATE"]].reset_index(drop=True),
                          subjects=tuple(data.subjects), ci=ci, dvid=fit.spec.dvid)

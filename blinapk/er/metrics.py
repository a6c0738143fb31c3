r"""Exposure metrics: what is computed for each subject (or dose event) from PK parameters.

A metric is evaluated from individual PK parameters by an
:class:`ExposurePlan`: the data-only part (rates, dose histories, time grids)
is prepared once from the event table, and :meth:`ExposurePlan.evaluate`
turns parameters of any batch shape ``(..., n_subjects)`` (posterior draws,
or the symbolic parameters of a PyMC model) into exposures
``(..., n_units)``, written once for numpy, PyTensor and JAX.

Subject metrics (one value per subject; binary and time-to-event endpoints):

``css``
    steady-state concentration at the target dose level of cycle 1 (the
    highest infusion rate given in cycle 1, e.g. 28 ug/day),
    :math:`C_{ss} = 1000 R_0 / CL` (pg/mL);
``css_start``
    the same at the starting dose level (the first rate, e.g. 9 ug/day);
``cavg``
    average concentration over cycle 1: the AUC from the first infusion to
    the end of the last cycle-1 infusion divided by that duration (or over
    ``window = (t0, t1)`` hours), from the closed-form AUC of
    :func:`blinapk.pk.exposure.auc_grid`;
``cmax_start``, ``cmax_step``
    the largest concentration after the first start and after the first
    step-up, up to the next dose increase or ``cmax_hours`` (default one
    week), evaluated hourly and at every rate change (exact for the 1-cmt
    model, whose concentration is monotone between rate changes).

Event metrics (one value per treatment start or step-up; cytokine peaks):

``css``
    Css of the rate after the event; ``delta_css``: its increase over the
    rate before (the cytokine simulator's driver); ``cmax``: the largest
    concentration from the event up to the next one or ``cmax_hours``.

Cycle 1 is read from the event table's ``CYCLE`` column (the whole dosing
history when there is none). Events are those of
:func:`blinapk.nca.dose_events` (a rise of the infusion rate).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd

from blinapk.data import Dataset
from blinapk.dosing import rate_table
from blinapk.errors import ModelSpecError
from blinapk.nca.cytokines import dose_events
from blinapk.pk import DoseMatrix, compact_doses, dose_matrix
from blinapk.pk._backend import as_array
from blinapk.pk.exposure import auc_grid, conc_grid

__all__ = ["EVENT_METRICS", "METRICS", "SUBJECT_METRICS", "ExposurePlan", "Metric",
           "get_metric", "plan_exposure"]


@dataclass(frozen=True)
class Metric:
    """One exposure metric.

    Parameters
    ----------
    name : str
        Key, e.g. ``css``.
    symbol : str
        Upper-case name used in parameter names (``BETA_LOG<symbol>``).
    label : str
        Plain-language description (axis labels, tables).
    level : {"subject", "event"}
        One value per subject or per dose event.
    kind : {"rate", "delta", "auc", "cmax"}
        How it is computed from the PK parameters.
    """

    name: str
    symbol: str
    label: str
    level: str
    kind: str
    unit: str = "pg/mL"


#: Metrics with one value per subject.
SUBJECT_METRICS: Mapping[str, Metric] = {m.name: m for m in (
    Metric("css", "CSS", "Css at the cycle-1 target dose", "subject", "rate"),
    Metric("css_start", "CSSSTART", "Css at the starting dose", "subject", "rate"),
    Metric("cavg", "CAVG", "average concentration over cycle 1", "subject", "auc"),
    Metric("cmax_start", "CMAXSTART", "Cmax after the start", "subject", "cmax"),
    Metric("cmax_step", "CMAXSTEP", "Cmax after the step-up", "subject", "cmax"),
)}
#: Metrics with one value per dose event (start or step-up).
EVENT_METRICS: Mapping[str, Metric] = {m.name: m for m in (
    Metric("css", "CSS", "Css after the event", "event", "rate"),
    Metric("delta_css", "DELTACSS", "Css increase at the event", "event", "delta"),
    Metric("cmax", "CMAX", "Cmax after the event", "event", "cmax"),
)}
#: Every metric name.
METRICS: tuple[str, ...] = tuple(dict.fromkeys([*SUBJECT_METRICS, *EVENT_METRICS]))
#: Default duration (h) over which Cmax is sought after an event: one week.
CMAX_HOURS = 168.0


def get_metric(name: str, level: str = "subject") -> Metric:
    """Return the metric ``name`` of ``level``.

    Raises
    ------
    ModelSpecError
        Unknown name for that level (the message lists the valid ones).
    """
    table = SUBJECT_METRICS if level == "subject" else EVENT_METRICS
    if name not in table:
        raise ModelSpecError(f"exposure: unknown {level} metric {name!r}; use one of "
                             f"{tuple(table)}")
    return table[name]


@dataclass(frozen=True, eq=False)
class ExposurePlan:
    """Data needed to evaluate one metric for many parameter sets.

    Attributes
    ----------
    metric : Metric
        What is computed.
    subjects : tuple
        PK subject IDs, the order of the parameters' last axis.
    units : DataFrame
        One row per exposure value: ``ID`` (+ ``START, KIND, CYCLE`` for
        events) and ``SUBJECT`` (position in ``subjects``).
    missing : DataFrame
        ``ID`` (+ keys) and ``REASON`` of subjects or events without a value.
    rate : ndarray
        Rate (ug/h) per unit (``rate``/``delta``: the increase for ``delta``).
    doses : DoseMatrix or None
        Doses per unit (``auc``, ``cmax``).
    times : ndarray or None
        Time grid per unit (``auc``: the window ends; ``cmax``: the grid).
    """

    metric: Metric
    subjects: tuple
    units: pd.DataFrame = field(repr=False)
    missing: pd.DataFrame = field(repr=False)
    rate: np.ndarray = field(repr=False)
    doses: DoseMatrix | None = field(default=None, repr=False)
    times: np.ndarray | None = field(default=None, repr=False)
    settings: Mapping[str, Any] = field(default_factory=dict)

    @property
    def unit_subject(self) -> np.ndarray:
        """Position of each unit's subject in :attr:`subjects`."""
        return self.units["SUBJECT"].to_numpy(np.int64)

    def evaluate(self, params: Mapping[str, Any], structure: str = "1cmt",
                 xp: ModuleType = np) -> Any:
        """Exposure of every unit for the given individual parameters.

        Parameters
        ----------
        params : mapping
            ``CL``, ``V`` (+ ``Q``, ``V2``), shape ``(..., n_subjects)`` in the
            order of :attr:`subjects`.
        structure : {"1cmt", "2cmt"}
            Structural model.
        xp : module, default numpy
            Array namespace.

        Returns
        -------
        array, shape (..., n_units)
        """
        idx = self.unit_subject
        p = {k: as_array(xp, v)[..., idx] for k, v in params.items()}
        kind = self.metric.kind
        if kind in ("rate", "delta"):
            return 1000.0 * as_array(xp, self.rate) / p["CL"]
        if kind == "auc":
            auc = auc_grid(self.times, self.doses, p, structure, xp)
            span = as_array(xp, self.times[:, 1] - self.times[:, 0])
            return (auc[..., 1] - auc[..., 0]) / span
        return conc_grid(self.times, self.doses, p, structure, xp).max(axis=-1)


def _cycle_one(rt: pd.DataFrame) -> pd.DataFrame:
    if "CYCLE" in rt.columns and rt["CYCLE"].notna().any():
        return rt.loc[rt["CYCLE"] == rt.groupby("ID")["CYCLE"].transform("min")]
    return rt


def _subject_units(rt: pd.DataFrame, ev: pd.DataFrame, metric: Metric,
                   window: tuple[float, float] | None, cmax_hours: float
                   ) -> tuple[list[dict], list[dict]]:
    """One unit per subject: the rate or the time window of the metric."""
    units, missing = [], []
    c1 = _cycle_one(rt)
    by_id = dict(tuple(c1.groupby("ID", sort=False)))
    ev_by_id = dict(tuple(ev.groupby("ID", sort=False)))
    for sid in pd.unique(rt["ID"]):
        seg = by_id.get(sid)
        pos = seg.loc[seg["RATE"] > 0] if seg is not None else None
        if pos is None or pos.empty:
            missing.append({"ID": sid, "REASON": "no infusion in cycle 1"})
            continue
        row = {"ID": sid, "RATE": np.nan, "T0": np.nan, "T1": np.nan}
        if metric.name == "css":
            row["RATE"] = float(pos["RATE"].max())
        elif metric.name == "css_start":
            row["RATE"] = float(pos["RATE"].iloc[0])
        elif metric.kind == "auc":
            first = float(pos["START"].iloc[0])
            t0, t1 = ((first, float(pos["END"].iloc[-1])) if window is None
                      else (first + window[0], first + window[1]))
            row.update(T0=t0, T1=t1)
        else:
            kind = "start" if metric.name == "cmax_start" else "step-up"
            e = ev_by_id.get(sid)
            e = e.loc[e["KIND"] == kind] if e is not None else None
            if e is None or e.empty:
                missing.append({"ID": sid, "REASON": f"no {kind} event"})
                continue
            t0 = float(e["START"].iloc[0])
            row.update(T0=t0, T1=min(float(e["NEXT"].iloc[0]), t0 + cmax_hours))
        units.append(row)
    return units, missing


def _event_units(ev: pd.DataFrame, metric: Metric, cmax_hours: float) -> list[dict]:
    rows = []
    for e in ev.itertuples(index=False):
        rate = e.RATE - e.PREV_RATE if metric.kind == "delta" else e.RATE
        rows.append({"ID": e.ID, "START": float(e.START), "KIND": e.KIND,
                     "CYCLE": getattr(e, "CYCLE", np.nan), "RATE": float(rate),
                     "T0": float(e.START), "T1": min(float(e.NEXT), e.START + cmax_hours)})
    return rows


def _cmax_grid(rt: pd.DataFrame, units: pd.DataFrame) -> np.ndarray:
    """Hourly grid from each unit's T0 to T1 plus the rate changes inside, padded."""
    ends = {k: g["END"].to_numpy(float) for k, g in rt.groupby("ID", sort=False)}
    grids = []
    for u in units.itertuples(index=False):
        inner = ends.get(u.ID, np.zeros(0))
        inner = inner[(inner > u.T0) & (inner < u.T1)]
        grids.append(np.unique(np.r_[np.arange(u.T0 + 1.0, u.T1, 1.0), inner, u.T1]))
    width = max((g.size for g in grids), default=1)
    return np.array([np.pad(g, (0, width - g.size), mode="edge") for g in grids]).reshape(
        len(grids), width)


def plan_exposure(dataset: Dataset | pd.DataFrame, metric: str | Metric = "css", *,
                  level: str = "subject",
                  window: tuple[float, float] | None = None,
                  cmax_hours: float = CMAX_HOURS, subjects: tuple | None = None
                  ) -> ExposurePlan:
    """Prepare the evaluation of ``metric`` for every subject (or event) of ``dataset``.

    Parameters
    ----------
    dataset : Dataset or DataFrame
        The event table (dose records are used; observations are not), or
        dose records alone (:func:`blinapk.dosing.dose_records`).
    metric : str or Metric
        A name of :data:`SUBJECT_METRICS` or :data:`EVENT_METRICS`.
    level : {"subject", "event"}
        One value per subject or per dose event.
    window : (float, float), optional
        ``cavg`` only: hours after the first infusion over which to average
        (default: the cycle-1 infusion period).
    cmax_hours : float
        Longest time after an event over which Cmax is sought (h).
    subjects : tuple, optional
        Order of the parameters' subject axis (default: the dataset's order,
        or the order of first appearance in the dose records).

    Returns
    -------
    ExposurePlan

    Raises
    ------
    ModelSpecError
        Unknown metric, a bad window, or no dose record.
    """
    m = metric if isinstance(metric, Metric) else get_metric(metric, level)
    if window is not None and not (len(window) == 2 and 0 <= window[0] < window[1]):
        raise ModelSpecError(f"window: need (t0, t1) hours with 0 <= t0 < t1, got {window!r}")
    doses = dataset.doses() if isinstance(dataset, Dataset) else dataset
    if doses.empty:
        raise ModelSpecError("exposure: the dataset has no dose record")
    if subjects is None:
        subjects = (dataset.subjects if isinstance(dataset, Dataset)
                    else tuple(pd.unique(doses["ID"])))
    subjects = tuple(subjects)
    rt = rate_table(doses)
    ev = dose_events(rt)
    if m.level == "subject":
        rows, missing = _subject_units(rt, ev, m, window, cmax_hours)
    else:
        rows, missing = _event_units(ev, m, cmax_hours), []
    units = pd.DataFrame(rows, columns=["ID", "START", "KIND", "CYCLE", "RATE", "T0", "T1"])
    known = units["ID"].isin(subjects)
    for sid in units.loc[~known, "ID"].unique():
        missing.append({"ID": sid, "REASON": "not a subject of the PK parameters"})
    units = units.loc[known].reset_index(drop=True)
    units["SUBJECT"] = pd.Index(subjects).get_indexer(units["ID"])
    rates = units["RATE"].to_numpy(float)
    dm = times = None
    if m.kind in ("auc", "cmax"):
        full = compact_doses(dose_matrix(doses, subjects))
        idx = units["SUBJECT"].to_numpy(np.int64)
        dm = DoseMatrix(full.time[idx], full.amt[idx], full.duration[idx])
        times = (units[["T0", "T1"]].to_numpy(float) if m.kind == "auc"
                 else _cmax_grid(rt, units))
    keys = ["ID"] + (["START", "KIND", "CYCLE"] if m.level == "event" else [])
    miss = pd.DataFrame(missing, columns=["ID", "REASON"])
    settings = {"metric": m.name, "level": m.level, "window": window, "cmax_hours": cmax_hours}
    return ExposurePlan(m, subjects, units[[*keys, "SUBJECT"]], miss, rates, dm, times,
                        settings)

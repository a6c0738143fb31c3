"""Rate schedules of many subjects as padded arrays (:func:`rate_schedule`).

:func:`~blinapk.dosing.dose_records` writes contract rows, one per infusion
(a DataFrame); for a million virtual patients the exposure engine needs
the same information as arrays instead: per subject, the contiguous
piecewise-constant rate from the start of cycle 1 to the end of the last
cycle (treatment-free intervals and pauses as explicit rate-0 segments),
each segment's cycle and dose level, and the cycle boundaries. The same
templates and interruption rules are used, so the two never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from blinapk.dosing.bsa import step_rate
from blinapk.dosing.records import expand_groups
from blinapk.dosing.regimen import AnyRegimen
from blinapk.dosing.template import Template

__all__ = ["RateSchedule", "rate_schedule"]


@dataclass(frozen=True, eq=False)
class RateSchedule:
    """Contiguous piecewise-constant infusion rates of ``n`` subjects, ``k`` segments each.

    Subjects with fewer segments are right-padded with zero-length, rate-0
    segments at their last time (``level`` -1, ``cycle`` 0). Arrays shared by
    every subject (one arm, the same interruptions) may be read-only
    broadcast views.

    Attributes
    ----------
    ids : ndarray
        Subject IDs in input order.
    arm : ndarray of str
        ``adult`` / ``paediatric`` (weight-based regimen) or the regimen's name.
    regimen : ndarray of str
        Name of the arm's regimen (e.g. ``adult_rr``).
    start, end : ndarray, shape (n, k)
        Segment limits (h since the scheduled start of cycle 1); ``end[:, j] ==
        start[:, j + 1]``.
    rate : ndarray, shape (n, k)
        Delivered rate (ug/h), 0 in treatment-free intervals and pauses.
    cycle : ndarray of int, shape (n, k)
        1-based cycle of each segment.
    level : ndarray of int, shape (n, k)
        Index into :attr:`levels` (-1 where nothing is infused).
    levels : tuple of str
        Prescribed dose levels (``DOSE_LEVEL`` labels, e.g. ``"9 ug/day"``).
    level_rate : ndarray, shape (n, len(levels))
        Rate (ug/h) each subject receives at each level (NaN if never).
    bounds : ndarray, shape (n, n_cycles + 1)
        Cycle boundaries: cycle ``c`` spans ``[bounds[:, c-1], bounds[:, c])``
        (NaN-padded when arms give different numbers of cycles).
    """

    ids: np.ndarray
    arm: np.ndarray
    regimen: np.ndarray
    start: np.ndarray
    end: np.ndarray
    rate: np.ndarray
    cycle: np.ndarray
    level: np.ndarray
    levels: tuple[str, ...]
    level_rate: np.ndarray
    bounds: np.ndarray

    @property
    def n_subjects(self) -> int:
        """Number of subjects."""
        return int(self.start.shape[0])

    @property
    def n_cycles(self) -> int:
        """Largest number of cycles given."""
        return int(self.bounds.shape[1] - 1)

    def amount(self) -> np.ndarray:
        """Total amount infused per subject (ug)."""
        return (self.rate * (self.end - self.start)).sum(axis=1)


def _contiguous(tpl: Template) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Edges, step index (-1 = nothing infused) and cycle of each contiguous piece."""
    edges = np.unique(np.concatenate([tpl.start, tpl.end, tpl.bounds]))
    edges = edges[(edges >= tpl.bounds[0]) & (edges <= tpl.bounds[-1])]
    mid = 0.5 * (edges[:-1] + edges[1:])
    seg = np.searchsorted(tpl.start, mid, side="right") - 1
    inside = (seg >= 0) & (mid < tpl.end[np.maximum(seg, 0)])
    step = np.where(inside, tpl.step[np.maximum(seg, 0)], -1)
    cycle = np.searchsorted(tpl.bounds, mid, side="right")
    return edges, step, cycle, inside


def _shared(ids: Any, g: Any, edges: np.ndarray, step: np.ndarray, cyc: np.ndarray,
            inside: np.ndarray) -> RateSchedule:
    """Every subject on one template: times, cycles and levels are shared read-only views."""
    n, k = len(ids), edges.size - 1
    steps = g.template.steps
    labels: dict[str, int] = {}
    codes = np.array([labels.setdefault(s.label, len(labels)) for s in steps])
    first = [list(codes).index(c) for c in range(len(labels))]  # first step of each level
    if any(s.per_m2 for s in steps):
        rates = np.column_stack([np.broadcast_to(step_rate(s, g.bsa if s.per_m2 else None),
                                                 g.bsa.shape) for s in steps])
        level_rate = rates[:, first]
    else:  # flat doses: one row serves every subject
        rates = np.broadcast_to(np.array([float(step_rate(s)) for s in steps]), (n, len(steps)))
        level_rate = np.broadcast_to(rates[0, first], (n, len(labels)))
    return RateSchedule(
        ids=ids.to_numpy(), arm=np.broadcast_to(np.array(g.arm), (n,)),
        regimen=np.broadcast_to(np.array(g.regimen.name), (n,)),
        start=np.broadcast_to(edges[:-1], (n, k)), end=np.broadcast_to(edges[1:], (n, k)),
        rate=(np.broadcast_to(rates[0, np.maximum(step, 0)] * inside, (n, k))
              if rates.strides[0] == 0 else rates[:, np.maximum(step, 0)] * inside),
        cycle=np.broadcast_to(cyc, (n, k)),
        level=np.broadcast_to(np.where(inside, codes[np.maximum(step, 0)], -1), (n, k)),
        levels=tuple(labels), level_rate=level_rate,
        bounds=np.broadcast_to(g.template.bounds, (n, g.template.bounds.size)))


def rate_schedule(regimen: AnyRegimen, subjects: Any, *, interruptions: Any = None,
                  id_col: str = "ID") -> RateSchedule:
    """Lay out every subject's rate over time as padded arrays.

    Parameters
    ----------
    regimen : Regimen or WeightBasedRegimen
        What is prescribed.
    subjects : DataFrame, sequence of IDs or int
        As :func:`~blinapk.dosing.dose_records` (``BSA`` for per-m2 steps, ``WT``
        for a weight-based regimen).
    interruptions : optional
        As :func:`~blinapk.dosing.dose_records` (shared, per subject or a table),
        with each pause's ``schedule`` rule applied.
    id_col : str, default "ID"
        Identifier column.

    Returns
    -------
    RateSchedule

    Raises
    ------
    DataValidationError, ModelSpecError
        As :func:`~blinapk.dosing.dose_records`.

    Examples
    --------
    >>> from blinapk.dosing import get_preset
    >>> s = rate_schedule(get_preset("adult_rr"), [1])
    >>> s.start[0].tolist(), (s.rate[0] * 24).round(6).tolist()
    ([0.0, 168.0, 672.0, 1008.0, 1680.0], [9.0, 28.0, 0.0, 28.0, 0.0])
    >>> s.levels, s.bounds[0].tolist()
    (('9 ug/day', '28 ug/day'), [0.0, 1008.0, 2016.0])
    """
    ids, groups = expand_groups(regimen, subjects, interruptions, id_col)
    n = len(ids)
    laid = [(g, *_contiguous(g.template)) for g in groups]
    if len(laid) == 1:
        return _shared(ids, *laid[0])
    width = max((e.size - 1 for _, e, *_ in laid), default=1)
    n_bounds = max((g.template.bounds.size for g in groups), default=2)
    start = np.zeros((n, width))
    end = np.zeros((n, width))
    rate = np.zeros((n, width))
    cycle = np.zeros((n, width), dtype=np.int64)
    level = np.full((n, width), -1, dtype=np.int64)
    bounds = np.full((n, n_bounds), np.nan)
    arm = np.zeros(n, dtype=np.int64)
    arm_names: dict[tuple[str, str], int] = {}
    labels: dict[str, int] = {}
    level_rates: dict[int, np.ndarray] = {}
    for g, edges, step, cyc, inside in laid:
        pos, k = g.positions, edges.size - 1
        steps = g.template.steps
        rates = np.column_stack([
            np.broadcast_to(step_rate(s, g.bsa if s.per_m2 else None), g.bsa.shape)
            for s in steps])
        codes = np.array([labels.setdefault(s.label, len(labels)) for s in steps])
        for j, code in enumerate(codes):
            col = level_rates.setdefault(int(code), np.full(n, np.nan))
            col[pos] = np.where(np.isnan(col[pos]), rates[:, j], col[pos])
        every = pos.size == n  # one group: whole rows, no fancy indexing
        rows = slice(None) if every else pos
        start[rows, :k] = edges[:-1]
        end[rows, :k] = edges[1:]
        rate[rows, :k] = rates[:, np.maximum(step, 0)] * inside
        cycle[rows, :k] = cyc
        level[rows, :k] = np.where(inside, codes[np.maximum(step, 0)], -1)
        start[rows, k:] = edges[-1]
        end[rows, k:] = edges[-1]
        bounds[rows, :g.template.bounds.size] = g.template.bounds
        arm[pos] = arm_names.setdefault((g.arm, g.regimen.name), len(arm_names))
    level_rate = np.column_stack([level_rates[i] for i in range(len(labels))]) if labels \
        else np.zeros((n, 0))
    names = np.array([a for a, _ in arm_names] or [""], dtype=str)
    regimens = np.array([r for _, r in arm_names] or [""], dtype=str)
    return RateSchedule(
        ids=ids.to_numpy(), arm=names[arm], regimen=regimens[arm], start=start, end=end,
        rate=rate, cycle=cycle,
        level=level, levels=tuple(labels), level_rate=level_rate, bounds=bounds)

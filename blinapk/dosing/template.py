"""A regimen laid out in time once, before it is expanded over subjects (:class:`Template`).

A template is the list of constant-rate infusion segments a regimen
prescribes, each pointing at a canonical dose step, plus the boundaries of
every cycle. Interruptions (:func:`apply_interruptions`: schedule shifts by
the pause's rule, then pauses and restart doses) and bag changes
(:func:`bag_split`) are applied to the template; rates depend on a subject
only through BSA, so subjects sharing an arm and interruptions share one
template. :func:`blinapk.dosing.dose_records` and
:func:`blinapk.dosing.rate_schedule` both expand templates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from blinapk.dosing._spec import HOURS_PER_DAY, TIME_TOL
from blinapk.dosing.interruption import Interruption
from blinapk.dosing.regimen import Regimen
from blinapk.dosing.step import Step
from blinapk.errors import ModelSpecError

__all__ = ["Template", "apply_interruptions", "bag_split", "lay_out"]


@dataclass(frozen=True)
class Template:
    """Constant-rate segments of one regimen, independent of the subject.

    Attributes
    ----------
    start, end : ndarray
        Segment limits (h since the scheduled start of cycle 1), sorted.
    cycle : ndarray of int
        1-based cycle of each segment.
    step : ndarray of int
        Index into :attr:`steps`.
    steps : tuple of Step
        Canonical steps (day 1), one per distinct ``(dose, unit, cap)``.
    bounds : ndarray
        ``n_cycles + 1`` cycle boundaries: cycle ``k`` spans
        ``[bounds[k-1], bounds[k])`` (infusion phase, pauses and its
        treatment-free interval).
    """

    start: np.ndarray
    end: np.ndarray
    cycle: np.ndarray
    step: np.ndarray
    steps: tuple[Step, ...]
    bounds: np.ndarray

    @property
    def needs_bsa(self) -> bool:
        """Whether a used step is dosed per m2."""
        used = np.unique(self.step)
        return any(self.steps[i].per_m2 for i in used)


def _canonical(step: Step) -> Step:
    return Step(1.0, step.dose, step.unit, step.cap)


def _rows(rows: list[tuple[float, float, int, int]], steps: Sequence[Step],
          bounds: np.ndarray) -> Template:
    arr = np.array(rows, dtype=float).reshape(-1, 4)
    order = np.argsort(arr[:, 0], kind="stable")
    arr = arr[order]
    return Template(arr[:, 0], arr[:, 1], arr[:, 2].astype(int), arr[:, 3].astype(int),
                    tuple(steps), bounds)


def lay_out(regimen: Regimen) -> Template:
    """Lay out the regimen's cycles in time (no interruption, no bags).

    Parameters
    ----------
    regimen : Regimen
        One arm.

    Returns
    -------
    Template
    """
    steps: dict[tuple[Any, ...], int] = {}
    rows = []
    starts = regimen.cycle_starts()
    for cycle, c0 in enumerate(starts, start=1):
        for s, e, step in regimen.cycle_spec(cycle).intervals():
            idx = steps.setdefault(step.key, len(steps))
            rows.append((c0 + s, c0 + e, cycle, idx))
    last = regimen.cycle_spec(regimen.n_cycles).cycle_days * HOURS_PER_DAY
    bounds = np.array([*starts, starts[-1] + last], dtype=float)
    canon = tuple(_canonical(Step(1.0, *key)) for key in steps)
    return _rows(rows, canon, bounds)


def _shift(tpl: Template, regimen: Regimen, pause: Interruption) -> Template:
    """Move the schedule after ``pause`` by its rule (``continue`` / ``new_cycle``)."""
    running = (tpl.start <= pause.start) & (pause.start < tpl.end)
    if pause.shift_rule == "fixed" or not running.any():
        return tpl  # a pause in a treatment-free interval has nothing to continue
    k = int(tpl.cycle[np.flatnonzero(running)[0]])
    steps = list(tpl.steps)
    bounds = tpl.bounds.copy()
    rows = []
    if pause.shift_rule == "continue":
        d = pause.duration
        for s, e, c, i in zip(tpl.start, tpl.end, tpl.cycle, tpl.step, strict=True):
            if e <= pause.start:
                rows.append((s, e, c, i))
            elif s < pause.start:  # the running segment: before the pause, then the rest later
                rows += [(s, pause.start, c, i), (pause.end, e + d, c, i)]
            else:
                rows.append((s + d, e + d, c, i))
        bounds[k:] += d
        return _rows(rows, steps, bounds)
    # new_cycle: cycle k stops at the pause and starts again from its day 1 at the pause end
    spec = regimen.cycle_spec(k)
    delta = pause.end + spec.cycle_days * HOURS_PER_DAY - bounds[k]
    index = {s.key: j for j, s in enumerate(steps)}
    for s, e, c, i in zip(tpl.start, tpl.end, tpl.cycle, tpl.step, strict=True):
        if c < k or (c == k and e <= pause.start):
            rows.append((s, e, c, i))
        elif c == k and s < pause.start:
            rows.append((s, pause.start, c, i))
        elif c > k:
            rows.append((s + delta, e + delta, c, i))
    for s, e, step in spec.intervals():
        j = index.setdefault(step.key, len(index))
        if j == len(steps):
            steps.append(_canonical(step))
        rows.append((pause.end + s, pause.end + e, k, j))
    bounds[k:] += delta
    return _rows(rows, steps, bounds)


def apply_interruptions(tpl: Template, regimen: Regimen,
                        interruptions: Sequence[Interruption]) -> Template:
    """Shift the schedule by each pause's rule, then zero the pauses and apply restart doses.

    Parameters
    ----------
    tpl : Template
        From :func:`lay_out`.
    regimen : Regimen
        The arm laid out (a ``new_cycle`` pause repeats one of its cycles).
    interruptions : sequence of Interruption
        Pauses in actual time.

    Returns
    -------
    Template

    Raises
    ------
    ModelSpecError
        The pauses remove every infusion.
    """
    if not interruptions:
        return tpl
    ints = sorted(interruptions, key=lambda i: (i.start, i.end))
    for it in ints:
        tpl = _shift(tpl, regimen, it)
    cuts = {i.start for i in ints} | {i.end for i in ints}
    cuts |= {i.restart_end for i in ints if i.restart_step is not None}
    # cycle in force when each pause ends: the restart dose never spills into the next cycle
    end_cycle = {}
    for it in ints:
        k = np.searchsorted(tpl.start, it.end, side="right") - 1
        end_cycle[it] = int(tpl.cycle[max(k, 0)])
    steps = list(tpl.steps)
    index = {s.key: i for i, s in enumerate(steps)}
    rows = []
    for s, e, c, k in zip(tpl.start, tpl.end, tpl.cycle, tpl.step, strict=True):
        edges = [s, *sorted(b for b in cuts if s < b < e), e]
        for a, b in zip(edges[:-1], edges[1:], strict=False):
            mid = 0.5 * (a + b)
            if b - a <= TIME_TOL or any(it.start <= mid < it.end for it in ints):
                continue
            step = k
            for it in ints:  # sorted by start: the latest pause's restart wins
                rs = it.restart_step
                if rs is not None and it.end <= mid < it.restart_end and c == end_cycle[it]:
                    step = index.setdefault(rs.key, len(index))
                    if step == len(steps):
                        steps.append(_canonical(rs))
            rows.append((a, b, c, step))
    if not rows:
        raise ModelSpecError("the interruptions remove every infusion of the regimen")
    return _rows(rows, steps, tpl.bounds)


def bag_split(tpl: Template, bag_hours: float | None) -> Template:
    """Cut every constant-rate segment into bags of ``bag_hours`` (last bag shorter)."""
    if bag_hours is None:
        return tpl
    dur = tpl.end - tpl.start
    n = np.maximum(np.ceil((dur - TIME_TOL) / bag_hours), 1).astype(int)
    rep = np.repeat(np.arange(dur.size), n)
    k = np.arange(rep.size) - np.repeat(np.cumsum(n) - n, n)
    start = tpl.start[rep] + k * bag_hours
    end = np.where(k == n[rep] - 1, tpl.end[rep], tpl.start[rep] + (k + 1) * bag_hours)
    return replace(tpl, start=start, end=end, cycle=tpl.cycle[rep], step=tpl.step[rep])

"""Dosing episodes from the event table: first start, step-up and restart days.

Cytokine release syndrome and neurologic events cluster after the start of
an infusion, after each dose step and after a restart following an
interruption (Topp et al., Lancet Oncol 2015; the blinatumomab label's step
dosing). :func:`dosing_episodes` reads these episodes off the dose records so
that adverse events can be assigned to them
(:func:`~blinapk.endpoints.derive_ae_episodes`).

Rules, per subject, over the piecewise-constant infusion rate
(:func:`blinapk.dosing.rate_table`; bag changes at the same rate are not
episodes):

``start``
    the rate rises from 0 (or from nothing) at the first infusion of a
    treatment cycle (``CYCLE``; without a ``CYCLE`` column, the first
    infusion of the subject);
``restart``
    the rate rises from 0 later in the same cycle (after an interruption);
``step``
    the rate rises from a positive rate (a dose step-up).

A decrease of the rate is not an episode. Study day: day 1 is the day of the
subject's first dose record, ``DAY = floor(TIME / 24) + 1`` with ``TIME`` in
hours since the first dose (the event-table convention). Two episodes of one
subject on the same day keep the later one (the latest start before an
event's onset is the one it follows).

Examples
--------
>>> import pandas as pd
>>> doses = pd.DataFrame({"ID": [1, 1, 1, 1], "TIME": [0.0, 168.0, 227.0, 1008.0],
...                       "EVID": 1, "AMT": [63.0, 9.0, 126.0, 672.0],
...                       "RATE": [0.375, 0.75, 0.75, 1.0], "CYCLE": [1, 1, 1, 2]})
>>> dosing_episodes(doses)
   ID  DAY  EPISODE  CYCLE   RATE    TIME
0   1    1    start      1  0.375     0.0
1   1    8     step      1  0.750   168.0
2   1   10  restart      1  0.750   227.0
3   1   43    start      2  1.000  1008.0
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from blinapk.data import Dataset
from blinapk.dosing import rate_table

__all__ = ["EPISODE_COLUMNS", "dosing_episodes"]

#: Columns of :func:`dosing_episodes`.
EPISODE_COLUMNS: tuple[str, ...] = ("ID", "DAY", "EPISODE", "CYCLE", "RATE", "TIME")


def dosing_episodes(doses: Dataset | pd.DataFrame) -> pd.DataFrame:
    """Start, step-up and restart episodes of every subject, one row each.

    Parameters
    ----------
    doses : Dataset or DataFrame
        A validated :class:`~blinapk.data.Dataset` (its dose records are
        used) or dose records ``ID, TIME, EVID, AMT, RATE`` (+ ``CYCLE``), in
        hours and a consistent rate unit. Not mutated.

    Returns
    -------
    pandas.DataFrame
        ``ID, DAY, EPISODE, CYCLE, RATE, TIME`` (``CYCLE`` NaN without a
        ``CYCLE`` column; ``RATE`` the new rate, ``TIME`` the hour it
        starts), sorted by subject (first-appearance order) and day.
    """
    frame = doses.doses() if isinstance(doses, Dataset) else doses
    rates = rate_table(frame)
    if "CYCLE" not in rates.columns:
        rates = rates.assign(CYCLE=np.nan)
    rows: list[dict[str, Any]] = []
    for sid, seg in rates.groupby("ID", sort=False):
        previous, cycles_started = 0.0, set()
        for start, rate, cycle in zip(seg["START"], seg["RATE"], seg["CYCLE"], strict=True):
            kind = _kind(previous, rate, cycle, cycles_started)
            if kind is not None:
                rows.append({"ID": sid, "DAY": int(np.floor(start / 24.0)) + 1, "EPISODE": kind,
                             "CYCLE": cycle, "RATE": rate, "TIME": float(start)})
            previous = rate
    out = pd.DataFrame(rows, columns=list(EPISODE_COLUMNS))
    out = out.drop_duplicates(["ID", "DAY"], keep="last").reset_index(drop=True)
    if out["CYCLE"].notna().all():
        out["CYCLE"] = out["CYCLE"].astype(int)
    return out


def _kind(previous: float, rate: float, cycle: Any, cycles_started: set) -> str | None:
    """Episode kind of a constant-rate segment after one at ``previous``."""
    if not rate > previous:
        return None
    if previous > 0:
        return "step"
    key = "all" if pd.isna(cycle) else cycle
    if key in cycles_started:
        return "restart"
    cycles_started.add(key)
    return "start"

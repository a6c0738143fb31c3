"""Heuristic checks for likely unit mistakes (warn, never fail).

What is detected (each emits one :class:`~blinapk.errors.DataWarning`):

1. **Sub-pg/mL blinatumomab** - DV declared pg/mL (or ng/L) but the median of
   the positive blinatumomab (``DVID == "BLIN"``) observations with MDV 0 is
   below 1 pg/mL. Blinatumomab Css is hundreds of pg/mL (label: mean 228 pg/mL
   at 9 ug/day) and the seed LLOQ is 50 pg/mL, so such values were almost
   certainly written in ng/mL.
2. **Absurd implied clearance** - for quantified (CENS 0, MDV 0, DV > 0)
   blinatumomab observations taken while an infusion runs, the implied
   ``CL = 1000 * RATE / DV`` [L/h] has a median outside 0.01-1000 L/h
   (typical blinatumomab CL is 2.2 L/h, Zhu et al. 2020). This catches a
   factor-1000 slip in DV (pg/mL vs ng/mL) or in AMT/RATE (ug vs mg).

Not detected: a factor 24 in RATE (ug/day declared ug/h) or TIME in days
declared hours; their implied CL stays within the plausible range.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from blinapk.units import Units

__all__ = ["CL_RANGE", "infusion_rate_at", "unit_warnings"]

#: Plausible range of a median implied clearance, L/h.
CL_RANGE: tuple[float, float] = (0.01, 1000.0)


def infusion_rate_at(frame: pd.DataFrame, mask: pd.Series | np.ndarray) -> np.ndarray:
    """Total infusion rate running at the time of each selected row.

    Infusions run over ``[TIME, TIME + AMT / RATE)`` (end excluded) and
    overlapping infusions add up. Vectorised with a per-subject sweep
    (sorted integer keys and ``searchsorted``), no per-row Python loop.

    Parameters
    ----------
    frame : DataFrame
        Contract table (``ID, TIME, EVID, AMT, RATE``) in consistent units.
    mask : boolean array
        Rows to evaluate.

    Returns
    -------
    ndarray
        Rate (RATE unit) at each selected row, in frame order of the selected rows.
    """
    mask = np.asarray(mask, dtype=bool)
    code = pd.factorize(frame["ID"])[0].astype(np.int64)
    time = frame["TIME"].to_numpy(dtype=np.float64)
    inf = ((frame["EVID"] == 1) & (frame["RATE"] > 0) & (frame["AMT"] > 0)).to_numpy()
    rate = frame["RATE"].to_numpy(dtype=np.float64)[inf]
    start = time[inf]
    with np.errstate(over="ignore"):  # absurd AMT/RATE give an infinite end: valid here
        end = start + frame["AMT"].to_numpy(dtype=np.float64)[inf] / rate
    ev_code = np.concatenate([code[inf], code[inf]])
    ev_t = np.concatenate([start, end])
    delta = np.concatenate([rate, -rate])
    q_code, q_t = code[mask], time[mask]
    if not ev_t.size or not q_t.size:
        return np.zeros(q_t.size)
    # one sortable integer key per (subject, time): subject * n_times + rank of the time
    times = np.unique(np.concatenate([ev_t, q_t]))
    width = np.int64(times.size + 1)
    ev_key = ev_code * width + np.searchsorted(times, ev_t)
    q_key = q_code * width + np.searchsorted(times, q_t)
    order = np.argsort(ev_key, kind="stable")
    ev_key, ev_code, delta = ev_key[order], ev_code[order], delta[order]
    level = np.cumsum(delta)
    first = np.flatnonzero(np.r_[True, ev_code[1:] != ev_code[:-1]])
    before = np.where(first > 0, level[np.maximum(first - 1, 0)], 0.0)
    level = level - np.repeat(before, np.diff(np.r_[first, ev_code.size]))
    level[np.abs(level) <= 1e-9 * float(np.abs(rate).max())] = 0.0
    # last event at or before each query time (end times excluded: level drops there)
    idx = np.searchsorted(ev_key, q_key, side="right") - 1
    ok = idx >= 0
    ok[ok] = ev_code[idx[ok]] == q_code[ok]
    return np.where(ok, level[np.maximum(idx, 0)], 0.0)


def unit_warnings(frame: pd.DataFrame, declared: Units) -> list[str]:
    """Return a message for each likely unit mistake (see module docstring).

    Parameters
    ----------
    frame : DataFrame
        Validated table in internal units (TIME h, AMT ug, RATE ug/h, DV pg/mL).
    declared : Units
        Units the source declared.

    Returns
    -------
    list of str
        Empty when nothing looks wrong.
    """
    msgs: list[str] = []
    blin = ((frame["EVID"] == 0) & (frame["MDV"] == 0) & (frame["DVID"] == "BLIN")).to_numpy()
    dv = frame["DV"].to_numpy()
    positive = blin & (dv > 0)
    if declared.dv in ("pg/mL", "ng/L") and positive.any():
        med = float(np.median(dv[positive]))
        if med < 1.0:
            msgs.append(
                f"median blinatumomab DV is {med:.3g} {declared.dv}, below 1 pg/mL "
                "(typical Css: hundreds of pg/mL; seed LLOQ 50 pg/mL): were the "
                "concentrations written in ng/mL? Declare units={'dv': 'ng/mL'}"
            )
    quantified = positive & (frame["CENS"] == 0).to_numpy()
    if quantified.any():
        r = infusion_rate_at(frame, quantified)
        during = r > 0
        if during.any():
            cl = 1000.0 * r[during] / dv[quantified][during]
            med = float(np.median(cl))
            lo, hi = CL_RANGE
            if not lo <= med <= hi:
                msgs.append(
                    f"implied clearance 1000*RATE/DV has median {med:.3g} L/h over "
                    f"{int(during.sum())} blinatumomab observations during infusion, outside "
                    f"{lo:g}-{hi:g} L/h (typical 2.2 L/h): check the declared units "
                    f"({declared})"
                )
    return msgs

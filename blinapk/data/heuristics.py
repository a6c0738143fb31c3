"""Heuristic checks for likely unit mistakes (warn, never fail).

What is detected (each emits one :class:`~blinapk.errors.DataWarning`):

1. **Sub-pg/mL blinatumomab** - DV declared pg/mL (or ng/L) but the median of
   the positive blinatumomab (``DVID == "BLIN"``) observations with MDV 0 is
   below 1 pg/mL. Blinatumomab Css is hundreds of pg/mL (label: mean 228 pg/mL
   at 9 ug/day) and the seed LLOQ is 50 pg/mL, so such values were almost
   certainly written in ng/mL.
2. **Absurd implied clearance** - for quantified (CENS 0, MDV 0, DV > 0)
   blinatumomab observations taken while an infusion runs (a sample at the
   instant a rate changes counts under the rate before it), the implied
   ``CL = 1000 * RATE / DV`` [L/h] has a median outside 0.01-1000 L/h
   (typical blinatumomab CL is 2.2 L/h, Zhu et al. 2020). This catches a
   factor-1000 slip in DV (pg/mL vs ng/mL) or in AMT/RATE (ug vs mg).
3. **One subject on another scale** - with at least 3 subjects, a subject
   whose median implied clearance (as in 2; or, without infusion data, whose
   median positive blinatumomab DV) differs from the median over subjects by
   a factor of :data:`SUBJECT_JUMP` or more, e.g. one subject's
   concentrations written in ng/mL in a pg/mL file. Between-subject
   variability of clearance (CV about 50-100 %) and dose levels (5 to
   28 ug/day) stay far below a factor of 100.

Not detected: a factor 24 in RATE (ug/day declared ug/h) or TIME in days
declared hours; their implied CL stays within the plausible range.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from blinapk.dosing import rate_at, rate_table
from blinapk.units import Units

__all__ = ["CL_RANGE", "SUBJECT_JUMP", "infusion_rate_at", "subject_scale_jumps",
           "unit_warnings"]

#: Plausible range of a median implied clearance, L/h.
CL_RANGE: tuple[float, float] = (0.01, 1000.0)
#: Factor between one subject's median and the median over subjects that flags a unit jump.
SUBJECT_JUMP: float = 100.0


def infusion_rate_at(frame: pd.DataFrame, mask: pd.Series | np.ndarray) -> np.ndarray:
    """Total infusion rate running at the time of each selected row.

    A sample at the instant an infusion starts or stops counts under the rate
    before it (:func:`~blinapk.dosing.rate_at` with ``at_change="previous"``),
    as in the NCA: the implied clearance divides a rate by a concentration,
    and a concentration reflects the rate that produced it, so a pre-dose
    sample at an infusion start has no rate, a trough at a step-up is paired
    with the lower rate and an end-of-infusion sample with the rate that ends.
    Infusions (``EVID == 1``, ``RATE > 0``, ``AMT > 0``) run over
    ``(TIME, TIME + AMT / RATE]``; overlapping infusions add up
    (:func:`~blinapk.dosing.rate_table`).

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
    inf = ((frame["EVID"] == 1) & (frame["RATE"] > 0) & (frame["AMT"] > 0)).to_numpy()
    # absurd AMT/RATE may give an infinite end: valid for a unit check
    with np.errstate(over="ignore", invalid="ignore"):
        rates = rate_table(frame.loc[inf, ["ID", "TIME", "AMT", "RATE"]])
        at = rate_at(rates, frame["ID"].array[mask], frame["TIME"].to_numpy(float)[mask],
                     at_change="previous")
    return at["RATE"].to_numpy()


def subject_scale_jumps(ids, values) -> pd.DataFrame:
    """Subjects whose median value is :data:`SUBJECT_JUMP`-fold away from the others'.

    Parameters
    ----------
    ids : array_like
        Subject of each value.
    values : array_like
        Positive values (implied clearances or concentrations).

    Returns
    -------
    DataFrame
        ``ID, MEDIAN, RATIO`` (subject median over the median of subject
        medians) of the flagged subjects; empty with fewer than 3 subjects.

    Examples
    --------
    >>> subject_scale_jumps([1, 1, 2, 3, 4], [500.0, 520, 450, 0.48, 610])
       ID  MEDIAN  RATIO
    0   3    0.48  0.001
    """
    codes, uniques = pd.factorize(np.asarray(ids))
    keep = codes >= 0
    values = np.asarray(values, dtype=float)[keep]
    per = pd.Series(values).groupby(codes[keep], sort=False).median()
    # label the subjects as grouping by the IDs themselves would (grouped as codes: faster)
    labels = np.asarray(uniques, dtype=object)[per.index.to_numpy()]
    per.index = pd.Series(0, index=labels).groupby(labels, sort=False).first().index
    if len(per) < 3:
        return pd.DataFrame({"ID": [], "MEDIAN": [], "RATIO": []})
    ratio = per / float(np.median(per.to_numpy()))
    off = (ratio >= SUBJECT_JUMP) | (ratio <= 1.0 / SUBJECT_JUMP)
    return pd.DataFrame({"ID": per.index[off], "MEDIAN": per[off].to_numpy(),
                         "RATIO": ratio[off].round(6).to_numpy()})


def _jump_message(jumps: pd.DataFrame, what: str, unit: str) -> str:
    shown = ", ".join(f"{i!r} ({r:.3g}x)" for i, r in
                      zip(jumps["ID"][:10], jumps["RATIO"][:10], strict=True))
    more = " ..." if len(jumps) > 10 else ""
    return (f"{len(jumps)} subject(s) have a median {what} {SUBJECT_JUMP:g}-fold or more away "
            f"from the median over subjects: {shown}{more}; were their values written in "
            f"another unit (e.g. ng/mL in a {unit} file)?")


def _subject_jumps(ids, dv, rate, unit: str) -> list[str]:
    """Check the scale of each subject's positive blinatumomab samples.

    Censored samples count too: a subject written in ng/mL in a pg/mL file is all below LLOQ.
    """
    during = rate > 0
    if during.any():
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):  # absurd values
            cl = 1000.0 * rate[during] / dv[during]
        jumps = subject_scale_jumps(ids[during], cl)
        what = "implied clearance 1000*RATE/DV"
    else:
        jumps, what = subject_scale_jumps(ids, dv), "blinatumomab DV"
    return [_jump_message(jumps, what, unit)] if len(jumps) else []


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
    if not positive.any():
        return msgs
    r_pos = infusion_rate_at(frame, positive)
    msgs += _subject_jumps(frame["ID"].to_numpy()[positive], dv[positive], r_pos,
                           declared.dv)
    # the file-level check uses quantified samples only: a censored DV may hold the LLOQ
    quantified = (frame["CENS"] == 0).to_numpy()[positive]
    if quantified.any():
        r = r_pos[quantified]
        during = r > 0
        if during.any():
            cl = 1000.0 * r[during] / dv[positive][quantified][during]
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

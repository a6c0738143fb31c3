"""Body-size dosing rules: ug/m2/day -> ug/h with caps, adult vs paediatric arm.

The BLINCYTO label (prescribing information, dosage section) doses patients
weighing 45 kg or more at flat ug/day doses and lighter patients at
ug/m2/day doses capped at the adult dose (5 ug/m2/day <= 9 ug/day, then
15 ug/m2/day <= 28 ug/day). Delivered rates are written in ug/h
(docs/data_format.md): ``rate = min(dose x BSA, cap) / 24``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from blinapk.dosing._spec import HOURS_PER_DAY, _check_unit
from blinapk.dosing.step import Step

__all__ = ["ADULT_WEIGHT_KG", "choose_arm", "daily_dose", "dose_rate"]

#: Body weight (kg) at or above which the label uses flat ug/day dosing (flag V).
ADULT_WEIGHT_KG = 45.0


def daily_dose(
    dose: float, unit: str = "ug/day", bsa: Any = None, cap: float | None = None
) -> np.ndarray:
    """Return the delivered daily dose in ug/day.

    Parameters
    ----------
    dose : float
        Prescribed dose in ``unit``.
    unit : {"ug/day", "ug/m2/day"}
        ``ug/m2/day`` multiplies ``dose`` by ``bsa``.
    bsa : array_like, optional
        Body-surface area (m2); required for ``ug/m2/day``.
    cap : float, optional
        Maximum daily dose (ug/day).

    Returns
    -------
    numpy.ndarray
        ug/day, broadcast against ``bsa`` (0-d for flat doses without BSA).
        A NaN BSA gives NaN.

    Examples
    --------
    >>> daily_dose(5, "ug/m2/day", bsa=[0.8, 2.2], cap=9).tolist()
    [4.0, 9.0]
    """
    unit = _check_unit(unit, "unit")
    if unit == "ug/m2/day":
        if bsa is None:
            raise ValueError("a ug/m2/day dose needs bsa")
        per_day = float(dose) * np.asarray(bsa, dtype=float)
    else:
        per_day = np.asarray(float(dose)) if bsa is None else np.full(np.shape(bsa), float(dose))
    if cap is not None:
        # fmin would turn a NaN BSA into the cap; keep NaN visible instead.
        per_day = np.where(np.isnan(per_day), np.nan, np.minimum(per_day, float(cap)))
    return per_day


def dose_rate(
    dose: float, unit: str = "ug/day", bsa: Any = None, cap: float | None = None
) -> np.ndarray:
    """Return the infusion rate in ug/h (``daily_dose(...) / 24``).

    Examples
    --------
    >>> float(dose_rate(28))
    1.1666666666666667
    >>> dose_rate(15, "ug/m2/day", bsa=[0.8], cap=28).tolist()
    [0.5]
    """
    return daily_dose(dose, unit, bsa, cap) / HOURS_PER_DAY


def step_rate(step: Step, bsa: Any = None) -> np.ndarray:
    """Return the ug/h rate of ``step`` for each BSA."""
    return dose_rate(step.dose, step.unit, bsa, step.cap)


def choose_arm(wt: Any, threshold_kg: float = ADULT_WEIGHT_KG) -> np.ndarray:
    """Return ``"adult"`` (flat dosing) where ``wt >= threshold_kg``, else ``"paediatric"``.

    Parameters
    ----------
    wt : array_like
        Body weight (kg). NaN weights give ``"paediatric"``; callers needing
        the arm must validate WT first (``dose_records`` does).
    threshold_kg : float, default 45
        The label's threshold.

    Returns
    -------
    numpy.ndarray of str

    Examples
    --------
    >>> choose_arm([44.9, 45.0, 80.0]).tolist()
    ['paediatric', 'adult', 'adult']
    """
    wt = np.asarray(wt, dtype=float)
    return np.where(wt >= threshold_kg, "adult", "paediatric")

"""Dose records padded into per-subject arrays (:class:`DoseMatrix`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from blinapk.errors import DataValidationError, Violation

__all__ = ["DoseMatrix", "dose_matrix"]


def _frozen(a: Any, dtype: type = float) -> np.ndarray:
    out = np.array(a, dtype=dtype, copy=True)
    out.setflags(write=False)
    return out


@dataclass(frozen=True, eq=False)
class DoseMatrix:
    """Every subject's doses, padded to a rectangle.

    Parameters
    ----------
    time : ndarray, shape (n_subjects, n_dose_max)
        Start time of each dose (h).
    amt : ndarray, shape (n_subjects, n_dose_max)
        Amount (ug); padding entries have amount 0.
    duration : ndarray, shape (n_subjects, n_dose_max)
        Infusion duration (h); 0 for a bolus and for padding.
    subjects : tuple, optional
        Subject IDs in row order (``Dataset.subjects``); defaults to
        ``0 .. n_subjects-1``.

    Attributes
    ----------
    n_doses : ndarray of int, shape (n_subjects,)
        Number of real (non-padding) doses per subject; real doses come first
        in each row, sorted by time.

    Notes
    -----
    Arrays are copied and made read-only.  An infusion of amount ``amt``
    over ``duration`` hours runs at ``amt / duration`` ug/h.
    """

    time: np.ndarray
    amt: np.ndarray
    duration: np.ndarray
    subjects: tuple = ()
    n_doses: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        time = _frozen(self.time)
        amt = _frozen(self.amt)
        duration = _frozen(self.duration)
        if time.ndim != 2 or amt.shape != time.shape or duration.shape != time.shape:
            raise ValueError(
                "DoseMatrix: time, amt and duration must be 2-D arrays of one shape "
                f"(got {time.shape}, {amt.shape}, {duration.shape})"
            )
        for name, arr in (("time", time), ("amt", amt), ("duration", duration)):
            if not np.all(np.isfinite(arr)):
                raise ValueError(f"DoseMatrix: {name} holds non-finite values")
        if np.any(amt < 0) or np.any(duration < 0):
            raise ValueError("DoseMatrix: amt and duration must be >= 0")
        subjects = tuple(self.subjects) if len(self.subjects) else tuple(range(time.shape[0]))
        if len(subjects) != time.shape[0]:
            raise ValueError(
                f"DoseMatrix: {len(subjects)} subjects for {time.shape[0]} rows of doses"
            )
        object.__setattr__(self, "time", time)
        object.__setattr__(self, "amt", amt)
        object.__setattr__(self, "duration", duration)
        object.__setattr__(self, "subjects", subjects)
        object.__setattr__(self, "n_doses", _frozen((amt > 0).sum(axis=1), dtype=np.int64))

    @property
    def n_subjects(self) -> int:
        """Number of subjects (rows)."""
        return int(self.time.shape[0])

    @property
    def n_dose_max(self) -> int:
        """Number of dose columns (the largest per-subject dose count, at least 1)."""
        return int(self.time.shape[1])

    @property
    def end(self) -> np.ndarray:
        """End time of each dose (h); equals ``time`` for boluses."""
        return self.time + self.duration

    @property
    def rate(self) -> np.ndarray:
        """Infusion rate (ug/h); 0 for boluses and padding."""
        safe = np.where(self.duration > 0, self.duration, 1.0)
        return np.where(self.duration > 0, self.amt / safe, 0.0)


def _rows(frame: pd.DataFrame, mask: np.ndarray) -> tuple[int, ...]:
    if "ROW" in frame.columns:
        rows = frame["ROW"].to_numpy()[mask]
    else:
        rows = np.flatnonzero(mask) + 1
    return tuple(int(r) for r in rows)


def _numeric(frame: pd.DataFrame, col: str, violations: list[Violation]) -> np.ndarray:
    values = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    bad = ~np.isfinite(values)
    if bad.any():
        violations.append(
            Violation("not_finite", col, _rows(frame, bad), "must be a finite number")
        )
    return values


def dose_matrix(doses_frame: pd.DataFrame, subjects: Sequence[Any]) -> DoseMatrix:
    """Pad contract dose rows into a :class:`DoseMatrix`.

    Parameters
    ----------
    doses_frame : DataFrame
        Rows with ``ID``, ``TIME`` (h), ``AMT`` (ug), ``RATE`` (ug/h; 0 =
        bolus, else an infusion lasting ``AMT / RATE`` h) and optionally
        ``EVID`` (only ``EVID == 1`` rows are used) and ``ROW`` (used in
        error messages; otherwise the 1-based position is reported).  Column
        names are case-insensitive.  Not modified.
    subjects : sequence
        Subject IDs, in the order of the output rows (``Dataset.subjects``).
        Subjects without doses get an all-padding row.

    Returns
    -------
    DoseMatrix
        Shape ``(len(subjects), max(1, largest dose count))``; each row
        sorted by dose time (stable).

    Raises
    ------
    DataValidationError
        Missing columns, non-finite values, ``AMT <= 0``, ``RATE < 0``, or an
        ``ID`` not in ``subjects`` -- every violation at once, with rows.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"ID": [1, 1, 2], "TIME": [0.0, 24.0, 0.0], "EVID": 1,
    ...                   "AMT": [9.0, 28.0, 5.0], "RATE": [0.375, 28 / 24, 0.0]})
    >>> dm = dose_matrix(d, subjects=[1, 2])
    >>> dm.amt.shape, dm.duration[0].tolist(), dm.n_doses.tolist()
    ((2, 2), [24.0, 24.0], [2, 1])
    """
    frame = doses_frame.rename(columns={c: str(c).upper() for c in doses_frame.columns})
    missing = [c for c in ("ID", "TIME", "AMT", "RATE") if c not in frame.columns]
    if missing:
        raise DataValidationError(
            [Violation("missing_column", c, (), "required for dose records") for c in missing]
        )
    if "EVID" in frame.columns:
        evid = pd.to_numeric(frame["EVID"], errors="coerce").to_numpy(dtype=float, na_value=-1)
        frame = frame.loc[evid == 1]
    violations: list[Violation] = []
    time = _numeric(frame, "TIME", violations)
    amt = _numeric(frame, "AMT", violations)
    rate = _numeric(frame, "RATE", violations)
    with np.errstate(invalid="ignore"):
        bad_amt = amt <= 0
        bad_rate = rate < 0
    if bad_amt.any():
        violations.append(
            Violation("amt_not_positive", "AMT", _rows(frame, bad_amt), "must be > 0")
        )
    if bad_rate.any():
        violations.append(
            Violation("rate_negative", "RATE", _rows(frame, bad_rate), "must be >= 0")
        )
    subjects = tuple(subjects)
    index = pd.Index(subjects)
    if not index.is_unique:
        raise ValueError("dose_matrix: subjects must be unique")
    sidx = index.get_indexer(pd.Index(frame["ID"]))
    unknown = sidx < 0
    if unknown.any():
        violations.append(
            Violation("unknown_subject", "ID", _rows(frame, unknown), "ID not in `subjects`")
        )
    if violations:
        raise DataValidationError(violations)

    duration = np.where(rate > 0, amt / np.where(rate > 0, rate, 1.0), 0.0)
    order = np.lexsort((time, sidx))
    sidx, time, amt, duration = sidx[order], time[order], amt[order], duration[order]
    n_sub = len(subjects)
    counts = np.bincount(sidx, minlength=n_sub)
    width = max(1, int(counts.max()) if counts.size else 1)
    first = np.concatenate(([0], np.cumsum(counts)[:-1])) if n_sub else np.zeros(0, int)
    col = np.arange(sidx.size) - first[sidx]
    out_time = np.zeros((n_sub, width))
    out_amt = np.zeros((n_sub, width))
    out_dur = np.zeros((n_sub, width))
    out_time[sidx, col] = time
    out_amt[sidx, col] = amt
    out_dur[sidx, col] = duration
    return DoseMatrix(out_time, out_amt, out_dur, subjects=subjects)

"""Piecewise-constant infusion rate tables from any contract dose frame.

:func:`rate_table` turns dose records (ours from
:func:`~blinapk.dosing.dose_records`, or anyone's, e.g. ``Dataset.doses()``)
into the rate in force over time, per subject: overlapping infusions are
summed, gaps are explicit rows at rate 0, and contiguous pieces at the same
rate (bag changes) are merged. :func:`rate_at` looks the table up at
arbitrary times; its ``at_change`` argument says which rate applies at the
very instant of a change. These two are the package's only rate sweep and
rate lookup (the NCA and the data checks use them too). Everything is
vectorised over subjects (sorting, cumulative sums and ``searchsorted``, no
Python loop per subject).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from blinapk.dosing._spec import TIME_TOL
from blinapk.errors import DataValidationError, DataWarning, ModelSpecError, Violation

__all__ = ["AT_CHANGE", "bolus_table", "idle_hours", "rate_at", "rate_table"]

#: Conventions of :func:`rate_at` for a time exactly at a rate change:
#: ``"new"`` rows are ``[START, END)``, ``"previous"`` rows are ``(START, END]``.
AT_CHANGE: tuple[str, ...] = ("new", "previous")

# Event times closer than this are one boundary: a record ending at
# TIME + AMT/RATE meets the next one despite float noise.
_TIME_TOL = TIME_TOL
_CARRIED = ("CYCLE", "DOSE_LEVEL")


def _dose_rows(doses: pd.DataFrame) -> pd.DataFrame:
    """Upper-case copy of the dose rows (``EVID == 1`` if EVID exists), validated."""
    if not isinstance(doses, pd.DataFrame):
        raise TypeError(f"doses must be a pandas DataFrame, got {type(doses)}")
    frame = doses.rename(columns=lambda c: str(c).upper())
    missing = [c for c in ("ID", "TIME", "AMT", "RATE") if c not in frame.columns]
    if missing:
        raise DataValidationError(
            [Violation("missing_column", c, (), "dose records need it") for c in missing]
        )
    rows = frame["ROW"].to_numpy() if "ROW" in frame.columns else np.arange(1, len(frame) + 1)
    frame = frame.assign(_ROW=rows)
    if "EVID" in frame.columns:
        evid = pd.to_numeric(frame["EVID"], errors="coerce")
        frame = frame.loc[(evid == 1).to_numpy()]
    problems = []
    if frame["ID"].isna().any():
        problems.append(
            Violation("missing_id", "ID", tuple(frame["_ROW"][frame["ID"].isna()]), "ID is NaN")
        )
    numeric = {}
    for col in ("TIME", "AMT", "RATE"):
        num = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        bad = ~np.isfinite(num)
        if bad.any():
            rows_bad = tuple(frame["_ROW"].to_numpy()[bad])
            problems.append(Violation("not_finite", col, rows_bad, "missing or non-numeric"))
        numeric[col] = num
    for col, bad, msg in (
        ("AMT", numeric["AMT"] <= 0, "AMT must be > 0 on dose rows"),
        ("RATE", numeric["RATE"] < 0, "RATE must be >= 0"),
    ):
        if bad.any():
            problems.append(Violation(f"{col.lower()}_range", col, tuple(frame["_ROW"][bad]), msg))
    if problems:
        raise DataValidationError(problems)
    return frame.assign(**numeric)


def bolus_table(doses: pd.DataFrame) -> pd.DataFrame:
    """Return the bolus records (``RATE == 0``): ``ID, TIME, AMT`` (+ ``CYCLE, DOSE_LEVEL``).

    :func:`rate_table` describes infusions only; boluses are listed here.
    """
    d = _dose_rows(doses)
    cols = ["ID", "TIME", "AMT"] + [c for c in _CARRIED if c in d.columns]
    return d.loc[(d["RATE"] == 0).to_numpy(), cols].reset_index(drop=True)


def _empty(carried: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=float) for c in ["ID", "START", "END", "RATE"]})[
        ["ID", "START", "END", "RATE"]
    ].assign(**{c: pd.Series(dtype=object) for c in carried})


def _group_starts(code: np.ndarray) -> np.ndarray:
    first = np.ones(code.size, dtype=bool)
    first[1:] = code[1:] != code[:-1]
    return first


def _ffill_index(valid: np.ndarray) -> np.ndarray:
    """Index of the last position <= i where ``valid`` holds (0 if none)."""
    return np.maximum.accumulate(np.where(valid, np.arange(valid.size), 0))


def _sequential(code: np.ndarray, t0: np.ndarray, t1: np.ndarray) -> dict[str, Any]:
    """Elementary segments of sorted, non-overlapping records: records plus gaps."""
    n = code.size
    gap = np.zeros(n, dtype=bool)
    gap[:-1] = (code[1:] == code[:-1]) & (t1[:-1] < t0[1:])
    slot = np.arange(n) + np.r_[0, np.cumsum(gap[:-1])]  # where record i lands
    m = n + int(gap.sum())
    start, end = np.empty(m), np.empty(m)
    owner = np.full(m, -1)
    seg_code = np.empty(m, dtype=code.dtype)
    start[slot], end[slot], owner[slot], seg_code[slot] = t0, t1, np.arange(n), code
    g = slot[gap] + 1
    start[g], end[g], seg_code[g] = t1[:-1][gap[:-1]], t0[1:][gap[:-1]], code[:-1][gap[:-1]]
    cyc = owner[_ffill_index(owner >= 0)]  # a gap belongs to the record before it
    keep = end - start > _TIME_TOL  # drop records shorter than the time resolution
    return {
        "code": seg_code[keep],
        "start": start[keep],
        "end": end[keep],
        "rate": None,
        "owner": owner[keep],
        "cyc": cyc[keep],
    }


def _sweep(code: np.ndarray, t0: np.ndarray, t1: np.ndarray, rate: np.ndarray) -> dict[str, Any]:
    """Elementary segments of arbitrary records: sweep the sorted start/end events."""
    n = rate.size
    rec = np.concatenate([np.arange(n), np.arange(n)])
    sign = np.concatenate([np.ones(n, np.int64), -np.ones(n, np.int64)])
    ev_code = np.concatenate([code, code])
    ev_t = np.concatenate([t0, t1])
    o = np.lexsort((ev_t, ev_code))  # stable: starts before ends at tied times
    rec, sign, ev_code, ev_t = rec[o], sign[o], ev_code[o], ev_t[o]
    # snap clusters of nearly equal times (float noise) to their first member
    cluster = _group_starts(ev_code)
    cluster[1:] |= (ev_t[1:] - ev_t[:-1]) > _TIME_TOL
    ev_t = ev_t[_ffill_index(cluster)]
    # Integer running sums are exact: count of active records, and (when a
    # single record is active) its index. Only overlaps use the float sum.
    count = np.cumsum(sign)
    single = np.cumsum(sign * rec)
    flow = np.cumsum(sign * rate[rec])
    first = _group_starts(ev_code)
    flow = flow - np.repeat(
        (flow - sign * rate[rec])[first], np.diff(np.r_[np.flatnonzero(first), o.size])
    )
    latest = rec[_ffill_index(sign > 0)]

    last = np.ones(o.size, dtype=bool)  # last event at each (subject, time)
    last[:-1] = (ev_code[1:] != ev_code[:-1]) | (ev_t[1:] != ev_t[:-1])
    b = np.flatnonzero(last)
    keep = ev_code[b[:-1]] == ev_code[b[1:]]
    sb, nb = b[:-1][keep], b[1:][keep]
    c = count[sb]
    owner = np.where(c == 1, single[sb], -1)  # record whose DOSE_LEVEL applies
    cyc = np.where(c == 0, -1, np.where(c == 1, single[sb], latest[sb]))
    return {
        "code": ev_code[sb],
        "start": ev_t[sb],
        "end": ev_t[nb],
        "rate": np.where(c == 0, 0.0, np.where(c == 1, rate[np.maximum(owner, 0)], flow[sb])),
        "owner": owner,
        "cyc": cyc[_ffill_index(cyc >= 0)],  # gaps inherit the previous row
    }


def rate_table(doses: pd.DataFrame) -> pd.DataFrame:
    """Return the piecewise-constant infusion rate of every subject.

    Parameters
    ----------
    doses : pandas.DataFrame
        Contract dose rows (``ID, TIME, AMT, RATE``; column names
        case-insensitive; when ``EVID`` is present only ``EVID == 1`` rows are
        used, so a whole dataset can be passed). Never mutated.

    Returns
    -------
    pandas.DataFrame
        ``ID, START, END, RATE`` (h, h, ug/h), plus ``CYCLE`` and
        ``DOSE_LEVEL`` when the input has them. Per subject, rows are sorted,
        contiguous (``END`` of one row is ``START`` of the next) and span from
        the first infusion start to the last infusion end:

        * overlapping infusions are summed, split at every start and end;
        * gaps between infusions are explicit rows with ``RATE`` 0 (their
          ``CYCLE`` is that of the preceding row, ``DOSE_LEVEL`` is missing);
        * contiguous pieces with the same ``RATE`` (and the same ``CYCLE`` and
          ``DOSE_LEVEL``) are merged, so bag changes leave no trace;
        * where infusions overlap, ``DOSE_LEVEL`` is missing and ``CYCLE`` is
          that of the most recently started record.

        Subjects appear in input order. Boluses (``RATE == 0``) have no
        duration and are left out with a :class:`~blinapk.errors.DataWarning`;
        get them from :func:`bolus_table`.

    Raises
    ------
    DataValidationError
        Missing columns, NaN/non-numeric ``ID, TIME, AMT, RATE``, ``AMT <= 0``
        or ``RATE < 0`` on dose rows (rows named by ``ROW`` if present, else by
        1-based position).

    Examples
    --------
    Two 24-h bags at 1 ug/h, a day off, then 2 ug/h for 12 h:

    >>> doses = pd.DataFrame({"ID": 1, "TIME": [0.0, 24, 72], "AMT": [24.0, 24, 24],
    ...                       "RATE": [1.0, 1, 2]})
    >>> rate_table(doses).to_dict("list")  # doctest: +NORMALIZE_WHITESPACE
    {'ID': [1, 1, 1], 'START': [0.0, 48.0, 72.0], 'END': [48.0, 72.0, 84.0],
     'RATE': [1.0, 0.0, 2.0]}
    """
    d = _dose_rows(doses)
    carried = [c for c in _CARRIED if c in d.columns]
    is_bolus = (d["RATE"] == 0).to_numpy()
    if is_bolus.any():
        warnings.warn(
            f"rate_table: {int(is_bolus.sum())} bolus record(s) (RATE 0) left out; "
            "see bolus_table()",
            DataWarning,
            stacklevel=2,
        )
    d = d.loc[~is_bolus]
    if d.empty:
        return _empty(carried)
    code, uniques = pd.factorize(d["ID"], sort=False)
    rate = d["RATE"].to_numpy()
    t0 = d["TIME"].to_numpy()
    t1 = t0 + d["AMT"].to_numpy() / rate
    same = code[1:] == code[:-1]
    in_order = np.all((code[1:] > code[:-1]) | (same & (t0[1:] >= t0[:-1])))
    if in_order:
        # a record ending within _TIME_TOL of the next start meets it exactly
        touch = same & (np.abs(t1[:-1] - t0[1:]) <= _TIME_TOL)
        t1[:-1][touch] = t0[1:][touch]
    if in_order and not np.any(same & (t1[:-1] > t0[1:])):
        seg = _sequential(code, t0, t1)  # the usual case: sorted, no overlap
    else:
        seg = _sweep(code, t0, t1, rate)
    seg_code, seg_rate, owner, cyc_owner = seg["code"], seg["rate"], seg["owner"], seg["cyc"]
    if seg_code.size == 0:  # every record shorter than the time resolution
        return _empty(carried)
    if seg_rate is None:
        seg_rate = np.where(owner >= 0, rate[np.maximum(owner, 0)], 0.0)

    # Merge contiguous segments whose rate and carried labels agree.
    new = _group_starts(seg_code) | np.r_[True, seg_rate[1:] != seg_rate[:-1]]
    keys = {}
    if "CYCLE" in carried:
        keys["CYCLE"] = pd.factorize(d["CYCLE"])[0][cyc_owner]
    if "DOSE_LEVEL" in carried:
        lv = pd.factorize(d["DOSE_LEVEL"])[0]
        keys["DOSE_LEVEL"] = np.where(owner >= 0, lv[np.maximum(owner, 0)], -1)
    for k in keys.values():
        new[1:] |= k[1:] != k[:-1]
    starts = np.flatnonzero(new)
    ends = np.r_[starts[1:], new.size] - 1
    out = pd.DataFrame(
        {
            "ID": uniques.take(seg_code[starts]),
            "START": seg["start"][starts],
            "END": seg["end"][ends],
            "RATE": seg_rate[starts],
        }
    )
    if "CYCLE" in carried:
        out["CYCLE"] = d["CYCLE"].array.take(cyc_owner[starts])
    if "DOSE_LEVEL" in carried:
        out["DOSE_LEVEL"] = pd.array(d["DOSE_LEVEL"].array).take(owner[starts], allow_fill=True)
    return out


def _last_row_before(
    code: np.ndarray, start: np.ndarray, q_code: np.ndarray, q_t: np.ndarray, side: str
) -> np.ndarray:
    """Position of the last row starting before each query time.

    Rows are sorted by subject code, then START. ``side="left"`` finds the
    last ``START < t``, ``side="right"`` the last ``START <= t``; the row
    found may belong to another subject (the caller checks).

    Times are replaced by their rank among all times, so ties are exact and
    no float key ``subject * span + time`` can merge two distinct times.
    """
    grid, rank = np.unique(np.concatenate([start, q_t]), return_inverse=True)
    width = np.int64(grid.size + 1)
    row_key = code.astype(np.int64) * width + rank[: start.size]
    q_key = q_code.astype(np.int64) * width + rank[start.size :]
    return np.searchsorted(row_key, q_key, side=side) - 1


def rate_at(rates: pd.DataFrame, ids: Any, times: Any, *, at_change: str = "new") -> pd.DataFrame:
    """Look up the rate in force and how long it has been constant.

    Parameters
    ----------
    rates : pandas.DataFrame
        Output of :func:`rate_table` (``ID, START, END, RATE``).
    ids : scalar or array_like
        Subject of each query (a scalar applies to every time).
    times : array_like
        Query times (h).
    at_change : {"new", "previous"}
        Which rate applies at the very instant ``t`` of a change (``t ==
        START`` of a row, which is also ``END`` of the row before):

        * ``"new"`` (default): rows are ``[START, END)``, the new rate applies
          from the instant it is set, as a pump delivers it. A time equal to
          the first ``START`` is inside the first infusion; a time equal to
          the last ``END`` is after it.
        * ``"previous"``: rows are ``(START, END]``, the rate before the
          change applies, as a concentration sampled at that instant
          reflects it (concentrations are continuous in time). A time equal
          to the first ``START`` is before the first infusion; a time equal
          to the last ``END`` is still inside it.

        Away from the instants of change both give the same answer.

    Returns
    -------
    pandas.DataFrame
        One row per query, in query order: ``ID, TIME, RATE`` (ug/h),
        ``RATE_START`` (h, when the current constant rate began: adjacent rows
        at the same rate count as one run, whatever their CYCLE or
        DOSE_LEVEL), ``TIME_AT_RATE = TIME - RATE_START`` and ``SEGMENT``
        (0-based position in ``rates`` of the row in force, -1 when the time
        is outside every row). After the last infusion the rate is 0 since its
        end. Before a subject's first infusion, or for a subject absent from
        ``rates``, ``RATE`` is 0 and ``RATE_START``/``TIME_AT_RATE`` are NaN
        (no infusion history).

    Raises
    ------
    ModelSpecError
        Unknown ``at_change``.
    DataValidationError
        A NaN query time, or ``ids`` and ``times`` of different lengths.

    Examples
    --------
    >>> tab = pd.DataFrame({"ID": [1, 1], "START": [0.0, 168.0], "END": [168.0, 672.0],
    ...                     "RATE": [0.375, 28 / 24]})
    >>> rate_at(tab, 1, [-1.0, 10.0, 170.0, 700.0])[["RATE", "TIME_AT_RATE"]].to_numpy().tolist()
    [[0.0, nan], [0.375, 10.0], [1.1666666666666667, 2.0], [0.0, 28.0]]

    At the step-up (168 h) and at the first start and last end:

    >>> rate_at(tab, 1, [0.0, 168.0, 672.0])["RATE"].tolist()
    [0.375, 1.1666666666666667, 0.0]
    >>> rate_at(tab, 1, [0.0, 168.0, 672.0], at_change="previous")["RATE"].tolist()
    [0.0, 0.375, 1.1666666666666667]
    """
    if at_change not in AT_CHANGE:
        raise ModelSpecError(f"at_change must be one of {AT_CHANGE}, got {at_change!r}")
    times = np.atleast_1d(np.asarray(times, dtype=float))
    if not np.all(np.isfinite(times)):
        bad = tuple(int(i) + 1 for i in np.flatnonzero(~np.isfinite(times)))
        raise DataValidationError([Violation("not_finite", "TIME", bad, "query time is NaN")])
    if np.ndim(ids) == 0:
        ids = pd.Series([ids] * times.size)
    ids = pd.Series(ids).reset_index(drop=True)
    if len(ids) != times.size:
        raise DataValidationError(
            [
                Violation(
                    "length_mismatch",
                    None,
                    (),
                    f"ids ({len(ids)}) and times ({times.size}) differ in length",
                )
            ]
        )
    code, uniques = pd.factorize(rates["ID"], sort=False)
    start = rates["START"].to_numpy(dtype=float)
    o = np.lexsort((start, code))
    code, start = code[o], start[o]
    end = rates["END"].to_numpy(dtype=float)[o]
    rate = rates["RATE"].to_numpy(dtype=float)[o]
    run = _group_starts(code)
    run[1:] |= (rate[1:] != rate[:-1]) | (start[1:] != end[:-1])
    run_start = start[_ffill_index(run)]

    q_code = pd.Index(uniques).get_indexer(ids)
    r = np.zeros(times.size)
    rs = np.full(times.size, np.nan)
    segment = np.full(times.size, -1, dtype=np.int64)
    if code.size:
        new = at_change == "new"
        s = _last_row_before(code, start, q_code, times, "right" if new else "left")
        s_safe = np.maximum(s, 0)
        ok = (s >= 0) & (q_code >= 0) & (code[s_safe] == q_code)
        inside = ok & ((times < end[s_safe]) if new else (times <= end[s_safe]))
        after = ok & ~inside
        r = np.where(inside, rate[s_safe], 0.0)
        ended_at = np.where(rate[s_safe] == 0, run_start[s_safe], end[s_safe])
        rs = np.where(inside, run_start[s_safe], np.where(after, ended_at, np.nan))
        segment = np.where(inside, o[s_safe], -1)
    return pd.DataFrame(
        {
            "ID": ids.array,
            "TIME": times,
            "RATE": r,
            "RATE_START": rs,
            "TIME_AT_RATE": times - rs,
            "SEGMENT": segment,
        }
    )


def idle_hours(rates: pd.DataFrame, ids: Any, start: Any, end: Any) -> np.ndarray:
    """Hours without infusion between ``start`` and ``end`` for each query.

    Parameters
    ----------
    rates : pandas.DataFrame
        Output of :func:`rate_table` (``ID, START, END, RATE``).
    ids, start, end : array_like
        Subject and interval (h) of each query, same length; ``end < start``
        counts as an empty interval.

    Returns
    -------
    numpy.ndarray
        ``end - start`` minus the time at a positive rate inside it (time
        before the first or after the last infusion is idle).

    Examples
    --------
    >>> tab = pd.DataFrame({"ID": [1, 1], "START": [0.0, 48.0], "END": [24.0, 72.0],
    ...                     "RATE": [1.0, 1.0]})
    >>> idle_hours(tab, [1, 1], [12.0, 20.0], [60.0, 100.0]).tolist()
    [24.0, 52.0]
    """
    ids = np.atleast_1d(np.asarray(ids, dtype=object))
    a = np.atleast_1d(np.asarray(start, dtype=float))
    b = np.maximum(np.atleast_1d(np.asarray(end, dtype=float)), a)
    on = rates[rates["RATE"] > 0]
    by_id = {k: (g["START"].to_numpy(float), g["END"].to_numpy(float))
             for k, g in on.groupby("ID", sort=False)}
    out = b - a
    for k in range(a.size):
        s, e = by_id.get(ids[k], (np.zeros(0), np.zeros(0)))
        out[k] -= float(np.sum(np.clip(np.minimum(e, b[k]) - np.maximum(s, a[k]), 0.0, None)))
    return out

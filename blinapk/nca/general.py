"""General noncompartmental analysis: compute registered parameters per group and interval.

>>> import pandas as pd
>>> from blinapk.nca.general import compute_nca
>>> from blinapk.nca.intervals import Interval
>>> conc = pd.DataFrame({"ID": 1, "TIME": [0.0, 1, 2, 4, 8],
...                      "CONC": [0.0, 8.0, 6.0, 3.0, 0.75]})
>>> res = compute_nca(conc, Interval(0, float("inf"), ("cmax", "auclast", "half_life")),
...                   units={"dv": "ng/mL"})
>>> res.wide()[["cmax", "half_life"]].round(6).to_dict("records")
[{'cmax': 8.0, 'half_life': 2.0}]
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from blinapk.errors import DataValidationError, ModelSpecError, Violation
from blinapk.nca._general_defaults import DEFAULT_REGISTRY
from blinapk.nca.auc import check_auc_method
from blinapk.nca.intervals import Interval, as_intervals
from blinapk.nca.lambda_z import LambdaZOptions
from blinapk.nca.registry import Registry
from blinapk.units import AMOUNT_UNITS, CONC_UNITS, Units

__all__ = ["DEFAULT_REGISTRY", "ROUTES", "NCAResult", "compute_nca", "unit_string"]

ROUTES: tuple[str, ...] = ("extravascular", "iv_bolus", "iv_infusion")


def unit_string(kind: str, units: Units) -> str:
    """Return the unit text of a unit kind for the given data units.

    Examples
    --------
    >>> unit_string("conc*time", Units())
    'h*pg/mL'
    >>> unit_string("clearance", Units(time="day"))
    'L/day'
    """
    conc, time = units.dv, units.time
    return {
        "conc": conc, "time": time, "conc*time": f"{time}*{conc}",
        "conc*time^2": f"{time}^2*{conc}", "1/time": f"1/{time}", "volume": "L",
        "clearance": f"L/{time}", "amount": units.amt, "%": "%", "count": "", "unitless": "",
    }[kind]


@dataclass(frozen=True)
class NCAResult:
    """Result of :func:`compute_nca` (frozen; accessors return copies).

    Attributes
    ----------
    table : pandas.DataFrame
        Long table: group columns, ``start``, ``end``, ``parameter``,
        ``PPTESTCD``, ``value``, ``unit``, ``reason`` (empty when estimated).
    excluded : pandas.DataFrame
        Input rows left out or changed (group columns, ``ROW``, ``TIME``,
        ``STATUS`` (``excluded``/``modified``), ``REASON``).
    groups : tuple of str
        Grouping columns.
    settings : mapping
        Route, AUC method, BLQ rule, units, lambda_z options, parameter labels.
    """

    table: pd.DataFrame
    excluded: pd.DataFrame
    groups: tuple[str, ...]
    settings: Mapping[str, Any] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """Long tidy table, one row per group x interval x parameter (a copy)."""
        return self.table.copy()

    def wide(self, values: str = "value") -> pd.DataFrame:
        """One row per group x interval, one column per parameter.

        Parameters
        ----------
        values : {"value", "reason"}
            What to put in the cells.
        """
        index = [*self.groups, "start", "end"]
        order = list(dict.fromkeys(self.table["parameter"]))
        if self.table.empty:  # no observation at all: an empty table, not a KeyError
            return pd.DataFrame(columns=index)
        keys = pd.MultiIndex.from_frame(self.table[index].drop_duplicates())
        out = self.table.pivot(index=index, columns="parameter", values=values)
        out = out.reindex(index=keys, columns=order).reset_index()
        out.columns.name = None
        return out


def _col(frame: pd.DataFrame, name: str) -> str | None:
    hits = [c for c in frame.columns if str(c).upper() == name.upper()]
    return hits[0] if hits else None


def _row_numbers(frame: pd.DataFrame) -> np.ndarray:
    row = _col(frame, "ROW")
    if row is not None:
        return frame[row].to_numpy()
    return np.arange(1, len(frame) + 1)


def _numeric(frame: pd.DataFrame, col: str, rows: np.ndarray, what: str) -> np.ndarray:
    values = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float)
    bad = np.isnan(values) & frame[col].notna().to_numpy()
    if bad.any():
        raise DataValidationError([Violation("not_numeric", col.upper(), tuple(int(r) for r in
                                   rows[bad]), f"{what} must be numeric")])
    return values


def _volume_factor(units: Units) -> float:
    """Litres per (amount unit / concentration unit)."""
    return float(1000 * AMOUNT_UNITS[units.amt] / CONC_UNITS[units.dv])


@dataclass(frozen=True)
class _Doses:
    """Per-group dose records (relative to nothing; absolute times)."""

    kind: str  # "none" | "scalar" | "column" | "records"
    scalar: float = math.nan
    by_group: Mapping[Any, tuple[np.ndarray, np.ndarray, np.ndarray]] = field(
        default_factory=dict)
    duration: float = math.nan

    def lookup(self, key, start: float, end: float, route: str) -> tuple[float, bool, float]:
        default_duration = self.duration if route == "iv_infusion" else 0.0
        if self.kind in ("none", "scalar", "column"):
            amount = self.scalar if self.kind == "scalar" else self.by_group.get(key, math.nan)
            return float(amount), start <= 0, default_duration
        times, amounts, durations = self.by_group.get(key, (np.empty(0),) * 3)
        inside = (times >= start) & (times < end)
        first = not np.any(times < start)
        if not inside.any():
            return math.nan, first, default_duration
        dur = float(durations[inside][0])
        if route != "iv_infusion":
            dur = 0.0
        elif not np.isfinite(dur):
            dur = default_duration
        return float(amounts[inside].sum()), first, dur


def _prepare_doses(dose, frame, groups, time_col, duration) -> _Doses:
    dur = math.nan if duration is None else float(duration)
    evid, amt = _col(frame, "EVID"), _col(frame, "AMT")
    if dose is None and evid is not None and amt is not None:
        dose = frame.loc[pd.to_numeric(frame[evid], errors="coerce") == 1]
        if dose.empty:
            return _Doses("none", duration=dur)
    if dose is None:
        return _Doses("none", duration=dur)
    if isinstance(dose, int | float | np.integer | np.floating):
        if float(dose) < 0 or math.isinf(float(dose)):
            raise ModelSpecError(f"dose must be finite and >= 0 (NaN = unknown), got {dose!r}")
        return _Doses("scalar", scalar=float(dose), duration=dur)
    if isinstance(dose, str):
        col = _col(frame, dose)
        if col is None:
            raise ModelSpecError(f"dose column {dose!r} not in the concentration frame")
        amounts = _numeric(frame, col, _row_numbers(frame), f"dose column {col}")
        _check_dose_amounts(amounts, col, _row_numbers(frame))
        frame = frame.assign(**{col: amounts})
        first = frame.groupby(list(groups), sort=False)[col].first() if groups else None
        by = ({_key(k, len(groups)): float(v) for k, v in first.items()} if groups
              else {(): float(frame[col].iloc[0])})
        return _Doses("column", by_group=by, duration=dur)
    if isinstance(dose, pd.DataFrame):
        tcol, acol = _col(dose, time_col), _col(dose, "AMT")
        if tcol is None or acol is None:
            raise ModelSpecError("dose frame needs TIME and AMT columns")
        missing = [g for g in groups if g not in dose.columns]
        if missing:
            raise ModelSpecError(f"dose frame lacks the group columns {missing}")
        drows = _row_numbers(dose)
        t = _numeric(dose, tcol, drows, "dose TIME")
        a = _numeric(dose, acol, drows, "dose AMT")
        _check_dose_amounts(a, acol, drows)
        if np.isnan(t).any() or np.isinf(t).any():
            bad = ~np.isfinite(t)
            raise DataValidationError([Violation("dose_time_missing", tcol.upper(), tuple(
                int(r) for r in drows[bad]), "dose records need a finite TIME")])
        rcol, dcol = _col(dose, "RATE"), _col(dose, "DURATION")
        d = np.full(t.shape, np.nan)
        if dcol is not None:
            d = pd.to_numeric(dose[dcol], errors="coerce").to_numpy(float)
        elif rcol is not None:
            r = pd.to_numeric(dose[rcol], errors="coerce").to_numpy(float)
            with np.errstate(divide="ignore", invalid="ignore"):
                d = np.where(r > 0, a / r, 0.0)
        by = {}
        keys = (dose.groupby(list(groups), sort=False).indices if groups
                else {(): np.arange(len(dose))})
        for k, idx in keys.items():
            order = idx[np.argsort(t[idx], kind="stable")]
            by[_key(k, len(groups))] = (t[order], a[order], d[order])
        return _Doses("records", by_group=by, duration=dur)
    raise ModelSpecError(f"dose must be None, a number, a column name or a frame, got {dose!r}")


def _check_dose_amounts(amounts: np.ndarray, col: str, rows: np.ndarray) -> None:
    bad = (amounts < 0) | np.isinf(amounts)
    if bad.any():
        raise DataValidationError([Violation("dose_negative", col.upper(), tuple(
            int(r) for r in rows[bad]), "dose amounts must be finite and >= 0")])


def _key(k, n: int) -> tuple:
    if n == 0:
        return ()
    return k if isinstance(k, tuple) else (k,)


def _apply_blq(blq, frame, conc, rows, keys, time, conc_col):
    from blinapk.nca.blq import blq_positions, get_blq_policy

    policy = get_blq_policy(blq)
    lloq_col, lod_col, cens_col = _col(frame, "LLOQ"), _col(frame, "LOD"), _col(frame, "CENS")
    if lloq_col is None:
        raise ModelSpecError("a BLQ rule needs an LLOQ column in the concentration frame")
    lloq = _numeric(frame, lloq_col, rows, "LLOQ")
    lod = _numeric(frame, lod_col, rows, "LOD") if lod_col else np.full(conc.shape, np.nan)
    cens = _numeric(frame, cens_col, rows, "CENS") if cens_col else np.zeros(conc.shape)
    position = None
    if policy.needs_position:
        from blinapk.nca.blq import blq_mask

        flag, _ = blq_mask(conc, cens, lloq)
        position = blq_positions(keys, time, flag)
    out = policy.apply(conc, cens, lloq, lod, position)
    return out.value, out.status, out.reason


def compute_nca(
    conc_frame: pd.DataFrame,
    intervals: Interval | Sequence[Interval] | pd.DataFrame,
    *,
    dose: float | str | pd.DataFrame | None = None,
    route: str = "extravascular",
    auc_method: str = "lin-up/log-down",
    blq: Any = None,
    registry: Registry | None = None,
    groups: Sequence[str] | None = None,
    time: str = "TIME",
    conc: str | None = None,
    units: Mapping[str, str] | Units | None = None,
    duration: float | None = None,
    lambda_z_options: LambdaZOptions | None = None,
    dvid: str = "BLIN",
) -> NCAResult:
    """Compute NCA parameters for every group and interval.

    Parameters
    ----------
    conc_frame : pandas.DataFrame or Dataset
        Concentrations: grouping columns (``ID`` by default), ``TIME`` and
        ``CONC`` (or ``DV``). Contract data (``EVID``, ``MDV``, ``AMT``, ``RATE``)
        is understood: observations are ``EVID == 0`` rows without ``MDV == 1``
        and, when ``dose`` is None, dose records are the ``EVID == 1`` rows.
        A :class:`blinapk.data.Dataset` gives its ``dvid`` observations and
        its dose records. Never modified.
    intervals : Interval, sequence of Interval or DataFrame
        What to compute where (see :mod:`blinapk.nca.intervals`).
    dose : float, str, DataFrame or None
        Dose amount for CL and V: one number for everyone, a column of
        ``conc_frame`` (first value per group), or dose records (group
        columns, ``TIME``, ``AMT``, optional ``RATE``/``DURATION``); the dose of
        an interval is the sum over records with ``start <= TIME < end``.
    route : {"extravascular", "iv_bolus", "iv_infusion"}
        Route of administration.
    auc_method : {"lin-up/log-down", "linear", "lin-log"}
        Trapezoid rule (``"log-down"`` is an alias of ``"lin-up/log-down"``).
    blq : str or BLQPolicy, optional
        BLQ rule from :mod:`blinapk.nca.blq` (needs ``LLOQ``; ``CENS``,
        ``LOD`` optional). None = use the concentrations as given.
    registry : Registry, optional
        Parameter registry (:data:`DEFAULT_REGISTRY` by default).
    groups : sequence of str, optional
        Grouping columns (``("ID",)`` when an ``ID`` column exists, else none).
    time, conc : str
        Time and concentration columns (``conc`` defaults to ``CONC``, else ``DV``).
    units : mapping or Units, optional
        Units of the data (``amt``, ``dv``, ``time``; blinapk internal units
        ug, pg/mL, h by default). Volumes are reported in L, clearances in L
        per time unit.
    duration : float, optional
        Infusion duration when the dose records do not give it.
    lambda_z_options : LambdaZOptions, optional
        Terminal-phase selection settings.
    dvid : str, default "BLIN"
        Analyte analysed when ``conc_frame`` is a Dataset.

    Returns
    -------
    NCAResult

    Raises
    ------
    ModelSpecError
        Unknown parameter, route, AUC method or column.
    DataValidationError
        Non-numeric or missing times, duplicate times within a group,
        negative concentrations (every offending row listed).
    """
    reg = registry or DEFAULT_REGISTRY
    if route not in ROUTES:
        raise ModelSpecError(f"unknown route {route!r}; use one of {ROUTES}")
    method = check_auc_method(auc_method)
    ivs = as_intervals(intervals)
    for iv in ivs:
        for name in iv.parameters:
            if name not in reg or not reg[name].reported:
                raise ModelSpecError(f"unknown NCA parameter {name!r} requested; "
                                     f"known: {', '.join(reg.names)}")
    u = units if isinstance(units, Units) else Units.from_mapping(units)
    lz_opt = lambda_z_options or LambdaZOptions()

    frame = conc_frame
    if hasattr(frame, "doses") and hasattr(frame, "observations"):  # a Dataset
        f = frame.frame
        key = str(dvid).strip().upper()
        frame = f.loc[(f["EVID"] == 1) | ((f["EVID"] == 0) & (f["DVID"] == key))]
    tcol = _col(frame, time)
    ccol = _col(frame, conc) if conc else (_col(frame, "CONC") or _col(frame, "DV"))
    if tcol is None or ccol is None:
        raise ModelSpecError(f"concentration frame needs {time!r} and a concentration column "
                             f"({conc or 'CONC or DV'!r}); has {list(frame.columns)}")
    if groups is None:
        groups = (_col(frame, "ID"),) if _col(frame, "ID") is not None else ()
    groups = tuple(groups)
    missing = [g for g in groups if g not in frame.columns]
    if missing:
        raise ModelSpecError(f"group columns not in the frame: {missing}")

    doses = _prepare_doses(dose, frame, groups, time, duration)
    rows_all = _row_numbers(frame)
    obs = np.ones(len(frame), dtype=bool)
    evid = _col(frame, "EVID")
    if evid is not None:
        # a text or missing EVID would silently turn an observation into a non-observation
        ev = _numeric(frame, evid, rows_all, "EVID")
        if np.isnan(ev).any():
            raise DataValidationError([Violation("evid_missing", evid.upper(), tuple(
                int(r) for r in rows_all[np.isnan(ev)]), "EVID must not be missing")])
        obs &= ev == 0
    ledger: list[dict[str, Any]] = []
    mdv = _col(frame, "MDV")
    if mdv is not None:
        is_mdv = obs & (_numeric(frame, mdv, rows_all, "MDV") == 1)
        for i in np.flatnonzero(is_mdv):
            ledger.append({"i": i, "STATUS": "excluded", "REASON": "MDV=1"})
        obs &= ~is_mdv
    sub = frame.loc[obs]
    rows = rows_all[obs]
    sub_index = np.flatnonzero(obs)
    t = _numeric(sub, tcol, rows, "TIME")
    c = _numeric(sub, ccol, rows, "concentration")
    violations = []
    if np.isnan(t).any():
        violations.append(Violation("time_missing", tcol.upper(),
                                    tuple(int(r) for r in rows[np.isnan(t)]), "TIME is missing"))
    for values, col, what in ((t, tcol, "TIME"), (c, ccol, "concentration")):
        if np.isinf(values).any():
            violations.append(Violation("not_finite", col.upper(), tuple(
                int(r) for r in rows[np.isinf(values)]), f"{what} must be finite"))
    for g in groups:
        if sub[g].isna().any():
            violations.append(Violation("group_missing", str(g).upper(), tuple(
                int(r) for r in rows[sub[g].isna().to_numpy()]),
                f"group column {g} must not be missing"))
    if (c < 0).any():
        violations.append(Violation("conc_negative", ccol.upper(),
                                    tuple(int(r) for r in rows[c < 0]),
                                    "concentrations must be >= 0"))
    gkeys = (sub.groupby(list(groups), sort=False, dropna=False).indices if groups
             else {(): np.arange(len(sub))})
    code = np.empty(len(sub), dtype=np.int64)
    for j, idx in enumerate(gkeys.values()):
        code[idx] = j
    order = np.lexsort((t, code))
    dup = (np.diff(code[order]) == 0) & (np.diff(t[order]) == 0)
    if dup.any():
        bad = np.unique(np.r_[order[1:][dup], order[:-1][dup]])
        violations.append(Violation("time_duplicated", tcol.upper(),
                                    tuple(int(r) for r in rows[bad]),
                                    "two samples at the same time in one group"))
    if violations:
        raise DataValidationError(violations)

    if blq is not None:
        c, status, reason = _apply_blq(blq, sub, c, rows, code, t, ccol)
        for i in np.flatnonzero(status > 0):
            ledger.append({"i": sub_index[i], "STATUS": "excluded" if status[i] == 2
                           else "modified", "REASON": reason[i]})
    else:
        for i in np.flatnonzero(np.isnan(c)):
            ledger.append({"i": sub_index[i], "STATUS": "excluded",
                           "REASON": "concentration missing"})

    records: list[dict[str, Any]] = []
    vf = _volume_factor(u)
    for key_raw, idx in gkeys.items():
        key = _key(key_raw, len(groups))
        keymap = dict(zip(groups, key, strict=True))
        idx = idx[np.argsort(t[idx], kind="stable")]
        ok = ~np.isnan(c[idx])
        tg, cg = t[idx][ok], c[idx][ok]
        for iv in ivs:
            if not iv.matches(keymap):
                continue
            inside = (tg >= iv.start) & (tg <= iv.end)
            amount, first, dur = doses.lookup(key, iv.start, iv.end, route)
            context = {
                "time": tg[inside] - iv.start, "conc": cg[inside],
                "time_group": tg - iv.start, "conc_group": cg,
                "tau": iv.end - iv.start, "route": route, "dose": amount,
                "duration": dur, "first_dose": first, "auc_method": method,
                "volume_factor": vf, "lambda_z_options": lz_opt,
            }
            values = reg.evaluate(iv.parameters, context)
            for name in iv.parameters:
                value, why = values[name]
                spec = reg[name]
                records.append({**keymap, "start": iv.start, "end": iv.end, "parameter": name,
                                "PPTESTCD": spec.cdisc_code(route), "value": value,
                                "unit": unit_string(spec.unit_kind, u), "reason": why})
    columns = [*groups, "start", "end", "parameter", "PPTESTCD", "value", "unit", "reason"]
    table = pd.DataFrame.from_records(records, columns=columns)
    table["value"] = table["value"].astype(float)
    excluded = _ledger_frame(ledger, frame, groups, tcol, rows_all)
    settings = MappingProxyType({
        "route": route, "auc_method": method, "blq": None if blq is None else str(blq),
        "units": u.to_dict(), "lambda_z_options": lz_opt,
        "labels": {n: reg[n].label for iv in ivs for n in iv.parameters},
    })
    return NCAResult(table=table, excluded=excluded, groups=groups, settings=settings)


def _ledger_frame(ledger, frame, groups, tcol, rows_all) -> pd.DataFrame:
    cols = [*groups, "ROW", "TIME", "STATUS", "REASON"]
    if not ledger:
        return pd.DataFrame(columns=cols)
    idx = np.array([e["i"] for e in ledger])
    out = frame.iloc[idx][list(groups)].reset_index(drop=True)
    out["ROW"] = rows_all[idx]
    out["TIME"] = pd.to_numeric(frame[tcol].iloc[idx], errors="coerce").to_numpy()
    out["STATUS"] = [e["STATUS"] for e in ledger]
    out["REASON"] = [e["REASON"] for e in ledger]
    return out.sort_values("ROW", kind="stable").reset_index(drop=True)

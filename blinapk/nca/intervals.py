"""NCA intervals as data: which parameters to compute over which time window.

An :class:`Interval` is ``[start, end]`` (``end`` may be ``inf``), the
parameters to report there, and optionally a group filter (only groups whose
columns equal these values). Intervals round-trip to a DataFrame with one row
per interval (``start``, ``end``, ``parameters`` as a comma-separated string,
plus one column per group key) and can also be read from the PKNCA layout
(one boolean column per parameter).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import pandas as pd

from blinapk.errors import ModelSpecError

__all__ = ["Interval", "as_intervals", "intervals_from_frame", "intervals_to_frame"]


@dataclass(frozen=True)
class Interval:
    """One NCA interval.

    Parameters
    ----------
    start : float
        Interval start (time unit of the data).
    end : float
        Interval end (``math.inf`` for "to infinity").
    parameters : tuple of str
        Parameter names to report (a single name or a comma-separated string
        is accepted).
    group : mapping or None
        Only groups whose grouping columns have these values (None = all).

    Examples
    --------
    >>> Interval(0, 24, ("auclast", "cmax")).parameters
    ('auclast', 'cmax')
    >>> Interval(0, math.inf, "cmax, half_life").parameters
    ('cmax', 'half_life')
    """

    start: float
    end: float
    parameters: tuple[str, ...]
    group: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        start, end = float(self.start), float(self.end)
        if not math.isfinite(start):
            raise ModelSpecError(f"interval start must be finite, got {self.start!r}")
        if math.isnan(end) or end <= start:
            raise ModelSpecError(f"interval end must be > start, got [{self.start}, {self.end}]")
        params = self.parameters
        if isinstance(params, str):
            params = tuple(p.strip() for p in params.split(",") if p.strip())
        params = tuple(str(p) for p in params)
        if not params:
            raise ModelSpecError(f"interval [{start}, {end}] requests no parameters")
        if len(set(params)) != len(params):
            raise ModelSpecError(f"interval [{start}, {end}] repeats a parameter: {params}")
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)
        object.__setattr__(self, "parameters", params)
        if self.group is not None:
            object.__setattr__(self, "group", MappingProxyType(dict(self.group)))

    def __hash__(self) -> int:
        group = tuple(sorted((k, str(v)) for k, v in (self.group or {}).items()))
        return hash((self.start, self.end, self.parameters, group))

    def matches(self, key: Mapping[str, Any]) -> bool:
        """Return True when a group (``column -> value``) passes this interval's filter."""
        if not self.group:
            return True
        for col, want in self.group.items():
            if col not in key:
                raise ModelSpecError(f"interval filters on {col!r}, which is not a group column")
            if key[col] != want and str(key[col]) != str(want):
                return False
        return True


def as_intervals(intervals: Interval | Iterable[Interval] | pd.DataFrame) -> tuple[Interval, ...]:
    """Normalise an interval, a sequence of intervals or a frame to a tuple.

    Raises
    ------
    ModelSpecError
        If the input is empty or holds something other than intervals.
    """
    if isinstance(intervals, Interval):
        out: tuple[Interval, ...] = (intervals,)
    elif isinstance(intervals, pd.DataFrame):
        out = intervals_from_frame(intervals)
    else:
        out = tuple(intervals)
        bad = [i for i in out if not isinstance(i, Interval)]
        if bad:
            raise ModelSpecError(f"intervals must be Interval objects, got {bad[0]!r}")
    if not out:
        raise ModelSpecError("no intervals given")
    return out


def intervals_from_frame(frame: pd.DataFrame, *, group_columns: Sequence[str] | None = None
                         ) -> tuple[Interval, ...]:
    """Read intervals from a frame (never modified).

    Parameters
    ----------
    frame : pandas.DataFrame
        Columns ``start``, ``end`` and either ``parameters`` (comma-separated
        names) or one boolean column per parameter (PKNCA layout). Other
        columns are group filters (NaN = no filter on that column).
    group_columns : sequence of str, optional
        Which of the other columns are group filters (all of them by default;
        with the boolean layout, columns of bool dtype are parameters).

    Examples
    --------
    >>> df = pd.DataFrame({"start": [0, 0], "end": [24, math.inf],
    ...                    "cmax": [True, True], "half_life": [False, True]})
    >>> [i.parameters for i in intervals_from_frame(df)]
    [('cmax',), ('cmax', 'half_life')]
    """
    cols = {c.lower(): c for c in frame.columns}
    for need in ("start", "end"):
        if need not in cols:
            raise ModelSpecError(f"interval frame needs a {need!r} column")
    used = {cols["start"], cols["end"]}
    if "parameters" in cols:
        param_cols: list[str] = []
        used.add(cols["parameters"])
    else:
        param_cols = [c for c in frame.columns
                      if c not in used and frame[c].dtype == bool]
        if not param_cols:
            raise ModelSpecError("interval frame needs a 'parameters' column (comma-separated "
                                 "names) or one true/false column per parameter")
        used.update(param_cols)
    others = [c for c in frame.columns if c not in used]
    if group_columns is not None:
        missing = [c for c in group_columns if c not in others]
        if missing:
            raise ModelSpecError(f"group columns not in the interval frame: {missing}")
        others = list(group_columns)
    out = []
    for _, row in frame.iterrows():
        if param_cols:
            params = tuple(c for c in param_cols if bool(row[c]))
        else:
            params = row[cols["parameters"]]
        group = {c: row[c] for c in others if not _is_missing(row[c])}
        out.append(Interval(row[cols["start"]], row[cols["end"]], params, group or None))
    return tuple(out)


def _is_missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def intervals_to_frame(intervals: Iterable[Interval]) -> pd.DataFrame:
    """One row per interval: start, end, parameters (comma-separated), group columns.

    Examples
    --------
    >>> intervals_to_frame([Interval(0, 24, "auclast", {"ID": 1})])
       start   end parameters  ID
    0    0.0  24.0    auclast   1
    """
    rows = []
    for i in intervals:
        row: dict[str, Any] = {"start": i.start, "end": i.end,
                               "parameters": ",".join(i.parameters)}
        row.update(dict(i.group or {}))
        rows.append(row)
    return pd.DataFrame(rows)

"""Numbers and tables for the HTML report: significant digits, integers, units.

The CSV files keep full precision; the report shows each float to
:data:`DIGITS` significant digits, whole-number columns (counts, doses,
cycles) as integers and each column's unit under its name.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from blinapk.report.tables import read_csv

__all__ = ["DIGITS", "PRECISE_COLUMNS", "HtmlTable", "format_number", "html_table", "read_table"]

#: Significant digits of the floats shown in the report.
DIGITS = 3
#: Columns shown with more digits: R-hat is judged against 1.01.
PRECISE_COLUMNS = {"R_HAT": 4}


def format_number(value: Any, digits: int = DIGITS) -> str:
    """Format one cell: floats to ``digits`` significant digits, integers whole.

    Parameters
    ----------
    value : object
        The cell.
    digits : int, default :data:`DIGITS`
        Significant digits of a float.

    Returns
    -------
    str
        ``"NA"`` for a missing value; plain notation between 1e-4 and 1e6
        (``1234.5`` -> ``"1230"``, ``0.012345`` -> ``"0.0123"``), scientific
        outside (``1.23e-05``).

    Examples
    --------
    >>> [format_number(v) for v in (1234.5, 0.012345, 2.0, 7, 1.5e-6, float("nan"), "CR")]
    ['1230', '0.0123', '2.00', '7', '1.5e-06', 'NA', 'CR']
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return "NA"
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        x = float(value)
        if math.isnan(x):
            return "NA"
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
        if x == 0:
            return "0"
        mag = math.floor(math.log10(abs(x)))
        if not -4 <= mag < 6:
            return f"{x:.{digits}g}"
        decimals = digits - 1 - mag
        rounded = round(x, decimals)
        return f"{rounded:.{max(decimals, 0)}f}"
    return str(value)


def _whole(column: pd.Series) -> bool:
    """Tell whether every present value of a numeric column is a whole number."""
    if not pd.api.types.is_numeric_dtype(column.dtype) or pd.api.types.is_bool_dtype(column):
        return False
    v = column.to_numpy(dtype=float, na_value=np.nan)
    v = v[np.isfinite(v)]
    return bool(len(v)) and bool((v == np.round(v)).all()) and bool((np.abs(v) < 1e15).all())


@dataclass(frozen=True)
class HtmlTable:
    """A table ready for the template: formatted cells, units under the column names.

    Attributes
    ----------
    columns : tuple of str
        Column names.
    units : tuple of str
        Unit of each column ("" for none).
    rows : tuple of tuple of str
        Formatted cells.
    caption : str
        Caption (names the CSV file).
    n_more : int
        Rows of the file not shown.
    numeric : tuple of bool
        Whether each column holds numbers (right-aligned).
    empty : tuple of str
        Columns of the file without any value (not drawn).
    """

    columns: tuple[str, ...]
    units: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    caption: str
    n_more: int = 0
    numeric: tuple[bool, ...] = ()
    empty: tuple[str, ...] = ()

    @property
    def has_units(self) -> bool:
        """True when some column has a unit."""
        return any(self.units)


def html_table(frame: pd.DataFrame, caption: str, *, columns: list[str] | None = None,
               max_rows: int = 30, digits: int = DIGITS) -> HtmlTable:
    """Format a table for the report.

    Parameters
    ----------
    frame : DataFrame
        The table; ``attrs["units"]`` (from :func:`read_table`) gives units.
    caption : str
        Caption.
    columns : list of str, optional
        Columns to show, in order (those absent are skipped); default all.
    max_rows : int, default 30
        Rows shown; the rest are counted in ``n_more``.
    digits : int, default :data:`DIGITS`
        Significant digits of floats.

    Returns
    -------
    HtmlTable
    """
    units = frame.attrs.get("units", {})
    if columns is not None:
        frame = frame[[c for c in columns if c in frame.columns]]
    # a column without any value is named under the table instead of drawn empty
    empty = tuple(str(c) for c in frame.columns if len(frame) and frame[c].isna().all())
    frame = frame[[c for c in frame.columns if str(c) not in empty]]
    shown = frame.head(max_rows)
    whole = {c: _whole(frame[c]) for c in frame.columns}
    numeric = {c: pd.api.types.is_numeric_dtype(frame[c].dtype)
               and not pd.api.types.is_bool_dtype(frame[c].dtype) for c in frame.columns}
    rows = []
    for row in shown.itertuples(index=False):
        cells = []
        for col, v in zip(frame.columns, row, strict=True):
            if whole[col] and isinstance(v, float | np.floating) and np.isfinite(v):
                v = int(v)
            # a blank text cell (a dimensionless UNIT, no REASON) is blank, not missing
            text = format_number(v, PRECISE_COLUMNS.get(col, digits))
            cells.append("" if text == "NA" and not numeric[col] else text)
        rows.append(tuple(cells))
    return HtmlTable(columns=tuple(str(c) for c in frame.columns),
                     units=tuple(str(units.get(c, "")) for c in frame.columns),
                     rows=tuple(rows), caption=caption, n_more=max(len(frame) - max_rows, 0),
                     numeric=tuple(numeric[c] for c in frame.columns), empty=empty)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV of a results directory, with its units row when it has one.

    :func:`blinapk.report.write_csv` writes a units row under the header of
    tables whose columns have units. The first row is that units row when
    some column that is numeric in every later row holds text in it.

    Parameters
    ----------
    path : str or Path
        CSV file written by a :mod:`blinapk.report` writer.

    Returns
    -------
    DataFrame
        ``attrs["units"]``: column -> unit (empty without a units row).
    """
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    if len(raw) >= 1:
        first, rest = raw.iloc[0], raw.iloc[1:]
        for col in raw.columns:
            later = [v for v in rest[col] if v != ""]
            if first[col] and not _is_number(first[col]) and later and all(
                    _is_number(v) for v in later):
                return read_csv(path)
    table = pd.read_csv(path)
    table.attrs["units"] = {}
    return table

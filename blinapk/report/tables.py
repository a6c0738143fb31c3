"""Tables to text and files: GitHub-flavoured Markdown, HTML, CSV.

Every table of blinapk is a :class:`pandas.DataFrame`; these functions render
or write any of them the same way. CSV files are ready for a report: counts
and codes (:data:`INTEGER_COLUMNS`) are written as integers, and a table
whose columns have units gets a units row under the header (read it back
with ``pandas.read_csv(path, skiprows=[1])``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from blinapk.data.csv_text import frame_to_csv

__all__ = ["INTEGER_COLUMNS", "read_csv", "to_html", "to_markdown", "write_csv"]

#: Columns that hold counts or codes: written without a decimal point.
INTEGER_COLUMNS = frozenset({
    "ROW", "CYCLE", "N", "N_SUBJECTS", "NMISS", "EVID", "MDV", "CENS", "STEP", "PPSEQ",
    "PPGRPID", "ADDL_SOURCE", "N_OBS", "N_MDV", "N_CENSORED",
})  # fmt: skip


def _fmt(v: Any, digits: int) -> str:
    if isinstance(v, float | np.floating):
        if not np.isfinite(v):
            return "NA"
        return f"{v:.{digits}g}"
    return str(v)


def to_markdown(table: pd.DataFrame, digits: int = 4) -> str:
    """Render a table as a GitHub-flavoured Markdown table.

    Parameters
    ----------
    table : DataFrame
        Any table (the index is not shown).
    digits : int, default 4
        Significant digits of floats; missing or infinite floats show as ``NA``.

    Returns
    -------
    str
        The Markdown text (ends with a newline).

    Examples
    --------
    >>> print(to_markdown(pd.DataFrame({"PARAMETER": ["TV_CL"], "MEDIAN": [2.16149]})))
    | PARAMETER | MEDIAN |
    |---|---|
    | TV_CL | 2.161 |
    <BLANKLINE>
    """
    cols = [str(c) for c in table.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for row in table.itertuples(index=False):
        lines.append("| " + " | ".join(_fmt(v, digits) for v in row) + " |")
    return "\n".join(lines) + "\n"


def to_html(table: pd.DataFrame, digits: int = 4) -> str:
    """Render a table as an HTML table.

    Parameters
    ----------
    table : DataFrame
        Any table (the index is not shown).
    digits : int, default 4
        Significant digits of floats; missing values show as ``NA``.

    Returns
    -------
    str
        The ``<table>`` element.
    """
    return table.to_html(index=False, na_rep="NA", float_format=lambda v: f"{v:.{digits}g}")


def _integers(table: pd.DataFrame) -> pd.DataFrame:
    """Float count/code columns as nullable integers, when every value is whole."""
    cols = {}
    for col in table.columns:
        s = table[col]
        if col in INTEGER_COLUMNS and pd.api.types.is_float_dtype(s.dtype):
            v = s.to_numpy(dtype=float, na_value=np.nan)
            if (np.isnan(v) | (np.isfinite(v) & (v == np.round(v)))).all():
                cols[col] = s.astype("Int64")
    return table.assign(**cols) if cols else table


def write_csv(table: pd.DataFrame, path: str | Path, *,
              units: Mapping[str, str] | None = None) -> Path:
    """Write a table to CSV: no index, full float precision, Unix line ends.

    Count and code columns (:data:`INTEGER_COLUMNS`, e.g. ``CYCLE``) holding
    whole numbers are written as integers.

    Parameters
    ----------
    table : DataFrame
        The table.
    path : str or Path
        File to write (its directory must exist).
    units : mapping, optional
        Unit of some columns: written as a second header row (blank for the
        other columns). Read such a file with :func:`read_csv`.

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    table = _integers(table)
    with path.open("w", encoding="utf-8", newline="") as fh:
        if units:
            row = pd.DataFrame([[units.get(str(c), "") for c in table.columns]],
                               columns=table.columns)
            frame_to_csv(row, fh)
            frame_to_csv(table, fh, header=False)
        else:
            frame_to_csv(table, fh)
    return path


def read_csv(path: str | Path, **kwargs: Any) -> pd.DataFrame:
    """Read a table that :func:`write_csv` wrote with a units row.

    Parameters
    ----------
    path : str or Path
        A CSV file written with ``units=``.
    **kwargs
        Passed to :func:`pandas.read_csv`.

    Returns
    -------
    DataFrame
        The table; ``attrs["units"]`` maps each column with a unit to it.
    """
    head = pd.read_csv(path, nrows=1, dtype=str, keep_default_na=False)
    out = pd.read_csv(path, skiprows=[1], **kwargs)
    out.attrs["units"] = {c: v for c, v in head.iloc[0].items() if v} if len(head) else {}
    return out

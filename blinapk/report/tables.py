"""Tables to text and files: GitHub-flavoured Markdown, HTML, CSV.

Every table of blinapk is a :class:`pandas.DataFrame`; these functions render
or write any of them the same way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["to_html", "to_markdown", "write_csv"]


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


def write_csv(table: pd.DataFrame, path: str | Path) -> Path:
    """Write a table to CSV: no index, full float precision, Unix line ends.

    Parameters
    ----------
    table : DataFrame
        The table.
    path : str or Path
        File to write (its directory must exist).

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    table.to_csv(path, index=False, lineterminator="\n")
    return path

"""Compact HTML of a result object for Jupyter (``_repr_html_``): a title and small tables.

Result classes of every layer call :func:`html_repr`; it only formats (3
significant digits, the first rows) and computes nothing.
"""

from __future__ import annotations

import html
from typing import Any

__all__ = ["html_repr", "posterior_repr"]


def html_repr(title: str, *tables: tuple[str, Any], note: str = "", max_rows: int = 12,
              digits: int = 3) -> str:
    """Render a title, captioned tables and a note as an HTML fragment.

    Parameters
    ----------
    title : str
        First line (bold).
    *tables : (str, DataFrame)
        Caption and table; the index is not shown.
    note : str
        Last line (e.g. how to get the full table).
    max_rows : int, default 12
        Rows shown per table; the others are counted.
    digits : int, default 3
        Significant digits of floats.

    Returns
    -------
    str

    Examples
    --------
    >>> import pandas as pd
    >>> print(html_repr("Fit", ("", pd.DataFrame({"CL": [2.16149]}))).splitlines()[0])
    <div class="blinapk-result"><p><b>Fit</b></p>
    """
    parts = [f'<div class="blinapk-result"><p><b>{html.escape(title)}</b></p>']
    for caption, table in tables:
        if caption:
            parts.append(f"<p>{html.escape(caption)}</p>")
        parts.append(table.head(max_rows).to_html(
            index=False, na_rep="NA", float_format=lambda v: f"{v:.{digits}g}", border=0))
        if len(table) > max_rows:
            parts.append(f"<p>... {len(table) - max_rows} more row(s)</p>")
    if note:
        parts.append(f"<p><i>{html.escape(note)}</i></p>")
    parts.append("</div>")
    return "\n".join(parts)


def posterior_repr(title: str, summary: Any, converged: bool | None, note: str) -> str:
    """Render a fit: title with its convergence verdict, medians and credible intervals.

    Parameters
    ----------
    title : str
        What was fitted.
    summary : DataFrame
        Named parameters (``PARAMETER, UNIT, MEDIAN, LOWER, UPPER, R_HAT`` shown).
    converged : bool or None
        Convergence gates passed, failed, or not applicable (MAP, Laplace).
    note : str
        Where the rest is.

    Returns
    -------
    str
    """
    gates = {None: "no convergence gates", True: "convergence gates passed",
             False: "convergence gates FAILED"}[converged]
    cols = [c for c in ("PARAMETER", "UNIT", "MEDIAN", "LOWER", "UPPER", "R_HAT")
            if c in summary.columns]
    ci = summary.attrs.get("ci", 0.9)
    return html_repr(f"{title}, {gates}", (f"{100 * ci:g} % credible intervals", summary[cols]),
                     note=note)

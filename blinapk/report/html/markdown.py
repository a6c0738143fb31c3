"""Read back the parts of the Markdown pages the writers leave (``summary.md``, ``diagnostics.md``).

The writers put a few results only in their Markdown page (convergence
gates, timings, VPC coverage); the report reads those parts rather than
computing them again.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

__all__ = ["markdown_part", "markdown_table"]


def markdown_part(path: Path, heading: str) -> str:
    """Body of the ``## heading`` part of a Markdown file ("" when absent).

    Parameters
    ----------
    path : Path
        Markdown file.
    heading : str
        Start of the heading text (after ``## ``).

    Returns
    -------
    str
        The lines up to the next heading, stripped.
    """
    if not path.is_file():
        return ""
    lines, inside = [], False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            if inside:
                break
            inside = line.lstrip("#").strip().startswith(heading)
            continue
        if inside:
            lines.append(line)
    return "\n".join(lines).strip()


def markdown_table(text: str) -> pd.DataFrame | None:
    r"""Parse the first GitHub-flavoured Markdown table of ``text`` (None without one).

    Parameters
    ----------
    text : str
        Markdown.

    Returns
    -------
    DataFrame or None
        Numbers are converted where a whole column parses as numbers.

    Examples
    --------
    >>> markdown_table("| A | B |\n|---|---|\n| x | 1.5 |\n")
       A    B
    0  x  1.5
    """
    rows = [line.strip().strip("|").split("|") for line in text.splitlines()
            if line.strip().startswith("|")]
    if len(rows) < 2:
        return None
    header = [c.strip() for c in rows[0]]
    body = [[c.strip() for c in r] for r in rows[2:] if len(r) == len(header)]
    table = pd.DataFrame(body, columns=header)
    for col in table.columns:
        num = pd.to_numeric(table[col].replace("NA", "nan"), errors="coerce")
        if num.notna().sum() == (table[col] != "NA").sum():
            table[col] = num
    return table

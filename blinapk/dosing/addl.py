"""Expand NONMEM ``ADDL``/``II`` dose records into explicit dose records.

A dose record with ``ADDL = n`` and ``II = tau`` stands for ``n`` additional
identical doses at ``TIME + tau, TIME + 2 tau, ..., TIME + n tau`` (NONMEM
users guide, part V: additional doses). :func:`expand_addl` writes those
doses out, so that every later step (rate table, NCA, population PK,
simulation) sees each dose as a row.

Examples
--------
>>> import pandas as pd
>>> doses = pd.DataFrame({"ROW": [1], "ID": [1], "TIME": [0.0], "EVID": [1], "AMT": [9.0],
...                       "RATE": [9 / 24], "ADDL": [2], "II": [24.0]})
>>> expand_addl(doses, first_row=10)[["ROW", "TIME", "ADDL", "ADDL_SOURCE"]]
   ROW  TIME  ADDL  ADDL_SOURCE
0   10  24.0     0            1
1   11  48.0     0            1
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["ADDL_SOURCE", "expand_addl"]

#: Column of an expanded dose naming the source ROW of the ``ADDL`` record it came from
#: (0 on rows read from the source).
ADDL_SOURCE = "ADDL_SOURCE"


def expand_addl(doses: pd.DataFrame, *, first_row: int) -> pd.DataFrame:
    """Return the additional dose records implied by ``ADDL``/``II``.

    Parameters
    ----------
    doses : DataFrame
        Rows with ``ROW``, ``TIME``, ``ADDL`` and ``II`` (validated: ``ADDL``
        a whole number >= 0, ``II > 0`` wherever ``ADDL > 0``; missing ``ADDL``
        means 0). Other columns (``ID``, ``AMT``, ``RATE``, covariates ...) are
        copied to each additional dose. Never modified.
    first_row : int
        ``ROW`` of the first new record; new records are numbered on from it,
        in the order of the source rows, then of the dose number.

    Returns
    -------
    DataFrame
        Only the new records (same columns, plus :data:`ADDL_SOURCE`), at
        ``TIME + k * II`` for ``k = 1..ADDL``, with ``ADDL = 0``; empty when no
        record has ``ADDL > 0``.
    """
    addl = pd.to_numeric(doses["ADDL"], errors="coerce").fillna(0).to_numpy(dtype=np.int64)
    src = np.flatnonzero(addl > 0)
    counts = addl[src]
    pick = np.repeat(src, counts)
    # k = 1..n within each source record, without a Python loop over records
    k = np.arange(pick.size) - np.repeat(np.cumsum(counts) - counts, counts) + 1
    out = doses.iloc[pick].reset_index(drop=True)
    ii = pd.to_numeric(out["II"], errors="coerce").to_numpy(dtype=float)
    out["TIME"] = out["TIME"].to_numpy(dtype=float) + k * ii
    out[ADDL_SOURCE] = out["ROW"].to_numpy(dtype=np.int64)
    out["ROW"] = np.arange(first_row, first_row + pick.size, dtype=np.int64)
    out["ADDL"] = np.zeros(pick.size, dtype=out["ADDL"].dtype)
    return out

"""Allogeneic stem-cell transplant: incidence and 100-day mortality.

``alloHSCT``: subjects with an ``HSCT_DAY`` on or after day 1 / subjects at
risk (every subject of the group). ``death within 100 days of alloHSCT``:
deaths with ``0 <= DEATH_DAY - HSCT_DAY <= 100`` / transplanted subjects
whose 100 days are observed (MT103-211, Topp et al., Lancet Oncol 2015, and
TOWER, Kantarjian et al., NEJM 2017, report 100-day mortality after
alloHSCT). A transplanted subject alive with less than 100 days of follow-up
after the transplant is not evaluable: left out of the denominator and listed
in the ledger, rather than counted as a survivor. Exact Clopper-Pearson CIs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from blinapk.endpoints._frames import as_list, require_columns, subject_index, table_ledger
from blinapk.endpoints.rates import RATE_COLUMNS, RateTable, proportion
from blinapk.errors import BlinapkError

__all__ = ["compute_hsct_outcomes"]


def compute_hsct_outcomes(
    subjects: pd.DataFrame,
    *,
    by: str | list[str] | None = None,
    days: int = 100,
    conf_level: float = 0.95,
) -> RateTable:
    """Compute alloHSCT incidence and mortality within ``days`` after alloHSCT.

    Parameters
    ----------
    subjects : DataFrame
        The subjects table (``ID, HSCT_DAY, DEATH_DAY, LAST_CONTACT_DAY``).
    by : str or list of str, optional
        Subject columns to group by, e.g. ``"ARM"``.
    days : int
        Mortality window after the transplant (100).
    conf_level : float
        Confidence level.

    Returns
    -------
    RateTable
        Rows ``MEASURE`` = ``alloHSCT`` and ``death within <days> days of
        alloHSCT`` per group; the ledger has one row per subject with an
        ``HSCT_DAY`` (excluded: transplant before day 1, or not evaluable for
        mortality).

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"ID": [1, 2, 3, 4], "HSCT_DAY": [90, 120, None, 200],
    ...                   "DEATH_DAY": [150, None, None, None],
    ...                   "LAST_CONTACT_DAY": [150, 400, 300, 250]})
    >>> compute_hsct_outcomes(s).to_frame()[["MEASURE", "N_SUBJECTS", "N_AT_RISK"]]
                                 MEASURE  N_SUBJECTS  N_AT_RISK
    0                           alloHSCT           3          4
    1  death within 100 days of alloHSCT           1          2
    """
    by = as_list(by)
    subj = subject_index(subjects)
    require_columns(subj, ["HSCT_DAY", *by], "subjects")
    if days <= 0:
        raise BlinapkError(f"days must be positive, got {days}")
    nan = pd.Series(np.nan, index=subj.index)
    hsct = subj["HSCT_DAY"].astype(float)
    death = subj.get("DEATH_DAY", nan).astype(float)
    contact = subj.get("LAST_CONTACT_DAY", nan).astype(float)
    transplanted = hsct >= 1
    died = transplanted & (death - hsct >= 0) & (death - hsct <= days)
    observed = died | (death - hsct > days) | (contact - hsct >= days)
    evaluable = transplanted & observed

    listed = subj.loc[hsct.notna()].reset_index(drop=True)
    on = listed["ID"]
    status = np.where(evaluable[on], "used", "excluded")
    reason = np.where(~transplanted[on], "alloHSCT before day 1",
                      np.where(evaluable[on], "",
                               f"alive with < {days} days of follow-up after alloHSCT"))
    ledger = table_ledger(listed, "subjects", status, reason, time="HSCT_DAY")

    label = f"death within {days} days of alloHSCT"
    groups = subj.groupby(by, sort=True, dropna=False) if by else [((), subj)]
    rows = []
    for key, part in groups:
        key = dict(zip(by, key if isinstance(key, tuple) else (key,), strict=True))
        ix = part.index
        rows.append({**key, "MEASURE": "alloHSCT",
                     **proportion(transplanted[ix].sum(), len(ix), conf_level)})
        rows.append({**key, "MEASURE": label,
                     **proportion(died[ix].sum(), evaluable[ix].sum(), conf_level)})
    table = pd.DataFrame(rows, columns=[*by, "MEASURE", *RATE_COLUMNS])
    return RateTable(table=table, ledger=ledger,
                     settings={"by": by, "days": days, "conf_level": conf_level})

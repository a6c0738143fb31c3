"""Rates (proportions) with exact Clopper-Pearson confidence intervals.

Clopper & Pearson (Biometrika 1934): the interval inverts two one-sided
binomial tests, so its coverage is at least the nominal level; computed with
:func:`scipy.stats.binomtest` (``proportion_ci(method="exact")``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from blinapk.data import ClinicalLedger

__all__ = ["RATE_COLUMNS", "RateTable", "proportion"]

#: Columns of every incidence / rate table of the endpoint layer.
RATE_COLUMNS: tuple[str, ...] = ("N_SUBJECTS", "N_AT_RISK", "PCT", "LOWER", "UPPER", "REASON")


def proportion(k: int, n: int, conf_level: float = 0.95) -> dict:
    """Return ``k`` of ``n`` as a percentage with its exact confidence interval.

    Parameters
    ----------
    k : int
        Subjects with the outcome.
    n : int
        Subjects at risk (the denominator).
    conf_level : float
        Confidence level of the interval.

    Returns
    -------
    dict
        ``N_SUBJECTS, N_AT_RISK, PCT, LOWER, UPPER`` (percent) and ``REASON``
        (empty, or why the rate is not estimable: ``n == 0``).

    Examples
    --------
    >>> r = proportion(3, 10)
    >>> round(r["PCT"], 1), round(r["LOWER"], 2), round(r["UPPER"], 2)
    (30.0, 6.67, 65.25)
    """
    k, n = int(k), int(n)
    if n == 0:
        return {"N_SUBJECTS": k, "N_AT_RISK": 0, "PCT": np.nan, "LOWER": np.nan,
                "UPPER": np.nan, "REASON": "no subjects at risk"}
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=conf_level, method="exact")
    return {"N_SUBJECTS": k, "N_AT_RISK": n, "PCT": 100.0 * k / n, "LOWER": 100.0 * ci.low,
            "UPPER": 100.0 * ci.high, "REASON": ""}


@dataclass(frozen=True)
class RateTable:
    """Rates with exact confidence intervals (frozen).

    Attributes
    ----------
    table : pandas.DataFrame
        Grouping and label columns, then ``N_SUBJECTS`` (with the outcome),
        ``N_AT_RISK`` (denominator), ``PCT``, ``LOWER``, ``UPPER`` (percent,
        Clopper-Pearson) and ``REASON`` (why a rate is NaN).
    ledger : ClinicalLedger or None
        Fate of the input rows, where the rates came from a row-level table.
    settings : dict
        Arguments of the call.
    """

    table: pd.DataFrame = field(repr=False)
    ledger: ClinicalLedger | None = field(default=None, repr=False)
    settings: dict = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """Return a copy of the rate table."""
        return self.table.copy()

    def __len__(self) -> int:
        return len(self.table)

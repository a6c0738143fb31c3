"""Log-rank test between groups (Mantel 1966; Peto & Peto 1972).

For two groups the test is :func:`scipy.stats.logrank` (chi-square = z^2,
two-sided p). For k > 2 groups it is the k-sample log-rank test, computed as
R survival's ``survdiff``: with ``O`` and ``E`` the observed and expected
events per group and ``V`` the hypergeometric covariance of ``O - E``,
``chi2 = (O - E)' V^-1 (O - E)`` over all groups but the first (among groups
with expected events > 0), on k - 1 degrees of freedom. The per-group table
has R's columns ``(O-E)^2/E`` and ``(O-E)^2/V``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from blinapk.endpoints._survdata import prepare
from blinapk.errors import BlinapkError

__all__ = ["LogRankResult", "compute_logrank", "logrank_k_sample"]

_NO_VARIANCE = "no variance: no event time with more than one subject at risk"


def logrank_k_sample(
    time: np.ndarray, event: np.ndarray, group: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Observed and expected events per group and the covariance of O - E.

    Parameters
    ----------
    time, event, group : ndarray
        Times, event indicators (1 = event) and group labels, one per subject.

    Returns
    -------
    labels, observed, expected, variance : ndarray
        Sorted group labels, ``O`` and ``E`` per group, and the k x k
        covariance matrix ``V`` of ``O - E``.
    """
    labels = np.unique(group)
    event_times = np.unique(time[event == 1])
    at_risk = np.empty((labels.size, event_times.size))  # k x J
    deaths = np.empty_like(at_risk)
    for i, g in enumerate(labels):
        t = np.sort(time[group == g])
        at_risk[i] = t.size - np.searchsorted(t, event_times, side="left")
        d = np.sort(time[(group == g) & (event == 1)])
        deaths[i] = (np.searchsorted(d, event_times, side="right")
                     - np.searchsorted(d, event_times, side="left"))
    n, d = at_risk.sum(axis=0), deaths.sum(axis=0)
    share = at_risk / n
    expected = (d * share).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        w = np.where(n > 1, d * (n - d) / (n - 1), 0.0)
    variance = (np.einsum("j,gj->g", w, share)[:, None] * np.eye(len(labels))
                - np.einsum("j,gj,hj->gh", w, share, share))
    return labels, deaths.sum(axis=1), expected, variance


def _chisq(observed, expected, variance) -> tuple[float, int]:
    keep = expected > 0
    if keep.sum() < 2:
        return np.nan, 0
    u = (observed - expected)[keep][1:]
    v = variance[np.ix_(keep, keep)][1:, 1:]
    return float(u @ np.linalg.solve(v, u)), int(keep.sum() - 1)


@dataclass(frozen=True)
class LogRankResult:
    """Log-rank tests per endpoint (frozen).

    Attributes
    ----------
    groups : pandas.DataFrame
        ``ENDPOINT, GROUP, N, OBSERVED, EXPECTED, OE2_E, OE2_V`` (as R's
        ``survdiff`` table).
    tests : pandas.DataFrame
        ``ENDPOINT, CHISQ, DF, P_VALUE, METHOD, REASON``.
    """

    groups: pd.DataFrame = field(repr=False)
    tests: pd.DataFrame = field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        """Return the per-group observed/expected table (a copy)."""
        return self.groups.copy()

    def summary(self) -> pd.DataFrame:
        """Return one row per endpoint: chi-square, degrees of freedom, p (a copy)."""
        return self.tests.copy()


def _test(part: pd.DataFrame) -> tuple[list[dict], dict]:
    t, e, g = (part[c].to_numpy() for c in ("TIME", "EVENT", "GROUP"))
    labels, obs, exp, var = logrank_k_sample(t, e, g.astype(str))
    diag = np.diag(var)
    with np.errstate(invalid="ignore", divide="ignore"):
        rows = [{"GROUP": lab, "N": int((g == lab).sum()), "OBSERVED": obs[i],
                 "EXPECTED": exp[i], "OE2_E": (obs[i] - exp[i]) ** 2 / exp[i],
                 "OE2_V": (obs[i] - exp[i]) ** 2 / diag[i]} for i, lab in enumerate(labels)]
    if len(labels) < 2:
        return rows, {"CHISQ": np.nan, "DF": 0, "P_VALUE": np.nan, "METHOD": "",
                      "REASON": "fewer than two groups"}
    if len(labels) == 2:
        x, y = ([stats.CensoredData(uncensored=t[(g == lab) & (e == 1)],
                                    right=t[(g == lab) & (e == 0)]) for lab in labels])
        with np.errstate(invalid="ignore", divide="ignore"):
            res = stats.logrank(x, y)
        if not np.isfinite(res.statistic):
            return rows, {"CHISQ": np.nan, "DF": 1, "P_VALUE": np.nan,
                          "METHOD": "scipy.stats.logrank", "REASON": _NO_VARIANCE}
        return rows, {"CHISQ": float(res.statistic) ** 2, "DF": 1, "P_VALUE": float(res.pvalue),
                      "METHOD": "scipy.stats.logrank", "REASON": ""}
    chisq, df = _chisq(obs, exp, var)
    if not np.isfinite(chisq):
        return rows, {"CHISQ": np.nan, "DF": df, "P_VALUE": np.nan,
                      "METHOD": "k-sample log-rank", "REASON": _NO_VARIANCE}
    return rows, {"CHISQ": chisq, "DF": df, "P_VALUE": float(stats.chi2.sf(chisq, df)),
                  "METHOD": "k-sample log-rank", "REASON": ""}


def compute_logrank(
    tte, *, by: str | Sequence[str], time: str = "TIME", event: str = "EVENT"
) -> LogRankResult:
    """Log-rank test between the groups of ``by``, per endpoint.

    Parameters
    ----------
    tte : TimeToEvent or DataFrame
        As :func:`~blinapk.endpoints.compute_km`.
    by : str or list of str
        Group columns (e.g. ``"ARM"``).
    time, event : str
        Columns.

    Returns
    -------
    LogRankResult
    """
    if not by:
        raise BlinapkError("compute_logrank needs group columns (by=...)")
    samples = prepare(tte, by=by, time=time, event=event)
    groups, tests = [], []
    for endpoint, part in samples.endpoints():
        rows, test = _test(part)
        groups += [{"ENDPOINT": endpoint, **r} for r in rows]
        tests.append({"ENDPOINT": endpoint, **test})
    return LogRankResult(
        groups=pd.DataFrame(groups, columns=["ENDPOINT", "GROUP", "N", "OBSERVED", "EXPECTED",
                                             "OE2_E", "OE2_V"]),
        tests=pd.DataFrame(tests, columns=["ENDPOINT", "CHISQ", "DF", "P_VALUE", "METHOD",
                                           "REASON"]),
    )

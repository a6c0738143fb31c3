"""Kaplan-Meier estimates with confidence bands, medians and landmark rates.

The survival curve is :func:`scipy.stats.ecdf` on right-censored
:class:`scipy.stats.CensoredData` (Kaplan & Meier, JASA 1958). Confidence
intervals use Greenwood's variance with one of three scales:

``"log-log"`` (default)
    ``exp(-exp(log(-log S) +/- z se / log S))`` (Kalbfleisch & Prentice);
    scipy's ``method="log-log"``, R survival's ``conf.type="log-log"``,
    SAS PROC LIFETEST's default. Stays inside [0, 1] and covers well in
    small samples.
``"log"``
    ``S exp(+/- z se)`` capped at 1: R survival's default
    ``conf.type="log"``, for reproducing R's printed tables.
``"linear"``
    ``S +/- z S se`` clipped to [0, 1]; scipy's ``method="linear"``.

Here ``se`` is Greenwood's standard error of ``log S``. Where ``S = 1`` the
bounds are 1; where ``S = 0`` they are NaN (not estimable), as in R.

The median and its confidence interval follow R's ``survfit``
(Brookmeyer & Crowley, Biometrics 1982, read off the band): the median is
the first time the curve drops below 0.5, its lower (upper) limit the first
time the lower (upper) band does; where a curve sits exactly at 0.5 the
midpoint to its next drop is taken. A limit the band never reaches is NaN
and ``NOTE`` says so. Landmark rates are the curve and band at a time (NaN
after the last follow-up time); ``AT_RISK`` counts subjects with time >= t.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from blinapk.endpoints._survdata import prepare
from blinapk.errors import BlinapkError

__all__ = ["CONF_TYPES", "KMResult", "compute_km"]

#: Confidence-interval scales of :func:`compute_km`.
CONF_TYPES: tuple[str, ...] = ("log-log", "log", "linear")
_CURVE_COLUMNS = ("ENDPOINT", "GROUP", "TIME", "AT_RISK", "N_EVENT", "N_CENSOR", "SURVIVAL",
                  "LOWER", "UPPER")
_TOL = float(np.sqrt(np.finfo(float).eps))  # R's quantile.survfit tolerance


def risk_counts(
    times: np.ndarray, events: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Distinct times with the number at risk (time >= t), events and censorings at each.

    Examples
    --------
    >>> risk_counts(np.array([2.0, 1, 2, 3]), np.array([1, 1, 0, 0]))
    (array([1., 2., 3.]), array([4, 3, 1]), array([1, 1, 0]), array([0, 1, 1]))
    """
    grid, inverse, counts = np.unique(times, return_inverse=True, return_counts=True)
    n_event = np.bincount(inverse, weights=events, minlength=grid.size).astype(np.int64)
    at_risk = times.size - np.concatenate([[0], np.cumsum(counts)[:-1]])
    return grid, at_risk.astype(np.int64), n_event, counts - n_event


def _curve(times: np.ndarray, events: np.ndarray, conf_level: float, conf_type: str) -> dict:
    sample = stats.CensoredData(uncensored=times[events == 1], right=times[events == 0])
    sf = stats.ecdf(sample).sf
    grid, at_risk, n_event, n_censor = risk_counts(times, events)
    surv = sf.evaluate(grid)
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # S = 0 or 1: patched below
        if conf_type == "log":
            se = np.sqrt(np.cumsum(n_event / (at_risk * (at_risk - n_event))))
            z = stats.norm.ppf(0.5 + conf_level / 2)
            lower, upper = surv * np.exp(-z * se), np.minimum(1.0, surv * np.exp(z * se))
        else:
            ci = sf.confidence_interval(confidence_level=conf_level, method=conf_type)
            lower, upper = ci.low.evaluate(grid), ci.high.evaluate(grid)
    lower = np.where(surv >= 1, 1.0, np.where(surv <= 0, np.nan, lower))
    upper = np.where(surv >= 1, 1.0, np.where(surv <= 0, np.nan, upper))
    return {"TIME": grid, "AT_RISK": at_risk, "N_EVENT": n_event, "N_CENSOR": n_censor,
            "SURVIVAL": surv, "LOWER": lower, "UPPER": upper}


def survival_quantile(time: np.ndarray, surv: np.ndarray, p: float = 0.5) -> float:
    """Time at which a step survival curve crosses ``1 - p`` (R survfit's rule).

    Parameters
    ----------
    time : ndarray
        Curve times (all distinct follow-up times, increasing).
    surv : ndarray
        Curve values at those times (NaN points are ignored).
    p : float
        Cumulative probability (0.5: the median).

    Returns
    -------
    float
        The first time the curve falls below ``1 - p``; on a flat stretch at
        exactly ``1 - p``, the midpoint to the next drop (to the last time if
        the curve ends there); NaN if it never gets there.

    Examples
    --------
    >>> survival_quantile(np.array([1.0, 2, 3, 4]), np.array([0.75, 0.5, 0.25, 0.0]))
    2.5
    """
    x = np.concatenate([[0.0], time])
    y = np.concatenate([[0.0], 1.0 - surv])
    keep = ~np.isnan(y)
    x, y = x[keep], y[keep]
    xmax = time[-1]
    if y.size == 0 or y.max() < p:
        return np.nan
    first = np.concatenate([[True], np.diff(y) != 0])  # drop censor-only repeats
    x, y = x[first], y[first]
    reach = np.flatnonzero(y + _TOL >= p)
    if reach.size == 0:
        return np.nan
    i1 = reach[0]
    if abs(p - y[-1]) < _TOL and i1 == y.size - 1:
        return float((x[i1] + xmax) / 2)
    beyond = np.flatnonzero(y - _TOL >= p)
    if beyond.size == 0:
        return np.nan
    return float((x[i1] + x[beyond[0]]) / 2)


@dataclass(frozen=True)
class KMResult:
    """Kaplan-Meier curves and their summary (frozen).

    Attributes
    ----------
    curves : pandas.DataFrame
        One row per endpoint x group x distinct time: ``ENDPOINT, GROUP,
        TIME, AT_RISK, N_EVENT, N_CENSOR, SURVIVAL, LOWER, UPPER``.
    table : pandas.DataFrame
        The summary (see :meth:`summary`).
    excluded : pandas.DataFrame
        Input rows left out (no time), with ``REASON``.
    settings : dict
        ``conf_level, conf_type, by, landmarks, unit``.
    """

    curves: pd.DataFrame = field(repr=False)
    table: pd.DataFrame = field(repr=False)
    excluded: pd.DataFrame = field(repr=False)
    settings: dict = field(default_factory=dict)

    def _units(self, frame: pd.DataFrame, cols) -> pd.DataFrame:
        frame.attrs["units"] = {c: self.settings.get("unit", "") for c in cols}
        return frame

    def to_frame(self) -> pd.DataFrame:
        """Return the curves (a copy); ``attrs["units"]`` gives the time unit."""
        return self._units(self.curves.copy(), ["TIME"])

    def summary(self) -> pd.DataFrame:
        """One row per endpoint x group.

        Returns
        -------
        pandas.DataFrame
            ``ENDPOINT, GROUP, N, EVENTS, CENSORED, MEDIAN, MEDIAN_LOWER,
            MEDIAN_UPPER``, then ``SURV_<label>``, ``SURV_<label>_LOWER``,
            ``SURV_<label>_UPPER`` per landmark (fractions), and ``NOTE``
            (why a value is NaN). Times are in ``attrs["units"]``.
        """
        times = ["MEDIAN", "MEDIAN_LOWER", "MEDIAN_UPPER"]
        return self._units(self.table.copy(), times)

    def survival_at(self, times: Sequence[float]) -> pd.DataFrame:
        """Return survival with its band and number at risk at the given times.

        Parameters
        ----------
        times : sequence of float
            Times in the curves' unit.

        Returns
        -------
        pandas.DataFrame
            ``ENDPOINT, GROUP, TIME, SURVIVAL, LOWER, UPPER, AT_RISK, REASON``;
            NaN with a reason after the last follow-up time.
        """
        return self._units(_survival_at(self.curves, times), ["TIME"])

    def at_risk(self, times: Sequence[float]) -> pd.DataFrame:
        """Return the number at risk (time >= t) per endpoint and group: the risk table.

        Returns
        -------
        pandas.DataFrame
            ``ENDPOINT, GROUP, TIME, AT_RISK``.
        """
        return self.survival_at(times)[["ENDPOINT", "GROUP", "TIME", "AT_RISK"]]


def _groups(curves: pd.DataFrame):
    return curves.groupby(["ENDPOINT", "GROUP"], sort=False)


def _survival_at(curves: pd.DataFrame, times: Sequence[float]) -> pd.DataFrame:
    rows = []
    for (endpoint, group), c in _groups(curves):
        t = c["TIME"].to_numpy()
        for x in times:
            i = np.searchsorted(t, x, side="right") - 1
            later = c.loc[c["TIME"] >= x, "AT_RISK"]
            row = {"ENDPOINT": endpoint, "GROUP": group, "TIME": float(x),
                   "AT_RISK": int(later.iloc[0]) if len(later) else 0, "REASON": ""}
            if x > t[-1]:
                row.update(SURVIVAL=np.nan, LOWER=np.nan, UPPER=np.nan,
                           REASON=f"after the last follow-up time ({t[-1]:g})")
            elif i < 0:
                row.update(SURVIVAL=1.0, LOWER=1.0, UPPER=1.0)
            else:
                row.update({k: float(c[k].iloc[i]) for k in ("SURVIVAL", "LOWER", "UPPER")})
            rows.append(row)
    cols = ["ENDPOINT", "GROUP", "TIME", "SURVIVAL", "LOWER", "UPPER", "AT_RISK", "REASON"]
    return pd.DataFrame(rows, columns=cols)


def _landmark_labels(landmarks) -> dict[str, float]:
    if landmarks is None:
        return {}
    if isinstance(landmarks, Mapping):
        return {str(k): float(v) for k, v in landmarks.items()}
    return {f"{float(t):g}": float(t) for t in landmarks}


def _summary_row(endpoint, group, c: pd.DataFrame) -> dict:
    t = c["TIME"].to_numpy()
    row = {"ENDPOINT": endpoint, "GROUP": group, "N": int(c["AT_RISK"].iloc[0]),
           "EVENTS": int(c["N_EVENT"].sum()), "CENSORED": int(c["N_CENSOR"].sum())}
    notes = []
    for col, curve, text in (("MEDIAN", "SURVIVAL", "median not reached"),
                             ("MEDIAN_LOWER", "LOWER", "lower limit not reached"),
                             ("MEDIAN_UPPER", "UPPER", "upper limit not reached")):
        row[col] = survival_quantile(t, c[curve].to_numpy())
        if np.isnan(row[col]):
            notes.append(text)
    row["NOTE"] = "; ".join(notes)
    return row


def compute_km(
    tte,
    *,
    by: str | Sequence[str] | None = None,
    time: str = "TIME",
    event: str = "EVENT",
    conf_level: float = 0.95,
    conf_type: str = "log-log",
    landmarks: Sequence[float] | Mapping[str, float] | None = None,
) -> KMResult:
    """Estimate Kaplan-Meier curves per endpoint and group.

    Parameters
    ----------
    tte : TimeToEvent or DataFrame
        From :func:`~blinapk.endpoints.derive_tte`, or any frame with
        ``time`` and ``event`` columns (``ENDPOINT`` optional: one curve set
        per endpoint). Rows with NaN time are left out (``excluded``).
    by : str or list of str, optional
        Group columns (e.g. ``"ARM"``).
    time, event : str
        Columns; ``time="TIME_MONTHS"`` analyses in months.
    conf_level : float
        Confidence level of bands and median limits.
    conf_type : {"log-log", "log", "linear"}
        Scale of the band (see the module docstring).
    landmarks : sequence of float or mapping of label to float, optional
        Times (in the ``time`` unit) for landmark rates in the summary, e.g.
        ``{"1y": 12, "2y": 24, "3y": 36}`` with months.

    Returns
    -------
    KMResult

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"TIME": [1.0, 2, 3, 4], "EVENT": [1, 1, 0, 1]})
    >>> km = compute_km(d)
    >>> km.to_frame()["SURVIVAL"].round(3).tolist()
    [0.75, 0.5, 0.5, 0.0]
    >>> float(km.summary()["MEDIAN"].iloc[0])
    3.0
    """
    if conf_type not in CONF_TYPES:
        raise BlinapkError(f"conf_type must be one of {CONF_TYPES}, not {conf_type!r}")
    samples = prepare(tte, by=by, time=time, event=event)
    labels = _landmark_labels(landmarks)
    curves = []
    for (endpoint, group), part in samples.data.groupby(["ENDPOINT", "GROUP"], sort=False):
        c = _curve(part["TIME"].to_numpy(), part["EVENT"].to_numpy(), conf_level, conf_type)
        curves.append(pd.DataFrame({"ENDPOINT": endpoint, "GROUP": group, **c}))
    curves = (pd.concat(curves, ignore_index=True) if curves
              else pd.DataFrame(columns=list(_CURVE_COLUMNS)))
    settings = {"conf_level": conf_level, "conf_type": conf_type, "by": samples.by,
                "landmarks": labels, "unit": samples.unit}
    return KMResult(curves=curves, table=_summary(curves, labels), excluded=samples.excluded,
                    settings=settings)


def _summary(curves: pd.DataFrame, labels: dict[str, float]) -> pd.DataFrame:
    rows = [_summary_row(e, g, c) for (e, g), c in _groups(curves)]
    table = pd.DataFrame(rows, columns=["ENDPOINT", "GROUP", "N", "EVENTS", "CENSORED",
                                        "MEDIAN", "MEDIAN_LOWER", "MEDIAN_UPPER", "NOTE"])
    for label, t in labels.items():
        mark = _survival_at(curves, [t])  # one row per group, in the table's order
        pos = table.columns.get_loc("NOTE")
        for suffix, col in (("", "SURVIVAL"), ("_LOWER", "LOWER"), ("_UPPER", "UPPER")):
            table.insert(pos, f"SURV_{label}{suffix}", mark[col].to_numpy())
            pos += 1
        late = mark["REASON"].to_numpy() != ""
        table.loc[late, "NOTE"] = ["; ".join(filter(None, [n, f"no follow-up at {label}"]))
                                   for n in table.loc[late, "NOTE"]]
    return table

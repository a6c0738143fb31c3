r"""Prediction-corrected visual predictive check with a below-LLOQ panel.

:func:`compute_vpc` bins the observations (over time, or over the time since
the last change of the infusion rate), and in each bin compares the
observed 5th, 50th and 95th percentiles with the distribution of the same
percentiles over the datasets simulated for new subjects
(:attr:`Predictions.sims <blinapk.diagnostics.Predictions.sims>`): the
central ``ci`` interval of each simulated percentile is its confidence band.

Prediction correction (Bergstrand, Hooker, Wallin & Karlsson 2011): each
observed and simulated value is multiplied by
:math:`\mathrm{PRED}_{bin} / \mathrm{PRED}_{ij}` (the median population
prediction of the bin over the observation's own), so that observations
made under different doses, infusion rates or covariates can share a bin.

Censored data are shown as they are, not imputed. Observed and simulated
values below their LLOQ are ranked below every quantified value; a
percentile that falls among them is *not estimable* and not drawn (NaN), in
the observations and in each simulated dataset alike. A separate panel
compares the fraction of observations below the LLOQ in each bin with its
simulated band, so a model that predicts too few or too many BLQ values
shows there.

Stratification: by a column of the dataset (the value at each observation;
a numeric column with more than four values is split at its median), by
``"RATE"`` (the infusion rate in force, ug/day: each rate when there are at
most four, else no infusion / up to the median / above it) or by a mapping
from subject ID to label.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from blinapk.dosing import idle_hours
from blinapk.errors import ModelSpecError

__all__ = ["VPC_X", "VPCResult", "compute_vpc"]

#: x axes of the VPC: ``time`` (days since the first dose) or ``since_change``
#: (hours since the last change of the infusion rate).
VPC_X: Mapping[str, tuple[str, str]] = {"time": ("time since first dose", "day"),
                                        "since_change": ("time since last rate change", "h")}
#: A numeric stratification column with more distinct values is split at the median.
MAX_LEVELS = 4
#: Most strata of a categorical column.
MAX_STRATA = 8
#: Fewest observations a nominal-time bin must hold (smaller ones join a neighbour).
MIN_BIN = 10
#: Neighbouring quantile bins whose median x differ by less than this fraction merge
#: (sampling times cluster, e.g. 48 h after every change, and one cluster is one bin).
MERGE_REL = 0.15
#: Bins separated by more than this time off treatment (h, most subjects) are not joined.
GAP_HOURS = 24.0


@dataclass(frozen=True, eq=False)
class VPCResult:
    """A prediction-corrected VPC (:func:`compute_vpc`).

    Attributes
    ----------
    bins : DataFrame
        One row per stratum and bin: ``STRATUM, BIN, X_LOW, X_HIGH, X_MID, N,
        N_BLQ, LLOQ`` (median LLOQ, prediction-corrected), for each
        percentile ``p`` (e.g. ``P05``): ``OBS_p, SIM_p_LOWER, SIM_p_MEDIAN,
        SIM_p_UPPER``; and ``BLQ_OBS, BLQ_SIM_LOWER, BLQ_SIM_MEDIAN,
        BLQ_SIM_UPPER`` (fractions below the LLOQ); ``GAP_BEFORE``: most
        subjects of the stratum were off treatment between this bin and the
        previous one (plots do not join them).
    observations : DataFrame
        ``STRATUM, BIN, X, DV`` (prediction-corrected; censored rows at
        their corrected LLOQ), ``CENS``.
    x : str
        Key of :data:`VPC_X`.
    quantiles : tuple of float
        Percentiles compared.
    ci : float
        Mass of the simulated bands.
    prediction_corrected : bool
        Whether values are prediction-corrected.
    stratify : str
        What the strata are ("" when none).
    n_sim : int
        Simulated datasets.
    """

    bins: pd.DataFrame
    observations: pd.DataFrame = field(repr=False)
    x: str
    quantiles: tuple[float, ...]
    ci: float
    prediction_corrected: bool
    stratify: str
    n_sim: int

    @property
    def strata(self) -> list:
        """Stratum labels in order."""
        return list(pd.unique(self.bins["STRATUM"]))

    @property
    def x_label(self) -> str:
        """Axis label of x with its unit."""
        name, unit = VPC_X[self.x]
        return f"{name} ({unit})"

    def coverage(self) -> float:
        """Fraction of estimable observed percentiles inside their simulated band.

        Returns
        -------
        float
            Over every bin, stratum and percentile; NaN when none is estimable.
        """
        hits, total = 0, 0
        for q in self.quantiles:
            name = _pname(q)
            obs = self.bins[f"OBS_{name}"].to_numpy(float)
            lo = self.bins[f"SIM_{name}_LOWER"].to_numpy(float)
            hi = self.bins[f"SIM_{name}_UPPER"].to_numpy(float)
            ok = np.isfinite(obs) & np.isfinite(lo) & np.isfinite(hi)
            hits += int(np.sum((obs[ok] >= lo[ok]) & (obs[ok] <= hi[ok])))
            total += int(ok.sum())
        return hits / total if total else float("nan")

    def to_frame(self) -> pd.DataFrame:
        """Return a copy of :attr:`bins`."""
        return self.bins.copy()


def _pname(q: float) -> str:
    return f"P{round(100 * q):02d}"


def _strata(pred: Any, stratify: str | Mapping | None) -> tuple[np.ndarray, str]:
    table = pred.table
    n = len(table)
    if stratify is None:
        return np.full(n, "all", dtype=object), ""
    if isinstance(stratify, Mapping):
        labels = table["ID"].map(dict(stratify))
        if labels.isna().any():
            raise ModelSpecError("stratify: the mapping misses some subjects "
                                 f"({list(pd.unique(table.loc[labels.isna(), 'ID']))[:5]})")
        return labels.astype(str).to_numpy(object), "subject groups"
    name = str(stratify)
    if name.upper() == "RATE":
        per_day = np.round(table["RATE"].to_numpy(float) * 24.0, 3)
        if np.unique(per_day).size <= MAX_LEVELS:
            return np.array([f"{v:g} µg/day" for v in per_day], dtype=object), "infusion rate"
        on = per_day > 0
        cut = float(np.median(per_day[on])) if on.any() else 0.0
        if np.all(per_day[on] <= cut):  # the median is the top rate: no split
            labels = np.where(on, "on infusion", "no infusion")
        else:
            labels = np.where(~on, "no infusion", np.where(
                per_day <= cut, f"<= {cut:g} µg/day", f"> {cut:g} µg/day"))
        return labels.astype(object), "infusion rate"
    obs = pred.observations
    col = next((c for c in obs.columns if c.upper() == name.upper()), None)
    if col is None:
        raise ModelSpecError(f"stratify: no column {name!r} in the dataset")
    values = obs[col]
    num = pd.to_numeric(values, errors="coerce")
    if num.notna().all() and num.nunique() > MAX_LEVELS:
        cut = float(num.median())
        return np.where(num <= cut, f"{col} <= {cut:g}", f"{col} > {cut:g}").astype(object), col
    if values.nunique() > MAX_STRATA:
        raise ModelSpecError(f"stratify: {col} has {values.nunique()} levels; use a column with "
                             f"at most {MAX_STRATA} (or a mapping ID -> group)")
    return values.astype(str).to_numpy(object), col


def _x_values(pred: Any, x: str) -> np.ndarray:
    if x not in VPC_X:
        raise ModelSpecError(f"x: unknown VPC axis {x!r}; use one of {sorted(VPC_X)}")
    if x == "time":
        return pred.table["TIME"].to_numpy(float) / 24.0
    return pred.table["TSC"].to_numpy(float)


def _nominal_edges(nominal: np.ndarray) -> np.ndarray | None:
    """Bin edges halfway between nominal times that hold at least MIN_BIN observations."""
    values, counts = np.unique(nominal[np.isfinite(nominal)], return_counts=True)
    centres = values[counts >= MIN_BIN]
    if centres.size < 2:
        return None
    mids = (centres[1:] + centres[:-1]) / 2.0
    return np.concatenate([[-np.inf], mids, [np.inf]])


def _edges(x: np.ndarray, bins: Any, n_bins: int) -> np.ndarray:
    if isinstance(bins, Sequence | np.ndarray) and not isinstance(bins, str):
        edges = np.asarray(bins, dtype=float)
        if edges.ndim != 1 or edges.size < 2 or np.any(np.diff(edges) <= 0):
            raise ModelSpecError("bins: give increasing bin edges (at least two)")
        return edges
    if bins not in ("auto", "quantile"):
        raise ModelSpecError(f"bins: use 'auto', 'quantile' or a sequence of edges, got {bins!r}")
    q = np.unique(np.quantile(x, np.linspace(0.0, 1.0, n_bins + 1)))
    if q.size < 2:
        return np.array([-np.inf, np.inf])
    q[0], q[-1] = -np.inf, np.inf
    return _merge_clusters(x, q)


def _merge_clusters(x: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Drop interior edges that split one cluster of sampling times between two bins."""
    edges = list(edges)
    changed = True
    while changed and len(edges) > 2:
        changed = False
        pos = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, len(edges) - 2)
        mids = [np.median(x[pos == b]) if np.any(pos == b) else np.nan
                for b in range(len(edges) - 1)]
        for b in range(1, len(mids)):
            a, c = mids[b - 1], mids[b]
            scale = max(abs(a), abs(c), 1e-9)
            if not (np.isfinite(a) and np.isfinite(c)) or abs(c - a) < MERGE_REL * scale:
                del edges[b]
                changed = True
                break
    return np.asarray(edges, dtype=float)


def _off_treatment(rates: pd.DataFrame | None, ids: np.ndarray, a: float, b: float) -> bool:
    """Tell whether most subjects of ``ids`` spent > GAP_HOURS off treatment in (a, b) h."""
    if rates is None or not len(ids) or b <= a:
        return False
    idle = idle_hours(rates, ids, np.full(len(ids), a), np.full(len(ids), b))
    return bool(np.mean(idle > GAP_HOURS) > 0.5)


def _percentiles(values: np.ndarray, blq: np.ndarray, quantiles: Sequence[float]) -> np.ndarray:
    """Percentiles per row of ``values`` (..., n) with BLQ ranked lowest; NaN inside the BLQ part.

    Parameters
    ----------
    values : ndarray, shape (m, n)
        Values (prediction-corrected); BLQ entries are ignored.
    blq : ndarray of bool, shape (m, n)
        Below the LLOQ.
    quantiles : sequence of float

    Returns
    -------
    ndarray, shape (m, len(quantiles))
    """
    m, n = values.shape
    if n == 0:
        return np.full((m, len(quantiles)), np.nan)
    low = np.where(blq, -np.inf, values)
    srt = np.sort(low, axis=1)
    out = np.empty((m, len(quantiles)))
    for k, q in enumerate(quantiles):
        pos = q * (n - 1)
        i0 = int(np.floor(pos))
        i1 = min(i0 + 1, n - 1)
        g = pos - i0
        a, b = srt[:, i0], srt[:, i1]
        with np.errstate(invalid="ignore"):
            val = np.where(g == 0, a, a + g * (b - a))
        out[:, k] = np.where(np.isfinite(a) & np.isfinite(b), val, np.nan)
    return out


def compute_vpc(pred: Any, *, x: str = "time", bins: Any = "auto", n_bins: int = 10,
                stratify: str | Mapping | None = None, prediction_corrected: bool = True,
                quantiles: Sequence[float] = (0.05, 0.5, 0.95), ci: float = 0.9) -> VPCResult:
    """Prediction-corrected VPC with a BLQ-fraction panel, optionally stratified.

    Parameters
    ----------
    pred : Predictions
        From :func:`blinapk.diagnostics.compute_predictions` (holds the
        simulations).
    x : {"time", "since_change"}
        Time since the first dose (days) or since the last rate change (h).
    bins : "auto", "quantile" or sequence of float
        ``auto``: one bin per nominal time (``NOMTIME`` column, h) holding at
        least 10 observations when the dataset has one and ``x="time"``, else
        quantile bins; ``quantile``: ``n_bins`` bins with equal counts;
        a sequence: bin edges in the unit of ``x``.
    n_bins : int, default 10
        Number of quantile bins.
    stratify : str or mapping, optional
        Dataset column, ``"RATE"`` or ``{ID: label}`` (see the module notes).
    prediction_corrected : bool, default True
        Apply the prediction correction.
    quantiles : sequence of float, default (0.05, 0.5, 0.95)
        Percentiles compared.
    ci : float, default 0.9
        Mass of the simulated confidence bands.

    Returns
    -------
    VPCResult

    Raises
    ------
    ModelSpecError
        Unknown axis, bad bins or an unknown stratification column.
    """
    if not 0.0 < ci < 1.0:
        raise ValueError(f"ci must be in (0, 1), got {ci}")
    quantiles = tuple(float(q) for q in quantiles)
    table = pred.table
    xv = _x_values(pred, x)
    strata, strat_name = _strata(pred, stratify)
    nominal = None
    if x == "time" and bins == "auto" and "NOMTIME" in pred.observations.columns:
        nominal = pd.to_numeric(pred.observations["NOMTIME"], errors="coerce").to_numpy(float)
        nominal = nominal / 24.0 if np.all(np.isfinite(nominal)) else None
    bin_of = np.zeros(len(table), dtype=int)
    for stratum in pd.unique(strata):  # bins are made within each stratum
        in_s = strata == stratum
        where, edges = xv[in_s], None
        if nominal is not None:
            edges = _nominal_edges(nominal[in_s])
            where = nominal[in_s] if edges is not None else where
        if edges is None:
            edges = _edges(xv[in_s], bins, n_bins)
        bin_of[in_s] = np.clip(np.searchsorted(edges, where, side="right") - 1, 0,
                               edges.size - 2)
    dv = np.where(table["CENS"].to_numpy() == 1, np.nan, table["DV"].to_numpy(float))
    lloq = table["LLOQ"].to_numpy(float)
    cens = table["CENS"].to_numpy() == 1
    pred_v = table["PRED"].to_numpy(float)
    sims = np.asarray(pred.sims, dtype=float)
    lo_q, hi_q = (1.0 - ci) / 2.0, 1.0 - (1.0 - ci) / 2.0
    rows, obs_rows = [], []
    for stratum in pd.unique(strata):
        in_s = strata == stratum
        for b in np.unique(bin_of[in_s]):
            idx = np.flatnonzero(in_s & (bin_of == b))
            factor = np.ones(idx.size)
            if prediction_corrected:
                p = pred_v[idx]
                med = np.median(p)
                factor = np.where(p > 0, med / np.where(p > 0, p, 1.0), 1.0)
            o_val = dv[idx] * factor
            s_val = sims[:, idx] * factor[None, :]
            s_blq = sims[:, idx] < lloq[idx][None, :]
            obs_p = _percentiles(o_val[None, :], cens[idx][None, :], quantiles)[0]
            sim_p = _percentiles(s_val, s_blq, quantiles)
            row = {"STRATUM": stratum, "BIN": int(b), "X_LOW": float(xv[idx].min()),
                   "X_HIGH": float(xv[idx].max()), "X_MID": float(np.median(xv[idx])),
                   "N": int(idx.size), "N_BLQ": int(cens[idx].sum()),
                   "LLOQ": float(np.median(lloq[idx] * factor))}
            for k, q in enumerate(quantiles):
                name = _pname(q)
                col = sim_p[:, k]
                enough = np.mean(np.isfinite(col)) >= 0.5
                row[f"OBS_{name}"] = float(obs_p[k])
                for label, level in (("LOWER", lo_q), ("MEDIAN", 0.5), ("UPPER", hi_q)):
                    row[f"SIM_{name}_{label}"] = float(np.nanquantile(col, level)) if enough \
                        else np.nan
            frac = s_blq.mean(axis=1)
            row.update(BLQ_OBS=float(cens[idx].mean()),
                       BLQ_SIM_LOWER=float(np.quantile(frac, lo_q)),
                       BLQ_SIM_MEDIAN=float(np.quantile(frac, 0.5)),
                       BLQ_SIM_UPPER=float(np.quantile(frac, hi_q)))
            prev = rows[-1] if rows and rows[-1]["STRATUM"] == stratum else None
            row["GAP_BEFORE"] = bool(
                prev is not None and x == "time" and _off_treatment(
                    getattr(pred, "rates", None), pd.unique(table["ID"].to_numpy()[in_s]),
                    24.0 * prev["X_HIGH"], 24.0 * row["X_LOW"]))
            rows.append(row)
            obs_rows.append(pd.DataFrame({
                "STRATUM": stratum, "BIN": int(b), "X": xv[idx],
                "DV": np.where(cens[idx], lloq[idx] * factor, o_val),
                "CENS": cens[idx].astype(int)}))
    bins_df = pd.DataFrame(rows)  # strata in order of appearance, bins by time
    return VPCResult(bins=bins_df.reset_index(drop=True),
                     observations=pd.concat(obs_rows, ignore_index=True), x=x,
                     quantiles=quantiles, ci=ci, prediction_corrected=prediction_corrected,
                     stratify=strat_name, n_sim=int(sims.shape[0]))

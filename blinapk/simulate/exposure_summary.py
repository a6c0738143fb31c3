"""Tidy summaries of simulated exposure: distributions and probability of target attainment.

:func:`summarize_exposure` reduces one or more results of
:func:`~blinapk.simulate.simulate_exposure` to two tables, by scenario and
by groups of patients (e.g. BSA bands, arm):

* ``distribution``: N, mean, SD and quantiles of ``CSS`` (per dose level),
  ``CAVG`` (per window), ``FTA`` (fraction of a window above a threshold)
  and the structural parameters;
* ``attainment``: probability of target attainment, ``P(metric >= target)``,
  pooled over draws and, with several draws, its credible interval across
  draws (parameter uncertainty).

The reduction is *mergeable*: each block of patients gives counts, sums
and a fixed-bin histogram that add up exactly, so the tables do not depend
on how patients were chunked (in memory or on dask, where memory stays flat).
Quantiles are read from the histogram: log-spaced bins for concentrations
and parameters (relative resolution :data:`LOG_RESOLUTION`), linear bins for
fractions (:data:`LINEAR_RESOLUTION`).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from blinapk._html import html_repr
from blinapk.errors import ModelSpecError

__all__ = ["DEFAULT_BANDS", "DEFAULT_QUANTILES", "LINEAR_RESOLUTION", "LOG_RESOLUTION",
           "ExposureSummary", "summarize_exposure"]

#: Band edges of ``<COV>_BAND`` grouping columns (right-open bands).
DEFAULT_BANDS: Mapping[str, tuple[float, ...]] = {
    "BSA": (0.0, 0.5, 1.0, 1.5, 2.0, 2.5, np.inf),
    "WT": (0.0, 10.0, 20.0, 30.0, 45.0, 70.0, 100.0, np.inf),
    "AGE": (0.0, 2.0, 6.0, 12.0, 18.0, 65.0, np.inf),
}
#: Quantiles reported.
DEFAULT_QUANTILES: tuple[float, ...] = (0.05, 0.25, 0.5, 0.75, 0.95)
_N_BINS = 9000
_LOG_RANGE = (-2.0, 7.0)  # log10 of 0.01 ... 1e7 (pg/mL, L/h, L)
#: Relative width of a log bin (quantile resolution of concentrations and parameters).
LOG_RESOLUTION = float(10 ** ((_LOG_RANGE[1] - _LOG_RANGE[0]) / _N_BINS) - 1)
#: Spacing of the linear bins of fractions (quantile resolution of FTA; 0 and 1 are exact).
LINEAR_RESOLUTION = 1.0 / (_N_BINS - 1)


@dataclass(frozen=True)
class ExposureSummary:
    """The tables of :func:`summarize_exposure`.

    Attributes
    ----------
    distribution : DataFrame
        ``SCENARIO``, the grouping columns (a band ``<COV>_BAND`` also gives its
        limits ``<COV>_BAND_LOW``, ``<COV>_BAND_HIGH``), ``METRIC`` (``CSS``, ``CAVG``,
        ``FTA`` or a parameter), ``KEY`` (dose level or window), ``THRESHOLD``
        (pg/mL, FTA only), ``UNIT``, ``N``, ``MEAN``, ``SD``, ``P5`` ... ``P95``.
    attainment : DataFrame
        ``SCENARIO``, the grouping columns, ``METRIC``, ``KEY``, ``THRESHOLD``,
        ``TARGET``, ``N``, ``PTA`` (pooled), ``PTA_MCSE`` (binomial Monte
        Carlo SE), ``PTA_LOWER``, ``PTA_UPPER`` (central interval across draws;
        NaN with one draw).
    """

    distribution: pd.DataFrame
    attainment: pd.DataFrame

    def _repr_html_(self) -> str:
        css = self.distribution[self.distribution["METRIC"] == "CSS"]
        cols = [c for c in css.columns if c in ("SCENARIO", "KEY", "UNIT", "N", "MEAN", "P5",
                                                "P50", "P95") or c.endswith("_BAND")]
        pta = self.attainment
        pta = pta[pta["METRIC"] == "CSS"] if "METRIC" in pta.columns else pta
        pcols = [c for c in pta.columns if c in ("SCENARIO", "KEY", "TARGET", "N", "PTA",
                                                 "PTA_LOWER", "PTA_UPPER") or c.endswith("_BAND")]
        return html_repr("ExposureSummary: simulated Css and target attainment",
                         ("Css", css[cols]), ("P(Css >= TARGET)", pta[pcols]),
                         note="all metrics: .distribution, .attainment")


@dataclass(frozen=True)
class _Metric:
    name: str  # variable
    key: str
    index: tuple  # selection in the variable after (draw, subject)
    log: bool
    threshold: float = np.nan
    unit: str = ""


def _metrics(ds: xr.Dataset, params: Sequence[str]) -> list[_Metric]:
    out = []
    for level in ds["dose_level"].values:
        out.append(_Metric("CSS", str(level), (list(ds["dose_level"].values).index(level),),
                           True, unit="pg/mL"))
    for w, window in enumerate(ds["window"].values):
        out.append(_Metric("CAVG", str(window), (w,), True, unit="pg/mL"))
        for t, th in enumerate(ds["threshold"].values):
            out.append(_Metric("FTA", str(window), (w, t), False, float(th), "fraction"))
    for p in params:
        out.append(_Metric(p, "", (), True, unit=str(ds[p].attrs.get("units", ""))))
    return out


def _bin(values: np.ndarray, log: bool) -> np.ndarray:
    if not log:  # fractions: bin b is centred on b / (n - 1), so 0 and 1 are exact
        return np.clip(np.rint(values * (_N_BINS - 1)), 0, _N_BINS - 1).astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        x = (np.log10(values) - _LOG_RANGE[0]) / (_LOG_RANGE[1] - _LOG_RANGE[0])
    return np.clip(np.floor(np.nan_to_num(x, nan=0.0, neginf=0.0) * _N_BINS), 0,
                   _N_BINS - 1).astype(np.int64)


def _groups(block: Mapping[str, np.ndarray], by: Sequence[str],
            bands: Mapping[str, Sequence[float]]) -> tuple[np.ndarray, list[tuple]]:
    """Local group code per patient and the group labels."""
    n = block["_n"]
    if not by:
        return np.zeros(n, dtype=np.int64), [()]
    cols = []
    for b in by:
        if b.endswith("_BAND"):
            edges = np.asarray(bands[b[:-5]], float)
            x = np.asarray(block[b[:-5]], float)
            idx = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, len(edges) - 2)
            labels = np.array([f"[{edges[i]:g}, {edges[i + 1]:g})" for i in
                               range(len(edges) - 1)], dtype=object)
            cols.append(labels[idx])
        else:
            cols.append(np.asarray(block[b]).astype(str))
    frame = pd.DataFrame(dict(enumerate(cols)))
    codes, uniques = pd.MultiIndex.from_frame(frame).factorize()
    return codes, [tuple(u) if isinstance(u, tuple) else (u,) for u in uniques]


def _partial(block: Mapping[str, np.ndarray], *, by: tuple, bands: Mapping, metrics: tuple,
             targets: Mapping[str, float]) -> dict:
    """Count, sum and histogram each metric per group of one block of patients."""
    codes, labels = _groups(block, by, bands)
    n_groups = len(labels)
    out: dict[tuple, dict[str, np.ndarray]] = {}
    n_metric = len(metrics)
    n_draw = block["_draws"]
    stats = {k: np.zeros((n_groups, n_metric)) for k in ("n", "sum", "sumsq")}
    hist = np.zeros((n_groups, n_metric, _N_BINS), dtype=np.int64)
    hits = np.zeros((n_groups, n_metric, n_draw))
    counts = np.zeros((n_groups, n_metric, n_draw))
    for m, met in enumerate(metrics):
        v = np.asarray(block[met.name])
        v = v[(slice(None), slice(None), *met.index)]  # (draw, subject)
        ok = np.isfinite(v)
        g = np.broadcast_to(codes, v.shape)
        vz = np.where(ok, v, 0.0)
        stats["n"][:, m] = np.bincount(g[ok], minlength=n_groups)
        stats["sum"][:, m] = np.bincount(g.ravel(), weights=vz.ravel(), minlength=n_groups)
        stats["sumsq"][:, m] = np.bincount(g.ravel(), weights=(vz * vz).ravel(),
                                           minlength=n_groups)
        flat = g[ok] * _N_BINS + _bin(v[ok], met.log)
        hist[:, m, :] = np.bincount(flat, minlength=n_groups * _N_BINS).reshape(n_groups, -1)
        target = targets.get(met.name)
        if target is not None:
            d_index = np.broadcast_to(np.arange(n_draw)[:, None], v.shape)
            cell = (g * n_draw + d_index)
            counts[:, m, :] = np.bincount(cell[ok], minlength=n_groups * n_draw).reshape(
                n_groups, n_draw)
            hits[:, m, :] = np.bincount(cell[ok & (vz >= target)],
                                        minlength=n_groups * n_draw).reshape(n_groups, n_draw)
    for j, label in enumerate(labels):
        out[label] = {"n": stats["n"][j], "sum": stats["sum"][j], "sumsq": stats["sumsq"][j],
                      "hist": hist[j], "hits": hits[j], "counts": counts[j]}
    return out


def _merge(a: dict, b: dict) -> dict:
    out = dict(a)
    for key, value in b.items():
        out[key] = ({k: out[key][k] + value[k] for k in value} if key in out else value)
    return out


def _quantiles(hist: np.ndarray, qs: Sequence[float], log: bool) -> np.ndarray:
    total = hist.sum()
    if total == 0:
        return np.full(len(qs), np.nan)
    cdf = np.cumsum(hist)
    out = []
    for q in qs:
        target = q * total
        b = int(np.searchsorted(cdf, target, side="left"))
        b = min(b, _N_BINS - 1)
        if not log:
            out.append(b / (_N_BINS - 1))
            continue
        before = cdf[b - 1] if b > 0 else 0
        frac = (target - before) / hist[b] if hist[b] else 0.5
        x = (b + frac) / _N_BINS  # uniform within the bin (in log space)
        out.append(10 ** (_LOG_RANGE[0] + x * (_LOG_RANGE[1] - _LOG_RANGE[0])))
    return np.asarray(out)


def summarize_exposure(results: xr.Dataset | Mapping[str, xr.Dataset], *,
                       by: Sequence[str] = ("BSA_BAND",),
                       bands: Mapping[str, Sequence[float]] | None = None,
                       targets: Mapping[str, float] | None = None,
                       quantiles: Sequence[float] = DEFAULT_QUANTILES,
                       ci: float = 0.9) -> ExposureSummary:
    """Summarise simulated exposure by scenario and patient group.

    Parameters
    ----------
    results : Dataset or mapping of str to Dataset
        Output(s) of :func:`~blinapk.simulate.simulate_exposure`, in memory or
        lazy (dask: reduced block by block). A mapping labels scenarios (e.g.
        regimens); a single Dataset is labelled by its regimen's name.
    by : sequence of str, default ("BSA_BAND",)
        Grouping columns: per-patient variables (``ARM``, ``REGIMEN``,
        ``GROUP``, ``SEX`` ...) or ``<COV>_BAND`` for bands of a numeric
        covariate (edges from ``bands``). ``()``: one group.
    bands : mapping, optional
        Covariate -> band edges, overriding :data:`DEFAULT_BANDS`.
    targets : mapping, optional
        Metric -> target for attainment, e.g. ``{"CSS": 470, "CAVG": 470,
        "FTA": 0.9}`` (FTA: fraction of the window above each threshold).
        Default: ``CSS`` and ``CAVG`` at the first threshold of the results.
    quantiles : sequence of float
        Quantiles of the distribution table (columns ``P5, P25, ...``).
    ci : float, default 0.9
        Mass of the interval of PTA across draws.

    Returns
    -------
    ExposureSummary

    Examples
    --------
    >>> from blinapk.simulate import simulate_exposure
    >>> ds = simulate_exposure(2000, seed=1, regimen="adult_rr")
    >>> s = summarize_exposure(ds, by=())
    >>> row = s.distribution.query("METRIC == 'CSS' and KEY == '28 ug/day'").iloc[0]
    >>> bool(500 < row["MEAN"] < 800)
    True
    >>> sorted(s.attainment["METRIC"].unique())
    ['CAVG', 'CSS']
    """
    from blinapk.simulate.chunked import reduce_blocks

    scenarios = ({_label(results): results} if isinstance(results, xr.Dataset)
                 else dict(results))
    table_bands = {**DEFAULT_BANDS, **dict(bands or {})}
    dist_rows, pta_rows = [], []
    lo_q, hi_q = (1 - ci) / 2, 1 - (1 - ci) / 2
    for scenario, ds in scenarios.items():
        params = [p for p in ("CL", "V", "Q", "V2") if p in ds and ds[p].dims == ("draw",
                                                                                  "subject")]
        mets = tuple(_metrics(ds, params))
        th = [float(t) for t in ds["threshold"].values]
        tgt = dict(targets) if targets is not None else (
            {"CSS": th[0], "CAVG": th[0]} if th else {})
        unknown = set(tgt) - {"CSS", "CAVG", "FTA", *params}
        if unknown:
            raise ModelSpecError(f"targets: unknown metric(s) {sorted(unknown)}")
        for b in by:
            base = b[:-5] if b.endswith("_BAND") else b
            if base not in ds or (b.endswith("_BAND") and base not in table_bands):
                raise ModelSpecError(f"by: {b!r} is not a patient variable (or band of one)")
        names = sorted({m.name for m in mets} | {b[:-5] if b.endswith("_BAND") else b
                                                 for b in by})
        partial = functools.partial(_block_partial, by=tuple(by), bands=table_bands,
                                    metrics=mets, targets=tgt, n_draw=ds.sizes["draw"])
        merged = reduce_blocks(ds, names, partial, _merge)
        for group in sorted(merged, key=functools.partial(_group_order, by=tuple(by))):
            st = merged[group]
            labels = dict(zip(by, group, strict=True))
            for b in by:  # numeric limits of each band, for plots against the covariate
                if b.endswith("_BAND"):
                    low, high = labels[b][1:-1].split(", ")
                    labels[f"{b}_LOW"], labels[f"{b}_HIGH"] = float(low), float(high)
            for m, met in enumerate(mets):
                n = st["n"][m]
                if n == 0:  # e.g. a paediatric dose level in the adult arm
                    continue
                mean = st["sum"][m] / n if n else np.nan
                var = (st["sumsq"][m] - n * mean**2) / (n - 1) if n > 1 else np.nan
                row = {"SCENARIO": scenario, **labels, "METRIC": met.name, "KEY": met.key,
                       "THRESHOLD": met.threshold, "UNIT": met.unit, "N": int(n),
                       "MEAN": mean, "SD": float(np.sqrt(max(var, 0.0))) if n > 1 else np.nan}
                for q, value in zip(quantiles, _quantiles(st["hist"][m], quantiles, met.log),
                                    strict=True):
                    row[f"P{100 * q:g}"] = value
                dist_rows.append(row)
                if met.name in tgt:
                    hits, counts = st["hits"][m], st["counts"][m]
                    total = counts.sum()
                    p = hits.sum() / total if total else np.nan
                    per_draw = np.divide(hits, counts, out=np.full_like(hits, np.nan),
                                         where=counts > 0)
                    several = np.isfinite(per_draw).sum() > 1
                    pta_rows.append({
                        "SCENARIO": scenario, **labels, "METRIC": met.name, "KEY": met.key,
                        "THRESHOLD": met.threshold, "TARGET": float(tgt[met.name]),
                        "N": int(total), "PTA": p,
                        "PTA_MCSE": float(np.sqrt(p * (1 - p) / total)) if total else np.nan,
                        "PTA_LOWER": float(np.nanquantile(per_draw, lo_q)) if several else np.nan,
                        "PTA_UPPER": float(np.nanquantile(per_draw, hi_q)) if several else np.nan,
                    })
    dist = pd.DataFrame(dist_rows)
    pta = pd.DataFrame(pta_rows)
    dist.attrs.update(log_resolution=LOG_RESOLUTION, linear_resolution=LINEAR_RESOLUTION)
    return ExposureSummary(dist, pta)


def _block_partial(block: Mapping[str, np.ndarray], *, n_draw: int, metrics: tuple,
                   **kwargs: Any) -> dict:
    n = np.shape(block[metrics[0].name])[1]  # metrics are (draw, subject, ...)
    return _partial({**block, "_n": n, "_draws": n_draw}, metrics=metrics, **kwargs)


def _group_order(group: tuple, by: tuple) -> tuple:
    """Bands by their lower limit, other labels alphabetically."""
    return tuple((float(g[1:].split(",")[0]), "") if b.endswith("_BAND") else (0.0, str(g))
                 for b, g in zip(by, group, strict=True))


def _label(ds: xr.Dataset) -> str:
    import json

    settings = json.loads(ds.attrs.get("settings", "{}"))
    return str(settings.get("regimen", {}).get("name", "scenario"))

"""Individual exposures: from the population-PK posterior, from given parameters, or observed.

An :class:`Exposure` holds one metric (:mod:`blinapk.er.metrics`) for every
subject (or dose event) as a matrix of draws ``(n_units, n_draws)``:

* :func:`posterior_exposure`: per subject and per posterior draw of a
  :class:`~blinapk.poppk.PopPKFit` (individual CL, V, ... at baseline
  covariates);
* :func:`exposure_from_params`: from given individual parameters (the
  truth of a simulated trial, or any parameter draws);
* :func:`observed_exposure`: the observed NCA Css
  (:func:`blinapk.nca.compute_css`, pooled per dose level) as a plug-in
  value; subjects without a usable Css are listed in ``missing`` with the
  NCA's reason (all samples BLQ, no sample at steady state, ...).

``Exposure.point`` is the posterior mean per unit (the plug-in value).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from blinapk.data import Dataset
from blinapk.er.metrics import ExposurePlan, get_metric, plan_exposure
from blinapk.errors import BlinapkError, ModelSpecError

__all__ = ["Exposure", "exposure_from_params", "observed_exposure", "pk_draws",
           "posterior_exposure"]


@dataclass(frozen=True, eq=False)
class Exposure:
    """One exposure metric for every subject or event, as draws.

    Attributes
    ----------
    metric : str
        Metric name (:data:`blinapk.er.metrics.METRICS`).
    level : {"subject", "event"}
        What a unit is.
    units : DataFrame
        One row per unit: ``ID`` (+ ``START, KIND, CYCLE`` for events).
    draws : ndarray, shape (n_units, n_draws)
        Exposure (pg/mL); one column for a plug-in or observed value.
    source : str
        ``posterior`` (PK posterior draws), ``given`` (given parameters) or
        ``observed`` (NCA).
    missing : DataFrame
        ``ID`` (+ keys) and ``REASON`` of units without an exposure.
    plan : ExposurePlan or None
        How the metric is computed from PK parameters (None for ``observed``).
    settings : Mapping
        Options used (``structure``: the PK model).
    params : Mapping or None
        The individual PK parameters the exposures were computed from,
        ``{param: (n_draws, n_subjects)}`` in the order of ``plan.subjects``
        (None for ``observed``); used to predict exposures at other regimens.
    """

    metric: str
    level: str
    units: pd.DataFrame = field(repr=False)
    draws: np.ndarray = field(repr=False)
    source: str
    missing: pd.DataFrame = field(repr=False)
    plan: ExposurePlan | None = field(default=None, repr=False)
    settings: Mapping[str, Any] = field(default_factory=dict)
    params: Mapping[str, np.ndarray] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        d = np.asarray(self.draws, dtype=float)
        if d.ndim != 2 or d.shape[0] != len(self.units):
            raise ModelSpecError(f"Exposure: draws must be (n_units={len(self.units)}, "
                                 f"n_draws), got {d.shape}")
        if not np.all(np.isfinite(d) & (d > 0)):
            raise ModelSpecError("Exposure: every exposure must be finite and > 0")
        d.setflags(write=False)
        object.__setattr__(self, "draws", d)

    @property
    def n_draws(self) -> int:
        """Draws per unit."""
        return int(self.draws.shape[1])

    @property
    def point(self) -> np.ndarray:
        """Posterior mean exposure per unit (the plug-in value)."""
        return self.draws.mean(axis=1)

    @property
    def label(self) -> str:
        """Plain-language name of the metric."""
        return get_metric(self.metric, self.level).label

    @property
    def symbol(self) -> str:
        """Upper-case name used in parameter names (``BETA_LOG<symbol>``)."""
        return get_metric(self.metric, self.level).symbol

    def to_frame(self, ci: float = 0.9) -> pd.DataFrame:
        """Per unit: keys, ``MEAN, MEDIAN, LOWER, UPPER`` (central ``ci`` interval), ``CV``."""
        lo, hi = (1.0 - ci) / 2.0, 1.0 - (1.0 - ci) / 2.0
        d = self.draws
        out = self.units.copy()
        out["MEAN"] = d.mean(axis=1)
        out["MEDIAN"] = np.median(d, axis=1)
        out["LOWER"] = np.quantile(d, lo, axis=1)
        out["UPPER"] = np.quantile(d, hi, axis=1)
        out["CV"] = (100.0 * d.std(axis=1, ddof=1) / out["MEAN"] if self.n_draws > 1
                     else np.nan)
        out.attrs["ci"] = ci
        return out


#: Largest number of array elements a chunk of draws may use (grid x doses x units x draws).
_CHUNK_ELEMENTS = 4_000_000


def _evaluate_in_chunks(plan: ExposurePlan, params: Mapping[str, np.ndarray],
                        structure: str) -> np.ndarray:
    """``plan.evaluate`` over slices of the draws, so that AUC/Cmax grids stay small."""
    n_draws = next(iter(params.values())).shape[0]
    per_draw = len(plan.units) * (1 if plan.times is None else plan.times.shape[1]) * (
        1 if plan.doses is None else plan.doses.n_dose_max)
    step = max(1, _CHUNK_ELEMENTS // max(per_draw, 1))
    parts = [plan.evaluate({k: v[lo:lo + step] for k, v in params.items()}, structure)
             for lo in range(0, n_draws, step)]
    return np.concatenate([np.asarray(x) for x in parts], axis=0)


def exposure_from_params(dataset: Dataset, params: Mapping[str, Any], metric: str = "css", *,
                         level: str = "subject", structure: str = "1cmt",
                         subjects: tuple | None = None, source: str = "given",
                         window: tuple[float, float] | None = None,
                         cmax_hours: float | None = None) -> Exposure:
    """Exposure of every subject (or event) from given individual PK parameters.

    Parameters
    ----------
    dataset : Dataset
        The event table whose doses define the metric.
    params : mapping
        ``CL``, ``V`` (+ ``Q``, ``V2``) per subject, shape ``(n_subjects,)``
        or ``(n_draws, n_subjects)``, in the order of ``subjects``.
    metric, level, window, cmax_hours
        See :func:`blinapk.er.metrics.plan_exposure`.
    structure : {"1cmt", "2cmt"}
        Structural model.
    subjects : tuple, optional
        Subject order of ``params`` (default: the dataset's).
    source : str
        Recorded in :attr:`Exposure.source`.

    Returns
    -------
    Exposure
    """
    kw = {} if cmax_hours is None else {"cmax_hours": cmax_hours}
    plan = plan_exposure(dataset, metric, level=level, window=window, subjects=subjects, **kw)
    p = {k: np.atleast_2d(np.asarray(v, dtype=float)) for k, v in params.items()}
    values = _evaluate_in_chunks(plan, p, structure)  # (n_draws, n_units)
    return Exposure(plan.metric.name, plan.metric.level,
                    plan.units.drop(columns="SUBJECT"), np.asarray(values).T, source,
                    plan.missing, plan, dict(plan.settings) | {"structure": structure}, p)


def pk_draws(fit: Any, max_draws: int | None = None) -> dict[str, np.ndarray]:
    """Individual PK parameters of a fit as ``{param: (n_draws, n_subjects)}``.

    Parameters
    ----------
    fit : PopPKFit
        A population-PK fit (its ``indiv`` posterior: parameters at baseline
        covariates).
    max_draws : int, optional
        Keep this many draws, evenly spaced over the chains.

    Returns
    -------
    dict of ndarray
    """
    ind = fit.idata.posterior["indiv"].stack(sample=("chain", "draw")).transpose(
        "sample", "subject", "param")
    vals = np.asarray(ind.values, dtype=float)
    if max_draws is not None and vals.shape[0] > max_draws:
        vals = vals[np.linspace(0, vals.shape[0] - 1, max_draws).round().astype(int)]
    return {str(p): vals[:, :, k] for k, p in enumerate(ind["param"].values)}


def posterior_exposure(fit: Any, dataset: Dataset, metric: str = "css", *,
                       level: str = "subject", max_draws: int | None = 1000,
                       window: tuple[float, float] | None = None,
                       cmax_hours: float | None = None) -> Exposure:
    """Exposure per subject (or event) and per posterior draw of a population-PK fit.

    Parameters
    ----------
    fit : PopPKFit
        The fit (NUTS, Laplace or MAP; MAP gives one draw).
    dataset : Dataset
        The dataset the fit was made on (checked by its hash).
    metric, level, window, cmax_hours
        See :func:`blinapk.er.metrics.plan_exposure`.
    max_draws : int, optional
        Posterior draws kept, evenly spaced (default 1000; None: all).

    Returns
    -------
    Exposure

    Raises
    ------
    BlinapkError
        ``dataset`` is not the one fitted.
    """
    if dataset.hash != fit.data_hash:
        raise BlinapkError("exposure: the dataset is not the one the PK fit was made on "
                           f"(hash {dataset.hash[:12]}... vs {fit.data_hash[:12]}...)")
    params = pk_draws(fit, max_draws)
    subjects = tuple(fit.idata.posterior["subject"].values.tolist())
    return exposure_from_params(dataset, params, metric, level=level,
                                structure=fit.spec.structure, subjects=subjects,
                                source="posterior", window=window, cmax_hours=cmax_hours)


def observed_exposure(dataset: Dataset, metric: str = "css", **css_options: Any) -> Exposure:
    """Return the observed NCA Css of every subject as a plug-in exposure.

    Css is pooled per dose level of cycle 1 (:func:`blinapk.nca.compute_css`
    with ``per="dose_level"``): ``css`` takes the target (highest) dose
    level, ``css_start`` the first. Subjects without a usable Css are listed
    in ``missing`` with the NCA's reason.

    Parameters
    ----------
    dataset : Dataset
        The event table with BLIN observations.
    metric : {"css", "css_start"}
        Which dose level.
    **css_options
        Passed to :func:`blinapk.nca.compute_css` (e.g. ``blq``,
        ``min_time_after_start``).

    Returns
    -------
    Exposure
        One draw per subject, ``source="observed"``.
    """
    from blinapk.nca import compute_css

    if metric not in ("css", "css_start"):
        raise ModelSpecError(f"observed exposure: only css and css_start are observed by "
                             f"NCA, not {metric!r}")
    table = compute_css(dataset, per="dose_level", **css_options).to_frame()
    if "CYCLE" in table.columns and table["CYCLE"].notna().any():
        table = table.loc[table["CYCLE"] == table.groupby("ID")["CYCLE"].transform("min")]
    rows, missing = [], []
    for sid in dataset.subjects:
        t = table.loc[table["ID"] == sid]
        if t.empty:
            missing.append({"ID": sid, "REASON": "no cycle-1 Css segment"})
            continue
        pick = t.loc[t["R0"].idxmax()] if metric == "css" else t.iloc[0]
        if np.isfinite(pick["CSS"]) and pick["CSS"] > 0:
            rows.append({"ID": sid, "CSS": float(pick["CSS"])})
        else:
            missing.append({"ID": sid, "REASON": f"NCA Css not available: "
                                                 f"{pick['REASON'] or 'Css is 0'}"})
    units = pd.DataFrame(rows, columns=["ID", "CSS"])
    return Exposure(metric, "subject", units[["ID"]], units[["CSS"]].to_numpy(float),
                    "observed", pd.DataFrame(missing, columns=["ID", "REASON"]), None,
                    {"metric": metric, "nca": dict(css_options)})

"""Predicted response and adverse-event rates of virtual trials from fitted E-R models.

:func:`predict_response` applies one or more exposure-response fits
(:class:`blinapk.er.ERFit`, binary or time-to-event) to the virtual patients
of :func:`~blinapk.simulate.simulate_exposure`:

1. **Exposure metric.** Each patient's exposure is the metric the E-R model
   was fitted on, read from the simulation: ``css`` (Css at the cycle-1
   target dose, the highest cycle-1 dose level of the patient's arm) and
   ``css_start`` (Css at the first cycle-1 level) from ``CSS``; ``cavg``
   (average concentration over the cycle-1 infusion, or over the fit's
   window) from a ``CAVG`` window with exactly those bounds, e.g.
   ``windows={"C1_ON": (0, 672)}`` for a 28-day infusion without
   interruptions. Cmax metrics and per-event (cytokine peak) models are
   refused, as is a simulation without the matching window.
2. **Covariates** of the E-R model come from the simulated population
   (``AGEGROUP`` is derived from ``AGE`` as for the fit, children < 18 y);
   a covariate the population lacks, or a level the fit never saw, is refused.
3. **Draws.** E-R posterior draw ``k`` is paired with PK draw ``k``
   (:func:`blinapk.er.predict.paired_draws`: ``min(max_draws, max(n_er, n_pk))``
   pairs, evenly spaced, the shorter set recycled). For each pair the
   regimen's rate is the mean predicted probability over the virtual
   patients of a group, so the interval across pairs carries the E-R
   parameter uncertainty and, when the source is a posterior with several
   draws, the PK parameter uncertainty; between-patient variability (and the
   population's covariates) is averaged over, not part of the interval.
   ``MEAN`` (the posterior mean rate) is the probability that a new patient
   of the group has the event.

Patients are reduced block by block (:func:`~blinapk.simulate.chunked.reduce_blocks`),
so lazy (dask) simulations work with flat memory.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from blinapk.dosing import Regimen, regimen_from_dict
from blinapk.er.outcomes import CHILD_AGE
from blinapk.er.predict import er_draws, paired_draws, predict_at
from blinapk.er.summary import response_label
from blinapk.errors import ModelSpecError
from blinapk.simulate.exposure_summary import DEFAULT_BANDS, _groups, _label, _merge

__all__ = ["RESPONSE_COLUMNS", "er_exposure", "predict_response"]

#: Columns of the table of :func:`predict_response` (after ``SCENARIO`` and the groups).
RESPONSE_COLUMNS = ("MODEL_NAME", "ENDPOINT", "PREDICTION", "METRIC", "EXPOSURE", "N_SUBJECTS",
                    "N_MISSING", "N_DRAWS", "EXPOSURE_GMEAN", "MEAN", "MEDIAN", "LOWER", "UPPER")
#: Patient x draw-pair cells evaluated at once (bounds the memory of one step).
_CELLS = 2_000_000


def _fits(er: Any) -> dict[str, Any]:
    if isinstance(er, Mapping):
        return {str(k): v for k, v in er.items()}
    items = list(er) if isinstance(er, Sequence) and not isinstance(er, str) else [er]
    out: dict[str, Any] = {}
    for fit in items:
        name, k = fit.endpoint, 2
        while name in out:
            name, k = f"{fit.endpoint}_{k}", k + 1
        out[name] = fit
    return out


def _arms(ds: xr.Dataset) -> dict[str, Regimen]:
    reg = regimen_from_dict(json.loads(ds.attrs["settings"])["regimen"])
    arms = [reg] if isinstance(reg, Regimen) else [reg.adult, reg.paediatric]
    return {a.name: a for a in arms}


def _level_selector(ds: xr.Dataset, pick: Callable) -> tuple[Callable, str]:
    """CSS at one cycle-1 level per arm (``pick(steps) -> step``), per patient."""
    levels = [str(v) for v in ds["dose_level"].values]
    chosen = {name: pick(arm.cycle_spec(1).steps).label for name, arm in _arms(ds).items()}
    index = {name: levels.index(label) for name, label in chosen.items()}

    def select(block: Mapping[str, np.ndarray]) -> np.ndarray:
        arm = np.asarray(block["REGIMEN"]).astype(str)
        unknown = sorted(set(arm) - set(index))
        if unknown:
            raise ModelSpecError(f"REGIMEN: arm(s) {unknown} are not in the simulation's "
                                 f"regimen ({sorted(index)})")
        lv = np.array([index[a] for a in arm], dtype=np.int64)
        css = np.asarray(block["CSS"])
        return css[:, np.arange(len(lv)), lv]

    return select, "CSS at " + " / ".join(dict.fromkeys(chosen.values()))


def _window_selector(ds: xr.Dataset, fit: Any) -> tuple[Callable, str]:
    settings = json.loads(ds.attrs["settings"])
    er_window = dict(fit.settings.get("exposure", {})).get("window")
    if er_window is not None:
        want = [float(er_window[0]), float(er_window[1])]
        why = f"the E-R window ({want[0]:g}, {want[1]:g}) h"
    else:
        arms = _arms(ds).values()
        on_hours = {24.0 * a.cycle_spec(1).on_days for a in arms}
        pauses = settings.get("interruptions") or any(a.interruptions for a in arms)
        if len(on_hours) > 1 or pauses:
            raise ModelSpecError(
                f"{fit.endpoint}: the E-R metric is cavg over each subject's cycle-1 infusion, "
                "which varies between patients here (interruptions or arms of different "
                "lengths); pass exposure={name: ('CAVG', window)} with the window to use")
        want = [0.0, on_hours.pop()]
        why = f"the cycle-1 infusion (0, {want[1]:g}) h"
    for name, w in settings.get("windows", {}).items():
        if isinstance(w, list) and [float(v) for v in w] == want:
            return _fixed_selector(ds, "CAVG", name), f"CAVG over {name}"
    raise ModelSpecError(
        f"{fit.endpoint}: the E-R metric is cavg over {why}, but the simulation has no CAVG "
        f"window with these bounds (windows: {settings.get('windows')}); simulate with "
        f"windows={{'C1_ON': ({want[0]:g}, {want[1]:g})}}")


def _fixed_selector(ds: xr.Dataset, variable: str, key: str) -> Callable:
    dim = {"CSS": "dose_level", "CAVG": "window"}.get(variable)
    if dim is None or variable not in ds:
        raise ModelSpecError(f"exposure: variable must be CSS or CAVG of the simulation, got "
                             f"{variable!r}")
    keys = [str(v) for v in ds[dim].values]
    if str(key) not in keys:
        raise ModelSpecError(f"exposure: {variable} has no {dim} {key!r} (has {keys})")
    j = keys.index(str(key))
    return lambda block: np.asarray(block[variable])[:, :, j]


def er_exposure(ds: xr.Dataset, fit: Any, exposure: tuple[str, str] | None = None
                ) -> tuple[Callable, str]:
    """How to read the E-R fit's exposure metric from a simulation.

    Parameters
    ----------
    ds : xarray.Dataset
        From :func:`~blinapk.simulate.simulate_exposure`.
    fit : ERFit
        The E-R fit.
    exposure : (variable, key), optional
        Override: ``("CSS", dose level)`` or ``("CAVG", window)``.

    Returns
    -------
    (callable, str)
        ``select(block) -> (draw, subject)`` exposures (pg/mL) and a description.

    Raises
    ------
    ModelSpecError
        A metric the simulation does not carry (Cmax, per-event metrics, a
        ``cavg`` without the matching window).
    """
    if exposure is not None:
        variable, key = exposure
        return _fixed_selector(ds, variable, key), f"{variable} at {key}"
    if fit.level != "subject":
        raise ModelSpecError(f"{fit.endpoint}: per-event (cytokine peak) E-R models are not "
                             "predicted for virtual trials")
    if fit.metric == "css":
        return _level_selector(ds, lambda steps: max(steps, key=lambda s: s.dose))
    if fit.metric == "css_start":
        return _level_selector(ds, lambda steps: steps[0])
    if fit.metric == "cavg":
        return _window_selector(ds, fit)
    raise ModelSpecError(f"{fit.endpoint}: the E-R model was fitted on {fit.metric!r} "
                         f"({fit.metric_label}), which simulate_exposure does not compute; "
                         "refit on css, css_start or cavg")


@dataclass(frozen=True, eq=False)
class _Model:
    """One E-R fit applied to one scenario."""

    fit: Any
    select: Callable
    p: Mapping[str, np.ndarray]  # E-R draws, one per pair
    i_pk: np.ndarray  # PK draw of each pair
    covariates: tuple[tuple[str, str], ...]  # (E-R name, simulated variable)
    exposure: str


def _covariate_frame(block: Mapping[str, np.ndarray], covariates: tuple
                     ) -> pd.DataFrame | None:
    if not covariates:
        return None
    frame = {}
    for er_name, sim_name in covariates:
        if sim_name == "AGEGROUP" and sim_name not in block:  # derived from AGE, as for the fit
            frame[er_name] = np.where(np.asarray(block["AGE"], float) < CHILD_AGE, "child",
                                      "adult")
        else:
            frame[er_name] = np.asarray(block[sim_name])
    return pd.DataFrame(frame)


def _partial(block: Mapping[str, np.ndarray], *, models: Mapping[str, _Model], by: tuple,
             bands: Mapping) -> dict:
    """Per (model, group): sums over patients of the prediction, per draw pair."""
    n = np.shape(block["CL"])[1]
    codes, labels = _groups({**block, "_n": n}, by, bands)
    onehot = np.zeros((n, len(labels)))
    onehot[np.arange(n), codes] = 1.0
    total = onehot.sum(axis=0)
    out: dict[tuple, dict[str, np.ndarray]] = {}
    for name, m in models.items():
        x_all = m.select(block)  # (draw, subject)
        covs = _covariate_frame(block, m.covariates)
        sums = {s: np.zeros((len(m.i_pk), len(labels))) for s in ("sum", "n", "logx")}
        step = max(1, _CELLS // len(m.i_pk))
        for a in range(0, n, step):
            cols = slice(a, min(n, a + step))
            x = x_all[:, cols][m.i_pk]  # (pair, subject): one sub-block at a time
            ok = np.isfinite(x) & (x > 0)
            x = np.where(ok, x, 1.0)
            sub = None if covs is None else covs.iloc[cols].reset_index(drop=True)
            prob = predict_at(m.fit, m.p, x, sub)
            sums["sum"] += np.where(ok, prob, 0.0) @ onehot[cols]
            sums["n"] += ok @ onehot[cols]
            sums["logx"] += np.log(x) @ onehot[cols]
        for j, label in enumerate(labels):
            out[(name, label)] = {**{s: v[:, j] for s, v in sums.items()},
                                  "total": total[j:j + 1]}
    return out


def _model(name: str, fit: Any, ds: xr.Dataset, exposure: tuple[str, str] | None,
           rename: Mapping[str, str], max_draws: int) -> _Model:
    select, label = er_exposure(ds, fit, exposure)
    covs = []
    for c in dict.fromkeys(t.covariate for t in fit.terms):
        s = rename.get(c, c)
        var = s if s in ds else ("AGE" if s == "AGEGROUP" else None)
        if var is None or ds[var].dims != ("subject",):
            patient = sorted(str(v) for v in ds.data_vars if ds[v].dims == ("subject",))
            raise ModelSpecError(
                f"{name}: the E-R model has covariate {c!r}, which the simulated population "
                f"does not carry as {s!r} (patient variables: {patient}); map it with "
                "covariates={...} or refit without it")
        covs.append((c, s))
    p = er_draws(fit)
    i_er, i_pk = paired_draws(next(iter(p.values())).shape[0], ds.sizes["draw"], max_draws)
    return _Model(fit, select, {k: v[i_er] for k, v in p.items()}, i_pk, tuple(covs), label)


def predict_response(results: xr.Dataset | Mapping[str, xr.Dataset], er: Any, *,
                     by: Sequence[str] = (), bands: Mapping[str, Sequence[float]] | None = None,
                     exposure: Mapping[str, tuple[str, str]] | None = None,
                     covariates: Mapping[str, str] | None = None, max_draws: int = 1000,
                     ci: float = 0.9) -> pd.DataFrame:
    """Predicted response (or adverse-event) rate per regimen from fitted E-R models.

    Parameters
    ----------
    results : Dataset or mapping of str to Dataset
        Output(s) of :func:`~blinapk.simulate.simulate_exposure` (in memory or
        lazy); a mapping labels scenarios, e.g. regimens.
    er : ERFit, sequence of ERFit or mapping of str to ERFit
        Binary or time-to-event E-R fits (:func:`blinapk.er.fit_er`,
        :func:`blinapk.er.load_er`), named by their endpoint unless a mapping.
    by : sequence of str
        Patient groups, as in :func:`~blinapk.simulate.summarize_exposure`
        (``ARM``, ``GROUP``, ``BSA_BAND`` ...); ``()``: one group.
    bands : mapping, optional
        Band edges overriding :data:`~blinapk.simulate.exposure_summary.DEFAULT_BANDS`.
    exposure : mapping, optional
        Model name -> ``(variable, key)`` overriding the metric mapping
        (module docstring), e.g. ``{"crs3": ("CAVG", "C1_ON")}``.
    covariates : mapping, optional
        E-R covariate -> simulated patient variable, e.g. ``{"ARM": "REGIMEN"}``.
    max_draws : int, default 1000
        E-R x PK draw pairs.
    ci : float, default 0.9
        Mass of the credible interval.

    Returns
    -------
    DataFrame
        ``SCENARIO``, the groups, then :data:`RESPONSE_COLUMNS`: ``MODEL_NAME``
        (key in ``er``), ``ENDPOINT``, ``PREDICTION`` (what the rate is),
        ``METRIC`` (E-R metric), ``EXPOSURE`` (simulated variable used),
        ``N_SUBJECTS`` (patients with an exposure), ``N_MISSING`` (without),
        ``N_DRAWS`` (pairs), ``EXPOSURE_GMEAN`` (geometric mean, pg/mL),
        ``MEAN``, ``MEDIAN``, ``LOWER``, ``UPPER`` (rate, fraction 0-1).

    Raises
    ------
    ModelSpecError
        A metric or covariate the simulation does not carry (the message says which).
    """
    from blinapk.simulate.chunked import reduce_blocks

    fits = _fits(er)
    if not fits:
        raise ModelSpecError("er: give at least one E-R fit")
    scenarios = ({_label(results): results} if isinstance(results, xr.Dataset)
                 else dict(results))
    table_bands = {**DEFAULT_BANDS, **dict(bands or {})}
    lo_q, hi_q = (1 - ci) / 2, 1 - (1 - ci) / 2
    rows = []
    for scenario, ds in scenarios.items():
        for b in by:
            base = b[:-5] if b.endswith("_BAND") else b
            if base not in ds or (b.endswith("_BAND") and base not in table_bands):
                raise ModelSpecError(f"by: {b!r} is not a patient variable (or band of one)")
        models = {name: _model(name, fit, ds, (exposure or {}).get(name),
                               dict(covariates or {}), max_draws) for name, fit in fits.items()}
        names = {"CL", "REGIMEN", *({"CSS", "CAVG"} & set(map(str, ds.data_vars))),
                 *(b[:-5] if b.endswith("_BAND") else b for b in by),
                 *(s if s in ds else "AGE" for m in models.values() for _, s in m.covariates)}
        partial = functools.partial(_partial, models=models, by=tuple(by), bands=table_bands)
        merged = reduce_blocks(ds, sorted(names), partial, _merge)
        for (name, group), st in merged.items():
            fit, n_ok = models[name].fit, st["n"]
            rate = np.divide(st["sum"], n_ok, out=np.full_like(n_ok, np.nan), where=n_ok > 0)
            rows.append({
                "SCENARIO": scenario, **dict(zip(by, group, strict=True)),
                "MODEL_NAME": name, "ENDPOINT": fit.endpoint,
                "PREDICTION": response_label(fit), "METRIC": fit.metric,
                "EXPOSURE": models[name].exposure, "N_SUBJECTS": int(n_ok[0]),
                "N_MISSING": int(st["total"][0] - n_ok[0]), "N_DRAWS": len(rate),
                "EXPOSURE_GMEAN": float(np.exp(st["logx"].sum() / n_ok.sum()))
                if n_ok.sum() else np.nan,
                "MEAN": float(np.nanmean(rate)), "MEDIAN": float(np.nanmedian(rate)),
                "LOWER": float(np.nanquantile(rate, lo_q)),
                "UPPER": float(np.nanquantile(rate, hi_q))})
    table = pd.DataFrame(rows, columns=["SCENARIO", *by, *RESPONSE_COLUMNS])
    table = table.sort_values(["SCENARIO", "MODEL_NAME", *by], kind="stable").reset_index(
        drop=True)
    table.attrs["ci"] = float(ci)
    return table

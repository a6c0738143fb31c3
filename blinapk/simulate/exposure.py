"""Exposure of virtual patients under any regimen: Css per dose level, Cavg, time above a threshold.

:func:`simulate_exposure` draws a population (:mod:`~blinapk.simulate.cohort`),
takes individual PK parameters from a model card or a fitted posterior
(:mod:`~blinapk.simulate.posterior`), lays out every patient's infusion
rates (:func:`blinapk.dosing.rate_schedule`) and computes, in closed form
(:mod:`~blinapk.simulate.exposure_math`), per draw and patient:

* ``CSS`` per dose level: :math:`1000 R_0 / CL` (pg/mL) at the rate the patient
  receives at that level (BSA dosing and caps applied);
* ``CAVG`` per window: AUC over the window / its length (pg/mL);
* ``TAT`` per window and threshold: hours with the concentration at or above
  the threshold, and ``FTA``, that time as a fraction of the window.

Patients are simulated in chunks of ``chunk_size``; chunk ``c`` draws its
population and random effects from ``SeedSequence(seed, spawn_key=(1, c))``
and the posterior draws used are chosen once from ``spawn_key=(0,)``. So a
patient's numbers depend on ``seed``, ``chunk_size``, its position and the
inputs only: not on how chunks are scheduled (in memory or on dask, any
number of workers). See docs/simulate.md.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from blinapk._version import __version__
from blinapk.cards import ModelCard, list_cards, load_card
from blinapk.dosing import (
    Interruption,
    Regimen,
    WeightBasedRegimen,
    get_preset,
    rate_schedule,
    with_n_cycles,
)
from blinapk.errors import ModelSpecError
from blinapk.pk import modes
from blinapk.poppk import PopPKFit
from blinapk.simulate.cohort import Population, resolve_population
from blinapk.simulate.exposure_math import window_exposure
from blinapk.simulate.posterior import CardSource, PosteriorSource, parameter_arrays

__all__ = ["DEFAULT_CHUNK", "DEFAULT_THRESHOLDS", "resolve_regimen", "resolve_source",
           "simulate_exposure"]

#: Patients per chunk (the unit of randomness and of dask tasks).
DEFAULT_CHUNK = 100_000
#: Default concentration threshold (pg/mL) for time above threshold.
DEFAULT_THRESHOLDS: tuple[float, ...] = (470.0,)
#: Padding after the last cycle so windows may extend into the washout (h).
_TAIL_H = 1.0e5


def resolve_source(source: Any, subjects: str = "new") -> Any:
    """Return a vectorised parameter source.

    Parameters
    ----------
    source : str, Path, ModelCard, PopPKFit, PosteriorSource, CardSource or ParameterSource
        A card name (``"zhu2020"`` is short for ``"blinatumomab_zhu2020"``) or
        TOML path, a fit or its ``.nc`` file, or a ready source.
    subjects : {"new", "fitted"}
        For fits: new subjects or the fitted subjects' own random effects.

    Returns
    -------
    CardSource, PosteriorSource or the ParameterSource given
    """
    if isinstance(source, PosteriorSource | CardSource):
        return source
    if isinstance(source, PopPKFit) or (isinstance(source, str | Path)
                                       and str(source).endswith(".nc")):
        return PosteriorSource.from_fit(source, subjects=subjects)
    if isinstance(source, ModelCard):
        return CardSource(source)
    if isinstance(source, str) and source not in list_cards() and \
            f"blinatumomab_{source}" in list_cards():
        source = f"blinatumomab_{source}"
    if isinstance(source, str | Path):
        return CardSource(load_card(source))
    if hasattr(source, "individual_parameters"):
        return source
    raise TypeError(f"source must be a card, a fit or a ParameterSource, got {type(source)}")


def resolve_regimen(regimen: Any, n_cycles: int | None = None) -> Regimen | WeightBasedRegimen:
    """Return a preset or regimen, optionally with another number of cycles."""
    if isinstance(regimen, str):
        return get_preset(regimen, n_cycles=n_cycles)
    if not isinstance(regimen, Regimen | WeightBasedRegimen):
        raise ModelSpecError(f"regimen must be a preset name or a Regimen, got {regimen!r}")
    return with_n_cycles(regimen, n_cycles) if n_cycles is not None else regimen


def _arms(regimen: Regimen | WeightBasedRegimen) -> list[Regimen]:
    if isinstance(regimen, WeightBasedRegimen):
        return [regimen.adult, regimen.paediatric]
    return [regimen]


def _levels(regimen: Any, interruptions: Any) -> tuple[str, ...]:
    """Every dose level the regimen (and restart doses) can give, in order."""
    labels: dict[str, None] = {}
    for arm in _arms(regimen):
        for k in range(1, arm.n_cycles + 1):
            labels.update(dict.fromkeys(s.label for s in arm.cycle_spec(k).steps))
        pauses = list(arm.interruptions)
        if isinstance(interruptions, Interruption):
            pauses.append(interruptions)
        elif isinstance(interruptions, Mapping):
            for v in interruptions.values():
                pauses += [v] if isinstance(v, Interruption) else list(v)
        elif isinstance(interruptions, Sequence):
            pauses += list(interruptions)
        labels.update(dict.fromkeys(p.restart_step.label for p in pauses
                                    if p.restart_step is not None))
    if isinstance(interruptions, pd.DataFrame) and "RESTART_DOSE" in interruptions:
        for dose, unit in interruptions[["RESTART_DOSE", "RESTART_UNIT"]].dropna().itertuples(
                index=False):
            labels[f"{float(dose):g} {unit}"] = None
    return tuple(labels)


def _windows(spec: Mapping[str, Any] | None, n_cycles: int) -> dict[str, Any]:
    if spec is None:
        return {f"C{k}": k for k in range(1, n_cycles + 1)}
    out = {}
    for name, w in dict(spec).items():
        if w == "all" or (isinstance(w, int | np.integer) and 1 <= w <= n_cycles):
            out[str(name)] = w if w == "all" else int(w)
        elif isinstance(w, Sequence) and len(w) == 2 and 0 <= float(w[0]) < float(w[1]):
            out[str(name)] = (float(w[0]), float(w[1]))
        else:
            raise ModelSpecError(f"window {name!r}: expected a cycle number 1-{n_cycles}, "
                                 f"'all' or (start_h, end_h) with 0 <= start < end; got {w!r}")
    return out


@dataclass(frozen=True, eq=False)
class ExposurePlan:
    """Everything one chunk needs (picklable, so chunks can run on dask workers)."""

    source: Any
    population: Population
    regimen: Regimen | WeightBasedRegimen
    interruptions: Any
    windows: Mapping[str, Any]
    thresholds: tuple[float, ...]
    levels: tuple[str, ...]
    samples: np.ndarray
    seed: int
    chunk_size: int
    n: int
    settings: dict = field(default_factory=dict)

    @property
    def n_chunks(self) -> int:
        """Number of chunks."""
        return -(-self.n // self.chunk_size)

    def chunk_bounds(self, c: int) -> tuple[int, int]:
        """First patient position and number of patients of chunk ``c``."""
        first = c * self.chunk_size
        return first, min(self.chunk_size, self.n - first)


def _chunk_interruptions(interruptions: Any, ids: np.ndarray) -> Any:
    if isinstance(interruptions, Mapping):
        keep = set(ids.tolist())
        return {k: v for k, v in interruptions.items() if k in keep}
    if isinstance(interruptions, pd.DataFrame):
        col = next(c for c in interruptions.columns if str(c).upper() == "ID")
        return interruptions[interruptions[col].isin(ids)]
    return interruptions


def run_chunk(plan: ExposurePlan, c: int) -> dict[str, np.ndarray]:
    """Simulate chunk ``c``: covariates, parameters and exposures as numpy arrays.

    Parameters
    ----------
    plan : ExposurePlan
        From :func:`make_plan`.
    c : int
        Chunk index.

    Returns
    -------
    dict
        Variable name -> array with the subject axis first after ``draw``.
    """
    first, m = plan.chunk_bounds(c)
    ss = np.random.SeedSequence(plan.seed, spawn_key=(1, c))
    rng_pop, rng_par = (np.random.default_rng(s) for s in ss.spawn(2))
    pop = plan.population.draw(m, rng_pop, first_id=first + 1)
    params = parameter_arrays(plan.source, pop, rng_par, plan.samples)
    sched = rate_schedule(plan.regimen, pop, interruptions=_chunk_interruptions(
        plan.interruptions, pop["ID"].to_numpy()))
    start, end, rate, bounds = sched.start, sched.end, sched.rate, sched.bounds
    edges = []
    for w in plan.windows.values():
        if w == "all":
            edges.append((bounds[:, 0], np.nanmax(bounds, axis=1)))
        elif isinstance(w, int):
            lo = bounds[:, w - 1] if w - 1 < bounds.shape[1] else np.full(m, np.nan)
            hi = bounds[:, w] if w < bounds.shape[1] else np.full(m, np.nan)
            edges.append((lo, hi))
        else:
            edges.append((np.full(m, w[0]), np.full(m, w[1])))
    last = float(np.min(end[:, -1]))
    if any(np.max(np.where(np.isfinite(hi), hi, -np.inf), initial=-np.inf) > last
           for _, hi in edges):
        # a window past the last cycle: the drug washes out at rate 0
        tail = end[:, -1:]
        start = np.concatenate([start, tail], axis=1)
        end = np.concatenate([end, tail + _TAIL_H], axis=1)
        rate = np.concatenate([rate, np.zeros((m, 1))], axis=1)
    pk = modes(params, plan.source.structure)
    aucs, above = window_exposure(start, end, rate, pk, edges, plan.thresholds) if edges else (
        [], [])
    length = np.column_stack([hi - lo for lo, hi in edges]) if edges else np.zeros((m, 0))
    level_rate = np.full((m, len(plan.levels)), np.nan)
    for j, label in enumerate(sched.levels):
        level_rate[:, plan.levels.index(label)] = sched.level_rate[:, j]
    out: dict[str, np.ndarray] = {c_: _column(pop[c_]) for c_ in pop.columns if c_ != "ID"}
    out["ARM"] = np.array(sched.arm)  # a writable copy of a possibly shared view
    out["REGIMEN"] = np.array(sched.regimen)
    out.update(params)
    out["CSS"] = 1000.0 * level_rate[None, :, :] / params["CL"][:, :, None]
    out["WINDOW_H"] = length
    with np.errstate(invalid="ignore"):
        n_draw = len(plan.samples)
        out["CAVG"] = np.stack(aucs, axis=-1) / length[None] if aucs else np.zeros(
            (n_draw, m, 0))
        tat = np.zeros((n_draw, m, len(edges), len(plan.thresholds)))
        for w, per_threshold in enumerate(above):
            for k, a in enumerate(per_threshold):
                tat[:, :, w, k] = a
        out["TAT"] = tat
        out["FTA"] = tat / length[None, :, :, None]
    return out


def _column(col: pd.Series) -> np.ndarray:
    """Numeric columns as they are; text and categorical columns as numpy strings."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        names = np.asarray([*col.cat.categories.astype(str), ""], dtype=str)
        return names[col.cat.codes]  # code -1 (missing) picks the trailing ""
    if pd.api.types.is_numeric_dtype(col.dtype) or pd.api.types.is_bool_dtype(col.dtype):
        return col.to_numpy()
    return col.astype(str).to_numpy(dtype=str)


_DIMS = {"CSS": ("draw", "subject", "dose_level"), "CAVG": ("draw", "subject", "window"),
         "TAT": ("draw", "subject", "window", "threshold"),
         "FTA": ("draw", "subject", "window", "threshold"), "WINDOW_H": ("subject", "window")}
_UNITS = {"CSS": "pg/mL", "CAVG": "pg/mL", "TAT": "h", "FTA": "1", "WINDOW_H": "h", "CL": "L/h",
          "V": "L", "Q": "L/h", "V2": "L", "BSA": "m2", "WT": "kg", "AGE": "y", "HEIGHT": "cm",
          "CRCL": "mL/min"}


def dims_of(name: str, value: np.ndarray, params: Sequence[str]) -> tuple[str, ...]:
    """Dimension names of a chunk variable."""
    if name in _DIMS:
        return _DIMS[name]
    return ("draw", "subject") if name in params else ("subject",)


def assemble(plan: ExposurePlan, arrays: Mapping[str, Any]) -> xr.Dataset:
    """Build the Dataset from whole-population arrays (numpy or dask)."""
    params = plan.source.params
    data_vars = {}
    for name, value in arrays.items():
        data_vars[name] = xr.Variable(dims_of(name, value, params), value,
                                      attrs={"units": _UNITS[name]} if name in _UNITS else {})
    coords = {"subject": np.arange(1, plan.n + 1), "draw": np.arange(len(plan.samples)),
              "dose_level": list(plan.levels), "window": list(plan.windows),
              "threshold": ("threshold", list(plan.thresholds), {"units": "pg/mL"})}
    ds = xr.Dataset(data_vars, coords=coords)
    ds.attrs["settings"] = json.dumps(plan.settings, sort_keys=True)
    ds.attrs["description"] = ("blinapk.simulate_exposure: Css per dose level, average "
                               "concentration and time above threshold per window")
    return ds


def make_plan(n: int, seed: int, *, source: Any, population: Any, regimen: Any,
              n_cycles: int | None, interruptions: Any, n_draws: int,
              windows: Mapping[str, Any] | None, thresholds: Sequence[float], subjects: str,
              chunk_size: int) -> ExposurePlan:
    """Resolve and check every input of :func:`simulate_exposure` (see there)."""
    if int(n) < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if int(n_draws) < 1:
        raise ValueError(f"n_draws must be >= 1, got {n_draws}")
    if int(chunk_size) < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    src = resolve_source(source, subjects)
    pop = resolve_population(population)
    reg = resolve_regimen(regimen, n_cycles)
    max_cycles = max(a.n_cycles for a in _arms(reg))
    wins = _windows(windows, max_cycles)
    ths = tuple(float(t) for t in thresholds)
    if any(not np.isfinite(t) or t <= 0 for t in ths):
        raise ModelSpecError(f"thresholds must be finite and > 0, got {ths}")
    g = np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(0,)))
    samples = src.choose_samples(int(n_draws), g) if hasattr(src, "choose_samples") else \
        np.zeros(int(n_draws), dtype=np.int64)
    describe = getattr(src, "settings", None)
    settings = {
        "blinapk_version": __version__, "numpy_version": np.__version__, "n": int(n),
        "seed": int(seed), "chunk_size": int(chunk_size), "n_draws": int(n_draws),
        "source": dict(describe()) if callable(describe) else {"type": type(src).__name__},
        "source_name": src.name, "structure": src.structure, "subjects": subjects,
        "population": pop.settings(), "regimen": reg.to_dict(),
        "interruptions": _describe_interruptions(interruptions),
        "windows": {k: (list(v) if isinstance(v, tuple) else v) for k, v in wins.items()},
        "thresholds": list(ths), "posterior_samples": samples.tolist(),
    }
    return ExposurePlan(src, pop, reg, interruptions, wins, ths, _levels(reg, interruptions),
                        samples, int(seed), int(chunk_size), int(n),
                        json.loads(json.dumps(settings, default=str)))


def _describe_interruptions(interruptions: Any) -> Any:
    if interruptions is None:
        return None
    if isinstance(interruptions, Interruption):
        return [interruptions.to_dict()]
    if isinstance(interruptions, pd.DataFrame):
        return {"table_rows": len(interruptions)}
    if isinstance(interruptions, Mapping):
        return {"subjects": len(interruptions)}
    return [i.to_dict() for i in interruptions]


def simulate_exposure(n: int, seed: int, *, source: Any = "blinatumomab_zhu2020",
                      population: Any = "adult", regimen: Any = "adult_rr",
                      n_cycles: int | None = None, interruptions: Any = None, n_draws: int = 1,
                      windows: Mapping[str, Any] | None = None,
                      thresholds: Sequence[float] = DEFAULT_THRESHOLDS, subjects: str = "new",
                      chunk_size: int = DEFAULT_CHUNK, dask: Any = None) -> xr.Dataset:
    """Simulate exposure of ``n`` virtual patients on a regimen.

    Parameters
    ----------
    n : int
        Number of virtual patients.
    seed : int
        Random seed (see the module docstring for what it fixes).
    source : str, Path, ModelCard, PopPKFit or parameter source
        Model card (name, ``"zhu2020"`` short for ``"blinatumomab_zhu2020"``,
        or TOML path), a fitted posterior (:class:`~blinapk.poppk.PopPKFit`
        or its ``.nc`` file) or a :class:`~blinapk.simulate.ParameterSource`.
    population : str, Path, DataFrame, Dataset or Population
        ``"adult"``, ``"paediatric"``, ``"mixed"``, or data whose subjects'
        covariates are resampled (:class:`~blinapk.simulate.Population`).
    regimen : str, Regimen or WeightBasedRegimen
        A :data:`blinapk.dosing.PRESETS` name or a custom regimen.
    n_cycles : int, optional
        Number of cycles (default: the regimen's).
    interruptions : optional
        Pauses, as :func:`blinapk.dosing.dose_records` takes them: one or a list
        for every patient, a mapping ``ID -> pause(s)`` or a table; each pause's
        ``schedule`` rule is applied (e.g. ``schedule="label"``).
    n_draws : int, default 1
        Draws of the population parameters: posterior draws of a fit
        (parameter uncertainty), or replicate random effects for a card.
    windows : mapping, optional
        ``name -> cycle number | "all" | (start_h, end_h)`` over which ``CAVG``
        and ``TAT`` are computed (h since the start of cycle 1). Default: one
        window per cycle, ``C1, C2, ...`` (infusion, pauses and treatment-free interval).
    thresholds : sequence of float, default (470,)
        Concentrations (pg/mL) for time above threshold; ``()`` for none.
    subjects : {"new", "fitted"}, default "new"
        For fits: random effects of new subjects or of the fitted subjects
        (:class:`~blinapk.simulate.PosteriorSource`).
    chunk_size : int, default 100000
        Patients per chunk (unit of randomness and of dask tasks).
    dask : None, str or distributed.Client
        None computes in memory. Otherwise the result is a lazy, dask-backed
        Dataset with one chunk per ``chunk_size`` patients, computed by
        ``"threads"``, ``"processes"``, ``"synchronous"``, ``"local"`` (a
        ``distributed.LocalCluster``), a scheduler address (``"tcp://..."``)
        or a ``distributed.Client`` (see :func:`~blinapk.simulate.compute_exposure`).

    Returns
    -------
    xarray.Dataset
        Dimensions ``draw, subject, dose_level, window, threshold``;
        variables ``CSS`` (draw, subject, dose_level), ``CAVG`` (draw,
        subject, window), ``TAT`` and ``FTA`` (draw, subject, window,
        threshold), ``WINDOW_H`` (subject, window), the structural parameters
        (draw, subject) and per patient ``ARM``, ``REGIMEN`` and the
        covariates. ``attrs["settings"]`` (JSON) records every input.

    Examples
    --------
    >>> ds = simulate_exposure(500, seed=1, regimen="adult_rr")
    >>> ds["CSS"].dims, ds["dose_level"].values.tolist()
    (('draw', 'subject', 'dose_level'), ['9 ug/day', '28 ug/day'])
    >>> bool((ds["CAVG"].sel(window="C2") > ds["CAVG"].sel(window="C1")).all())
    True
    """
    plan = make_plan(n, seed, source=source, population=population, regimen=regimen,
                     n_cycles=n_cycles, interruptions=interruptions, n_draws=n_draws,
                     windows=windows, thresholds=thresholds, subjects=subjects,
                     chunk_size=chunk_size)
    if dask is not None and dask is not False:
        from blinapk.simulate.chunked import lazy_exposure

        return lazy_exposure(plan, dask)
    arrays: dict[str, np.ndarray] = {}
    for c in range(plan.n_chunks):
        part = run_chunk(plan, c)
        if plan.n_chunks == 1:
            arrays = part
            break
        first, m = plan.chunk_bounds(c)
        for name, value in part.items():
            axis = dims_of(name, value, plan.source.params).index("subject")
            if name not in arrays:  # allocate once, fill chunk by chunk
                shape = list(value.shape)
                shape[axis] = plan.n
                arrays[name] = np.empty(shape, dtype=value.dtype)
            elif value.dtype.kind == "U" and value.dtype.itemsize > arrays[name].dtype.itemsize:
                arrays[name] = arrays[name].astype(value.dtype)  # a longer text value
            index = [slice(None)] * value.ndim
            index[axis] = slice(first, first + m)
            arrays[name][tuple(index)] = value
    return assemble(plan, arrays)

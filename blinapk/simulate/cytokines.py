"""Exposure-driven cytokine release used to simulate a trial's cytokine rows.

The model (equations and calibration targets) is declared, with the provenance
of every parameter, in the package data file ``cytokine_model.toml``
(:data:`MODEL_FILE`); this module reads it and evaluates it. In short: each
infusion start or dose step releases a transient pulse
``A * g((t - t_e) / tpeak)``, ``g(x) = x exp(1 - x)``, whose amplitude is an
Emax function (:func:`blinapk.pk.emax.emax_fraction`, the one the exposure-response
models fit) of the steady-state concentration increase, damped by tolerance
``exp(-P / auc_tolerance)`` where ``P`` is the exposure already seen (with a
recovery time constant per analyte).
"""

from __future__ import annotations

import importlib.resources
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from blinapk.errors import ModelSpecError
from blinapk.pk import css_from_rate
from blinapk.pk.emax import emax_fraction

__all__ = ["MODEL_FILE", "CytokineModel", "load_cytokine_model", "release_events",
           "cytokine_conc", "event_cycles"]

#: The shipped model, package data of :mod:`blinapk.simulate` (read it with ``read_text()``).
MODEL_FILE = importlib.resources.files("blinapk.simulate") / "cytokine_model.toml"
_PER_ANALYTE = ("baseline", "amax", "tpeak", "tau_recovery")
_SCALARS = ("ec50", "auc_tolerance", "omega", "residual_prop", "residual_add")


@dataclass(frozen=True)
class CytokineModel:
    """Parameters of the cytokine release model (see ``cytokine_model.toml``).

    Parameters
    ----------
    analytes : tuple of str
        DVIDs simulated, in output order.
    baseline, amax, tpeak, tau_recovery : Mapping[str, float]
        Per analyte: pre-dose level (pg/mL), maximal first pulse (pg/mL), time
        of the peak after an event (h), recovery time of priming (h).
    ec50 : float
        Css increase giving half the maximal pulse (pg/mL).
    auc_tolerance : float
        Primed exposure cutting release e-fold (pg*h/mL).
    omega : float
        Log-SD of the amplitude between subjects.
    residual_prop, residual_add : float
        Assay error: proportional (fraction) and additive SD (pg/mL).
    """

    analytes: tuple[str, ...]
    baseline: Mapping[str, float]
    amax: Mapping[str, float]
    tpeak: Mapping[str, float]
    tau_recovery: Mapping[str, float]
    ec50: float
    auc_tolerance: float
    omega: float
    residual_prop: float
    residual_add: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict of every parameter."""
        out: dict[str, Any] = {"analytes": list(self.analytes)}
        out |= {k: dict(getattr(self, k)) for k in _PER_ANALYTE}
        out |= {k: getattr(self, k) for k in _SCALARS}
        return out


def load_cytokine_model(path: str | Path | None = None) -> CytokineModel:
    """Read and validate the cytokine model TOML.

    Parameters
    ----------
    path : str or Path, optional
        A model TOML file; defaults to the shipped model (:data:`MODEL_FILE`).

    Returns
    -------
    CytokineModel

    Raises
    ------
    ModelSpecError
        Missing key, missing provenance, or a non-positive parameter (the
        message names the key).
    """
    source = Path(path) if path is not None else MODEL_FILE
    raw = tomllib.loads(source.read_text(encoding="utf-8"))
    origin = str(path) if path is not None else MODEL_FILE.name

    def fail(key: str, msg: str) -> None:
        raise ModelSpecError(f"{origin}: key '{key}': {msg}")

    analytes = raw.get("analytes")
    if not isinstance(analytes, list) or not analytes:
        fail("analytes", "expected a non-empty list of DVIDs")
    for key in _PER_ANALYTE + _SCALARS:
        entry = raw.get(key)
        if not isinstance(entry, Mapping):
            fail(key, "missing table")
        for meta in ("source", "published", "flag", "note"):
            if meta not in entry:
                fail(f"{key}.{meta}", "missing provenance")
    per: dict[str, Mapping[str, float]] = {}
    for key in _PER_ANALYTE:
        values = raw[key].get("values", {})
        for a in analytes:
            v = values.get(a)
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) \
                    or v <= 0:
                fail(f"{key}.values.{a}", f"expected a number > 0, got {v!r}")
        per[key] = MappingProxyType({a: float(values[a]) for a in analytes})
    scal: dict[str, float] = {}
    for key in _SCALARS:
        v = raw[key].get("value")
        low_ok = v >= 0 if key.startswith("residual") else v > 0
        if isinstance(v, bool) or not isinstance(v, int | float) or not low_ok:
            fail(f"{key}.value", f"expected a positive number, got {v!r}")
        scal[key] = float(v)
    return CytokineModel(tuple(analytes), **per, **scal)


def release_events(start: Any, end: Any, rate: Any, cl: float) -> dict[str, np.ndarray]:
    """Infusion starts and dose steps of one subject, from its rate table.

    Parameters
    ----------
    start, end, rate : array_like
        One subject's rate segments (``START, END, RATE`` columns of
        :func:`blinapk.dosing.rate_table`), sorted by start.
    cl : float
        The subject's clearance (L/h).

    Returns
    -------
    dict of numpy.ndarray
        ``TIME`` (h), ``KIND`` (``start`` from rate 0 or a gap, ``step`` from a
        lower rate), ``CSS_BEFORE``, ``CSS_AFTER`` (pg/mL, ``1000 * RATE / cl``).

    Examples
    --------
    >>> ev = release_events([0, 168, 672], [168, 672, 1008], [0.375, 28 / 24, 0], 2.22)
    >>> ev["TIME"].tolist(), ev["KIND"].tolist()
    ([0.0, 168.0], ['start', 'step'])
    """
    start, end = np.asarray(start, float), np.asarray(end, float)
    css = np.asarray(css_from_rate(np.asarray(rate, float), cl), dtype=float)
    before = np.zeros_like(css)
    contiguous = np.isclose(start[1:], end[:-1])
    before[1:] = np.where(contiguous, css[:-1], 0.0)
    rise = css > before
    return {"TIME": start[rise], "KIND": np.where(before[rise] > 0, "step", "start"),
            "CSS_BEFORE": before[rise], "CSS_AFTER": css[rise]}


def event_cycles(times: Any, kinds: Any, cycle_starts: Any) -> tuple[np.ndarray, np.ndarray]:
    """Cycle and episode of release events: ``start``, ``restart`` (after a pause) or ``step``.

    Parameters
    ----------
    times, kinds : array_like
        ``TIME`` (h) and ``KIND`` of :func:`release_events`.
    cycle_starts : array_like
        Scheduled cycle starts (h), e.g. ``Regimen.cycle_starts()``.

    Returns
    -------
    cycle : numpy.ndarray of int
        1-based cycle of each event.
    episode : numpy.ndarray of str
        ``start`` at a scheduled cycle start, ``restart`` for a start at any
        other time, ``step`` for a dose step.

    Examples
    --------
    >>> c, e = event_cycles([0.0, 89.0, 257.0, 1008.0], ["start", "start", "step", "start"],
    ...                     [0.0, 1008.0])
    >>> c.tolist(), e.tolist()
    ([1, 1, 1, 2], ['start', 'restart', 'step', 'start'])
    """
    starts = np.asarray(cycle_starts, float)
    t = np.asarray(times, float)
    cycle = np.searchsorted(starts, t + 1e-9, side="right")
    kind = np.asarray(kinds, dtype=object)
    restart = (kind == "start") & ~np.isclose(t, starts[np.maximum(cycle - 1, 0)])
    return cycle.astype(int), np.where(restart, "restart", kind).astype(object)


def primed_exposure(t: Any, start: Any, end: Any, rate: Any, cl: float,
                    tau: float) -> np.ndarray:
    """Exponentially forgotten exposure ``int_0^t Css(s) exp(-(t - s) / tau) ds`` (pg*h/mL).

    Parameters
    ----------
    t : array_like
        Times (h).
    start, end, rate : array_like
        One subject's rate segments; Css of a segment is ``1000 * rate / cl``.
    cl : float
        Clearance (L/h).
    tau : float
        Recovery time constant (h).

    Returns
    -------
    numpy.ndarray
        Exposure at each ``t``.

    Examples
    --------
    A week at Css 100 pg/mL with no forgetting (tau very long) is 16,800 pg*h/mL:

    >>> round(float(primed_exposure([168.0], [0.0], [168.0], [0.222], 2.22, 1e12)[0]), 3)
    16800.0
    """
    t = np.asarray(t, float)[:, None]
    css = np.asarray(css_from_rate(np.asarray(rate, float), cl), dtype=float)[None, :]
    a = np.minimum(np.asarray(start, float)[None, :], t)
    b = np.minimum(np.asarray(end, float)[None, :], t)
    # tau * (exp(-(t-b)/tau) - exp(-(t-a)/tau)), written with expm1 for very long tau
    decay = np.exp(-(t - b) / tau) * -np.expm1(-(b - a) / tau) * tau
    return (css * decay).sum(axis=1)


def event_amplitudes(model: CytokineModel, events: Mapping[str, np.ndarray],
                     segments: tuple[Any, Any, Any], cl: float,
                     etas: Mapping[str, float]) -> dict[str, np.ndarray]:
    """Pulse amplitude (pg/mL) of every event and analyte for one subject.

    Parameters
    ----------
    model : CytokineModel
        Model parameters.
    events : Mapping
        Output of :func:`release_events`.
    segments : tuple
        ``(start, end, rate)`` of the subject's rate table.
    cl : float
        Clearance (L/h).
    etas : Mapping[str, float]
        Subject's random effect per analyte.

    Returns
    -------
    dict of numpy.ndarray
        ``events`` plus ``DRIVE`` (Emax of the Css increase) and, per analyte,
        ``TOL_<A>`` (tolerance factor) and ``AMP_<A>``.
    """
    dc = np.asarray(events["CSS_AFTER"]) - np.asarray(events["CSS_BEFORE"])
    out = dict(events)
    out["DRIVE"] = emax_fraction(dc, model.ec50)
    for a in model.analytes:
        primed = primed_exposure(events["TIME"], *segments, cl, model.tau_recovery[a])
        out[f"TOL_{a}"] = np.exp(-primed / model.auc_tolerance)
        out[f"AMP_{a}"] = model.amax[a] * math.exp(etas[a]) * out["DRIVE"] * out[f"TOL_{a}"]
    return out


def cytokine_conc(model: CytokineModel, analyte: str, times: Any, event_times: Any,
                  amplitudes: Any) -> np.ndarray:
    """Return the true (noise-free) concentration of one analyte for one subject.

    Parameters
    ----------
    model : CytokineModel
        Model parameters.
    analyte : str
        DVID.
    times : array_like
        Times (h).
    event_times, amplitudes : array_like
        Release events and their pulse amplitudes (``AMP_<analyte>``, pg/mL).

    Returns
    -------
    numpy.ndarray
        ``baseline + sum_e A_e x_e exp(1 - x_e)``, ``x_e = max(t - t_e, 0) / tpeak``.

    Examples
    --------
    The pulse peaks at ``tpeak`` with the amplitude above baseline:

    >>> m = load_cytokine_model()
    >>> c = cytokine_conc(m, "IL6", [0.0, m.tpeak["IL6"]], [0.0], [1000.0])
    >>> (c - m.baseline["IL6"]).round(6).tolist()
    [0.0, 1000.0]
    """
    t = np.asarray(times, float)[:, None]
    te = np.asarray(event_times, float)[None, :]
    amp = np.asarray(amplitudes, float)[None, :]
    x = np.maximum(t - te, 0.0) / model.tpeak[analyte]
    return model.baseline[analyte] + (amp * x * np.exp(1.0 - x)).sum(axis=1)

r"""Concentrations of linear 1-/2-compartment models by superposition.

Model and notation
------------------
After a bolus ``D`` (ug) at time 0 the central concentration (pg/mL) of a
linear model is a sum of exponential *modes*

.. math:: C(t) = D \sum_i g_i e^{-\lambda_i t}, \qquad g_i = 1000\, c_i / V

* 1-cmt: one mode, :math:`\lambda = CL/V`, :math:`c = 1`;
* 2-cmt: :math:`\lambda = (\alpha, \beta)`, :math:`c = (a, b)` from
  :func:`blinapk.pk.macro_constants` (``V`` is the central volume V1).

A dose of ``D`` starting at :math:`t_s` and lasting :math:`\tau` (0 = bolus)
contributes, with :math:`w = \min(\max(t - t_s, 0), \tau)` (time infused so
far) and :math:`u = \max(t - t_s - \tau, 0)` (time since it ended),

.. math:: C(t) = D \sum_i g_i\, e^{-\lambda_i u}\,
          \frac{1 - e^{-\lambda_i w}}{\lambda_i \tau}
          \quad (\tau > 0), \qquad
          D \sum_i g_i\, e^{-\lambda_i u}\, [t \ge t_s] \quad (\tau = 0).

Both clamps are applied to the *data* before any exponential, so every
exponent is :math:`\le 0` (no overflow, finite gradients).  The dense method
evaluates ``1 - e^{-x}`` as ``-expm1(-x)``; the segment recursion reuses the
step's ``e^{-x}`` (absolute error below 1e-16 of the steady state; see
:mod:`blinapk.pk.segments`).
Doses add (superposition).

Two exact methods evaluate the sum; see :func:`predict_conc`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import ModuleType
from typing import Any

import numpy as np

from blinapk.errors import ModelSpecError
from blinapk.pk._backend import as_array, is_numpy
from blinapk.pk._checks import check_obs, check_params
from blinapk.pk.constants import macro_constants
from blinapk.pk.doses import DoseMatrix
from blinapk.pk.parameters import structure_params
from blinapk.pk.segments import SegmentPlan, conc_segments, plan_segments

__all__ = ["modes", "predict_conc", "predict_conc_plan"]

_METHODS = ("auto", "dense", "segments")
_CHUNK_ELEMENTS = 2_000_000  # numpy dense path: observations x doses per chunk


def modes(params: Mapping[str, Any], model: str = "1cmt", xp: ModuleType = np) -> list[tuple]:
    """Exponential modes ``(lambda_i, g_i)`` of a linear model.

    Parameters
    ----------
    params : mapping
        ``CL`` (L/h), ``V`` (L) and, for ``"2cmt"``, ``Q`` (L/h), ``V2`` (L);
        arrays of any common shape in namespace ``xp``.
    model : {"1cmt", "2cmt"}
        Structural model.
    xp : module, default numpy
        Array namespace.

    Returns
    -------
    list of tuple
        ``(lam, gain)`` per mode: decay rate (1/h) and concentration per unit
        dose (pg/mL per ug).

    Examples
    --------
    >>> [(float(lam), float(g)) for lam, g in modes({"CL": 2.0, "V": 4.0})]
    [(0.5, 250.0)]
    """
    structure_params(model)
    cl, v = params["CL"], params["V"]
    if model == "1cmt":
        return [(cl / v, 1000.0 / v)]
    m = macro_constants(cl, v, params["Q"], params["V2"], xp=xp)
    return [(m.alpha, 1000.0 * m.a / v), (m.beta, 1000.0 * m.b / v)]


def _dense_data(times: np.ndarray, subj: np.ndarray, doses: DoseMatrix) -> dict[str, np.ndarray]:
    """Clamped, parameter-free pieces of the dense superposition."""
    t = times[:, None]
    ts = doses.time[subj]
    dur = doses.duration[subj]
    amt = doses.amt[subj]
    inf = dur > 0
    since_end = np.maximum(t - ts - dur, 0.0)
    infused = np.clip(t - ts, 0.0, dur)
    bolus_w = np.where(~inf & (t >= ts), amt, 0.0)
    inf_w = np.where(inf, amt / np.where(inf, dur, 1.0), 0.0)
    return {"u": since_end, "w": infused, "bolus": bolus_w, "rate": inf_w}


def _dense_sum(data: dict[str, Any], obs_modes: list[tuple[Any, Any]], xp: ModuleType) -> Any:
    total = None
    for lam, gain in obs_modes:
        lam2 = lam[:, None]
        per_dose = xp.exp(-lam2 * data["u"]) * (
            data["bolus"] - data["rate"] * xp.expm1(-lam2 * data["w"]) / lam2
        )
        part = gain * per_dose.sum(axis=1)
        total = part if total is None else total + part
    return total


def _conc_dense(
    times: np.ndarray, subj: np.ndarray, doses: DoseMatrix, obs_modes: list, xp: ModuleType
) -> Any:
    if not is_numpy(xp):
        data = {k: as_array(xp, v) for k, v in _dense_data(times, subj, doses).items()}
        return _dense_sum(data, obs_modes, xp)
    out = np.empty(times.size)
    step = max(1, _CHUNK_ELEMENTS // doses.n_dose_max)
    for lo in range(0, times.size, step):
        sl = slice(lo, lo + step)
        data = _dense_data(times[sl], subj[sl], doses)
        out[sl] = _dense_sum(data, [(lam[sl], g[sl]) for lam, g in obs_modes], np)
    return out


def predict_conc_plan(
    plan: SegmentPlan, params: Mapping[str, Any], model: str = "1cmt", xp: ModuleType = np
) -> Any:
    """Concentrations from a precomputed :class:`SegmentPlan` (segments method).

    Use this to evaluate the same observation times under many parameter
    sets (simulation draws) without re-planning.

    Parameters
    ----------
    plan : SegmentPlan
        From :func:`blinapk.pk.plan_segments`.
    params : mapping
        Per-subject parameters, shape ``(n_subjects,)`` (see
        :func:`predict_conc`).
    model : {"1cmt", "2cmt"}
        Structural model.
    xp : module, default numpy
        Array namespace.

    Returns
    -------
    array, shape (n_obs,)
        Concentrations in pg/mL.
    """
    names = structure_params(model)
    p = check_params(params, names, plan.n_subjects, xp)
    return conc_segments(plan, modes(p, model, xp), xp)


def predict_conc(
    times: Any,
    subject_index: Any,
    doses: DoseMatrix,
    params: Mapping[str, Any],
    model: str = "1cmt",
    xp: ModuleType = np,
    *,
    method: str = "auto",
    per_observation: bool = False,
) -> Any:
    r"""Concentration (pg/mL) at every observation, any mix of boluses and infusions.

    Parameters
    ----------
    times : array_like, shape (n_obs,)
        Observation times (h); data, not symbolic.  A dose at exactly the
        observation time counts (bolus: ``C = 1000 D / V``; infusion: 0
        infused so far).
    subject_index : array_like of int, shape (n_obs,)
        Row of ``doses`` (and of ``params``) for each observation.
    doses : DoseMatrix
        From :func:`blinapk.pk.dose_matrix`.
    params : mapping of str to array
        ``CL`` (L/h), ``V`` (central volume, L) and for ``"2cmt"`` also ``Q``
        (L/h), ``V2`` (L).  Shape ``(n_subjects,)``, or ``(n_obs,)`` with
        ``per_observation=True``.  Values may be numpy data (checked: finite,
        > 0; scalars broadcast) or symbolic ``xp`` arrays (passed through).
    model : {"1cmt", "2cmt"}, default "1cmt"
        Structural model.
    xp : module, default numpy
        Array namespace: ``numpy``, ``jax.numpy`` or ``pytensor.tensor``.
    method : {"auto", "dense", "segments"}, default "auto"
        ``"dense"``: padded ``(n_obs, n_dose_max)`` superposition, fully
        vectorised; chunked in numpy; cost ``n_obs * n_dose_max`` (pass
        :func:`blinapk.pk.compact_doses` output to shrink ``n_dose_max``).
        ``"segments"``: exact recursion over constant-rate segments
        (:mod:`blinapk.pk.segments`), cost ``O(n_subjects * n_grid + n_obs)``;
        on symbolic backends the recursion is unrolled, so the graph grows
        with ``n_grid`` (the largest per-subject number of rate changes).
        ``"auto"`` uses ``"segments"`` unless ``per_observation=True``.
        Both are exact (no dose is ever dropped) and agree to rounding.
    per_observation : bool, default False
        Parameters are given per observation, shape ``(n_obs,)``.  Each
        observation is then computed as if its parameter values had held over
        the whole dose history (the usual approximation for slowly varying
        covariates; exact when values are constant within a subject).  Only
        the dense method supports this.

    Returns
    -------
    array, shape (n_obs,)
        Concentrations in pg/mL, in namespace ``xp``.

    Raises
    ------
    ModelSpecError
        Unknown model or method, missing or non-positive parameters, or
        ``method="segments"`` with ``per_observation=True``.

    Examples
    --------
    >>> import numpy as np
    >>> dm = DoseMatrix(time=[[0.0]], amt=[[28.0]], duration=[[24.0]])
    >>> c = predict_conc([1.0, 24.0, 200.0], [0, 0, 0], dm, {"CL": 2.22, "V": 5.98})
    >>> np.round(c, 1).tolist()  # rising, ~ Css = 1000 * (28/24) / 2.22 = 525.5, gone
    [163.0, 525.5, 0.0]
    """
    names = structure_params(model)
    if method not in _METHODS:
        raise ModelSpecError(f"unknown method {method!r}; expected one of {_METHODS}")
    times, subj = check_obs(times, subject_index, doses.n_subjects)
    if method == "auto":
        method = "dense" if per_observation else "segments"
    if method == "segments":
        if per_observation:
            raise ModelSpecError("per_observation parameters need method='dense'")
        return predict_conc_plan(plan_segments(times, subj, doses), params, model, xp)
    size = times.size if per_observation else doses.n_subjects
    p = check_params(params, names, size, xp)
    obs_modes = modes(p, model, xp)
    if not per_observation:
        obs_modes = [(lam[subj], g[subj]) for lam, g in obs_modes]
    return _conc_dense(times, subj, doses, obs_modes, xp)

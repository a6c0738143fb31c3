r"""Concentration and cumulative AUC on per-subject time grids, for many parameter draws.

Exposure metrics (average concentration over a window, Cmax after a dose
step) are needed per subject *and per posterior draw*, and inside PyMC
models. These kernels evaluate the superposition of :mod:`blinapk.pk.predict`
for parameters with any leading batch shape ``(..., n_subjects)`` (e.g.
``(n_draws, n_subjects)``) on a grid of times per subject, in one
vectorised expression for numpy, PyTensor or JAX.

With the modes :math:`(\lambda_i, g_i)` of :func:`blinapk.pk.modes`, an
infusion of rate :math:`r` started at :math:`t_s` and lasting :math:`\tau`
contributes, with :math:`w = \min(\max(t - t_s, 0), \tau)` (time infused)
and :math:`u = \max(t - t_s - \tau, 0)` (time since it ended),

.. math::

    C(t) = r \sum_i \frac{g_i}{\lambda_i} e^{-\lambda_i u}\,(1 - e^{-\lambda_i w}),
    \qquad
    \int_{-\infty}^{t} C = r \sum_i \frac{g_i}{\lambda_i}
        \Big(w - \frac{(1 - e^{-\lambda_i w})\, e^{-\lambda_i u}}{\lambda_i}\Big)

and a bolus :math:`D` at :math:`t_s`: :math:`C = D \sum_i g_i e^{-\lambda_i u}`,
:math:`\int C = D \sum_i g_i (1 - e^{-\lambda_i u}) / \lambda_i` (here
:math:`u = \max(t - t_s, 0)`). Once a dose is over its AUC tends to
:math:`D \sum_i g_i/\lambda_i = 1000 D / CL`, the familiar dose / clearance.

Examples
--------
A 28 ug/day infusion over one day, CL 2.22 L/h, V 5.98 L: the AUC up to
long after the end is ``1000 * 28 / 2.22`` pg*h/mL.

>>> import numpy as np
>>> from blinapk.pk import DoseMatrix
>>> dm = DoseMatrix(time=[[0.0]], amt=[[28.0]], duration=[[24.0]])
>>> auc = auc_grid([[24.0, 1000.0]], dm, {"CL": 2.22, "V": 5.98})
>>> round(float(auc[0, 1]), 6) == round(1000 * 28 / 2.22, 6)
True
>>> np.round(conc_grid([[1.0, 24.0]], dm, {"CL": 2.22, "V": 5.98}), 1).tolist()
[[163.0, 525.5]]
"""

from __future__ import annotations

from collections.abc import Mapping
from types import ModuleType
from typing import Any

import numpy as np

from blinapk.pk._backend import as_array
from blinapk.pk.doses import DoseMatrix
from blinapk.pk.predict import modes

__all__ = ["auc_grid", "conc_grid"]


def _grid_data(times: Any, doses: DoseMatrix) -> dict[str, np.ndarray]:
    """Clamped pieces, shape ``(n_subjects, n_times, n_doses)``."""
    t = np.asarray(times, dtype=float)
    if t.ndim != 2 or t.shape[0] != doses.n_subjects:
        raise ValueError(f"times must have shape (n_subjects={doses.n_subjects}, n_times), "
                         f"got {t.shape}")
    t = t[:, :, None]
    ts, dur, amt = (a[:, None, :] for a in (doses.time, doses.duration, doses.amt))
    inf = dur > 0
    return {"u": np.maximum(t - ts - dur, 0.0), "w": np.clip(t - ts, 0.0, dur),
            "bolus": np.where(~inf & (t >= ts), amt, 0.0),
            "rate": np.where(inf, amt / np.where(inf, dur, 1.0), 0.0)}


def _params(params: Mapping[str, Any], xp: ModuleType) -> dict[str, Any]:
    """Parameters with three trailing axes appended: ``(..., n_subjects, 1, 1)``."""
    return {k: as_array(xp, v)[..., None, None] for k, v in params.items()}


def conc_grid(times: Any, doses: DoseMatrix, params: Mapping[str, Any], model: str = "1cmt",
              xp: ModuleType = np) -> Any:
    """Concentration (pg/mL) of every subject at its own grid of times.

    Parameters
    ----------
    times : array_like, shape (n_subjects, n_times)
        Times (h) per subject (data; pad a short row by repeating a time).
    doses : DoseMatrix
        Doses of the same subjects (:func:`blinapk.pk.compact_doses` output
        keeps ``n_doses`` small).
    params : mapping of str to array
        ``CL``, ``V`` (+ ``Q``, ``V2`` for 2-cmt), shape ``(..., n_subjects)``.
    model : {"1cmt", "2cmt"}
        Structural model.
    xp : module, default numpy
        Array namespace.

    Returns
    -------
    array, shape (..., n_subjects, n_times)
    """
    data = {k: as_array(xp, v) for k, v in _grid_data(times, doses).items()}
    total = 0.0
    for lam, gain in modes(_params(params, xp), model, xp):
        per_dose = xp.exp(-lam * data["u"]) * (
            data["bolus"] - data["rate"] * xp.expm1(-lam * data["w"]) / lam)
        total = total + (gain * per_dose).sum(axis=-1)
    return total


def auc_grid(times: Any, doses: DoseMatrix, params: Mapping[str, Any], model: str = "1cmt",
             xp: ModuleType = np) -> Any:
    """Cumulative AUC (pg*h/mL) from the first dose to each time of each subject's grid.

    The AUC over a window ``[t0, t1]`` is ``auc(t1) - auc(t0)``; divided by
    ``t1 - t0`` it is the average concentration over the window.

    Parameters
    ----------
    times, doses, params, model, xp
        As :func:`conc_grid`.

    Returns
    -------
    array, shape (..., n_subjects, n_times)
    """
    data = {k: as_array(xp, v) for k, v in _grid_data(times, doses).items()}
    total = 0.0
    for lam, gain in modes(_params(params, xp), model, xp):
        w, u = data["w"], data["u"]
        per_dose = (data["rate"] * (w + xp.expm1(-lam * w) * xp.exp(-lam * u) / lam)
                    - data["bolus"] * xp.expm1(-lam * u))
        total = total + (gain / lam * per_dose).sum(axis=-1)
    return total

r"""Exact exposure of piecewise-constant infusions: AUC, Cavg, time above a threshold.

A linear 1- or 2-compartment model is a sum of exponential modes (see
:func:`blinapk.pk.modes`): :math:`C(t) = \sum_i g_i y_i(t)` with
:math:`\dot y_i = -\lambda_i y_i + R(t)`. On a segment of length
:math:`\Delta` at constant rate :math:`R`, starting from :math:`y_{i0}`, with
:math:`y_{i\infty} = R/\lambda_i`:

.. math::

    y_i(t) &= y_{i\infty} + (y_{i0} - y_{i\infty})\, e^{-\lambda_i t} \\
    \int_0^\Delta y_i\,dt &= y_{i\infty}\,\Delta
        + (y_{i0} - y_{i\infty})\,\frac{1 - e^{-\lambda_i \Delta}}{\lambda_i}

so the AUC of a window is a sum of closed forms and the average
concentration is AUC / window length.

**Time above a threshold** :math:`c^*`. With one mode
:math:`C(t) = C_\infty + (C_0 - C_\infty) e^{-\lambda t}` is monotone and
crosses :math:`c^*` (if at all) once, at

.. math:: t_\times = \frac{1}{\lambda}\ln\frac{C_0 - C_\infty}{c^* - C_\infty},

so the time with :math:`C \ge c^*` on the segment is :math:`\Delta`, 0,
:math:`\min(t_\times, \Delta)` (falling) or :math:`\Delta - t_\times`
(rising). With two modes :math:`C(t) = C_\infty + A e^{-\alpha t} + B
e^{-\beta t}` has at most one stationary point,
:math:`t_e = \ln(-\alpha A / (\beta B)) / (\alpha - \beta)` when :math:`A`
and :math:`B` differ in sign; on each of the (at most two) monotone pieces
the crossing is found by bisection to :math:`2^{-48}` of the piece.

All arrays broadcast: parameters typically have shape ``(draw, subject)``
and rates ``(subject,)``. Exponents are always :math:`\le 0`
(``expm1`` for :math:`1 - e^{-x}`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["Mode", "advance", "segment_auc", "segment_time_above", "window_exposure"]

#: A mode: (decay rate lambda 1/h, gain g pg/mL per ug).
Mode = tuple[Any, Any]
_BISECTIONS = 48


def advance(y0: Any, lam: Any, rate: Any, dt: Any) -> np.ndarray:
    """Advance one mode ``dt`` h at constant ``rate``: ``y0 e^(-l dt) + R (1 - e^(-l dt)) / l``."""
    em1 = np.expm1(-lam * dt)
    return y0 * (em1 + 1.0) - rate * em1 / lam


def segment_auc(y0s: Sequence[Any], modes: Sequence[Mode], rate: Any, dt: Any) -> np.ndarray:
    """AUC (pg*h/mL) of ``C = sum g_i y_i`` over ``[0, dt]`` at constant ``rate``.

    Parameters
    ----------
    y0s : sequence of arrays
        Mode states at the segment start (ug), one per mode.
    modes : sequence of (lam, gain)
        From :func:`blinapk.pk.modes`.
    rate : array_like
        Infusion rate (ug/h).
    dt : array_like
        Segment length (h, >= 0).

    Returns
    -------
    numpy.ndarray
    """
    total = 0.0
    for y0, (lam, g) in zip(y0s, modes, strict=True):
        y_inf = rate / lam
        total = total + g * (y_inf * dt - (y0 - y_inf) * np.expm1(-lam * dt) / lam)
    return np.asarray(total)


def _conc(t: Any, c_inf: Any, amps: Sequence[Any], lams: Sequence[Any]) -> Any:
    out = c_inf
    for a, lam in zip(amps, lams, strict=True):
        out = out + a * np.exp(-lam * t)
    return out


def _above_monotone(t0, t1, c0, c1, threshold, c_inf, amps, lams) -> np.ndarray:
    """Time with C >= threshold on [t0, t1] where C is monotone (bisection on crossings)."""
    up0, up1 = c0 >= threshold, c1 >= threshold
    out = np.where(up0 & up1, t1 - t0, 0.0)
    cross = up0 != up1
    if not cross.any():
        return out
    idx = np.nonzero(cross)
    lo, hi = t0[idx].copy(), t1[idx].copy()
    falling = up0[idx]  # above at the start: crossing downwards
    ci = c_inf[idx]
    a_i = [a[idx] for a in amps]
    l_i = [lam[idx] for lam in lams]
    for _ in range(_BISECTIONS):
        mid = 0.5 * (lo + hi)
        above = _conc(mid, ci, a_i, l_i) >= threshold
        move_lo = above == falling  # still on the starting side of the crossing
        lo = np.where(move_lo, mid, lo)
        hi = np.where(move_lo, hi, mid)
    t_x = 0.5 * (lo + hi)
    out[idx] = np.where(falling, t_x - t0[idx], t1[idx] - t_x)
    return out


def segment_time_above(y0s: Sequence[Any], modes: Sequence[Mode], rate: Any, dt: Any,
                       threshold: float) -> np.ndarray:
    """Hours with ``C >= threshold`` on ``[0, dt]`` at constant ``rate`` (exact; see module).

    Parameters
    ----------
    y0s, modes, rate, dt
        As :func:`segment_auc`.
    threshold : float
        Concentration threshold (pg/mL).

    Returns
    -------
    numpy.ndarray
        Time above (h), broadcast shape of the inputs.
    """
    lams = [np.asarray(lam, float) for lam, _ in modes]
    c_inf = 0.0
    amps = []
    for y0, (lam, g) in zip(y0s, modes, strict=True):
        y_inf = rate / lam
        c_inf = c_inf + g * y_inf
        amps.append(g * (y0 - y_inf))
    shape = np.broadcast_shapes(np.shape(c_inf), np.shape(dt), *(np.shape(a) for a in amps),
                                *(np.shape(lam) for lam in lams))
    c_inf = np.broadcast_to(c_inf, shape)
    amps = [np.broadcast_to(a, shape) for a in amps]
    lams = [np.broadcast_to(lam, shape) for lam in lams]
    dt = np.broadcast_to(np.asarray(dt, float), shape)
    c0 = c_inf + sum(amps)
    c1 = _conc(dt, c_inf, amps, lams)
    if len(modes) == 1:
        up0, up1 = c0 >= threshold, c1 >= threshold
        with np.errstate(divide="ignore", invalid="ignore"):
            t_x = np.log((c0 - c_inf) / (threshold - c_inf)) / lams[0]
        t_x = np.clip(np.nan_to_num(t_x, nan=0.0, posinf=0.0, neginf=0.0), 0.0, dt)
        return np.where(up0 & up1, dt, np.where(up0, t_x, np.where(up1, dt - t_x, 0.0)))
    # two modes: split at the stationary point, if any, into monotone pieces
    (a, b), (alpha, beta) = amps, lams
    with np.errstate(divide="ignore", invalid="ignore"):
        t_e = np.log(-(alpha * a) / (beta * b)) / (alpha - beta)
    inner = np.isfinite(t_e) & (t_e > 0) & (t_e < dt)
    t_e = np.where(inner, t_e, dt)
    c_e = _conc(t_e, c_inf, amps, lams)
    zero = np.zeros(shape)
    first = _above_monotone(zero, t_e, c0, c_e, threshold, c_inf, amps, lams)
    second = _above_monotone(t_e, dt.copy(), c_e, c1, threshold, c_inf, amps, lams)
    return first + np.where(inner, second, 0.0)


def _column(a: np.ndarray, j: int) -> Any:
    """Column ``j``; a scalar when every subject shares it (a broadcast view)."""
    return float(a[0, j]) if a.strides[0] == 0 else a[:, j]


def window_exposure(start: np.ndarray, end: np.ndarray, rate: np.ndarray,
                    modes: Sequence[Mode], windows: Sequence[tuple[Any, Any]],
                    thresholds: Sequence[float] = ()) -> tuple[list, list]:
    """AUC and time above thresholds over windows of a contiguous piecewise-constant input.

    Parameters
    ----------
    start, end, rate : ndarray, shape (subject, k)
        Contiguous segments of every subject (``end[:, j] == start[:, j+1]``),
        rate in ug/h; concentrations are 0 at ``start[:, 0]``.
    modes : sequence of (lam, gain)
        Arrays broadcasting to ``(draw, subject)`` (e.g. shape ``(draw, subject)``).
    windows : sequence of (a, b)
        Window limits (h), scalars or arrays of shape ``(subject,)``, within
        ``[start[:, 0], end[:, -1]]``.
    thresholds : sequence of float
        Concentration thresholds (pg/mL).

    Returns
    -------
    (list, list)
        AUC (pg*h/mL) per window, each ``(draw, subject)``; time above (h)
        per window, each a list over thresholds of ``(draw, subject)`` arrays.
    """
    n_seg = start.shape[1]
    lam0 = modes[0][0]
    shape = np.broadcast_shapes(np.shape(lam0), start.shape[:1])
    # values at every segment start (and the end): (k + 1, draw, subject)
    st = [np.zeros((n_seg + 1, *shape)) for _ in modes]
    auc_at = np.zeros((n_seg + 1, *shape))
    above_at = [np.zeros((n_seg + 1, *shape)) for _ in thresholds]
    inv = [1.0 / lam for lam, _ in modes]
    for j in range(n_seg):
        y0s = [s[j] for s in st]
        r, d = _column(rate, j), _column(end, j) - _column(start, j)
        for k, th in enumerate(thresholds):
            above_at[k][j + 1] = above_at[k][j] + segment_time_above(y0s, modes, r, d, th)
        auc = auc_at[j + 1]
        auc[...] = auc_at[j]
        for s, y0, (lam, g), il in zip(st, y0s, modes, inv, strict=True):
            # one exponential per mode and segment serves the AUC and the next state
            em1 = np.expm1(-lam * d)
            y_inf = r * il
            gap = y0 - y_inf
            auc += g * (y_inf * d - gap * em1 * il)
            s[j + 1] = y_inf + gap * (em1 + 1.0)

    shared = start.strides[0] == 0  # one time grid for every subject (a broadcast view)

    def at(t: Any) -> tuple[np.ndarray, list[np.ndarray]]:
        t = np.broadcast_to(np.asarray(t, float), start.shape[:1])
        if shared and t.strides[0] == 0 and np.isfinite(t[0]):
            j = int(np.clip(np.searchsorted(start[0], t[0], side="right") - 1, 0, n_seg - 1))
            if t[0] == start[0, j]:  # on a segment start: the running totals there
                return auc_at[j], [a[j] for a in above_at]
            if t[0] == end[0, j] and j == n_seg - 1:  # the very end
                return auc_at[n_seg], [a[n_seg] for a in above_at]
        seg = np.clip((start <= t[:, None]).sum(axis=1) - 1, 0, n_seg - 1)
        rows = np.arange(start.shape[0])
        d = t - start[rows, seg]
        r = rate[rows, seg]
        index = np.broadcast_to(seg, shape)[None]
        base = np.take_along_axis(auc_at, index, 0)[0]
        bases = [np.take_along_axis(a, index, 0)[0] for a in above_at]
        if not np.any(d):  # every edge on a segment start (e.g. cycle windows): no partial
            return base, bases
        y0s = [np.take_along_axis(s, index, 0)[0] for s in st]
        auc = base + segment_auc(y0s, modes, r, d)
        above = [b + segment_time_above(y0s, modes, r, d, th)
                 for b, th in zip(bases, thresholds, strict=True)]
        return auc, above

    aucs, aboves = [], []
    for a, b in windows:
        auc_a, above_a = at(a)
        auc_b, above_b = at(b)
        aucs.append(auc_b - auc_a)
        aboves.append([hb - ha for ha, hb in zip(above_a, above_b, strict=True)])
    return aucs, aboves

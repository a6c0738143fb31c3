"""Areas under the concentration-time curve (AUC, AUMC) and their NCA parameters.

Integration methods (``auc_method``), after PKNCA and Phoenix WinNonlin:

``"linear"``
    linear trapezoid on every segment.
``"lin-up/log-down"`` (alias ``"log-down"``)
    log trapezoid on a segment where the concentration decreases and both
    ends are > 0, linear otherwise.
``"lin-log"``
    linear before tmax, log trapezoid after tmax (when both ends are > 0
    and differ), linear otherwise.

Log trapezoid of a segment ``(t1, c1) -> (t2, c2)`` with
``k = ln(c1/c2) / (t2 - t1)``: ``AUC = (c1 - c2) / k`` and
``AUMC = (t1 c1 - t2 c2) / k + (c1 - c2) / k**2`` (exact for an exponential).
Linear: ``AUC = (t2 - t1)(c1 + c2)/2``, ``AUMC = (t2 - t1)(t1 c1 + t2 c2)/2``.

Interpolation inside the data uses the same rule (log interpolation where the
segment would be integrated by the log trapezoid); beyond ``tlast`` the
concentration is 0 (``aucint_last``, as AUClast) or
``clast * exp(-lambda_z (t - tlast))`` (``aucint_inf_obs``/``_pred``), as in
PKNCA's ``pk.calc.aucint``.
"""

from __future__ import annotations

import math

import numpy as np

from blinapk.errors import ModelSpecError
from blinapk.nca.registry import NotEstimable, nca_parameter, not_estimable

__all__ = [
    "AUC_METHODS",
    "auc_segments",
    "aucall",
    "aucint_inf_obs",
    "aucint_inf_pred",
    "aucint_last",
    "auclast",
    "aucinf_obs",
    "aucinf_pred",
    "aucpext_obs",
    "aucpext_pred",
    "auctau",
    "aumc_segments",
    "aumcinf_obs",
    "aumcinf_pred",
    "aumclast",
    "check_auc_method",
    "integrate",
    "interpolate_conc",
]

AUC_METHODS: tuple[str, ...] = ("linear", "lin-up/log-down", "lin-log")
_ALIASES = {"log-down": "lin-up/log-down", "linear-up/log-down": "lin-up/log-down",
            "lin up/log down": "lin-up/log-down", "linear-log": "lin-log"}


def check_auc_method(method: str) -> str:
    """Return the canonical AUC method name, or raise ModelSpecError.

    Examples
    --------
    >>> check_auc_method("log-down")
    'lin-up/log-down'
    """
    canonical = _ALIASES.get(method, method)
    if canonical not in AUC_METHODS:
        raise ModelSpecError(f"unknown auc_method {method!r}; use one of {AUC_METHODS}")
    return canonical


def _log_mask(time: np.ndarray, conc: np.ndarray, method: str, tmax: float) -> np.ndarray:
    """Which segments use the log trapezoid."""
    c1, c2 = conc[:-1], conc[1:]
    positive = (c1 > 0) & (c2 > 0) & (c1 != c2)
    if method == "linear":
        return np.zeros(c1.shape, dtype=bool)
    if method == "lin-up/log-down":
        return positive & (c2 < c1)
    return positive & (time[:-1] >= tmax)


def _first_tmax(time: np.ndarray, conc: np.ndarray) -> float:
    if conc.size == 0 or not np.any(np.isfinite(conc)):
        return math.nan
    return float(time[int(np.nanargmax(conc))])


#: |log(c1/c2)| below which a log-trapezoid segment is integrated linearly (AUC / AUMC).
_FLAT_LOG_AUC = 1e-6
_FLAT_LOG_AUMC = 1e-4


def auc_segments(time, conc, method: str = "lin-up/log-down", tmax: float | None = None,
                 use_log: np.ndarray | None = None):
    """Area of each segment between consecutive samples.

    Parameters
    ----------
    time, conc : array_like
        Sorted sampling times and concentrations (no NaN).
    method : str
        See :data:`AUC_METHODS`.
    tmax : float, optional
        Time of Cmax for ``"lin-log"`` (the first maximum of ``conc`` by default).
    use_log : array of bool, optional
        Which segments use the log trapezoid, overriding ``method`` (used when
        the segments are pieces of a profile's segments and must keep the rule
        of the segment they were cut from).

    Returns
    -------
    numpy.ndarray
        ``len(time) - 1`` areas.

    Examples
    --------
    >>> auc_segments([0, 1, 2], [0.0, 2.0, 1.0], "linear").tolist()
    [1.0, 1.5]
    """
    t = np.asarray(time, dtype=float)
    c = np.asarray(conc, dtype=float)
    dt = np.diff(t)
    lin = dt * (c[:-1] + c[1:]) / 2.0
    if use_log is None:
        use_log = _log_mask(t, c, method, _first_tmax(t, c) if tmax is None else tmax)
    if not np.any(use_log):
        return lin
    c1, c2 = c[:-1][use_log], c[1:][use_log]
    out = lin.copy()
    x = np.log(c1) - np.log(c2)
    # on a nearly flat segment the log trapezoid is 0/0 in floating point; the linear one
    # differs from it by a relative x**2/12 there (< 1e-13 below the threshold)
    flat = np.abs(x) < _FLAT_LOG_AUC
    with np.errstate(divide="ignore", invalid="ignore"):
        out[use_log] = np.where(flat, lin[use_log], dt[use_log] * (c1 - c2) / x)
    return out


def aumc_segments(time, conc, method: str = "lin-up/log-down", tmax: float | None = None):
    """First-moment area ``int t C(t) dt`` of each segment (same rules as AUC).

    Examples
    --------
    >>> aumc_segments([0, 2], [1.0, 1.0], "linear").tolist()
    [2.0]
    """
    t = np.asarray(time, dtype=float)
    c = np.asarray(conc, dtype=float)
    dt = np.diff(t)
    t1, t2, c1, c2 = t[:-1], t[1:], c[:-1], c[1:]
    lin = dt * (t1 * c1 + t2 * c2) / 2.0
    use_log = _log_mask(t, c, method, _first_tmax(t, c) if tmax is None else tmax)
    if not np.any(use_log):
        return lin
    out = lin.copy()
    a1, a2, b1, b2 = t1[use_log], t2[use_log], c1[use_log], c2[use_log]
    x = np.log(b1) - np.log(b2)
    k = x / (a2 - a1)
    # the closed form cancels catastrophically as k -> 0 (relative error ~ eps / x**2);
    # below the threshold the linear trapezoid is closer (relative error ~ x**2)
    flat = np.abs(x) < _FLAT_LOG_AUMC
    # a huge k (steep drop over a tiny time step) overflows k**2 to inf, and the
    # term it divides correctly goes to 0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out[use_log] = np.where(flat, lin[use_log],
                                (a1 * b1 - a2 * b2) / k + (b1 - b2) / k**2)
    return out


def integrate(time, conc, method: str = "lin-up/log-down", moment: int = 0,
              tmax: float | None = None) -> float:
    """AUC (``moment=0``) or AUMC (``moment=1``) over all the given samples.

    Examples
    --------
    >>> integrate([0, 1, 2], [0.0, 2.0, 1.0], "linear")
    2.5
    """
    seg = auc_segments if moment == 0 else aumc_segments
    if len(time) < 2:
        return 0.0
    return float(np.sum(seg(time, conc, method, tmax)))


def interpolate_conc(t: float, time, conc, method: str = "lin-up/log-down",
                     tmax: float | None = None) -> float:
    """Concentration at ``t`` inside ``[time[0], time[-1]]`` (observed, or interpolated).

    The log interpolation is used on segments the AUC method integrates by the
    log trapezoid, so that ``integrate`` over the split segments equals the
    integral over the unsplit one.

    Examples
    --------
    >>> interpolate_conc(1.0, [0.0, 2.0], [4.0, 1.0], "lin-up/log-down")
    2.0
    >>> interpolate_conc(1.0, [0.0, 2.0], [4.0, 1.0], "linear")
    2.5
    """
    tt = np.asarray(time, dtype=float)
    cc = np.asarray(conc, dtype=float)
    hit = np.flatnonzero(tt == t)
    if hit.size:
        return float(cc[hit[0]])
    if t < tt[0] or t > tt[-1]:
        return math.nan
    j = int(np.searchsorted(tt, t))  # tt[j-1] < t < tt[j]
    t1, t2, c1, c2 = tt[j - 1], tt[j], cc[j - 1], cc[j]
    tm = _first_tmax(tt, cc) if tmax is None else tmax
    seg_log = _log_mask(np.array([t1, t2]), np.array([c1, c2]), method, tm)[0]
    frac = (t - t1) / (t2 - t1)
    if seg_log:
        return float(math.exp(math.log(c1) + frac * (math.log(c2) - math.log(c1))))
    return float(c1 + frac * (c2 - c1))


def _with_c0(time: np.ndarray, conc: np.ndarray, c0: float) -> tuple[np.ndarray, np.ndarray]:
    """Insert ``(0, c0)`` when there is no sample at the interval start."""
    if not np.isfinite(c0) or np.any(time == 0):
        return time, conc
    j = int(np.searchsorted(time, 0.0))
    return np.insert(time, j, 0.0), np.insert(conc, j, c0)


def _last_positive(conc: np.ndarray) -> int:
    pos = np.flatnonzero(conc > 0)
    return int(pos[-1]) if pos.size else -1


def _area_to_tlast(time, conc, c0, auc_method: str, moment: int):
    """AUC (``moment=0``) or AUMC (``moment=1``) from the interval start to tlast."""
    t, c = _with_c0(time, conc, c0)
    if t.size == 0:
        return not_estimable("no samples in the interval")
    last = _last_positive(c)
    if last < 0:
        return 0.0
    return integrate(t[: last + 1], c[: last + 1], auc_method, moment=moment)


# ---------------------------------------------------------------- parameters --


@nca_parameter(unit_kind="conc*time", label="AUC to the last measurable concentration",
               pptestcd="AUCLST")
def auclast(time, conc, c0, auc_method):
    """AUC from the interval start to tlast (last concentration > 0)."""
    return _area_to_tlast(time, conc, c0, auc_method, moment=0)


@nca_parameter(unit_kind="conc*time", label="AUC to the last sample (zeros included)",
               pptestcd="AUCALL")
def aucall(time, conc, c0, auc_method):
    """AUC to the last sample; after tlast the segments to zero are linear."""
    t, c = _with_c0(time, conc, c0)
    if t.size == 0:
        return not_estimable("no samples in the interval")
    return integrate(t, c, auc_method)


@nca_parameter(unit_kind="conc*time", label="AUC to infinity (observed Clast)",
               pptestcd="AUCIFO")
def aucinf_obs(auclast, clast, lambda_z):
    """``AUClast + Clast,obs / lambda_z``."""
    return auclast + clast / lambda_z


@nca_parameter(unit_kind="conc*time", label="AUC to infinity (predicted Clast)",
               pptestcd="AUCIFP")
def aucinf_pred(auclast, clast_pred, lambda_z):
    """``AUClast + Clast,pred / lambda_z``."""
    return auclast + clast_pred / lambda_z


@nca_parameter(unit_kind="%", label="AUC extrapolated, % of AUCinf (observed)",
               pptestcd="AUCPEO")
def aucpext_obs(auclast, aucinf_obs):
    """``100 (AUCinf,obs - AUClast) / AUCinf,obs``."""
    return 100.0 * (aucinf_obs - auclast) / aucinf_obs


@nca_parameter(unit_kind="%", label="AUC extrapolated, % of AUCinf (predicted)",
               pptestcd="AUCPEP")
def aucpext_pred(auclast, aucinf_pred):
    """``100 (AUCinf,pred - AUClast) / AUCinf,pred``."""
    return 100.0 * (aucinf_pred - auclast) / aucinf_pred


@nca_parameter(unit_kind="conc*time^2", label="AUMC to the last measurable concentration",
               pptestcd="AUMCLST")
def aumclast(time, conc, c0, auc_method):
    """First-moment area from the interval start to tlast."""
    return _area_to_tlast(time, conc, c0, auc_method, moment=1)


@nca_parameter(unit_kind="conc*time^2", label="AUMC to infinity (observed Clast)",
               pptestcd="AUMCIFO")
def aumcinf_obs(aumclast, clast, tlast, lambda_z):
    """``AUMClast + tlast Clast/lambda_z + Clast/lambda_z**2``."""
    return aumclast + tlast * clast / lambda_z + clast / lambda_z**2


@nca_parameter(unit_kind="conc*time^2", label="AUMC to infinity (predicted Clast)",
               pptestcd="AUMCIFP")
def aumcinf_pred(aumclast, clast_pred, tlast, lambda_z):
    """``AUMClast + tlast Clast,pred/lambda_z + Clast,pred/lambda_z**2``."""
    return aumclast + tlast * clast_pred / lambda_z + clast_pred / lambda_z**2


def _aucint(time_group, conc_group, tau, c0, auc_method, lambda_z, clast_value, mode):
    """AUC over ``[0, tau]`` (interval-relative) from the whole group profile."""
    t, c = _with_c0(np.asarray(time_group, float), np.asarray(conc_group, float), c0)
    if t.size == 0:
        return not_estimable("no samples in the group")
    if t[0] > 0:
        return not_estimable("no concentration at the interval start (nothing to interpolate "
                             "from and no C0)")
    last = _last_positive(c)
    if last < 0:
        return 0.0
    tl = float(t[last])
    inside = t[: last + 1], c[: last + 1]
    tm = _first_tmax(*inside)
    upper = min(tau, tl)
    # samples strictly inside (0, upper), plus the two ends
    keep = (inside[0] > 0) & (inside[0] < upper)
    c_start = interpolate_conc(0.0, *inside, auc_method, tm)
    if upper > 0:
        c_end = interpolate_conc(upper, *inside, auc_method, tm)
        tt = np.r_[0.0, inside[0][keep], upper]
        cc = np.r_[c_start, inside[1][keep], c_end]
        # each piece keeps the trapezoid rule of the profile segment it was cut from (a
        # piece of a linear segment ending at 0 must not turn into a log-down piece)
        # (upper > 0 implies >= 2 samples in `inside`, and every piece start lies in
        # [0, tlast), so `seg` indexes a real segment)
        parent = _log_mask(inside[0], inside[1], auc_method, tm)
        seg = np.searchsorted(inside[0], tt[:-1], side="right") - 1
        use_log = parent[seg] & (cc[:-1] > 0) & (cc[1:] > 0) & (cc[:-1] != cc[1:])
        area = float(np.sum(auc_segments(tt, cc, auc_method, tmax=tm, use_log=use_log)))
    else:
        area = 0.0
    if tau <= tl or mode == "last":
        return area
    if isinstance(lambda_z, NotEstimable) or not np.isfinite(lambda_z):
        return not_estimable("interval ends after tlast and lambda_z is not estimable")
    a = max(tl, 0.0)
    tail_end = 0.0 if math.isinf(tau) else math.exp(-lambda_z * (tau - tl))
    return area + clast_value / lambda_z * (math.exp(-lambda_z * (a - tl)) - tail_end)


@nca_parameter(unit_kind="conc*time", label="AUC over the interval (zero after tlast)",
               pptestcd="AUCINT")
def aucint_last(time_group, conc_group, tau, c0, auc_method):
    """AUC from interval start to end, interpolating inside the profile, 0 after tlast."""
    return _aucint(time_group, conc_group, tau, c0, auc_method, math.nan, math.nan, "last")


@nca_parameter(unit_kind="conc*time", label="AUC over the interval (extrapolated, observed)",
               pptestcd="AUCINTIFO")
def aucint_inf_obs(time_group, conc_group, tau, c0, auc_method, lambda_z):
    """AUC from interval start to end; after tlast ``Clast,obs exp(-lambda_z (t - tlast))``."""
    c = np.asarray(conc_group, float)
    last = _last_positive(c)
    clast_group = float(c[last]) if last >= 0 else math.nan
    return _aucint(time_group, conc_group, tau, c0, auc_method, lambda_z, clast_group, "inf")


@nca_parameter(unit_kind="conc*time", label="AUC over the interval (extrapolated, predicted)",
               pptestcd="AUCINTIFP")
def aucint_inf_pred(time_group, conc_group, tau, c0, auc_method, lambda_z, clast_pred):
    """As ``aucint_inf_obs`` with the predicted Clast of the lambda_z fit."""
    return _aucint(time_group, conc_group, tau, c0, auc_method, lambda_z, clast_pred, "inf")


@nca_parameter(unit_kind="conc*time", label="AUC over the dosing interval", pptestcd="AUCTAU")
def auctau(time_group, conc_group, tau, c0, auc_method):
    """AUC from the interval start to its end (tau); needs samples up to the end."""
    if math.isinf(tau):
        return not_estimable("auctau needs a finite interval end")
    c = np.asarray(conc_group, float)
    last = _last_positive(c)
    if last < 0 or float(np.asarray(time_group, float)[last]) < tau:
        return not_estimable("interval end is after the last measurable concentration")
    return _aucint(time_group, conc_group, tau, c0, auc_method, math.nan, math.nan, "last")

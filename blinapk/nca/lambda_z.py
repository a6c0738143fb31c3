"""Terminal elimination rate constant (lambda_z) by best-fit log-linear regression.

Rule (PKNCA ``pk.calc.half.life``; Phoenix WinNonlin "best fit"):

1. candidate points: samples after tmax (tmax itself included for an IV bolus,
   where there is no absorption phase, as WinNonlin does), with
   concentration > 0 (zeros cannot be log-transformed);
2. fit ``log(conc) = a - lambda_z * time`` by least squares to the last
   ``n`` candidate points, for every ``n >= min_points`` (3);
3. keep the fits whose adjusted R2 is within ``adj_r2_factor`` (1e-4) of the
   best adjusted R2 of all fits and whose lambda_z is > 0; among them take
   the one with the most points.

``adj R2 = 1 - (1 - R2) (n - 1) / (n - 2)``. Also reported: number of
points, first and last time used, R2, adjusted R2, correlation, predicted
Clast (``exp(a - lambda_z tlast)``), half-life ``ln 2 / lambda_z`` and span
ratio ``(t_last_used - t_first_used) / half-life``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from blinapk.errors import ModelSpecError
from blinapk.nca.registry import nca_parameter, not_estimable

__all__ = [
    "LambdaZFit",
    "LambdaZOptions",
    "clast_pred",
    "fit_lambda_z",
    "half_life",
    "lambda_z",
    "lambda_z_adj_r2",
    "lambda_z_corrxy",
    "lambda_z_fit",
    "lambda_z_n",
    "lambda_z_r2",
    "lambda_z_time_first",
    "lambda_z_time_last",
    "span_ratio",
]


@dataclass(frozen=True)
class LambdaZOptions:
    """Settings of the lambda_z selection.

    Parameters
    ----------
    min_points : int
        Fewest points in a fit (3).
    adj_r2_factor : float
        Fits within this of the best adjusted R2 tie; the most points wins (1e-4).
    exclude_tmax : bool or None
        Exclude the Cmax sample from the candidates; None = exclude unless
        the route is ``"iv_bolus"``.
    """

    min_points: int = 3
    adj_r2_factor: float = 1e-4
    exclude_tmax: bool | None = None

    def __post_init__(self) -> None:
        if int(self.min_points) != self.min_points or self.min_points < 2:
            raise ModelSpecError(f"min_points must be an integer >= 2, got {self.min_points!r}")
        if not (self.adj_r2_factor >= 0):
            raise ModelSpecError(f"adj_r2_factor must be >= 0, got {self.adj_r2_factor!r}")


@dataclass(frozen=True)
class LambdaZFit:
    """Selected terminal-phase regression (NaN fields and a reason when none)."""

    lambda_z: float = math.nan
    intercept: float = math.nan
    r2: float = math.nan
    adj_r2: float = math.nan
    corrxy: float = math.nan
    n_points: float = math.nan
    time_first: float = math.nan
    time_last: float = math.nan
    reason: str = ""

    @property
    def ok(self) -> bool:
        """True when a fit was selected."""
        return not self.reason


def _ols(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float, float]:
    """Slope, intercept, R2 and correlation of y on x (centred, for accuracy)."""
    xm, ym = x.mean(), y.mean()
    dx, dy = x - xm, y - ym
    sxx, syy, sxy = float(dx @ dx), float(dy @ dy), float(dx @ dy)
    slope = sxy / sxx
    intercept = ym - slope * xm
    if syy == 0.0:
        return slope, intercept, math.nan, math.nan
    r = sxy / math.sqrt(sxx * syy)
    resid = dy - slope * dx
    r2 = 1.0 - float(resid @ resid) / syy
    return slope, intercept, r2, r


def fit_lambda_z(time, conc, tmax: float, options: LambdaZOptions | None = None,
                 exclude_tmax: bool = True) -> LambdaZFit:
    """Select the best terminal log-linear fit.

    Parameters
    ----------
    time, conc : array_like
        Sorted sample times and concentrations of the profile.
    tmax : float
        Time of Cmax.
    options : LambdaZOptions, optional
        Selection settings.
    exclude_tmax : bool
        Leave the Cmax sample out of the candidates (when ``options.exclude_tmax``
        is None).

    Returns
    -------
    LambdaZFit

    Examples
    --------
    >>> t = [0.5, 1, 2, 4, 6, 8]
    >>> c = [5.0, 8.0] + [10 * 2.0 ** (-ti / 2) for ti in t[2:]]
    >>> fit = fit_lambda_z(t, c, tmax=1.0)
    >>> round(fit.lambda_z, 12), int(fit.n_points)
    (0.34657359028, 4)
    """
    opt = options or LambdaZOptions()
    if opt.exclude_tmax is not None:
        exclude_tmax = opt.exclude_tmax
    t = np.asarray(time, dtype=float)
    c = np.asarray(conc, dtype=float)
    if not np.isfinite(tmax):
        return LambdaZFit(reason="tmax not estimable")
    after = (t > tmax) if exclude_tmax else (t >= tmax)
    keep = after & (c > 0) & np.isfinite(c)
    x, y = t[keep], np.log(c[keep])
    n_all = x.size
    where = "after tmax" if exclude_tmax else "from tmax"
    if n_all < opt.min_points:
        return LambdaZFit(
            reason=f"fewer than {opt.min_points} points {where} with concentration > 0 "
            f"({n_all})"
        )
    fits = []
    for n in range(opt.min_points, n_all + 1):
        slope, intercept, r2, r = _ols(x[-n:], y[-n:])
        adj = 1.0 - (1.0 - r2) * (n - 1) / (n - 2) if n > 2 else math.nan
        fits.append((n, -slope, intercept, r2, adj, r))
    adj_all = np.array([f[4] for f in fits])
    if not np.any(np.isfinite(adj_all)):
        return LambdaZFit(reason="terminal concentrations are constant (no slope)")
    best = float(np.nanmax(adj_all))
    ok = [f for f in fits
          if np.isfinite(f[4]) and f[4] > best - opt.adj_r2_factor and f[1] > 0]
    if not ok:
        return LambdaZFit(reason="no terminal fit with lambda_z > 0 near the best adjusted R2")
    n, lam, intercept, r2, adj, r = max(ok, key=lambda f: f[0])
    return LambdaZFit(lambda_z=float(lam), intercept=float(intercept), r2=float(r2),
                      adj_r2=float(adj), corrxy=float(r), n_points=float(n),
                      time_first=float(x[-n]), time_last=float(x[-1]))


# ---------------------------------------------------------------- parameters --


@nca_parameter(unit_kind="unitless", label="Terminal-phase fit", reported=False)
def lambda_z_fit(time, conc, tmax, route, lambda_z_options):
    """Select the terminal regression (internal; its parts are reported separately)."""
    return fit_lambda_z(time, conc, tmax, lambda_z_options, exclude_tmax=route != "iv_bolus")


def _part(fit: LambdaZFit, attr: str):
    return getattr(fit, attr) if fit.ok else not_estimable(f"lambda_z: {fit.reason}")


@nca_parameter(unit_kind="1/time", label="Terminal elimination rate constant",
               pptestcd="LAMZ")
def lambda_z(lambda_z_fit):
    """Negative slope of the selected log-linear terminal fit."""
    return _part(lambda_z_fit, "lambda_z")


@nca_parameter(unit_kind="unitless", label="R2 of the lambda_z fit", pptestcd="R2")
def lambda_z_r2(lambda_z_fit):
    """Coefficient of determination of the selected fit."""
    return _part(lambda_z_fit, "r2")


@nca_parameter(unit_kind="unitless", label="Adjusted R2 of the lambda_z fit",
               pptestcd="R2ADJ")
def lambda_z_adj_r2(lambda_z_fit):
    """Return the adjusted R2 of the selected fit."""
    return _part(lambda_z_fit, "adj_r2")


@nca_parameter(unit_kind="unitless", label="Correlation of log(conc) and time in the fit",
               pptestcd="CORRXY")
def lambda_z_corrxy(lambda_z_fit):
    """Pearson correlation of time and log concentration in the selected fit."""
    return _part(lambda_z_fit, "corrxy")


@nca_parameter(unit_kind="count", label="Number of points in the lambda_z fit",
               pptestcd="LAMZNPT")
def lambda_z_n(lambda_z_fit):
    """Return the number of points of the selected fit."""
    return _part(lambda_z_fit, "n_points")


@nca_parameter(unit_kind="time", label="First time used for lambda_z", pptestcd="LAMZLL")
def lambda_z_time_first(lambda_z_fit):
    """Earliest sample time in the selected fit."""
    return _part(lambda_z_fit, "time_first")


@nca_parameter(unit_kind="time", label="Last time used for lambda_z", pptestcd="LAMZUL")
def lambda_z_time_last(lambda_z_fit):
    """Latest sample time in the selected fit."""
    return _part(lambda_z_fit, "time_last")


@nca_parameter(unit_kind="conc", label="Clast predicted by the lambda_z fit", pptestcd="CLSTP")
def clast_pred(lambda_z_fit, tlast):
    """``exp(intercept - lambda_z tlast)``."""
    if not lambda_z_fit.ok:
        return not_estimable(f"lambda_z: {lambda_z_fit.reason}")
    return math.exp(lambda_z_fit.intercept - lambda_z_fit.lambda_z * tlast)


@nca_parameter(unit_kind="time", label="Terminal half-life", pptestcd="LAMZHL")
def half_life(lambda_z):
    """``ln 2 / lambda_z``."""
    return math.log(2.0) / lambda_z


@nca_parameter(unit_kind="unitless", label="Span ratio of the lambda_z fit",
               pptestcd="LAMZSPN")
def span_ratio(lambda_z_fit, half_life):
    """``(last time - first time used) / half-life``."""
    if not lambda_z_fit.ok:
        return not_estimable(f"lambda_z: {lambda_z_fit.reason}")
    return (lambda_z_fit.time_last - lambda_z_fit.time_first) / half_life

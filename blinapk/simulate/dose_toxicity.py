"""DLT probability per dose from exposure: a logistic in log Css averaged over clearance.

For a continuous infusion the steady-state concentration is
``Css = R0 / CL``; with a daily dose ``D`` (ug/day) and clearance ``CL``
(L/h), ``Css [pg/mL] = 1000 * D / (24 * CL)``. A patient's DLT probability
is a logistic function of log Css,

    P(DLT | Css) = 1 / (1 + (css50 / Css) ** slope),

(``css50``: the Css with a 50 % DLT probability; ``slope``: the change of
the log-odds per unit log Css), and the population probability at a dose is
its average over the lognormal distribution of CL,
``log CL ~ N(log cl_median, cl_omega**2)``, by adaptive quadrature.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.integrate import quad
from scipy.special import expit

__all__ = ["dlt_probabilities_from_exposure"]

SQRT_2PI = float(np.sqrt(2 * np.pi))


def _mean_logistic_normal(m: float, s: float) -> float:
    """E[expit(m - s Z)], Z ~ N(0, 1), by adaptive quadrature around the logistic's centre."""
    if s == 0:
        return float(expit(m))
    centre = m / s  # where the logistic is steepest: a breakpoint for the quadrature
    lo, hi = min(-12.0, centre - 1.0), max(12.0, centre + 1.0)

    def integrand(z: float) -> float:
        return float(expit(m - s * z) * np.exp(-0.5 * z * z)) / SQRT_2PI

    value, _ = quad(integrand, lo, hi, points=[centre], epsabs=1e-13, epsrel=1e-11, limit=200)
    return value


def dlt_probabilities_from_exposure(doses: Sequence[float] | np.ndarray, cl_median: float,
                                    cl_omega: float, *, css50: float, slope: float
                                    ) -> np.ndarray:
    """Compute the population DLT probability per dose: logistic in log Css, averaged over CL.

    Parameters
    ----------
    doses : array_like
        Daily doses in ug/day; or in ug/m2/day with ``cl_median`` in L/h/m2
        (clearance per m2 of BSA).
    cl_median : float
        Median clearance (L/h, or L/h/m2), > 0.
    cl_omega : float
        Between-subject log-SD of clearance, >= 0 (0: every patient has
        ``cl_median``).
    css50 : float
        Css (pg/mL) at which P(DLT) = 0.5, > 0.
    slope : float
        Log-odds of DLT per unit log Css (> 0: toxicity rises with exposure).

    Returns
    -------
    numpy.ndarray
        P(DLT) per dose (absolute error below 1e-10).

    Examples
    --------
    The dose whose median Css is ``css50`` has P(DLT) = 0.5 whatever the
    spread of CL (the logistic and the normal are both symmetric):

    >>> css_at_24 = 1000 * 24 / (24 * 2.0)  # 500 pg/mL for 24 ug/day and CL 2 L/h
    >>> p = dlt_probabilities_from_exposure([24.0], 2.0, 0.7, css50=css_at_24, slope=2.0)
    >>> round(float(p[0]), 10)
    0.5
    """
    dose = np.asarray(doses, dtype=float)
    if not (cl_median > 0 and cl_omega >= 0 and css50 > 0) or np.any(dose <= 0):
        raise ValueError("need doses > 0, cl_median > 0, cl_omega >= 0 and css50 > 0")
    # log Css = log Css_median - omega Z (higher CL, lower Css)
    log_css_median = np.log(1000.0 * dose / (24.0 * cl_median))
    centre = slope * (log_css_median - np.log(css50))
    return np.array([_mean_logistic_normal(float(m), slope * cl_omega) for m in centre.ravel()]
                    ).reshape(dose.shape)

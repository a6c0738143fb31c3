r"""The Emax (hyperbolic and sigmoid) model, written once for numpy, PyTensor and JAX.

The exposure-response models of :mod:`blinapk.er` and the cytokine release
of the trial simulator (:mod:`blinapk.simulate.cytokines`) use these
functions, so that an Emax fitted to data means the same curve that
generated simulated data.

.. math::

    f(x) = \frac{x^h}{EC_{50}^h + x^h}, \qquad
    E(x) = E_0 + E_{max} \, f(x), \qquad
    \log f(x) = -\log\left(1 + e^{h (\log EC_{50} - \log x)}\right)

``f`` is the fraction of the maximal effect reached at exposure ``x``
(0 at ``x = 0``, 1/2 at ``EC50``, 1 as ``x`` grows); ``h`` (the Hill
coefficient) is 1 for the hyperbolic Emax model and > 1 for a steeper
sigmoid one. :func:`log_emax_fraction` evaluates ``log f`` from ``log x``
without overflow or cancellation (``logaddexp``), which is the form a model
on the log scale (e.g. a log cytokine peak) needs.

Examples
--------
>>> import numpy as np
>>> emax_fraction(np.array([0.0, 200.0, 600.0]), 200.0).tolist()
[0.0, 0.5, 0.75]
>>> float(emax(200.0, 10.0, 200.0, hill=3.0, e0=1.0))
6.0
>>> round(float(np.exp(log_emax_fraction(np.log(600.0), np.log(200.0)))), 12)
0.75
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

__all__ = ["emax", "emax_fraction", "log_emax_fraction"]


def emax_fraction(x: Any, ec50: Any, hill: Any = 1.0, xp: ModuleType = np) -> Any:
    """Fraction of the maximal effect, ``x**h / (ec50**h + x**h)``.

    Parameters
    ----------
    x : array_like or xp array
        Exposure (>= 0), in the unit of ``ec50``.
    ec50 : float or xp array
        Exposure giving half the maximal effect (> 0).
    hill : float or xp array, default 1
        Hill coefficient (> 0); 1 is the hyperbolic Emax model, for which the
        result is exactly ``x / (ec50 + x)`` in floating point.
    xp : module, default numpy
        Array namespace (numpy, jax.numpy, pytensor.tensor). Arguments are
        combined with the operators only, so ``xp`` is not used; it is kept
        for a uniform signature with the rest of :mod:`blinapk.pk`.

    Returns
    -------
    array
        Values in [0, 1), broadcast over the arguments.
    """
    del xp  # arithmetic only
    if isinstance(hill, int | float) and float(hill) == 1.0:
        return x / (ec50 + x)
    xh = x**hill
    return xh / (ec50**hill + xh)


def emax(x: Any, emax: Any, ec50: Any, hill: Any = 1.0, e0: Any = 0.0,
         xp: ModuleType = np) -> Any:
    """Effect ``e0 + emax * x**h / (ec50**h + x**h)``.

    Parameters
    ----------
    x : array_like or xp array
        Exposure (>= 0).
    emax : float or xp array
        Maximal effect above ``e0``.
    ec50 : float or xp array
        Exposure giving half the maximal effect (> 0).
    hill : float or xp array, default 1
        Hill coefficient (> 0).
    e0 : float or xp array, default 0
        Effect at zero exposure.
    xp : module, default numpy
        Array namespace.

    Returns
    -------
    array
        The effect, broadcast over the arguments.
    """
    return e0 + emax * emax_fraction(x, ec50, hill, xp)


def log_emax_fraction(log_x: Any, log_ec50: Any, hill: Any = 1.0, xp: ModuleType = np) -> Any:
    """``log f(x) = -log(1 + (ec50 / x)**h)`` from log exposure, stable for any ``x > 0``.

    Parameters
    ----------
    log_x : array_like or xp array
        Natural log of the exposure.
    log_ec50 : float or xp array
        Natural log of EC50.
    hill : float or xp array, default 1
        Hill coefficient (> 0).
    xp : module, default numpy
        Array namespace providing ``logaddexp``.

    Returns
    -------
    array
        ``log f``, <= 0.
    """
    return -xp.logaddexp(0.0, hill * (log_ec50 - log_x))

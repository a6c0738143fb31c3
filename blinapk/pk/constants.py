"""Micro and macro constants, half-lives and steady state of linear PK models.

Every function takes parameters as scalars or arrays of one namespace ``xp``
(numpy by default; ``jax.numpy`` and ``pytensor.tensor`` work unchanged), so
the same code serves simulation and likelihoods.

Units: CL and Q in L/h, V (central, V1) and V2 in L, rates in 1/h, infusion
rates in ug/h, concentrations in pg/mL.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any, NamedTuple

import numpy as np

__all__ = [
    "MacroConstants",
    "MicroConstants",
    "cl_from_css",
    "css_from_rate",
    "half_life",
    "half_lives_2cmt",
    "macro_constants",
    "micro_constants",
]

LN2 = float(np.log(2.0))


class MicroConstants(NamedTuple):
    """First-order rate constants (1/h) of the two-compartment model."""

    k10: Any
    k12: Any
    k21: Any


class MacroConstants(NamedTuple):
    """Bi-exponential disposition of the two-compartment model.

    After a unit bolus into the central compartment the central
    concentration is ``(a * exp(-alpha t) + b * exp(-beta t)) / V1``, with
    ``a + b = 1`` and ``alpha > beta > 0``.
    """

    alpha: Any
    beta: Any
    a: Any
    b: Any


def micro_constants(cl: Any, v: Any, q: Any, v2: Any) -> MicroConstants:
    r"""Micro constants of the two-compartment model.

    Parameters
    ----------
    cl, v, q, v2 : array_like
        Clearance (L/h), central volume V1 (L), inter-compartmental clearance
        (L/h) and peripheral volume (L).

    Returns
    -------
    MicroConstants
        :math:`k_{10} = CL/V_1`, :math:`k_{12} = Q/V_1`, :math:`k_{21} = Q/V_2`.

    Examples
    --------
    >>> micro_constants(2.0, 4.0, 1.0, 10.0)
    MicroConstants(k10=0.5, k12=0.25, k21=0.1)
    """
    return MicroConstants(cl / v, q / v, q / v2)


def macro_constants(cl: Any, v: Any, q: Any, v2: Any, xp: ModuleType = np) -> MacroConstants:
    r"""Hybrid rate constants and coefficients of the two-compartment model.

    Uses a cancellation-free form.  With :math:`d = k_{10} + k_{12} - k_{21}`
    the discriminant is written
    :math:`\Delta = \sqrt{d^2 + 4 k_{12} k_{21}}` (equal to
    :math:`\sqrt{(k_{10}+k_{12}+k_{21})^2 - 4 k_{10} k_{21}}` but never a
    difference of nearly equal numbers, and strictly positive whenever
    :math:`Q > 0`), :math:`\alpha = (k_{10}+k_{12}+k_{21}+\Delta)/2`,
    :math:`\beta = k_{10} k_{21} / \alpha`,
    :math:`a = (\Delta + d)/(2\Delta)` and :math:`b = (\Delta - d)/(2\Delta)`,
    where whichever of :math:`\Delta \pm d` would cancel is evaluated as
    :math:`4 k_{12} k_{21} / (\Delta + |d|)`.  Both branches of every
    ``where`` are finite for positive parameters, so gradients are finite.

    Parameters
    ----------
    cl, v, q, v2 : array_like
        Clearance (L/h), central volume V1 (L), inter-compartmental clearance
        (L/h), peripheral volume (L); all > 0.
    xp : module, default numpy
        Array namespace.

    Returns
    -------
    MacroConstants
        ``alpha``, ``beta`` (1/h) and dimensionless ``a``, ``b``.

    Examples
    --------
    >>> m = macro_constants(2.0, 4.0, 1.0, 10.0)
    >>> round(float(m.alpha * m.beta), 12)  # = k10 * k21
    0.05
    >>> round(float(m.a + m.b), 12)
    1.0
    """
    k10, k12, k21 = micro_constants(cl, v, q, v2)
    d = k10 + k12 - k21
    four_prod = 4.0 * k12 * k21
    disc = xp.sqrt(d * d + four_prod)
    alpha = 0.5 * (k10 + k12 + k21 + disc)
    beta = k10 * k21 / alpha
    small = four_prod / (disc + xp.abs(d))
    a = xp.where(d >= 0, disc + d, small) / (2.0 * disc)
    b = xp.where(d >= 0, small, disc - d) / (2.0 * disc)
    return MacroConstants(alpha, beta, a, b)


def half_life(cl: Any, v: Any) -> Any:
    r"""Elimination half-life of the one-compartment model, :math:`\ln 2 \, V / CL` (h).

    Parameters
    ----------
    cl, v : array_like
        Clearance (L/h) and volume (L).

    Returns
    -------
    array_like
        Half-life in hours.

    Examples
    --------
    >>> round(half_life(2.22, 5.98), 2)  # Zhu et al. 2020 typical values
    1.87
    """
    return LN2 * v / cl


def half_lives_2cmt(cl: Any, v: Any, q: Any, v2: Any, xp: ModuleType = np) -> tuple[Any, Any]:
    r"""Distribution and terminal half-lives, :math:`\ln 2/\alpha` and :math:`\ln 2/\beta` (h).

    Parameters
    ----------
    cl, v, q, v2 : array_like
        Clearance (L/h), central volume V1 (L), inter-compartmental clearance
        (L/h), peripheral volume (L).
    xp : module, default numpy
        Array namespace.

    Returns
    -------
    tuple
        ``(t_half_alpha, t_half_beta)`` in hours.
    """
    m = macro_constants(cl, v, q, v2, xp=xp)
    return LN2 / m.alpha, LN2 / m.beta


def css_from_rate(rate: Any, cl: Any) -> Any:
    r"""Steady-state concentration of a constant infusion, :math:`1000 R_0 / CL` (pg/mL).

    Holds for any linear model with elimination from the central
    compartment (1- and 2-compartment alike).

    Parameters
    ----------
    rate : array_like
        Infusion rate R0 in ug/h.
    cl : array_like
        Clearance in L/h.

    Returns
    -------
    array_like
        Css in pg/mL.

    Examples
    --------
    >>> round(css_from_rate(28 / 24, 2.22), 1)  # 28 ug/day at CL 2.22 L/h
    525.5
    """
    return 1000.0 * rate / cl


def cl_from_css(rate: Any, css: Any) -> Any:
    r"""Clearance from a steady-state concentration, :math:`1000 R_0 / C_{ss}` (L/h).

    Parameters
    ----------
    rate : array_like
        Infusion rate R0 in ug/h.
    css : array_like
        Steady-state concentration in pg/mL.

    Returns
    -------
    array_like
        CL in L/h.

    Examples
    --------
    >>> round(cl_from_css(28 / 24, 616.0), 3)
    1.894
    """
    return 1000.0 * rate / css

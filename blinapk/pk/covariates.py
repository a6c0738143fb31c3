r"""Covariate effects on a structural parameter, written once for numpy, PyTensor and JAX.

A covariate effect multiplies a typical value, :math:`P = TV \cdot f(x)`, or
equivalently adds :math:`\log f(x)` to :math:`\log TV`. Model cards
(:mod:`blinapk.cards`), the population-PK builder, its starting values and its
summaries all use these functions, so every form means the same everywhere:

=============  ===================  ================================  =========================
form           design ``d``         log effect                        factor
=============  ===================  ================================  =========================
power          ``log(x / ref)``     ``beta * d``                      ``(x / ref) ** beta``
exponential    ``x - ref``          ``beta * d``                      ``exp(beta * (x - ref))``
linear         ``x - ref``          ``log(max(1 + beta * d, L))``     ``max(1 + beta * d, L)``
categorical    one-hot columns of   ``d @ beta`` (0 at the            ``exp(beta[level])``
               the other levels     reference level)                  (1 at the reference)
=============  ===================  ================================  =========================

with ``L`` = :data:`LINEAR_FLOOR`.

``beta`` is the exponent (power), the coefficient per covariate unit
(exponential, linear) or the vector of log ratios of the non-reference levels
(categorical). The factor is always ``exp`` of the log effect; power and
exponential factors are computed in their natural form so that they are the
same floating-point numbers as ``(x / ref) ** beta`` and ``exp(beta * (x - ref))``.

**Linear floor.** ``1 + beta * (x - ref)`` reaches 0 for covariate values
beyond ``ref - 1/beta``, where the parameter would be zero or negative. The
factor is floored at :data:`LINEAR_FLOOR` (the parameter becomes
:math:`10^{-6}` times its typical value) so that its log stays finite and the
parameter positive. Above the floor the linear form is exactly
``1 + beta * (x - ref)``; a fitted or published slope that hits the floor
inside the data means the linear form is the wrong shape for that covariate.

Covariate values are not validated here (``x > 0`` for power, known levels):
callers that know the column and rows raise
:class:`~blinapk.errors.DataValidationError` naming them.

Examples
--------
>>> import numpy as np
>>> d = design("power", [0.94, 1.88], 1.88)
>>> np.round(log_effect("power", 0.61, d), 4).tolist()
[-0.4228, 0.0]
>>> np.round(factor("power", 0.61, [0.94, 1.88], 1.88), 4).tolist()
[0.6552, 1.0]
>>> factor("linear", 0.5, [0.0, 10.0], 4.0).tolist()  # 1 + 0.5 * (0 - 4) = -1 -> floor
[1e-06, 4.0]
>>> design("categorical", ["F", "M", "F"], "M", levels=("F",)).tolist()
[[1.0], [0.0], [1.0]]
"""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType
from typing import Any

import numpy as np

from blinapk.errors import ModelSpecError
from blinapk.pk._backend import as_array

__all__ = ["FORMS", "LINEAR_FLOOR", "check_form", "design", "factor", "log_effect"]

#: Covariate effect forms.
FORMS: tuple[str, ...] = ("power", "exponential", "linear", "categorical")
#: Lower bound of the linear factor ``1 + beta * (x - ref)`` (keeps its log finite).
LINEAR_FLOOR = 1e-6


def check_form(form: str) -> str:
    """Return ``form`` if it is one of :data:`FORMS`, else raise ModelSpecError.

    Parameters
    ----------
    form : str
        Form name.

    Returns
    -------
    str
        ``form`` unchanged.

    Raises
    ------
    ModelSpecError
        Unknown form.
    """
    if form not in FORMS:
        raise ModelSpecError(f"unknown covariate form {form!r}; expected one of {FORMS}")
    return form


def design(form: str, x: Any, reference: float | str, levels: Sequence[str] = ()) -> np.ndarray:
    """Numeric design of an effect: ``log(x/ref)``, ``x - ref`` or a one-hot matrix.

    Parameters
    ----------
    form : str
        One of :data:`FORMS`.
    x : array_like
        Covariate values (numbers; levels for ``categorical``). Data, not
        symbolic: the design is computed once with numpy.
    reference : float or str
        Reference value (a level for ``categorical``).
    levels : sequence of str
        ``categorical`` only: the non-reference levels, one column each.

    Returns
    -------
    numpy.ndarray
        Same shape as ``x``; for ``categorical`` shape ``(len(x), len(levels))``
        with 1.0 where ``x`` is that level (reference-level rows are all 0).
    """
    check_form(form)
    if form == "categorical":
        lv = np.asarray(x, dtype=object).astype(str)
        names = np.asarray([str(level) for level in levels], dtype=str)
        return (lv[:, None] == names[None, :]).astype(float)
    xs = np.asarray(x, dtype=float)
    if form == "power":
        return np.log(xs / float(reference))
    return xs - float(reference)


def log_effect(form: str, beta: Any, design: Any, xp: ModuleType = np) -> Any:
    """Log-scale effect: the term added to ``log TV``.

    Parameters
    ----------
    form : str
        One of :data:`FORMS`.
    beta : float or xp array
        Coefficient (any shape broadcasting against ``design``, e.g. posterior
        draws); for ``categorical`` a vector with one log ratio per level.
    design : array_like
        From :func:`design`.
    xp : module, default numpy
        Array namespace (numpy, jax.numpy, pytensor.tensor).

    Returns
    -------
    xp array
        ``beta * design``; ``log(max(1 + beta * design, LINEAR_FLOOR))`` for
        ``linear``; ``design @ beta`` for ``categorical``.
    """
    check_form(form)
    d = as_array(xp, design)
    if form == "categorical":
        return xp.dot(d, beta)
    if form == "linear":
        return xp.log(xp.maximum(1.0 + beta * d, LINEAR_FLOOR))
    return beta * d


def factor(form: str, beta: Any, x: Any, reference: float | str, levels: Sequence[str] = (),
           xp: ModuleType = np) -> Any:
    """Natural-scale factor on the parameter, ``exp(log_effect(...))``.

    Parameters
    ----------
    form : str
        One of :data:`FORMS`.
    beta : float or xp array
        As :func:`log_effect` (log ratios for ``categorical``).
    x : array_like
        Covariate values (data).
    reference : float or str
        Reference value (a level for ``categorical``).
    levels : sequence of str
        ``categorical`` only: the levels ``beta`` refers to.
    xp : module, default numpy
        Array namespace.

    Returns
    -------
    xp array
        ``(x/ref) ** beta``, ``exp(beta * (x - ref))``,
        ``max(1 + beta * (x - ref), LINEAR_FLOOR)`` or ``exp(design @ beta)``.
    """
    check_form(form)
    if form == "categorical":
        return xp.exp(log_effect(form, beta, design(form, x, reference, levels), xp))
    xs = np.asarray(x, dtype=float)
    ref = float(reference)
    if form == "power":
        return as_array(xp, xs / ref) ** beta
    shift = as_array(xp, xs - ref)
    if form == "exponential":
        return xp.exp(beta * shift)
    return xp.maximum(1.0 + beta * shift, LINEAR_FLOOR)
